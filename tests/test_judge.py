"""The headline metrics under EfficientNet-Lite2 (judge.py) on constructed cases, and the
random views the training loss network sees (losses.jittered_views)."""

from pathlib import Path

import pytest
import torch

from brushwork.images import load_image
from brushwork.evaluation.judge import Judge, frechet_distance
from brushwork.perceptual.losses import JITTER_SHIFT, jittered_views

EXAMPLE = Path(__file__).parents[1] / "examples" / "photo.jpg"


@pytest.fixture(scope="module")
def judge():
    return Judge()


@pytest.fixture(scope="module")
def photo():
    return load_image(EXAMPLE, max_size=128)


def _stripes(shape, period=6):
    """A 'painting' unlike any photo: saturated diagonal stripes."""
    h, w = shape[-2:]
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    phase = ((x + y) % period < period // 2).float()
    return torch.stack([phase, 0.2 + 0 * phase, 1 - phase])[None]


def test_the_judge_is_lite2_with_its_imagenet_weights(judge):
    assert judge.backbone_id.startswith("efficientnet-lite2") and "unverified" not in judge.backbone_id


def test_distances_follow_their_definitions(judge, photo):
    """Each distance recomputed here from the judge's features by another route."""
    from brushwork.evaluation.judge import CONTENT_LAYERS, PATCH_LAYER, STYLE_LAYERS

    painting = _stripes(photo.shape)
    a, b = judge.features(photo), judge.features(painting)
    unit = lambda f: f / f.norm(dim=1, keepdim=True)  # noqa: E731
    content = sum(float((unit(a[k]) - unit(b[k])).pow(2).sum(1).mean()) for k in CONTENT_LAYERS) / 3
    assert judge.content_distance(photo, painting) == pytest.approx(content, rel=1e-4) and content > 0.1

    def gram(f):
        flat = f[0].reshape(f.shape[1], -1).double()
        return flat @ flat.T  # unnormalised: the relative error does not depend on the scale

    gram_error = sum(float((gram(a[k]) - gram(b[k])).pow(2).sum() / gram(b[k]).pow(2).sum()) for k in STYLE_LAYERS) / 5
    distances = judge.style([painting]).distances(photo)
    assert distances["gram"] == pytest.approx(gram_error, rel=1e-3) and gram_error > 0.01

    def patches(f):
        pooled = torch.nn.functional.avg_pool2d(f, 2)[0].double()
        return pooled.reshape(pooled.shape[0], -1).T

    (x, y) = (patches(a[PATCH_LAYER]), patches(b[PATCH_LAYER]))
    cov_x, cov_y = torch.cov(x.T), torch.cov(y.T)
    # tr((Σx Σy)^½) from the eigenvalues of the (non-symmetric) product, not from matrix roots.
    cross = torch.linalg.eigvals(cov_x @ cov_y).real.clamp_min(0).sqrt().sum()
    frechet = float((x.mean(0) - y.mean(0)).pow(2).sum() + cov_x.trace() + cov_y.trace() - 2 * cross)
    assert distances["frechet"] == pytest.approx(frechet, rel=1e-3) and frechet > 0


def test_content_distance_grows_with_the_change(judge, photo):
    painting = _stripes(photo.shape)
    distances = [judge.content_distance(photo, (1 - a) * photo + a * painting) for a in (0.1, 0.4, 0.8)]
    assert distances[0] < distances[1] < distances[2]


def test_style_distances_fall_as_the_output_takes_on_the_painting(judge, photo):
    painting = _stripes(photo.shape)
    style = judge.style([painting])
    steps = [style.distances((1 - a) * photo + a * painting) for a in (0.0, 0.5, 1.0)]
    for key in ("gram", "frechet"):
        assert steps[0][key] > steps[1][key] > steps[2][key], key


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    # Diagonal covariances: |mu_a - mu_b|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    a = (torch.tensor([0.0, 1.0], dtype=torch.float64), torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64)))
    b = (torch.tensor([3.0, 1.0], dtype=torch.float64), torch.diag(torch.tensor([1.0, 9.0], dtype=torch.float64)))
    assert frechet_distance(a, b) == pytest.approx(9 + 1 + 4)


def test_jittered_views_show_both_batches_through_one_view():
    rng = torch.Generator().manual_seed(3)
    photos = torch.rand(2, 3, 64, 64)
    a, b = jittered_views(photos, photos.clone(), rng)
    assert torch.equal(a, b)  # the same view of both: the content loss compares aligned pixels
    sides, mirrored = set(), 0
    ramp = torch.linspace(0, 1, 64).expand(2, 3, 64, 64)  # brighter to the right
    for seed in range(20):
        view, _ = jittered_views(photos, photos, torch.Generator().manual_seed(seed))
        sides.add(view.shape[-1])
        ramp_view, _ = jittered_views(ramp, ramp, torch.Generator().manual_seed(seed))
        mirrored += bool(ramp_view[..., 0].mean() > ramp_view[..., -1].mean())
        assert 64 * 0.85 - JITTER_SHIFT - 1 <= view.shape[-1] <= 64 * 1.15 - JITTER_SHIFT + 1
    assert len(sides) > 3  # the scale really varies from step to step
    assert 4 <= mirrored <= 16  # left and right swap about half the time
