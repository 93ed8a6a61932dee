"""Per-image optimisation (`brushwork stylize --optimize`)."""

import pytest
from PIL import Image

from brushwork.errors import BrushworkError
from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer

from .conftest import make_photo
from .test_cli import assert_one_line_error, run


@pytest.fixture
def painting(tmp_path):
    return make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)


def test_optimisation_lowers_its_loss_and_keeps_the_size(painting, tmp_path):
    from brushwork.images import load_image

    photo = load_image(make_photo(tmp_path / "photo.png", size=(40, 32)))
    for optimizer in ("lbfgs", "adam"):
        stylizer = StyleOptimizer(OptimizeConfig(style=str(painting), steps=8, optimizer=optimizer, backbone="random", device="cpu"))
        out = stylizer(photo)
        assert out.shape == photo.shape and (out - photo).abs().mean() > 0.01  # the pixels really moved
        assert stylizer.last_losses[-1] < 0.8 * stylizer.last_losses[0], (optimizer, stylizer.last_losses)


def test_cli_optimize_writes_images_and_reports_bad_files(painting, photo_dir, tmp_path, capsys):
    (photo_dir / "broken.jpg").write_bytes(b"not an image")
    make_photo(photo_dir / "big.png", size=(64, 48))
    argv = ["stylize", "--optimize", "--style", painting, photo_dir, "-o", tmp_path / "out",
            "--steps", 2, "--size", 48, "--backbone", "random", "--quiet"]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    # sub/deep.png (24×30) is too small to be measured at half size as well
    assert code == 1 and "stylized 4 image(s)" in stdout and "2 failed" in stdout
    assert "broken.jpg" in err and "deep.png" in err and "needs at least 32 pixels" in err and "Traceback" not in err
    with Image.open(tmp_path / "out" / "big.png") as image:
        assert image.size == (48, 36)  # optimised at --size


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["stylize", "--optimize", "photo.jpg", "-o", "out.png"], "--optimize needs --style"),
        (["stylize", "starry_night", "photo.jpg", "-o", "out.png", "--style", "x.jpg"], "--style: options for --optimize"),
        (["stylize", "starry_night", "photo.jpg", "-o", "out.png", "--match-colors"], "--match-colors: options for --optimize"),
        (["stylize", "starry_night", "photo.jpg", "-o", "out.png", "--steps", "5", "--backbone", "random"],
         "--steps, --backbone: options for --optimize"),
        (["stylize", "starry_night", "-o", "out.png"], "at least one image"),
        (["stylize", "--optimize", "--style", "missing.jpg", "p.jpg", "-o", "o.png"], "missing.jpg"),
        (["stylize", "--optimize", "--style", "s.jpg", "p.jpg", "-o", "o.png", "--steps", "0"], "--steps"),
        (["stylize", "--optimize", "--style", "s.jpg", "p.jpg", "-o", "o.png", "--optimizer", "sgd"], "--optimizer"),
        (["stylize", "--optimize", "--style", "s.jpg", "p.jpg", "-o", "o.png", "--vgg-weights", "w.pth"], "--vgg-weights is for"),
        (["stylize", "--optimize", "--style", "s.jpg", "p.jpg", "-o", "o.png", "--tile", "64"], "--tile: options for running a model"),
        (["stylize", "--optimize", "--style", "s.jpg", "p.jpg", "-o", "o.png", "--strength", "0", "--feather", "0"],
         "--strength, --feather: options for running a model"),
    ],
)
def test_cli_optimize_errors(argv, needle, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert_one_line_error(err, needle)


def test_photo_too_small_for_the_feature_network(painting):
    import torch

    stylizer = StyleOptimizer(OptimizeConfig(style=str(painting), steps=1, backbone="random", device="cpu"))
    with pytest.raises(BrushworkError, match="at least 32"):
        stylizer(torch.rand(1, 3, 8, 30))


def test_the_objective_is_trainings_with_its_default_weights(painting, tmp_path):
    """Given the directions' seed the objective is a function (what a step needs), and its
    value follows from its definition: calibrated on the photo, the photo's own style
    distance is 1 per layer, and the content term is the relative feature error plus
    TONE_WEIGHT times one minus the correlation of the 1/8 luminance maps plus MAPPING_WEIGHT
    times the share of the 1/8 colours no function of the photo's explains."""
    import torch

    from brushwork.images import load_image
    from brushwork.perceptual.losses import unexplained_color
    from brushwork.perceptual.objective import COLOR_POOLING, COLOR_WEIGHT, MAPPING_WEIGHT, TONE_WEIGHT
    from brushwork.perceptual.options import CONTENT_WEIGHT, STYLE_WEIGHT

    photo = load_image(make_photo(tmp_path / "photo.png", size=(40, 32)))
    stylizer = StyleOptimizer(OptimizeConfig(style=str(painting), steps=4, backbone="random", device="cpu"))
    seeded = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    with torch.no_grad():
        target = stylizer.objective.content_target(photo)
        stylizer.objective.calibrate(photo, seeded())
        terms = 2 * len(stylizer.config.style_layers) + len(COLOR_POOLING) * COLOR_WEIGHT  # two scales, two poolings
        assert float(stylizer.loss(photo, target, seeded())) == pytest.approx(STYLE_WEIGHT * terms, rel=1e-4)
        shifted = photo.clone()
        shifted[..., :16, :] = (shifted[..., :16, :] + 0.3).clamp(0, 1)  # the top half lighter: the layout moves
        content, moved = (stylizer.vgg(image)[stylizer.config.content_layer] for image in (photo, shifted))
        relative_error = float((moved - content).pow(2).mean() / content.pow(2).mean())
        luminance = [torch.nn.functional.avg_pool2d(image, 8)[0].mul(torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(0)
                     for image in (photo, shifted)]  # fmt: skip
        tone_error = 1 - float(torch.corrcoef(torch.stack([m.flatten() for m in luminance]))[0, 1])
        style_part = float(stylizer.loss(shifted, stylizer.objective.content_target(shifted), seeded()))  # no content term
        assert relative_error > 0.01 and tone_error > 0.01 and style_part != pytest.approx(STYLE_WEIGHT * terms, rel=1e-3)
        total = float(stylizer.loss(shifted, target, seeded()))
        assert total == float(stylizer.loss(shifted, target, seeded()))
        pooled = [torch.nn.functional.avg_pool2d(image, 8) for image in (shifted, photo)]
        mapping_error = float(unexplained_color(*pooled))
        assert mapping_error > 0.01  # a lighter top half is no one function of the photo's colour
        expected = style_part + CONTENT_WEIGHT * (relative_error + TONE_WEIGHT * tone_error + MAPPING_WEIGHT * mapping_error)
        assert total == pytest.approx(expected, rel=1e-3)
    assert stylizer(photo).shape == photo.shape


def test_match_colors_gives_the_painting_the_photos_colour_statistics():
    import torch

    from brushwork.perceptual.color_matching import color_statistics, match_colors

    torch.manual_seed(0)
    painting = torch.rand(1, 3, 40, 30) * torch.tensor([0.2, 0.3, 0.9])[None, :, None, None]  # blue
    photo = (torch.rand(1, 3, 24, 24) * 0.4 + torch.tensor([0.5, 0.2, 0.1])[None, :, None, None]).clamp(0, 1)  # red
    (matched,) = match_colors([painting], photo)
    assert matched.shape == painting.shape
    (mean, cov), (photo_mean, photo_cov) = color_statistics(matched), color_statistics(photo)
    assert torch.allclose(mean, photo_mean, atol=0.02) and torch.allclose(cov, photo_cov, atol=0.01)


def test_optimisation_with_match_colors_paints_in_the_photos_colours(tmp_path):

    from brushwork.images import load_image

    blue = _tinted(tmp_path / "blue.png", (30, 60, 220), seed=1)
    photo = load_image(_tinted(tmp_path / "red.png", (200, 60, 40), seed=2))
    outputs = {}
    for matched in (False, True):
        config = OptimizeConfig(style=str(blue), steps=30, optimizer="adam", lr=0.05, style_weight=1000.0,
                                content_weight=0.0, match_colors=matched, backbone="random", device="cpu")  # fmt: skip
        outputs[matched] = StyleOptimizer(config)(photo)

    def red_minus_blue(image):
        return float((image[:, 0] - image[:, 2]).mean())
    # Without matching the photo drifts towards the blue painting; matched, it stays red.
    assert red_minus_blue(outputs[True]) > red_minus_blue(outputs[False]) + 0.1
    assert red_minus_blue(outputs[True]) > 0.3


def _tinted(path, rgb, seed):
    """A 48×48 noisy picture around one colour."""
    import numpy as np

    noise = np.random.default_rng(seed).normal(0, 30, (48, 48, 3))
    Image.fromarray(np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8)).save(path)
    return path
