"""Creative controls: strength, style mixes, colour preservation, masks and regions, mix strips."""

import numpy as np
import pytest
import torch
from kornia.color import rgb_to_lab
from PIL import Image, ImageDraw

from brushwork import Stylizer
from brushwork.inference.conditioning import condition, parse_mix
from brushwork.errors import BrushworkError
from brushwork.inference.regions import Region, RegionStylizer, feather_mask

from .conftest import make_photo
from .test_cli import assert_one_line_error, run
from .test_tiling import assert_seamless, textured_pixels


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def half_mask(path, size, box):
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    mask.save(path)
    return path


def test_strength_zero_returns_the_photo_and_strength_changes_the_picture(two_style_model):
    photo = torch.rand(1, 3, 37, 45)
    stylizer = Stylizer.from_file(two_style_model, device="cpu")
    assert torch.equal(stylizer.with_options(strength=0)(photo), photo)  # exactly: the change is scaled by S
    changes = [(stylizer.with_options(strength=s)(photo) - photo).abs().mean().item() for s in (0.25, 1.0, 1.5)]
    assert 0 < changes[0] < changes[1] < changes[2]
    image = Image.fromarray((photo[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    assert np.array_equal(np.asarray(stylizer.with_options(strength=0)(image)), np.asarray(image))


def test_styles_differ_and_a_mix_lies_between_them(two_style_model):
    photo = torch.rand(1, 3, 32, 32)
    stylizer = Stylizer.from_file(two_style_model, device="cpu")
    assert stylizer.styles == ["warm", "cool"]
    warm = stylizer.with_options(mix={"warm": 1})(photo)
    cool = stylizer.with_options(mix={"cool": 1})(photo)
    half = stylizer.with_options(mix={"warm": 2, "cool": 2})(photo)  # weights are normalised
    assert torch.equal(stylizer(photo), warm)  # default: the first style
    assert (warm - cool).abs().mean() > 1e-3
    assert (half - warm).abs().mean() < (cool - warm).abs().mean()
    assert (half - cool).abs().mean() < (cool - warm).abs().mean()


@pytest.mark.parametrize(
    "strength, mix, message",
    [
        (1.6, None, "strengths from 0 to 1.5"),
        (-0.1, None, "--strength must be >= 0"),
        (1.0, {"starry": 1}, "its styles: warm, cool"),
        (1.0, {"warm": -1, "cool": 2}, ">= 0"),
        (1.0, {"warm": 0, "cool": 0}, "all zero"),
        (1.0, {"warm": float("nan")}, "finite"),
    ],
)
def test_bad_strengths_and_mixes_are_clear_errors(two_style_model, strength, mix, message):
    with pytest.raises(BrushworkError, match=message):
        Stylizer.from_file(two_style_model, device="cpu", strength=strength, mix=mix)


def test_mix_text_is_parsed_and_checked():
    assert parse_mix("warm=0.7, cool=0.3") == {"warm": 0.7, "cool": 0.3}
    assert parse_mix("warm") == {"warm": 1.0}  # one style by its name
    for bad in ("warm,cool", "warm=x", "=1", "", "warm=1,warm=2"):
        with pytest.raises(BrushworkError, match="--style-mix"):
            parse_mix(bad)


def test_models_of_one_strength_keep_working_and_refuse_other_strengths(tiny_model):
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    assert stylizer.cond is None and stylizer.styles == ["tiny"]
    assert Stylizer.from_file(tiny_model, device="cpu", mix={"tiny": 1}).cond is None
    with pytest.raises(BrushworkError, match="trained at one strength.*--max-strength"):
        Stylizer.from_file(tiny_model, device="cpu", strength=0.5)
    assert condition({"generator": {}, "style_name": "x"}) is None


def test_preserve_color_keeps_the_photos_chroma_with_a_model(tmp_path):
    photo = torch.rand(1, 3, 8, 8).repeat_interleave(6, 2).repeat_interleave(6, 3) * 0.6 + 0.2
    plain = Stylizer.from_file("starry_night", device="cpu")(photo)
    kept = Stylizer.from_file("starry_night", device="cpu", preserve_color=True)(photo)
    ab = lambda image: rgb_to_lab(image)[:, 1:].mean(dim=(2, 3))  # noqa: E731
    assert (ab(plain) - ab(photo)).abs().max() > 3  # the style recolours...
    assert (ab(kept) - ab(photo)).abs().max() < 1.5  # ...colour preservation does not
    lightness = lambda image: rgb_to_lab(image)[:, 0]  # noqa: E731
    assert (lightness(kept) - lightness(plain)).abs().mean() < 2  # the style's lightness stays


def test_preserve_color_with_optimize(tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(64, 48))
    painting = make_photo(tmp_path / "painting.png", size=(48, 48), seed=4)
    out = tmp_path / "out.png"
    code, _, err = run(["stylize", "--optimize", "--style", painting, photo, "-o", out, "--steps", "3",
                        "--backbone", "random", "--preserve-color", "--quiet"], capsys)  # fmt: skip
    assert code == 0, err
    to_tensor = lambda path: torch.from_numpy(pixels(path)).float().div(255).permute(2, 0, 1)[None]  # noqa: E731
    assert (rgb_to_lab(to_tensor(out))[:, 1:].mean((2, 3)) - rgb_to_lab(to_tensor(photo))[:, 1:].mean((2, 3))).abs().max() < 1.5


def test_preserve_color_tiles_without_seams():
    big = Image.fromarray(textured_pixels(320, 352, seed=2).numpy())  # 5 × 6 tiles of 64 px
    whole = Stylizer.from_file("great_wave", device="cpu", preserve_color=True, tile=0)(big)
    tiled = Stylizer.from_file("great_wave", device="cpu", preserve_color=True, tile=64)(big)
    assert np.abs(np.asarray(whole, dtype=int) - np.asarray(tiled, dtype=int)).max() <= 2
    assert_seamless(whole, tiled, 64)


def test_mask_leaves_the_unmasked_area_bit_identical(tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(60, 40))
    mask = half_mask(tmp_path / "mask.png", (60, 40), (0, 0, 29, 39))
    for feather in ("0", "6"):
        out = tmp_path / f"out{feather}.png"
        code, _, err = run(["stylize", tiny_model, photo, "-o", out, "--mask", mask, "--feather", feather], capsys)
        assert code == 0, err
        before, after = pixels(photo), pixels(out)
        assert np.array_equal(after[:, 30:], before[:, 30:])
        assert np.abs(after[:, :20] - before[:, :20]).mean() > 3
    # Feathering fades in inside the border: the column next to it changes less than the inside.
    edge, inside = (np.abs(pixels(out)[:, c] - before[:, c]).mean() for c in (29, 10))
    assert edge < inside


def test_regions_paint_different_styles_and_keep_the_rest(two_style_model, tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(60, 40))
    left = half_mask(tmp_path / "left.png", (60, 40), (0, 0, 19, 39))
    middle = half_mask(tmp_path / "middle.png", (60, 40), (20, 0, 39, 39))
    out = tmp_path / "out.png"
    code, _, err = run(["stylize", two_style_model, photo, "-o", out,
                        "--region", f"{left}=warm", "--region", f"{middle}={tiny_model}"], capsys)  # fmt: skip
    assert code == 0, err
    before, after = pixels(photo), pixels(out)
    assert np.array_equal(after[:, 40:], before[:, 40:])
    warm = pixels_of(Stylizer.from_file(two_style_model, device="cpu", mix={"warm": 1}), photo)
    tiny = pixels_of(Stylizer.from_file(tiny_model, device="cpu"), photo)
    assert np.array_equal(after[:, :20], warm[:, :20]) and np.array_equal(after[:, 20:40], tiny[:, 20:40])


def pixels_of(stylizer, path):
    with Image.open(path) as image:
        return np.asarray(stylizer(image.convert("RGB")), dtype=np.int16)


def test_bad_masks(tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(60, 40))
    small = half_mask(tmp_path / "small.png", (30, 20), (0, 0, 14, 19))
    out = tmp_path / "out.png"
    code, _, err = run(["stylize", tiny_model, photo, "-o", out, "--mask", small], capsys)
    assert code == 0 and "mask is 30x20, the photo 60x40; resized" in err
    assert np.array_equal(pixels(out)[:, 32:], pixels(photo)[:, 32:])
    (tmp_path / "notes.txt").write_text("not an image")
    for mask, needle in ((tmp_path / "notes.txt", "notes.txt"), (tmp_path / "absent.png", "absent.png")):
        code, _, err = run(["stylize", tiny_model, photo, "-o", tmp_path / "x.png", "--mask", mask], capsys)
        assert code == 2
        assert_one_line_error(err, needle)
    for argv, needle in ((["--region", "nomask"], "MASK=STYLE"), (["--feather", "4"], "--feather needs --mask"),
                         (["--mask", small, "--feather", "-1"], "--feather must be >= 0")):  # fmt: skip
        code, _, err = run(["stylize", tiny_model, photo, "-o", tmp_path / "x.png", *argv], capsys)
        assert code == 2
        assert_one_line_error(err, needle)


def test_feathering_keeps_zeros_and_ramps_inside():
    mask = np.zeros((40, 40), np.uint8)
    mask[:, :20] = 255
    soft = feather_mask(mask, 8)
    assert (soft[:, 20:] == 0).all() and (soft[:, :8] == 255).all()
    assert 0 < soft[20, 17] < soft[20, 14] < 255
    grey = np.full((10, 10), 128, np.uint8)
    assert np.array_equal(feather_mask(grey, 3), grey)  # a soft mask covering the photo is kept


def test_region_stylizer_python_api(two_style_model, tmp_path):
    stylizer = Stylizer.from_file(two_style_model, device="cpu")
    mask = half_mask(tmp_path / "m.png", (32, 24), (0, 0, 15, 23))
    regions = RegionStylizer([Region(mask, stylizer.with_options(mix={"cool": 1}))], feather=2)
    photo = torch.rand(3, 24, 32)
    out = regions(photo)
    assert out.shape == photo.shape
    assert torch.allclose(out[:, :, 16:], (photo[:, :, 16:] * 255).round() / 255, atol=1e-6)


def test_cli_strength_and_style_options(two_style_model, tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(40, 32))
    out = tmp_path / "out.png"
    code, stdout, err = run(["stylize", two_style_model, photo, "-o", out, "--strength", "0"], capsys)
    assert code == 0 and np.array_equal(pixels(out), pixels(photo))
    code, stdout, _ = run(["stylize", two_style_model, photo, "-o", out, "--style-mix", "warm=0.7,cool=0.3"], capsys)
    assert code == 0 and "warm 0.7 + cool 0.3" in stdout
    code, stdout, _ = run(["stylize", two_style_model, photo, "-o", out, "--style-mix", "cool"], capsys)
    assert code == 0 and "(cool)" in stdout
    for argv, needle in ((["--style-mix", "starry"], "its styles: warm, cool"), (["--strength", "2"], "0 to 1.5"),
                         (["--style", "warm.jpg"], "--style: options for --optimize")):  # fmt: skip
        code, _, err = run(["stylize", two_style_model, photo, "-o", out, *argv], capsys)
        assert code == 2
        assert_one_line_error(err, needle)
    code, _, err = run(["stylize", tiny_model, photo, "-o", out, "--strength", "0.5"], capsys)
    assert code == 2
    assert_one_line_error(err, "--max-strength")
    code, _, err = run(["stylize", "--optimize", "--style", photo, photo, "-o", out, "--strength", "0.5"], capsys)
    assert code == 2
    assert_one_line_error(err, "--strength", "not for --optimize")


def test_mix_command_writes_a_strip_and_a_gif(two_style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(40, 30))
    code, out, err = run(["mix", two_style_model, "warm", "cool", photo, "-o", tmp_path / "strip.png", "--frames", "4"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "strip.png") as strip:
        assert strip.size == (4 * 40 + 3 * 4, 30)
        first, last = np.asarray(strip)[:, :40], np.asarray(strip)[:, -40:]
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 1
    code, _, err = run(["mix", two_style_model, "warm", "cool", photo, "-o", tmp_path / "mix.gif", "--frames", "3"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "mix.gif") as gif:
        assert gif.n_frames == 4  # there and back: a, mid, b, mid
    for argv, needle in ((["warm", "starry"], "its styles"), (["warm", "warm"], "two different styles"),
                         (["warm", "cool", "--frames", "1"], "--frames")):  # fmt: skip
        code, _, err = run(["mix", two_style_model, *argv[:2], photo, "-o", tmp_path / "x.png", *argv[2:]], capsys)
        assert code == 2
        assert_one_line_error(err, needle)


def test_info_lists_the_styles_and_strengths(two_style_model, capsys):
    code, out, _ = run(["info", two_style_model], capsys)
    assert code == 0 and "warm, cool" in out and "0 to 1.5" in out
