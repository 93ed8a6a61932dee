"""Tests for brushwork.images: tiny images generated in tmp_path, nothing downloaded."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork import images as data
from brushwork.training.crops import RandomCrops
from brushwork.images import (
    find_images,
    load_image,
    open_image,
    pil_to_tensor,
    save_image,
    tensor_to_pil,
)
from brushwork.errors import BrushworkError


def noise(w: int = 16, h: int = 12, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A random uint8 image of the given PIL mode ("RGB", "RGBA" or "L")."""
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    array = np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)
    return Image.fromarray(array.squeeze(-1) if channels == 1 else array)


def write(path: Path, img: Image.Image | None = None, **save_args) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (img if img is not None else noise()).save(path, **save_args)
    return path


def jpeg_bytes(w: int = 64, h: int = 48) -> bytes:
    buf = io.BytesIO()
    noise(w, h).save(buf, "JPEG")
    return buf.getvalue()


# --- find_images -------------------------------------------------------------------


def test_find_images_recursive_sorted_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.png", "a.JPG", "sub/c.Jpeg", "sub/deep/d.webp", "sub/e.tiff"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    for name in ["notes.txt", ".hidden.png", ".git/x.png", "sub/.cache/y.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    found = find_images(tmp_path)
    assert found == sorted(found)
    rel = {p.relative_to(tmp_path).as_posix() for p in found}
    assert rel == {"b.png", "a.JPG", "sub/c.Jpeg", "sub/deep/d.webp", "sub/e.tiff"}


def test_find_images_file_missing_and_empty(tmp_path: Path) -> None:
    img = write(tmp_path / "one.png")
    assert find_images(img) == [img]
    assert find_images(write(tmp_path / "t.txt", None, format="PNG")) == []
    (tmp_path / "empty").mkdir()
    assert find_images(tmp_path / "empty") == []
    with pytest.raises(BrushworkError, match="nope: no such file or directory"):
        find_images(tmp_path / "nope")


# --- round trips and saving -----------------------------------------------------------


def test_png_round_trip_is_exact(tmp_path: Path) -> None:
    t = torch.randint(0, 256, (1, 3, 10, 14)).float() / 255
    original = t.clone()
    save_image(t, tmp_path / "out" / "x.png")  # parent folder is created
    assert torch.equal(t, original)
    assert torch.equal(load_image(tmp_path / "out" / "x.png"), t)


def test_tensor_pil_helpers() -> None:
    t = torch.tensor([-1.0, 0.5, 2.0]).view(3, 1, 1).expand(3, 2, 5)
    img = tensor_to_pil(t)
    assert img.mode == "RGB" and img.size == (5, 2)
    assert img.getpixel((0, 0)) == (0, 128, 255)
    back = pil_to_tensor(noise(mode="RGBA"))
    assert back.shape == (1, 3, 12, 16) and back.dtype == torch.float32
    with pytest.raises(ValueError):
        tensor_to_pil(torch.zeros(2, 3, 4, 4))


