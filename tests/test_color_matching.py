import torch

from brushwork.perceptual import color_matching
from brushwork.perceptual.color_matching import color_sample, color_statistics, match_colors, monge_map, sqrtm_and_inverse


def random_covariances(count, seed=0):
    """Symmetric positive-definite 3×3 matrices, from near-singular to well spread."""
    rng = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(count, 3, 3, generator=rng))
    scales = torch.tensor([[0.1, 0.01, color_matching.PHOTO_COVARIANCE_FLOOR]]).repeat(count, 1)
    return q @ torch.diag_embed(scales * torch.rand(count, 3, generator=rng).add(0.5)) @ q.transpose(1, 2)


def test_newton_schulz_roots_match_the_eigendecomposition():
    matrices = random_covariances(8)
    root, inverse = sqrtm_and_inverse(matrices)
    values, vectors = torch.linalg.eigh(matrices.double())
    expected = vectors @ torch.diag_embed(values.sqrt()) @ vectors.transpose(1, 2)
    assert torch.allclose(root.double(), expected, rtol=1e-4, atol=1e-6)
    assert torch.allclose(root @ inverse, torch.eye(3).expand(8, 3, 3), atol=1e-4)


def test_the_map_gives_the_source_the_targets_mean_and_covariance(monkeypatch):
    monkeypatch.setattr(color_matching, "PHOTO_COVARIANCE_FLOOR", 0.0)  # exact without the floor
    torch.manual_seed(0)
    source = torch.rand(2, 3, 40, 50) * torch.tensor([0.6, 0.3, 0.5]).view(1, 3, 1, 1) + 0.2
    target = torch.rand(1, 3, 30, 30) * torch.tensor([0.3, 0.5, 0.2]).view(1, 3, 1, 1) + 0.25
    matrix, offset = monge_map(color_statistics(source), color_statistics(target))
    recoloured = torch.einsum("nij,njhw->nihw", matrix, source) + offset[:, :, None, None]
    mean, cov = color_statistics(recoloured)
    target_mean, target_cov = color_statistics(target)
    assert torch.allclose(mean, target_mean.expand(2, 3), atol=1e-5)
    assert torch.allclose(cov, target_cov.expand(2, 3, 3), atol=1e-5)
    # The Monge map is symmetric positive-definite: it stretches colours, it never swaps hues.
    assert torch.allclose(matrix, matrix.transpose(1, 2), atol=1e-5)
    assert (torch.linalg.eigvalsh(matrix) > 0).all()


def test_match_colors_recolours_each_painting_to_the_photo(monkeypatch):
    monkeypatch.setattr(color_matching, "PHOTO_COVARIANCE_FLOOR", 0.0)
    torch.manual_seed(1)
    photo = torch.rand(1, 3, 32, 48) * torch.tensor([0.2, 0.4, 0.3]).view(1, 3, 1, 1) + 0.3
    paintings = [torch.rand(1, 3, 20, 20) * 0.5, torch.rand(1, 3, 16, 24) * 0.3 + 0.6]
    matched = match_colors(paintings, photo)
    assert [m.shape for m in matched] == [p.shape for p in paintings]
    photo_mean, _ = color_statistics(photo)
    for painting in matched:
        assert torch.allclose(color_statistics(painting)[0], photo_mean, atol=0.02)  # clamping moves it a little


def test_a_flat_painting_gets_a_bounded_gain_not_amplified_noise():
    flat = 0.5 + 0.004 * torch.randn(1, 3, 64, 64)
    (out,) = match_colors([flat], torch.rand(1, 3, 64, 64))  # a high-contrast photo
    assert torch.isfinite(out).all()
    assert (out - out.mean()).std() < 5 * flat.std()


def test_color_sample_keeps_at_most_the_sample_side():
    images = torch.rand(1, 3, 1500, 700)
    sample = color_sample(images)
    assert max(sample.shape[-2:]) <= color_matching.COLOR_SAMPLE_SIDE
    assert torch.equal(sample[0, :, 0, 0], images[0, :, 0, 0])
    small = torch.rand(1, 3, 20, 30)
    assert torch.equal(color_sample(small), small)
