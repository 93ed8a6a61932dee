"""Per-image optimisation (`brushwork stylize --optimize`)."""

import pytest
from PIL import Image

from brushwork.errors import BrushworkError
from brushwork.optimize import OptimizeConfig, StyleOptimizer

from .conftest import make_photo
from .test_cli import assert_one_line_error, run


@pytest.fixture
def painting(tmp_path):
    return make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)


def test_optimisation_lowers_its_loss_and_keeps_the_size(painting, tmp_path):
    from brushwork.data import load_image

    photo = load_image(make_photo(tmp_path / "photo.png", size=(40, 32)))
    for optimizer in ("lbfgs", "adam"):
        stylizer = StyleOptimizer(OptimizeConfig(style=str(painting), steps=8, optimizer=optimizer, backbone="random", device="cpu"))
        out = stylizer(photo)
        assert out.shape == photo.shape and 0 <= out.min() and out.max() <= 1
        assert stylizer.last_losses[-1] < 0.8 * stylizer.last_losses[0], (optimizer, stylizer.last_losses)


def test_cli_optimize_writes_images_and_reports_bad_files(painting, photo_dir, tmp_path, capsys):
    (photo_dir / "broken.jpg").write_bytes(b"not an image")
    argv = ["stylize", "--optimize", "--style-image", painting, photo_dir, "-o", tmp_path / "out",
            "--steps", 2, "--size", 32, "--backbone", "random", "--quiet"]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    assert code == 1 and "stylized 4 image(s)" in stdout and "1 failed" in stdout
    assert "broken.jpg" in err and "Traceback" not in err
    with Image.open(tmp_path / "out" / "p0.jpg") as image:
        assert max(image.size) == 32  # optimised at --size


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["stylize", "--optimize", "photo.jpg", "-o", "out.png"], "--style-image"),
        (["stylize", "starry_night", "photo.jpg", "-o", "out.png", "--style-image", "x.jpg"], "only used with --optimize"),
        (["stylize", "starry_night", "-o", "out.png"], "at least one image"),
        (["stylize", "--optimize", "--style-image", "missing.jpg", "p.jpg", "-o", "o.png"], "missing.jpg"),
        (["stylize", "--optimize", "--style-image", "s.jpg", "p.jpg", "-o", "o.png", "--steps", "0"], "--steps"),
        (["stylize", "--optimize", "--style-image", "s.jpg", "p.jpg", "-o", "o.png", "--optimizer", "sgd"], "--optimizer"),
    ],
)
def test_cli_optimize_errors(argv, needle, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert_one_line_error(err, needle)


def test_photo_too_small_for_the_feature_network(painting):
    import torch

    stylizer = StyleOptimizer(OptimizeConfig(style=str(painting), steps=1, backbone="random", device="cpu"))
    with pytest.raises(BrushworkError, match="at least 16"):
        stylizer(torch.rand(1, 3, 8, 30))


def test_palette_term_in_optimisation_is_deterministic(painting, tmp_path):
    """L-BFGS needs the same objective on every call: the palette term draws fixed directions."""
    import torch

    from brushwork.data import load_image

    photo = load_image(make_photo(tmp_path / "photo.png", size=(40, 32)))
    stylizer = StyleOptimizer(
        OptimizeConfig(style=str(painting), steps=4, palette_weight=100.0, backbone="random", device="cpu")
    )
    with torch.no_grad():
        content = stylizer.vgg(photo)[stylizer.config.content_layer]
        assert float(stylizer.loss(photo, content)) == float(stylizer.loss(photo, content))
        plain = float(StyleOptimizer(OptimizeConfig(style=str(painting), backbone="random", device="cpu")).loss(photo, content))
    assert float(stylizer.loss(photo, content)) > plain
    assert stylizer(photo).shape == photo.shape
