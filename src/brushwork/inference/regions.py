"""Regions: style only where a mask is white (``--mask``), or paint different regions with
different styles (``--region MASK=STYLE``).

A mask is any image, read as grey: white is stylized, black keeps the photo, grey blends.
One of another size than the photo is resized to it (with a warning). Feathering fades the
style in over ``feather`` pixels *inside* the masked area's border, so every pixel outside
it keeps the photo's exact bytes: the ramp is ``2·blur(support) − 1``, which is 0 on the
border and 1 at ``feather`` pixels in (a box blur of that radius makes it linear).
Compositing is done in uint8, a band of rows at a time, so an 8K photo needs no float copy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import Tensor

from brushwork.images import from_uint8, open_image, to_uint8
from brushwork.errors import BrushworkError
from brushwork.inference.stylize import ImageStylizer

COMPOSITE_ROWS = 512  # rows blended at a time (bounds the float temporaries)


def load_mask(path: str | Path, height: int, width: int) -> np.ndarray:
    """The mask at `path` as H×W uint8 (255: stylize), resized to the photo with a warning."""
    image = open_image(path)
    if image.mode == "RGBA" and image.getextrema()[3][0] < 255:
        grey = image.getchannel("A")  # a cut-out: its opaque part is the region
    else:
        grey = image.convert("L")
    if grey.size != (width, height):
        warnings.warn(f"{path}: mask is {grey.width}x{grey.height}, the photo {width}x{height}; resized to fit")
        grey = grey.resize((width, height), Image.Resampling.BILINEAR)
    return np.array(grey, dtype=np.uint8)  # writable, as torch.from_numpy wants


def feather_mask(mask: np.ndarray, feather: int) -> np.ndarray:
    """Fade the mask in over `feather` pixels inside its border; zeros stay exactly zero."""
    if feather <= 0:
        return mask
    support = Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8))
    blurred = np.asarray(support.filter(ImageFilter.BoxBlur(feather)), dtype=np.int16)
    ramp = np.clip(2 * blurred - 255, 0, 255).astype(np.uint8)
    return np.minimum(mask, ramp)


def composite(photo: Tensor, stylized: Tensor, alpha: np.ndarray) -> Tensor:
    """H×W×3 uint8 each and an H×W uint8 alpha -> the blend; alpha 0 is the photo's bytes."""
    out = photo.clone()
    for top in range(0, photo.shape[0], COMPOSITE_ROWS):
        rows = slice(top, top + COMPOSITE_ROWS)
        a = torch.from_numpy(alpha[rows]).float().div_(255)[..., None]
        base = photo[rows].float()
        blended = base + (stylized[rows].float() - base) * a
        out[rows] = blended.round_().clamp_(0, 255).to(torch.uint8)
    return out


@dataclass
class Region:
    """Stylize with `stylizer` where `mask` (an image file) is white."""

    mask: Path
    stylizer: ImageStylizer


class RegionStylizer(ImageStylizer):
    """Paints each region with its own stylizer over the photo, later regions on top.

    ``RegionStylizer([Region("sky.png", wave), Region("ground.png", starry)], feather=16)(photo)``
    """

    def __init__(self, regions: list[Region], feather: int = 0):
        if not regions:
            raise ValueError("RegionStylizer needs at least one region")
        if feather < 0:
            raise BrushworkError(f"--feather must be >= 0 pixels (got {feather})")
        self.regions = regions
        self.feather = feather
        self.name = " | ".join(region.stylizer.name for region in regions)
        self._masks: dict[tuple[Path, int, int], np.ndarray] = {}
        for region in regions:  # fail on a missing or broken mask before any photo is run
            open_image(region.mask).close()

    def alpha(self, region: Region, height: int, width: int) -> np.ndarray:
        key = (Path(region.mask), height, width)
        if key not in self._masks:  # a folder of same-size photos reads each mask once
            self._masks[key] = feather_mask(load_mask(region.mask, height, width), self.feather)
        return self._masks[key]

    def stylize_pixels(self, pixels: Tensor, thumbnail: Tensor | None = None) -> Tensor:
        out = pixels
        for region in self.regions:
            alpha = self.alpha(region, *pixels.shape[:2])
            if alpha.any():  # a region absent from this photo costs nothing
                out = composite(out, region.stylizer.stylize_pixels(pixels, thumbnail), alpha)
        return out

    def stylize_tensor(self, images: Tensor) -> Tensor:
        return torch.stack([from_uint8(self.stylize_pixels(image))[0] for image in to_uint8(images)]).to(images.device)
