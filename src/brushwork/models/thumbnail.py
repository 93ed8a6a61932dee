"""The whole-image thumbnail: where image-wide statistics come from, so tiles can share them.

The brushwork generator's instance normalisation (models/layers.py) needs statistics of the
whole image. A tile of a large photo cannot compute them from itself without changing the
picture at tile borders, so each pass takes them from a small copy of the whole image
instead, the thumbnail. Every tile of an image gets the same thumbnail, and
tiled output equals whole-image output (the idea of Chen et al. 2022, "Towards
Ultra-Resolution Neural Style Transfer via Thumbnail Instance Normalization").

An image no larger than the thumbnail is its own thumbnail, so on training crops
thumbnail normalisation is exactly instance normalisation.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from brushwork.images import longer_side_size

# Longer side of the thumbnail. Training sees photos about this size (crops of photos whose
# shorter side is 128-256 px), so the statistics are taken at the scale the network learned.
THUMBNAIL_SIDE = 256


def thumbnail(images: Tensor, side: int = THUMBNAIL_SIDE) -> Tensor:
    """N×3×h×w float32 thumbnail of N×3×H×W images (float in [0, 1], or uint8 in [0, 255]).

    Images whose longer side is at most `side` are returned as they are (as float). Large
    ones are first thinned to every k-th pixel, down to at most 4× the thumbnail, so an 8K
    uint8 photo is never converted to float whole; then resized with antialiasing.
    """
    height, width = images.shape[-2:]
    if max(height, width) <= side:
        return _as_float(images)  # float32 input: the very same tensor
    stride = max(1, max(height, width) // (4 * side))
    small = _as_float(images[..., ::stride, ::stride])
    return F.interpolate(small, size=longer_side_size(height, width, side), mode="bilinear", antialias=True, align_corners=False)


def _as_float(images: Tensor) -> Tensor:
    return images.float() if images.dtype.is_floating_point else images.float() / 255


def uses_thumbnail(generator: nn.Module) -> bool:
    """Whether the generator takes a ``thumbnail`` argument that tiles must share (Johnson's
    network takes none)."""
    return getattr(generator, "uses_thumbnail", False)
