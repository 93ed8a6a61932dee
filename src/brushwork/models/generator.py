"""The feed-forward style generator (version 2: built for fast CPU inference).

Design choices, and why:

- Most compute runs at low resolution. The photo is space-to-depth'ed (pixel unshuffle,
  free) to 1/2 resolution, two stride-2 convs take it to 1/8, and the residual blocks run
  there: 64 times fewer pixels than the photo, and a receptive field large enough for
  brush strokes. Decoding mirrors it with resize-convs (nearest ×2 then conv, no
  checkerboard) and a depth-to-space output, so no layer runs at full resolution. That is
  about 10× fewer multiply-adds per pixel than version 1 for more channels where the
  strokes are made.
- U-Net-style additive skips from the encoder give the decoder edges at 1/2 and 1/4
  resolution for free, so strokes follow the photo's contours.
- Leaky ReLUs (slope 0.2): with plain ReLUs, about half of version 1's channels ended up
  never firing, and a run could end with the whole decoder dead (an identity model).
- No normalisation that uses image statistics (unless ``norm="instance"`` is asked for):
  every layer is local, so the output at a pixel depends only on a bounded neighbourhood
  and tiled inference with enough overlap gives the same picture as whole-image inference
  (see tiling.py). Residual branches start scaled down (SkipInit-style) so the net trains
  without normalisation.
- Conditioning goes through `ConditionalAffine` layers (FiLM): per-channel scale and shift,
  learned constants when ``cond_dim == 0``, or predicted from a conditioning vector
  (style strength, style id) when ``cond_dim > 0``.
- With ``color_transfer`` (opt-in), the photo is first recoloured to the painting's
  colour statistics by a per-image linear map (color_transfer.py): local layers cannot see
  a photo's overall colours, and this gives each photo the painting's palette with its
  shapes and shading intact. The map is computed from ``color_source`` (an even subsample
  of the whole image) so that every tile of an image gets the same one.
- The output is a residual on the (recoloured) photo, ``clamp(x + delta, 0, 1)``, with the
  last layer zero-initialised: training starts from the recoloured photo (content fully
  kept); the clamp is straight-through (see layers.py).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..color_transfer import ColorTransfer, color_sample
from ..config import GeneratorConfig
from .layers import ConvLayer, ResidualBlock, UpLayer, pad_to_multiple, straight_through_clamp

# Input sides are padded to a multiple of this (pixel unshuffle, then two stride-2 convs).
SIZE_MULTIPLE = 8
SLOPE = 0.2


class Generator(nn.Module):
    """Photo -> stylized photo, same size, any size.

    ``forward(images: N×3×H×W in [0, 1], cond: N×cond_dim | None, color_source: N×3×h×w | None)
    -> N×3×H×W in [0, 1]``; `color_source` defaults to an even subsample of `images`.
    Widths: ``channels`` at 1/2 resolution, 2× at 1/4, 4× at 1/8 (the residual blocks).
    """

    size_multiple = SIZE_MULTIPLE

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig()
        c, d, n = self.config.channels, self.config.cond_dim, self.config.norm == "instance"
        self.colors = ColorTransfer() if self.config.color_transfer else None
        self.encode = nn.ModuleList(
            [
                ConvLayer(12, c, cond_dim=d, norm=n, slope=SLOPE),  # 1/2 (after pixel unshuffle)
                ConvLayer(c, 2 * c, stride=2, cond_dim=d, norm=n, slope=SLOPE),  # 1/4
                ConvLayer(2 * c, 4 * c, stride=2, cond_dim=d, norm=n, slope=SLOPE),  # 1/8
            ]
        )
        self.blocks = nn.ModuleList([ResidualBlock(4 * c, d, n, SLOPE) for _ in range(self.config.res_blocks)])
        self.decode = nn.ModuleList([UpLayer(4 * c, 2 * c, d, n, SLOPE), UpLayer(2 * c, c, d, n, SLOPE)])  # 1/4, 1/2
        self.to_rgb = nn.Conv2d(c, 12, 3, padding=1, padding_mode="replicate")  # 1/2, then pixel shuffle
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)

    def forward(self, images: Tensor, cond: Tensor | None = None, color_source: Tensor | None = None) -> Tensor:
        h, w = images.shape[-2:]
        if self.colors is not None:
            images = self.colors(images, color_sample(images) if color_source is None else color_source)
        x = pad_to_multiple(images, SIZE_MULTIPLE)
        half = self.encode[0](F.pixel_unshuffle(x, 2), cond)
        quarter = self.encode[1](half, cond)
        features = self.encode[2](quarter, cond)
        for block in self.blocks:
            features = block(features, cond)
        features = self.decode[0](features, cond, skip=quarter)
        features = self.decode[1](features, cond, skip=half)
        delta = F.pixel_shuffle(self.to_rgb(features), 2)
        return straight_through_clamp(x + delta)[:, :, :h, :w]
