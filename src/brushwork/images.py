"""Image files in and out: finding, decoding and saving (training crops: training/crops.py).

Images are float tensors in [0, 1] of shape N×3×H×W. Every problem a user's file can
cause becomes a one-line :class:`~brushwork.errors.BrushworkError` naming the file.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from brushwork.errors import BrushworkError, describe
from brushwork.files import atomic_write

__all__ = [
    "IMAGE_EXTENSIONS", "ImageFileError", "find_images", "load_image",
    "open_image", "pil_to_tensor", "save_image", "tensor_to_pil",
]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})

# Output suffix -> PIL format name; the insertion order is the order shown to users.
_OUTPUT_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
    ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP",
}
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})
_QUALITY_FORMATS = frozenset({"JPEG", "WEBP"})
# zlib level of PNG output. Measured on a stylized 1024² photo: level 1 wrote 2.16 MB in 90 ms,
# Pillow's default (6) 1.96 MB in 212 ms, as long as the network's pass; 10 % more bytes for a
# file written 2.4× faster.
PNG_COMPRESS_LEVEL = 1


class ImageFileError(BrushworkError):
    """An image file that cannot be read; ``path`` and ``reason`` are kept separately."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def find_images(root: str | os.PathLike[str]) -> list[Path]:
    """Image files at ``root``: the file itself, or every image below a folder.

    Suffixes match :data:`IMAGE_EXTENSIONS` case-insensitively; hidden files and folders
    (names starting with '.') below ``root`` are skipped. The result is sorted and may
    be empty.
    """
    root = Path(root)
    if root.is_file():
        return [root] if root.suffix.lower() in IMAGE_EXTENSIONS else []
    if not root.is_dir():
        raise BrushworkError(f"{root}: no such file or directory")
    found = []
    # os.walk rather than rglob so hidden folders are pruned instead of walked.
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(
            Path(folder, name)
            for name in filenames
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS
        )
    return sorted(found)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn whatever the OS or PIL raises for a bad file into an :class:`ImageFileError`."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # PIL only warns between 1x and 2x the limit; refuse those images too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except BrushworkError:
        raise
    except FileNotFoundError:
        raise ImageFileError(path, "no such file or directory") from None
    except PermissionError:
        raise ImageFileError(path, "permission denied") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{found[1]} pixels" if found else "too many pixels"
        limit = f"PIL.Image.MAX_IMAGE_PIXELS is {Image.MAX_IMAGE_PIXELS}"
        raise ImageFileError(path, f"image too large ({pixels}; {limit})") from None
    except UnidentifiedImageError:
        raise ImageFileError(path, "not an image file, or its header is corrupt") from None
    # Decoders report damage with a zoo of exception types.
    except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
        if isinstance(exc, OSError) and exc.errno:  # from the OS (a symlink loop, an I/O error), not the decoder
            raise ImageFileError(path, f"cannot read ({describe(exc)})") from None
        raise ImageFileError(path, f"file is truncated or corrupt ({describe(exc)})") from None
    # PIL's warnings about damaged metadata would not say which file they mean.
    for warning in caught:
        warnings.warn(f"{path}: {describe(warning.message)}", stacklevel=3)


def _open_lazy(path: Path) -> Image.Image:
    """``Image.open`` (header only) after the checks PIL reports badly; use in ``_reading``."""
    if path.is_dir():
        raise ImageFileError(path, "is a directory, not an image file")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise ImageFileError(path, "not a regular file")
    if info.st_size == 0:
        raise ImageFileError(path, "file is empty")
    return Image.open(path)


def _to_rgb_or_rgba(img: Image.Image) -> Image.Image:
    """``img`` converted to "RGBA" if it carries transparency, else to "RGB" (a copy)."""
    if img.mode == "I" or img.mode.startswith("I;16"):
        # convert("RGB") would clip 16-bit values at 255 instead of scaling them.
        gray = np.asarray(img).astype(np.float32) / 257.0
        return _gray_to_rgb(gray)
    if img.mode == "F":
        gray = np.nan_to_num(np.asarray(img, dtype=np.float32))
        return _gray_to_rgb(gray * 255.0 if gray.size and gray.max() <= 1.0 else gray)
    if img.mode == "La":  # PIL cannot go from premultiplied La straight to RGBA
        img = img.convert("LA")
    return img.convert("RGBA" if img.has_transparency_data else "RGB")


def _gray_to_rgb(gray: np.ndarray) -> Image.Image:
    """An "RGB" image from an H×W array of grey levels on the 0..255 scale."""
    return Image.fromarray(np.clip(np.rint(gray), 0, 255).astype(np.uint8)).convert("RGB")


