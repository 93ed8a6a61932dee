"""Checks every uploaded image passes before anything decodes it fully.

The type is judged by the file's content (its name may lie), the byte size and the pixel
count (from the header, before decoding) against the server's limits; decoding itself goes
through brushwork.images, so truncated files and decompression bombs get the CLI's checks.
Every refusal is a BrushworkError whose one-line message names the file as the user knows it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from brushwork.errors import BrushworkError, describe
from brushwork.images import ImageFileError, open_image
from brushwork.web.settings import Limits

# PIL format -> file suffix. Only common photo formats: PIL can parse many more (some
# through external programs), none of which a photo or painting upload needs.
ACCEPTED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
ACCEPTED_TEXT = "JPEG, PNG, WebP, BMP or TIFF"


def display_name(path: str | Path) -> str:
    """The name the user gave the file (Gradio keeps it as the upload's file name)."""
    return Path(path).name


def sniff(path: str | Path, limits: Limits) -> str:
    """The accepted PIL format of an uploaded image, judged from its bytes and header only.

    Raises BrushworkError ("NAME: reason") for an empty, oversized, non-image, unaccepted
    or too-many-pixels file.
    """
    path, name = Path(path), display_name(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BrushworkError(f"{name}: cannot read the upload ({describe(exc)})") from None
    if size == 0:
        raise BrushworkError(f"{name}: the file is empty")
    if size > limits.max_upload_bytes:
        raise BrushworkError(f"{name}: {size / 2**20:.1f} MB, over this server's limit of {limits.max_upload_mb:g} MB per file")
    try:
        with Image.open(path) as image:  # reads the header only
            kind, (width, height) = image.format, image.size
    except UnidentifiedImageError:
        raise BrushworkError(f"{name}: not an image file ({ACCEPTED_TEXT} expected)") from None
    except Exception as exc:  # a header broken in a way PIL reports with another type
        raise BrushworkError(f"{name}: not a readable image ({describe(exc)})") from None
    if kind not in ACCEPTED_FORMATS:
        raise BrushworkError(f"{name}: its content is a {kind} file, whatever its name says; {ACCEPTED_TEXT} expected")
    if width * height > limits.max_pixels:
        raise BrushworkError(
            f"{name}: {width}×{height} is {width * height / 1e6:.1f} megapixels, over this server's limit "
            f"of {limits.max_megapixels:g}"
        )
    return kind


def open_upload(path: str | Path, limits: Limits) -> Image.Image:
    """An uploaded image, checked (:func:`sniff`) and decoded as "RGB" or "RGBA"."""
    sniff(path, limits)
    try:
        return open_image(path)
    except ImageFileError as exc:
        raise BrushworkError(f"{display_name(path)}: {exc.reason}") from None


def copy_checked(paths: list[str], folder: Path, limits: Limits) -> list[Path]:
    """Check and fully decode each upload, then copy it into `folder` as 0000.jpg, 0001.png, ...
    (a suffix that matches its content, so the training code's file search finds it)."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for index, path in enumerate(paths):
        kind = sniff(path, limits)
        open_upload(path, limits)  # a truncated file is refused now, not halfway through training
        copies.append(folder / f"{index:04d}{ACCEPTED_FORMATS[kind]}")
        shutil.copyfile(path, copies[-1])
    return copies
