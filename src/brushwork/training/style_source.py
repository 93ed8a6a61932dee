"""A style to train on: one painting, or a folder of an artist's paintings (a collection).

It supplies the two things training needs from the style: the images whose features are the
style target (taken once, outside the training loop) and random crops of real paintings for
the discriminator.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from brushwork.images import find_images, load_image, open_image
from brushwork.training.crops import RandomCrops
from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import thumbnail_base64

# Enough paintings for a collection's feature distribution without loading thousands.
MAX_GRAM_IMAGES = 64
# The deepest loss-network layer is at 1/32 scale (Lite0): a smaller painting has no features there.
MIN_STYLE_SIDE = 32


@dataclass
class StyleSource:
    name: str
    paths: list[Path]
    is_collection: bool
    style_size: int
    real_crops: RandomCrops

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
        or up to MAX_GRAM_IMAGES paintings spread evenly over a collection (unreadable ones
        are skipped with a warning)."""
        step = max(1, len(self.paths) // MAX_GRAM_IMAGES)
        used = 0
        for path in self.paths[::step][:MAX_GRAM_IMAGES]:
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


def load_style(path: str | Path, crop: int, style_size: int, name: str = "") -> StyleSource:
    """Open a painting (file) or a collection (folder) for training.

    A single painting is seen by the discriminator as crops at scales from half to full
    `style_size`, so it learns strokes and colour, not the composition. A collection keeps
    its paintings near their own size (they are usually small, e.g. 256 px).
    """
    path = Path(path)
    if not path.exists():
        raise BrushworkError(f"{path}: no such style image or folder")
    paths = find_images(path)
    if not paths:
        raise BrushworkError(f"{path}: no images found (jpg, png, webp, bmp, tiff)")
    is_collection = path.is_dir()
    if is_collection:
        short_side = (crop, max(crop, 2 * crop))
    else:
        with open_image(paths[0]) as image:
            width, height = image.size
        scale = min(1.0, style_size / max(width, height))
        full_short = max(crop, round(min(width, height) * scale))
        short_side = (max(crop, full_short // 2), full_short)
    crops = RandomCrops(paths, crop=crop, short_side=short_side)
    return StyleSource(
        name=name or path.stem,
        paths=paths,
        is_collection=is_collection,
        style_size=style_size,
        real_crops=crops,
    )
