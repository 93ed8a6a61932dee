"""A style's images: one painting, or a folder of an artist's paintings (a collection), as
the perceptual objective, per-image optimisation and evaluation take them. (Training adds
the discriminator's crops: training/style_source.py.)"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from brushwork.errors import BrushworkError
from brushwork.images import find_images, load_image, open_image
from brushwork.inference.modelfile import thumbnail_base64

# Enough paintings for a collection's feature distribution without loading thousands.
MAX_STYLE_IMAGES = 64
# The deepest loss-network layer is at 1/32 scale (Lite0): a smaller painting has no features there.
MIN_STYLE_SIDE = 32


@dataclass
class StyleImages:
    """A painting, or a collection (an artist's paintings): what the style objective and the
    evaluation need of a style."""

    name: str
    paths: list[Path]
    is_collection: bool
    style_size: int

    @property
    def kind(self) -> str:
        return "collection" if self.is_collection else "painting"

    def thumbnail(self) -> str:
        """The first readable painting as a small JPEG (base64), for the model's metadata."""
        for path in self.paths:
            try:
                return thumbnail_base64(open_image(path))
            except BrushworkError:
                continue  # already reported when the paintings were read
        raise BrushworkError(f"{self.paths[0].parent}: no readable style images")

    def images(self) -> Iterator[Tensor]:
        """The style image(s) as 1×3×H×W tensors, longer side at most `style_size`: the painting,
        or up to MAX_STYLE_IMAGES paintings spread evenly over a collection (unreadable ones
        are skipped with a warning)."""
        step = max(1, len(self.paths) // MAX_STYLE_IMAGES)
        used = 0
        for path in self.paths[::step][:MAX_STYLE_IMAGES]:
            try:
                image = load_image(path, max_size=self.style_size)
            except BrushworkError as exc:
                if not self.is_collection:
                    raise
                warnings.warn(f"skipping style image {exc}")
                continue
            if min(image.shape[-2:]) < MIN_STYLE_SIDE:
                reason = f"too small for a style image ({image.shape[-1]}x{image.shape[-2]}; at least {MIN_STYLE_SIDE} px a side)"
                if not self.is_collection:
                    raise BrushworkError(f"{path}: {reason}")
                warnings.warn(f"skipping style image {path}: {reason}")
                continue
            used += 1
            yield image
        if not used:
            raise BrushworkError(f"{self.paths[0].parent}: no readable style images")


def open_style(path: str | Path, style_size: int, name: str = "") -> StyleImages:
    """A painting (file) or a collection (folder), its images read at most `style_size` px
    on the longer side; a one-line error if there is none."""
    path = Path(path)
    if not path.exists():
        raise BrushworkError(f"{path}: no such style image or folder")
    paths = find_images(path)
    if not paths:
        raise BrushworkError(f"{path}: no images found (jpg, png, webp, bmp, tiff)")
    return StyleImages(name=name or path.stem, paths=paths, is_collection=path.is_dir(), style_size=style_size)
