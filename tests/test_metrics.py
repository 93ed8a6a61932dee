"""The metrics on constructed cases whose answer is known."""

import pytest
import torch

from brushwork.evaluation.metrics import (
    color_swd,
    content_ssim,
    edge_score,
    laplacian_levels,
    patch_descriptors,
    patch_swd,
    sliced_wasserstein,
)


def scene(size=64, seed=0):
    """A photo-like test image: smooth gradients, a few flat shapes with edges, mild noise."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = torch.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * torch.sin(4 * x)])
    for _ in range(4):
        top, left = torch.randint(0, size - 16, (2,), generator=g).tolist()
        image[:, top : top + 16, left : left + 12] = torch.rand(3, 1, 1, generator=g)
    image = image + 0.01 * torch.randn(image.shape, generator=g)
    return image.clamp(0, 1)[None]


def painting(size=96):
    """A 'painting': strong diagonal strokes in two colours."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    strokes = ((x + 2 * y) % 9 < 4).float()
    return torch.stack([0.1 + 0.8 * strokes, 0.2 + 0.1 * strokes, 0.7 - 0.5 * strokes])[None]


def patch_shuffle(image, patch=8, seed=0):
    """The same pixels with the image's patch×patch blocks in a random order."""
    _, c, h, w = image.shape
    blocks = image.unfold(2, patch, patch).unfold(3, patch, patch)  # 1×C×gh×gw×p×p
    gh, gw = blocks.shape[2:4]
    flat = blocks.reshape(1, c, gh * gw, patch, patch)
    order = torch.randperm(gh * gw, generator=torch.Generator().manual_seed(seed))
    flat = flat[:, :, order].reshape(1, c, gh, gw, patch, patch)
    return flat.permute(0, 1, 2, 4, 3, 5).reshape(1, c, gh * patch, gw * patch)


def test_identical_images_score_perfectly():
    photo = scene()
    assert content_ssim(photo, photo).item() == pytest.approx(1.0, abs=1e-5)
    assert edge_score(photo, photo).item() == pytest.approx(1.0, abs=1e-5)
    assert color_swd(photo, photo).item() == pytest.approx(0.0, abs=1e-4)
    assert patch_swd(photo, photo).item() == pytest.approx(0.0, abs=1e-4)


def test_sliced_wasserstein_of_a_shift_in_one_dimension_is_the_shift():
    points = torch.randn(500, 1, generator=torch.Generator().manual_seed(0))
    # In 1-D every direction is ±1, so W1 of a translated set is exactly the translation.
    assert sliced_wasserstein(points, points + 0.5).item() == pytest.approx(0.5, rel=1e-4)
    # Sets of different sizes are compared by quantiles.
    assert sliced_wasserstein(points, points[::2]).item() < 0.1


def test_colour_swd_grows_with_a_colour_shift():
    photo = scene() * 0.7  # room to shift without clipping
    distances = [color_swd((photo + shift).clamp(0, 1), photo).item() for shift in (0.0, 0.05, 0.1, 0.2)]
    assert distances[0] == pytest.approx(0.0, abs=1e-4)
    assert distances == sorted(distances) and distances[-1] > 3 * distances[1]


def test_scrambled_photo_loses_content_but_keeps_its_colours():
    photo = scene()
    scrambled = patch_shuffle(photo)
    assert content_ssim(photo, scrambled).item() < 0.6
    assert edge_score(photo, scrambled).item() < 0.5
    # Same pixels, so the same colour distribution (sampling differs only by position).
    assert color_swd(scrambled, photo).item() < 1.0
    shifted = (photo * 0.8 + 0.1).clamp(0, 1)
    assert color_swd(shifted, photo).item() > 5 * color_swd(scrambled, photo).item()


def test_noise_is_further_from_a_painting_than_the_paintings_own_crop():
    art = painting()
    crop = art[:, :, 8:72, 16:80]
    noise = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    assert patch_swd(noise, art).item() > 1.5 * patch_swd(crop, art).item()


def test_patch_swd_falls_as_a_photo_turns_into_the_painting_against_a_set_taken_once():
    photo = scene()
    art = torch.nn.functional.interpolate(painting(), size=photo.shape[-2:], mode="bilinear")
    art_set = patch_descriptors(art)  # taken once, compared with many outputs (as evaluate does)
    values = [patch_swd(photo * (1 - t) + art * t, art_set).item() for t in (0.0, 0.5, 0.9, 1.0)]
    assert values[0] > values[1] > values[2] > values[3], values
    assert values[3] == pytest.approx(0.0, abs=1e-6)  # the painting itself: same patches, distance 0
    assert patch_swd(photo, art_set).item() == values[0]  # the set is not used up or changed by a comparison


def test_flat_images_and_tiny_images_do_not_break_the_metrics():
    flat = torch.full((1, 3, 20, 20), 0.5)
    assert edge_score(flat, flat).item() == 0.0  # no edges to agree on
    tiny = torch.rand(1, 3, 6, 9, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(content_ssim(tiny, tiny.flip(-1))).all()
    assert torch.isfinite(patch_swd(tiny, painting()))
    assert len(laplacian_levels(torch.rand(1, 3, 70, 130))) == 3  # 70 -> 35 -> 17, then stop
    with pytest.raises(ValueError):
        content_ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
