"""Stylizing one uploaded photo for the studio: with a style of the library (strength, style
mix, colour preservation, a mask) or by per-image optimisation towards an uploaded painting.
The full-resolution result is written for download; large photos are tiled as in the CLI."""

from __future__ import annotations

import shutil
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from brushwork.errors import BrushworkError
from brushwork.images import save_image
from brushwork.inference.conditioning import parse_mix
from brushwork.web.library import StyleLibrary
from brushwork.web.settings import StudioSettings
from brushwork.web.uploads import display_name, open_upload

PAINTING_CHOICE = "an uploaded painting (per-image optimisation)"
OUTPUT_FORMATS = ("jpg", "png", "webp")
KEEP_OUTPUTS = 200  # result folders kept on disk; older ones are removed


@dataclass
class StylizeRequest:
    photo: str  # path of the uploaded photo
    style: str  # a library name, or PAINTING_CHOICE
    strength: float = 1.0
    mix: str = ""  # "name" or "a=0.7,b=0.3" (models of several styles)
    preserve_color: bool = False
    mask: Image.Image | None = None  # white: stylize; any size (resized to the photo)
    feather: int = 0
    painting: str | None = None  # with PAINTING_CHOICE
    steps: int = 100
    size: int = 384
    image_format: str = "jpg"


@dataclass
class StylizeResult:
    before: Path  # previews (JPEG), at most preview_size pixels on the longer side
    after: Path
    download: Path  # the full-resolution output
    message: str


def preview(image: Image.Image, side: int) -> Image.Image:
    small = image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    return small


def result_folder(settings: StudioSettings) -> Path:
    """A new folder for one request's files. Files, not PIL images, go back to Gradio: it
    copies files into its cache atomically, but rewrites a cached PIL image in place, which
    races when two requests return the same picture."""
    folder = settings.outputs_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    _prune(settings.outputs_dir)
    return folder


def save_preview(image: Image.Image, side: int, path: Path) -> Path:
    preview(image, side).save(path, quality=90)
    return path


def _stylizer(request: StylizeRequest, library: StyleLibrary, settings: StudioSettings):
    """The stylizer the request asks for: a library model with its options, or an optimiser."""
    if request.style == PAINTING_CHOICE:
        from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer

        if not request.painting:
            raise BrushworkError("upload a painting to optimise towards, or pick a style")
        open_upload(request.painting, settings.limits)  # refused here with its own message if bad
        config = OptimizeConfig(style=request.painting, steps=int(request.steps), size=int(request.size))
        optimiser = StyleOptimizer(config, progress=True)  # its progress bar is what the page follows
        optimiser.preserve_color = request.preserve_color
        return optimiser
    mix = parse_mix(request.mix) if request.mix.strip() else None
    return library.stylizer(request.style).with_options(
        strength=float(request.strength), mix=mix, preserve_color=request.preserve_color
    )


def _masked(stylizer, mask: Image.Image, size: tuple[int, int], feather: int, folder: Path):
    """`stylizer` restricted to the white part of `mask` (regions.py), the mask fitted to the photo."""
    from brushwork.inference.regions import Region, RegionStylizer

    grey = mask.convert("L").resize(size, Image.Resampling.BILINEAR)
    if not np.asarray(grey).any():
        raise BrushworkError("the mask is empty (all black): paint or upload where the style should go")
    path = folder / "mask.png"
    grey.save(path)
    return RegionStylizer([Region(path, stylizer)], feather=int(feather))


def stylize_upload(request: StylizeRequest, library: StyleLibrary, settings: StudioSettings) -> StylizeResult:
    """Check and decode the photo, stylize it, write the full-size result; one-line errors."""
    if request.image_format not in OUTPUT_FORMATS:
        raise BrushworkError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    photo = open_upload(request.photo, settings.limits)
    stylizer = _stylizer(request, library, settings)
    folder = result_folder(settings)
    if request.style == PAINTING_CHOICE:  # optimisation runs at its own size, like the CLI's --optimize
        photo = preview(photo, int(request.size)) if max(photo.size) > request.size else photo
    if request.mask is not None:
        stylizer = _masked(stylizer, request.mask, photo.size, request.feather, folder)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = stylizer(photo)
    seconds = time.perf_counter() - started
    stem = Path(display_name(request.photo)).stem[:80] or "photo"
    download = folder / f"{stem}-{_slug(stylizer.name)}.{request.image_format}"
    save_image(result, download)
    notes = "".join(f" Note: {w.message}" for w in caught)
    message = f"Stylized {display_name(request.photo)} ({photo.width}×{photo.height}) with {stylizer.name} in {seconds:.1f} s.{notes}"
    side = settings.limits.preview_size
    before, after = save_preview(photo, side, folder / "before.jpg"), save_preview(result, side, folder / "after.jpg")
    return StylizeResult(before, after, download, message)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60].strip("_") or "style"


def _prune(outputs: Path) -> None:
    """Bound the disk the downloads use: only the newest KEEP_OUTPUTS result folders stay."""
    folders = sorted((p for p in outputs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in folders[:-KEEP_OUTPUTS]:
        shutil.rmtree(old, ignore_errors=True)