def longer_side_size(height: int, width: int, side: int) -> tuple[int, int]:
    """(h, w) of a height×width image scaled so its longer side is `side`, the aspect kept."""
    scale = side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def shrink_to(images: torch.Tensor, side: int) -> torch.Tensor:
    """N×3×H×W images in [0, 1] resized (antialiased) so the longer side is at most `side`; never upscaled."""
    h, w = images.shape[-2:]
    if max(h, w) <= side:
        return images
    size = longer_side_size(h, w, side)
    return F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def _fit(
    size: tuple[int, int], max_long: int | None = None, min_short: int | None = None
) -> tuple[int, int] | None:
    """The downscaled (w, h) with long side ``max_long`` or else short side ``min_short``.

    None when the image is already small enough: this never upsizes.
    """
    w, h = size
    if max_long is not None and max(w, h) > max_long:
        return longer_side_size(w, h, max_long)
    if min_short is not None and min(w, h) > min_short:
        scale = min_short / min(w, h)
        return max(1, round(w * scale)), max(1, round(h * scale))
    return None


def _decode(
    path: str | os.PathLike[str], max_long: int | None = None, min_short: int | None = None
) -> Image.Image:
    """Decode, orient, convert to RGB/RGBA and downscale as :func:`_fit` says."""
    path = Path(path)
    with _reading(path), _open_lazy(path) as raw:
        target = _fit(raw.size, max_long, min_short)
        if target is not None:
            # JPEG only (a no-op elsewhere): decode at 1/2, 1/4 or 1/8 scale, still >= target.
            raw.draft("RGB", target)
        raw.load()
        img = ImageOps.exif_transpose(raw)
    try:
        img = _to_rgb_or_rgba(img)
    except ValueError:
        raise ImageFileError(path, f"unsupported colour mode {img.mode!r}") from None
    # Recomputed: draft and EXIF rotation both change the size.
    target = _fit(img.size, max_long, min_short)
    return img if target is None else img.resize(target, Image.Resampling.LANCZOS)


def check_image_header(path: str | os.PathLike[str]) -> None:
    """Parse only the header of an image file, with the checks of :func:`open_image`: a
    cheap way to list the unreadable files of a folder before decoding any.

    Raises:
        ImageFileError: missing, empty, non-image, over the pixel limit.
    """
    path = Path(path)
    with _reading(path), _open_lazy(path):
        pass


def open_image(path: str | os.PathLike[str], max_size: int | None = None, min_short: int | None = None) -> Image.Image:
    """Fully decode an image file into a PIL image of mode "RGB" or "RGBA".

    EXIF orientation is applied; other modes are converted (16-bit and float grey are
    rescaled, palettes with transparency become "RGBA"). With ``max_size`` the longer
    side is downsized to at most ``max_size`` pixels, else with ``min_short`` the shorter
    side to at most ``min_short`` (never upsized).

    Raises:
        ImageFileError: (a BrushworkError) missing, empty, non-image, corrupt,
            truncated or oversized file.
    """
    return _decode(path, max_long=max_size, min_short=min_short)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """N×3×H×W floats in [0, 1] -> N×H×W×3 uint8, rounded (clamped; NaN -> 0)."""
    return torch.nan_to_num(images, nan=0.0).clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1)


def from_uint8(pixels: torch.Tensor) -> torch.Tensor:
    """H×W×3 uint8 -> 1×3×H×W float32 in [0, 1]."""
    return pixels.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL image as a 1×3×H×W float32 tensor in [0, 1]; any alpha is dropped."""
    if img.mode != "RGB":
        img = _to_rgb_or_rgba(img).convert("RGB")
    return from_uint8(torch.from_numpy(np.array(img, dtype=np.uint8)))  # a writable copy, as from_numpy wants


def tensor_to_pil(t: torch.Tensor) -> Image.Image:
    """A 1×3×H×W or 3×H×W tensor (clamped to [0, 1]) as an "RGB" PIL image."""
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise ValueError(f"expected a 1x3xHxW or 3xHxW tensor, got shape {tuple(t.shape)}")
    return Image.fromarray(to_uint8(t.detach().float().cpu()[None])[0].numpy())


def load_image(path: str | os.PathLike[str], max_size: int | None = None) -> torch.Tensor:
    """:func:`open_image` as a 1×3×H×W float32 tensor in [0, 1], alpha dropped."""
    return pil_to_tensor(open_image(path, max_size))


def save_image(
    image: torch.Tensor | Image.Image,
    path: str | os.PathLike[str],
    quality: int = 95,
) -> None:
    """Write ``image`` (1×3×H×W / 3×H×W tensor or PIL image) atomically to ``path``.

    The format follows the suffix. An RGBA image keeps its alpha in PNG, WEBP and TIFF and
    loses it in JPEG and BMP. ``quality`` applies to JPEG and WEBP. Parent folders are
    created; an existing file is only replaced once the new one is complete.
    """
    path = Path(path)
    fmt = _OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        choices = ", ".join(_OUTPUT_FORMATS)
        raise BrushworkError(f"{path}: unsupported output format '{path.suffix}' (use {choices})")
    img = _to_rgb_or_rgba(image if isinstance(image, Image.Image) else tensor_to_pil(image))
    if img.mode == "RGBA" and fmt not in _ALPHA_FORMATS:
        img = img.convert("RGB")
    params = {"quality": quality} if fmt in _QUALITY_FORMATS else {}
    if fmt == "PNG":
        params["compress_level"] = PNG_COMPRESS_LEVEL

    try:
        atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **params))
    except OSError as exc:
        raise BrushworkError(f"{path}: cannot write image ({describe(exc)}); any earlier file there is unchanged") from None
