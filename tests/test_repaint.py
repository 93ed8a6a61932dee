"""The repaint judge (evaluation/repaint.py) on small constructed scenes whose answer is known."""

import torch

from brushwork.evaluation.repaint import (
    band_energy, color_clouds, legibility, painted_texture, photo_detail, region_contrast, regions, repaint_measures,
    repaint_score,
)  # fmt: skip
from brushwork.evaluation.metrics import gaussian_blur


def scene(size: int = 96) -> torch.Tensor:
    """Two regions, a red left half and a blue right half, each with fine photo texture."""
    g = torch.Generator().manual_seed(0)
    image = torch.zeros(1, 3, size, size)
    image[:, 0, :, : size // 2] = 0.8
    image[:, 2, :, size // 2 :] = 0.8
    return (image + 0.05 * torch.rand(1, 1, size, size, generator=g)).clamp(0, 1)


def strokes(size: int = 96, seed: int = 1) -> torch.Tensor:
    """Fine texture unrelated to the scene's (a painting's strokes, roughly)."""
    return 0.15 * torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(seed))


def test_photo_detail_is_one_for_the_photo_and_zero_for_a_flat_picture():
    photo = scene()
    assert abs(photo_detail(photo, photo) - 1) < 1e-6
    assert photo_detail(photo, torch.full_like(photo, 0.5)) == 0.0
    assert photo_detail(photo, (0.4 + strokes()).expand(1, 3, -1, -1)) < 0.2  # new texture, not the photo's


def test_painted_texture_is_one_for_the_painting_and_zero_for_a_flat_picture():
    painting = (0.4 + strokes()).expand(1, 3, -1, -1)
    assert abs(painted_texture(painting, band_energy(painting)) - 1) < 1e-6
    assert painted_texture(torch.full_like(painting, 0.3), band_energy(painting)) < 1e-6


def test_regions_separate_the_two_halves():
    labels = regions(scene()).reshape(96, 96)
    assert labels[:, :40].unique().numel() == 1 and labels[:, 56:].unique().numel() == 1
    assert labels[0, 0] != labels[0, -1]


def test_color_clouds_are_low_for_fields_that_follow_the_regions_and_high_across_them():
    photo = scene()
    labels = regions(photo)
    fields = photo.clone()  # each half repainted in one new colour: green and yellow
    fields[:, :, :, :48] = torch.tensor([0.1, 0.7, 0.2])[:, None, None]
    fields[:, :, :, 48:] = torch.tensor([0.9, 0.8, 0.1])[:, None, None]
    x = torch.linspace(0, 1, 96)
    clouds = torch.stack([0.5 + 0.4 * torch.sin(6 * x)[:, None].expand(96, 96), 0.5 + 0 * x[:, None].expand(96, 96),
                          0.5 - 0.4 * torch.sin(6 * x)[:, None].expand(96, 96)])[None]  # fmt: skip
    assert color_clouds(fields, labels) < 0.5 * color_clouds(clouds, labels)
    assert color_clouds(clouds, labels) > 10  # a*b* units


def test_legibility_is_one_for_the_photo_and_falls_when_the_shapes_merge_into_one_hue():
    photo = scene()
    labels = regions(photo)
    contrast = region_contrast(photo, labels)
    assert abs(legibility(photo, contrast, labels) - 1) < 1e-9
    one_hue = photo.mean(1, keepdim=True) * torch.tensor([1.0, 0.6, 0.2])[:, None, None]  # both halves orange
    assert legibility(one_hue, contrast, labels) < 0.5
    swapped = photo.flip(-1)  # other colours, as far apart: still legible
    assert legibility(swapped, contrast, labels) > 0.9
    assert legibility(torch.full_like(photo, 0.5), contrast, labels) < 1e-6


def test_repaint_score_ranks_a_repainted_scene_above_the_photo_and_its_imitations():
    photo = scene()
    painting = (0.4 + strokes(seed=2)).expand(1, 3, -1, -1)
    energy = band_energy(painting)
    repainted = photo.clone()
    # each half one new colour, as far apart as the photo's red and blue: yellow and dark violet
    repainted[:, :, :, :48] = torch.tensor([0.95, 0.85, 0.1])[:, None, None]
    repainted[:, :, :, 48:] = torch.tensor([0.2, 0.05, 0.4])[:, None, None]
    repainted = (repainted + strokes(seed=3)).clamp(0, 1)
    y = torch.linspace(0, 1, 96)[:, None].expand(96, 96)
    clouded = (photo + torch.stack([0.3 * torch.sin(8 * y), 0 * y, -0.3 * torch.sin(8 * y)])[None]).clamp(0, 1)
    one_hue = (repainted.mean(1, keepdim=True) * torch.tensor([1.0, 0.6, 0.2])[:, None, None]).clamp(0, 1)
    imitations = {"photo": photo, "clouded": clouded, "blurred": gaussian_blur(photo, 2.0), "one hue": one_hue}
    scores = {name: repaint_measures(photo, image, energy)["repaint"] for name, image in
              {"repainted": repainted, **imitations}.items()}  # fmt: skip
    assert scores["repainted"] > 0.5
    assert all(scores[name] < 0.5 * scores["repainted"] for name in imitations), scores


def test_repaint_score_is_a_product():
    assert repaint_score(1.0, 1.0, 5.0, 5.0, 1.0) == 0.0  # the photo's detail all there
    assert repaint_score(0.0, 1.0, 5.0, 5.0, 1.0) == 1.0
    assert repaint_score(0.85, 1.0, 5.0, 5.0, 1.0) == 1.0  # changed enough (CHANGED_DETAIL)
    assert abs(repaint_score(0.0, 1.0, 10.0, 5.0, 1.0) - 0.5) < 1e-9  # twice the photo's clouds
    assert abs(repaint_score(0.0, 0.5, 5.0, 5.0, 1.0) - 0.25) < 1e-9  # half the texture counts twice
    assert abs(repaint_score(0.0, 2.0, 5.0, 5.0, 0.5) - 0.25) < 1e-9  # as does half the legibility
    assert repaint_score(0.0, 2.0, 1.0, 5.0, 3.0) == 1.0  # texture, coherence and legibility capped at 1
