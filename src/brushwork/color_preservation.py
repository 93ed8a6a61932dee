"""Colour preservation (``--preserve-color``): the stylized image's lightness with the
photo's colours.

Both images go to CIELAB; the output takes L* (lightness: the strokes, textures and shading
the style painted) from the stylized image and a*, b* (hue and saturation) from the photo,
the luminance-only transfer of Gatys et al. 2016 ("Preserving color in neural artistic
style transfer"). Lab rather than YCbCr: its lightness is perceptual, so a painting's dark
strokes do not shift the photo's hues. Per pixel, so it runs tile by tile and on any
stylizer (a model or the per-image optimisation).

The paper's other method, colour matching (``--optimize --match-colors``): before the
per-image optimisation, the painting is recoloured to the photo's mean colour and colour
covariance (the linear map of color_transfer.py), so the style targets already carry the
photo's palette and the strokes are painted in it.
"""

from __future__ import annotations

import torch
from kornia.color import lab_to_rgb, rgb_to_lab
from torch import Tensor

from .color_transfer import ColorTransfer


def keep_photo_colors(stylized: Tensor, photo: Tensor) -> Tensor:
    """N×3×H×W in [0, 1] each -> the stylized lightness with the photo's a*b*, in [0, 1]."""
    lightness = rgb_to_lab(stylized.float().clamp(0, 1))[:, :1]
    chroma = rgb_to_lab(photo.float().clamp(0, 1))[:, 1:]
    return lab_to_rgb(torch.cat([lightness, chroma], dim=1), clip=True)


def match_colors(paintings: list[Tensor], photo: Tensor) -> list[Tensor]:
    """Each painting (1×3×h×w in [0, 1]) recoloured to the photo's (1×3×H×W) colour statistics."""
    to_photo = ColorTransfer().to(photo.device)
    to_photo.set_style([photo])
    return [to_photo(painting.to(photo.device)) for painting in paintings]
