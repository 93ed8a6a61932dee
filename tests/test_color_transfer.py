import pytest
import torch

from brushwork import color_transfer
from brushwork.color_transfer import ColorTransfer, color_sample, color_statistics, monge_map, sqrtm_and_inverse
from brushwork.training.config import GeneratorConfig
from brushwork.models import Generator, build_generator
from brushwork.inference.modelfile import load_model, save_model


def random_covariances(count, seed=0):
    """Symmetric positive-definite 3×3 matrices, from near-singular to well spread."""
    rng = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(count, 3, 3, generator=rng))
    scales = torch.tensor([[0.1, 0.01, color_transfer.PHOTO_COVARIANCE_FLOOR]]).repeat(count, 1)
    return q @ torch.diag_embed(scales * torch.rand(count, 3, generator=rng).add(0.5)) @ q.transpose(1, 2)


def test_newton_schulz_roots_match_the_eigendecomposition():
    matrices = random_covariances(8)
    root, inverse = sqrtm_and_inverse(matrices)
    values, vectors = torch.linalg.eigh(matrices.double())
    expected = vectors @ torch.diag_embed(values.sqrt()) @ vectors.transpose(1, 2)
    assert torch.allclose(root.double(), expected, rtol=1e-4, atol=1e-6)
    assert torch.allclose(root @ inverse, torch.eye(3).expand(8, 3, 3), atol=1e-4)


def test_recoloured_photo_takes_the_paintings_mean_and_covariance(monkeypatch):
    monkeypatch.setattr(color_transfer, "PHOTO_COVARIANCE_FLOOR", 0.0)  # exact without the floor
    torch.manual_seed(0)
    photo = torch.rand(2, 3, 40, 50) * torch.tensor([0.6, 0.3, 0.5]).view(1, 3, 1, 1) + 0.2
    painting = torch.rand(1, 3, 30, 30) * torch.tensor([0.3, 0.5, 0.2]).view(1, 3, 1, 1) + 0.25
    matrix, offset = monge_map(color_statistics(photo), color_statistics(painting))
    recoloured = torch.einsum("nij,njhw->nihw", matrix, photo) + offset[:, :, None, None]
    mean, cov = color_statistics(recoloured)
    target_mean, target_cov = color_statistics(painting)
    assert torch.allclose(mean, target_mean.expand(2, 3), atol=1e-5)
    assert torch.allclose(cov, target_cov.expand(2, 3, 3), atol=1e-5)
    # The Monge map is symmetric positive-definite: it stretches colours, it never swaps hues.
    assert torch.allclose(matrix, matrix.transpose(1, 2), atol=1e-5)
    assert (torch.linalg.eigvalsh(matrix) > 0).all()


def test_a_flat_photo_gets_a_bounded_gain_not_amplified_noise():
    stage = ColorTransfer()
    stage.set_style([torch.rand(1, 3, 64, 64)])  # a high-contrast "painting"
    flat = 0.5 + 0.004 * torch.randn(1, 3, 64, 64)
    out = stage(flat)
    assert torch.isfinite(out).all()
    assert (out - out.mean()).std() < 5 * flat.std()


def test_set_style_pools_the_statistics_of_all_paintings():
    stage = ColorTransfer()
    red, blue = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 16)
    red[:, 0], blue[:, 2] = 1.0, 1.0
    stage.set_style([red, blue])
    assert torch.allclose(stage.style_mean, torch.tensor([1 / 3, 0.0, 2 / 3]))
    assert stage.style_cov[0, 2] < 0  # more red means less blue


def test_color_sample_keeps_at_most_the_sample_side():
    images = torch.rand(1, 3, 1500, 700)
    sample = color_sample(images)
    assert max(sample.shape[-2:]) <= color_transfer.COLOR_SAMPLE_SIDE
    assert torch.equal(sample[0, :, 0, 0], images[0, :, 0, 0])
    small = torch.rand(1, 3, 20, 30)
    assert torch.equal(color_sample(small), small)


def test_the_stage_is_only_in_version_2_brushwork_generators():
    assert not GeneratorConfig().color_transfer  # opt-in
    assert build_generator(GeneratorConfig(color_transfer=True)).colors is not None
    assert not GeneratorConfig(arch="johnson", color_transfer=True).color_transfer
    assert not GeneratorConfig(version=1, color_transfer=True).color_transfer
    assert build_generator(GeneratorConfig()).colors is None


def test_models_from_before_the_stage_load_without_it(tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    save_model(tmp_path / "new.safetensors", Generator(GeneratorConfig(channels=8, res_blocks=1)), {"style_name": "m"})
    with safe_open(tmp_path / "new.safetensors", "pt") as handle:  # a file written before the stage existed
        header, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    info = json.loads(header["brushwork"])
    del info["generator"]["color_transfer"]
    save_file(tensors, tmp_path / "old.safetensors", metadata={**header, "brushwork": json.dumps(info)})
    loaded, info = load_model(tmp_path / "old.safetensors")
    assert "color_transfer" not in info["generator"]
    assert loaded.colors is None


def test_the_stage_round_trips_through_a_model_file(tmp_path):
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, color_transfer=True))
    generator.colors.set_style([torch.rand(1, 3, 16, 16)])
    save_model(tmp_path / "m.safetensors", generator, {"style_name": "m"})
    loaded, _ = load_model(tmp_path / "m.safetensors")
    assert torch.equal(loaded.colors.style_cov, generator.colors.style_cov)


@pytest.mark.parametrize("flag, expected", [("--color-transfer", True), ("--no-color-transfer", False)])
def test_cli_flag_sets_the_stage(flag, expected):
    from brushwork.cli import _build_parser, _train_config

    args = _build_parser().parse_args(["train", "--content", "c", "--style", "s", flag])
    assert _train_config(args).generator.color_transfer is expected
