"""Colour preservation (``--preserve-color``): the stylized image's lightness with the
photo's colours.

Both images go to CIELAB; the output takes L* (lightness: the strokes, textures and shading
the style painted) from the stylized image and a*, b* (hue and saturation) from the photo,
the luminance-only transfer of Gatys et al. 2016 ("Preserving color in neural artistic
style transfer"). Lab rather than YCbCr: its lightness is perceptual, so a painting's dark
strokes do not shift the photo's hues. Per pixel, so it runs tile by tile and on any
stylizer (a model or the per-image optimisation).
The paper's other method, colour matching, is in perceptual/color_matching.py.
"""

from __future__ import annotations

import torch
from kornia.color import lab_to_rgb, rgb_to_lab
from torch import Tensor


def keep_photo_colors(stylized: Tensor, photo: Tensor) -> Tensor:
    """N×3×H×W in [0, 1] each -> the stylized lightness with the photo's a*b*, in [0, 1]."""
    lightness = rgb_to_lab(stylized.float().clamp(0, 1))[:, :1]
    chroma = rgb_to_lab(photo.float().clamp(0, 1))[:, 1:]
    return lab_to_rgb(torch.cat([lightness, chroma], dim=1), clip=True)