def test_save_is_atomic_and_keeps_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.jpg"
    save_image(torch.rand(1, 3, 8, 8), target, quality=90)
    assert [p.name for p in tmp_path.iterdir()] == ["x.jpg"]
    before = target.read_bytes()

    def broken_save(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(BrushworkError, match="x.jpg: cannot write image"):
        save_image(torch.rand(1, 3, 8, 8), target)
    assert [p.name for p in tmp_path.iterdir()] == ["x.jpg"]
    assert target.read_bytes() == before


def test_save_unsupported_format(tmp_path: Path) -> None:
    with pytest.raises(BrushworkError, match=r"x\.xyz: unsupported output format '\.xyz'"):
        save_image(torch.rand(3, 4, 4), tmp_path / "x.xyz")


def test_alpha_kept_for_png_dropped_for_jpeg(tmp_path: Path) -> None:
    alpha = noise(6, 4, mode="L", seed=1)
    rgba = noise(6, 4, seed=2)
    rgba.putalpha(alpha)
    save_image(rgba, tmp_path / "a.png")
    png = open_image(tmp_path / "a.png")
    assert png.mode == "RGBA"
    assert np.array_equal(np.asarray(png)[..., 3], np.asarray(alpha))
    save_image(rgba, tmp_path / "a.jpg")
    assert open_image(tmp_path / "a.jpg").mode == "RGB"


# --- bad files ----------------------------------------------------------------------


def make_missing(d: Path) -> Path:
    return d / "missing.png"


def make_directory(d: Path) -> Path:
    (d / "folder.png").mkdir()
    return d / "folder.png"


def make_empty(d: Path) -> Path:
    (d / "empty.jpg").touch()
    return d / "empty.jpg"


def make_text(d: Path) -> Path:
    (d / "notes.png").write_text("hello, not an image\n")
    return d / "notes.png"


def make_truncated_jpeg(d: Path) -> Path:
    raw = jpeg_bytes()
    (d / "cut.jpg").write_bytes(raw[: len(raw) // 2])
    return d / "cut.jpg"


def make_corrupt_png(d: Path) -> Path:
    (d / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return d / "bad.png"


@pytest.mark.parametrize(
    "make, problem",
    [
        (make_missing, "no such file"),
        (make_directory, "is a directory"),
        (make_empty, "empty"),
        (make_text, "not an image"),
        (make_truncated_jpeg, "truncated or corrupt"),
        (make_corrupt_png, "not an image"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path: Path, make, problem: str) -> None:
    path = make(tmp_path)
    with pytest.raises(BrushworkError) as info:
        load_image(path)
    message = str(info.value)
    assert path.name in message and problem in message and "\n" not in message


@pytest.mark.parametrize("side", [12, 20])  # PIL warns above the limit, errors above 2x
def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    path = write(tmp_path / "bomb.png", noise(side, side))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(BrushworkError) as info:
        open_image(path)
    message = str(info.value)
    assert "bomb.png" in message and f"{side * side} pixels" in message and "100" in message
    assert "\n" not in message


# --- conversions --------------------------------------------------------------------


def test_sixteen_bit_grayscale_is_scaled(tmp_path: Path) -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    path = write(tmp_path / "g16.png", Image.fromarray(values))
    with Image.open(path) as raw:
        assert raw.mode in ("I;16", "I")
    t = load_image(path)
    assert t.shape == (1, 3, 1, 3)
    assert torch.allclose(t[0, :, 0], torch.tensor([0.0, 0.5, 1.0]).expand(3, 3), atol=1 / 255)
    assert t[0, 0, 0, 2] == 1.0


def test_float_grayscale_in_unit_range(tmp_path: Path) -> None:
    img = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert img.mode == "F"
    assert pil_to_tensor(img)[0, 0, 0].tolist() == pytest.approx([0, 128 / 255, 1])


def test_cmyk_converts_to_rgb(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jpg", Image.new("CMYK", (8, 8), (0, 255, 255, 0)))
    img = open_image(path)
    assert img.mode == "RGB"
    r, g, b = img.getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60  # cyan-free, full magenta+yellow = red


def test_palette_and_gray_modes(tmp_path: Path) -> None:
    palette = noise(8, 8).quantize(16)
    write(tmp_path / "p.png", palette)
    write(tmp_path / "pt.png", palette, transparency=0)
    write(tmp_path / "l.png", noise(8, 8, mode="L"))
    write(tmp_path / "la.png", noise(8, 8, mode="L").convert("LA"))
    write(tmp_path / "rgba.png", noise(8, 8, mode="RGBA"))
    modes = {p.stem: open_image(p).mode for p in find_images(tmp_path)}
    assert modes == {"p": "RGB", "pt": "RGBA", "l": "RGB", "la": "RGBA", "rgba": "RGBA"}
    assert open_image(tmp_path / "p.png").tobytes() == palette.convert("RGB").tobytes()
    gray = np.asarray(open_image(tmp_path / "l.png"))
    assert np.array_equal(gray[..., 0], np.asarray(noise(8, 8, mode="L")))
    assert np.array_equal(gray[..., 0], gray[..., 2])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = write(tmp_path / "rot.jpg", noise(20, 10), exif=exif)
    with Image.open(path) as raw:
        assert raw.size == (20, 10)
    assert open_image(path).size == (10, 20)


def test_max_size_downsizes_never_upsizes(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_bytes(64, 48))
    assert open_image(path, max_size=16).size == (16, 12)
    assert load_image(path, max_size=10).shape == (1, 3, 8, 10)
    assert open_image(path, max_size=1000).size == (64, 48)
    assert open_image(write(tmp_path / "p.png", noise(30, 40)), max_size=20).size == (15, 20)


# --- RandomCrops --------------------------------------------------------------------


def test_random_crops_shapes_range_and_determinism(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"{i}.png", noise(40 + 8 * i, 32, seed=i)) for i in range(3)]
    crops = RandomCrops(paths, crop=16, short_side=(16, 28))
    assert len(crops) == 3 and crops.skipped == []
    a = crops.sample(5, torch.Generator().manual_seed(7))
    b = RandomCrops(paths, crop=16, short_side=(16, 28)).sample(5, torch.Generator().manual_seed(7))
    assert a.shape == (5, 3, 16, 16) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, crops.sample(5, torch.Generator().manual_seed(8)))


def test_random_crops_upscale_small_images(tmp_path: Path) -> None:
    path = write(tmp_path / "tiny.png", noise(6, 4))
    batch = RandomCrops([path], crop=16, short_side=(8, 12)).sample(2, torch.Generator())
    assert batch.shape == (2, 3, 16, 16)


def test_random_crops_skip_bad_files(tmp_path: Path) -> None:
    good = write(tmp_path / "good.png", noise(32, 32))
    text, cut = make_text(tmp_path), make_truncated_jpeg(tmp_path)
    crops = RandomCrops([good, text, cut], crop=8, short_side=(8, 16), cache_bytes=0)
    assert [p for p, _ in crops.skipped] == [text] and len(crops) == 2
    with pytest.warns(UserWarning, match="cut.jpg"):  # passes the header check, fails later
        for _ in range(10):
            crops.sample(4, torch.Generator().manual_seed(0))
    assert len(crops) == 1
    assert [p for p, _ in crops.skipped] == [text, cut]
    assert all("\n" not in reason for _, reason in crops.skipped)


def test_random_crops_nothing_usable(tmp_path: Path) -> None:
    with pytest.raises(BrushworkError, match=r"no readable images \(of 2 files"):
        RandomCrops([make_text(tmp_path), make_empty(tmp_path)], crop=8, short_side=(8, 8))
    with pytest.raises(BrushworkError, match="no training images"):
        RandomCrops([], crop=8, short_side=(8, 8))
    crops = RandomCrops([make_truncated_jpeg(tmp_path)], crop=8, short_side=(8, 8))
    with pytest.raises(BrushworkError, match="no readable images"), pytest.warns(UserWarning):
        crops.sample(1, torch.Generator())


def test_random_crops_cache_is_bounded(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"{i}.png", noise(16, 16, seed=i)) for i in range(4)]
    crops = RandomCrops(paths, crop=8, short_side=(8, 16), cache_bytes=2 * 3 * 16 * 16)
    crops.sample(16, torch.Generator().manual_seed(1))
    assert len(crops._cache) == 2
    assert data.IMAGE_EXTENSIONS >= {".png", ".jpg"}
