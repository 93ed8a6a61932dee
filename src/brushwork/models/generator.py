"""The feed-forward style generator, built for fast CPU inference.

Design choices, and why (measurements in docs/method.md):

- Most compute runs at low resolution. The photo is space-to-depth'ed (pixel unshuffle,
  free) to 1/2 resolution, two stride-2 convs take it to 1/8, and the residual blocks run
  there: 64 times fewer pixels than the photo, and a receptive field large enough for
  brush strokes. Decoding mirrors it with resize-convs (nearest ×2 then conv, no
  checkerboard) back to 1/2, so no layer runs at full resolution.
- The painted change is made at 1/2 resolution (3 channels) and enlarged bilinearly. A
  depth-to-space output (brushwork 0.2) let each pixel of a 2×2 block take its own value,
  and under the pretrained loss network the generator spent that freedom on a fine diagonal
  hatching; bilinear enlargement cannot draw a 2-pixel period. The photo path still passes
  full-resolution detail.
- The stride-2 convs are 4×4 (``down_kernel``): each reads one pixel of padding on every
  side, so no border is special. With 3×3 ones (model format 3 and older) only the left and
  top borders read padding, and models painted a band of colour down the left edge.
- Noise beside the photo at the input (``noise_channels``, layers.pixel_noise): a fixed
  pseudo-random function of each 2×2 block's pixel bytes, so tiles still agree with the
  whole image. Without it, flat areas (skies) came out as a regular pattern.
- U-Net-style additive skips from the encoder give the decoder edges at 1/2 and 1/4
  resolution for free, so strokes follow the photo's contours.
- Leaky ReLUs (slope 0.2): with plain ReLUs, about half of the first design's channels
  ended up never firing.
- Thumbnail instance normalisation: every conv is followed by instance normalisation whose
  per-channel statistics come from a small copy of the whole image (thumbnail.py) rather
  than from the pixels at hand, so tiling stays exact. Normalisation is what lets a
  feed-forward net paint strokes in a short training budget.
- Conditioning goes through `ConditionalAffine` layers (FiLM): per-channel scale and shift,
  learned constants when ``cond_dim == 0``, or predicted from a conditioning vector when
  ``cond_dim > 0``. The vector is ``[S, w_1 … w_K]``: the strength S and the weights of the
  model's K styles (one-hot for one style, a blend for a mix; see conditioning.py). The
  layers see ``[w, (S − 1)·w]``, so each style has its own parameters at every strength, and a
  mix interpolates them (conditional instance norm, Dumoulin et al.). Strength 1 uses only
  the weights on ``w``; those on ``(S − 1)·w`` say how the style weakens or grows with S, and
  training can update them alone (``off_strength_parameters``). The change from the photo is
  multiplied by S: strength 0 returns the photo exactly.
- The photo's path to the output is gated: ``clamp(0.5 + g·(x − 0.5) + delta)`` with a
  learned gain g that starts at ``photo_gain`` (0.4): the network paints the picture over a
  faded photo and keeps of it what the content loss pays for. Adding the whole photo
  (brushwork 0.2) held the output so close to it that the style loss stayed several times
  higher. The last layer is zero-initialised; in training the clamp is straight-through.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from brushwork.models.config import GeneratorConfig
from brushwork.models.layers import (
    ConvLayer, NormStatistics, ResidualBlock, UpLayer, pad_to_multiple, pixel_noise, straight_through_clamp,
)  # fmt: skip
from brushwork.models.thumbnail import thumbnail as make_thumbnail

# Input sides are padded to a multiple of this (pixel unshuffle, then two stride-2 convs).
SIZE_MULTIPLE = 8


class Generator(nn.Module):
    """Photo -> stylized photo, same size, any size.

    ``forward(images: N×3×H×W in [0, 1], cond: N×cond_dim | None, thumbnail: N×3×h×w | None)
    -> N×3×H×W in [0, 1]``; `thumbnail` (where image-wide statistics come from) defaults to
    the thumbnail of `images` (thumbnail.py); a tile of a larger image must get the whole image's.
    Widths: ``channels`` at 1/2 resolution, 2× at 1/4, 4× at 1/8 (the residual blocks).
    """

    size_multiple = SIZE_MULTIPLE
    uses_thumbnail = True  # see thumbnail.py

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig()
        c = self.config.channels
        d = 2 * (self.config.cond_dim - 1) if self.config.cond_dim else 0  # the layers see [w, (S − 1)·w]
        k = self.config.down_kernel
        self.encode = nn.ModuleList(
            [
                ConvLayer(12 + self.config.noise_channels, c, cond_dim=d),  # 1/2 (after pixel unshuffle)
                ConvLayer(c, 2 * c, stride=2, cond_dim=d, kernel=k),  # 1/4
                ConvLayer(2 * c, 4 * c, stride=2, cond_dim=d, kernel=k),  # 1/8
            ]
        )
        self.blocks = nn.ModuleList([ResidualBlock(4 * c, d) for _ in range(self.config.res_blocks)])
        self.decode = nn.ModuleList([UpLayer(4 * c, 2 * c, d), UpLayer(2 * c, c, d)])  # 1/4, 1/2
        self.to_rgb = nn.Conv2d(c, 3, 3, padding=1, padding_mode="replicate")  # at 1/2, then bilinear ×2
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)
        self.photo_gain = nn.Parameter(torch.tensor(float(self.config.photo_gain)))

    def forward(self, images: Tensor, cond: Tensor | None = None, thumbnail: Tensor | None = None) -> Tensor:
        h, w = images.shape[-2:]
        gate = None
        if self.config.cond_dim:
            if cond is None:
                raise ValueError("this generator needs a conditioning vector [strength, style weights...]")
            gate, weights = cond[:, :1], cond[:, 1:]
            cond = torch.cat([weights, (gate - 1) * weights], dim=1)
        stats = NormStatistics()
        if thumbnail is None:
            thumbnail = make_thumbnail(images)  # a small image is its own thumbnail
        if thumbnail is not images:  # record the thumbnail's statistics, then normalise with them
            self.paint(thumbnail, cond, stats, gate)
            stats.replay()
        return self.paint(images, cond, stats, gate)[:, :, :h, :w]

    def off_strength_parameters(self) -> dict[str, Tensor]:
        """The parameters, as tensors through which gradients reach only the layers' weights on
        ``(S − 1)·w``: the part of the network that strength 1 does not use. Training runs
        photos at other strengths through these (torch.func.functional_call), so they shape
        how the style weakens or grows with S and cannot change what strength 1 paints."""
        k = self.config.cond_dim - 1
        return {
            name: torch.cat([p[:, :k].detach(), p[:, k:]], dim=1) if name.endswith("to_scale_shift.weight") else p.detach()
            for name, p in self.named_parameters()
        }

    def input_blocks(self, images: Tensor) -> Tensor:
        """What the first layer sees: the 2×2 blocks of N×3×H×W images (H, W even) as 12
        channels at half resolution, and the noise channels made from them."""
        blocks = F.pixel_unshuffle(images, 2)
        if not self.config.noise_channels:
            return blocks
        return torch.cat([blocks, pixel_noise(blocks, self.config.noise_channels).to(blocks.dtype)], dim=1)

    def paint(self, images: Tensor, cond: Tensor | None, stats: NormStatistics, gate: Tensor | None = None) -> Tensor:
        """The network proper; output padded to a multiple of 8."""
        x = pad_to_multiple(images, SIZE_MULTIPLE)
        half = self.encode[0](self.input_blocks(x), stats, cond)
        quarter = self.encode[1](half, stats, cond)
        features = self.encode[2](quarter, stats, cond)
        for block in self.blocks:
            features = block(features, stats, cond)
        features = self.decode[0](features, stats, cond, skip=quarter)
        features = self.decode[1](features, stats, cond, skip=half)
        delta = F.interpolate(self.to_rgb(features), scale_factor=2.0, mode="bilinear", align_corners=False)
        painted = 0.5 + self.photo_gain * (x - 0.5) + delta
        if gate is not None:  # strength S scales the change from the photo: S = 0 is the photo itself
            painted = x + gate[:, :, None, None] * (painted - x)
        # Straight-through only where gradients are wanted: in inference a plain clamp, which
        # stays exact when normalisation drives values far out of range (x + (1 - x) need not be 1).
        return straight_through_clamp(painted) if self.training else painted.clamp(0, 1)
