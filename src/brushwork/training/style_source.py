"""A style to train on: its images (perceptual/style_images.py), and random crops of its
real paintings for the discriminator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brushwork.images import open_image
from brushwork.perceptual.style_images import StyleImages, open_style
from brushwork.training.crops import RandomCrops


@dataclass
class StyleSource(StyleImages):
    real_crops: RandomCrops


def load_style(path: str | Path, crop: int, style_size: int, name: str = "") -> StyleSource:
    """Open a painting (file) or a collection (folder) for training.

    A single painting is seen by the discriminator as crops at scales from half to full
    `style_size`, so it learns strokes and colour, not the composition. A collection keeps
    its paintings near their own size (they are usually small, e.g. 256 px).
    """
    style = open_style(path, style_size, name)
    if style.is_collection:
        short_side = (crop, max(crop, 2 * crop))
    else:
        with open_image(style.paths[0]) as image:
            width, height = image.size
        scale = min(1.0, style_size / max(width, height))
        full_short = max(crop, round(min(width, height) * scale))
        short_side = (max(crop, full_short // 2), full_short)
    crops = RandomCrops(style.paths, crop=crop, short_side=short_side)
    return StyleSource(**vars(style), real_crops=crops)
