"""The feed-forward style generator (version 2: built for fast CPU inference).

Design choices, and why:

- Most compute runs at low resolution. The photo is space-to-depth'ed (pixel unshuffle,
  free) to 1/2 resolution, two stride-2 convs take it to 1/8, and the residual blocks run
  there: 64 times fewer pixels than the photo, and a receptive field large enough for
  brush strokes. Decoding mirrors it with resize-convs (nearest ×2 then conv, no
  checkerboard) back to 1/2, so no layer runs at full resolution. That is
  about 10× fewer multiply-adds per pixel than version 1 for more channels where the
  strokes are made.
- The painted change is made at 1/2 resolution (3 channels) and enlarged bilinearly
  (``output_stage="bilinear"``). The earlier depth-to-space output (12 channels at 1/2,
  pixel-shuffled; ``"shuffle"``, still read from older files) let each pixel of a 2×2 block
  take its own value, and under the pretrained loss network the generator spent that freedom
  on a fine diagonal hatching that random views before the loss network did not remove;
  bilinear enlargement cannot draw a 2-pixel period (docs/method.md, "Output at half
  resolution"). Strokes are wider than 2 pixels; the photo path still passes full-resolution detail.
- U-Net-style additive skips from the encoder give the decoder edges at 1/2 and 1/4
  resolution for free, so strokes follow the photo's contours.
- Leaky ReLUs (slope 0.2): with plain ReLUs, about half of version 1's channels ended up
  never firing, and a run could end with the whole decoder dead (an identity model).
- With ``norm="none"`` (brushwork 0.2's models) no normalisation: every layer is local, so the output at a pixel depends only
  on a bounded neighbourhood and tiles match the whole image. Residual branches start
  scaled down (SkipInit-style) so the net trains without normalisation.
- Thumbnail instance normalisation (``norm="thumbnail"``, the default since 0.3): every conv is followed
  by instance normalisation whose per-channel statistics come from a small copy of the
  whole image (thumbnail.py) rather than from the pixels at hand, so tiling stays exact.
  Measured, normalisation is what lets a feed-forward net match a painting's Gram
  statistics in a short training budget (Johnson et al.'s network without it fits the style
  loss far worse in the same steps, docs/method.md); with the gated photo path below it
  fits the style like Johnson's network. Under the pretrained loss it is what paints strokes
  (docs/method.md, "Defaults for the pretrained loss network").
- Conditioning goes through `ConditionalAffine` layers (FiLM): per-channel scale and shift,
  learned constants when ``cond_dim == 0``, or predicted from a conditioning vector when
  ``cond_dim > 0``. The vector is ``[S, w_1 … w_K]``: the strength S and the weights of the
  model's K styles (one-hot for one style, a blend for a mix; see conditioning.py). The
  layers see ``[w, (S − 1)·w]``, so each style has its own parameters at every strength, and a
  mix interpolates them (conditional instance norm, Dumoulin et al.). Strength 1 uses only
  the weights on ``w``; those on ``(S − 1)·w`` say how the style weakens or grows with S, and
  training can update them alone (``off_strength_parameters``). The change the network
  makes (output minus photo) is multiplied by S: strength 0 returns the photo exactly,
  whatever the weights and the photo path.
- With ``per_style_blocks`` (opt-in, several styles) the residual blocks have one filter
  bank per style (layers.StyleBankConv, as in StyleBank), blended by ``w`` like the affine
  layers; the encoder and decoder stay shared. Why: with shared blocks every style got
  about the same strength of texture, too weak for some, too strong for others.
- With ``color_transfer`` (opt-in), the photo is first recoloured to the painting's
  colour statistics by a per-image linear map (color_transfer.py): local layers cannot see
  a photo's overall colours, and this gives each photo the painting's palette with its
  shapes and shading intact. The map is computed from the thumbnail too, so every tile of an
  image gets the same one.
- The photo's path to the output (``residual``): "full" (brushwork 0.2's) outputs
  ``clamp(x + delta)``: training starts from the photo (content fully kept). "gated"
  (the default since 0.3) outputs ``clamp(0.5 + g·(x − 0.5) + delta)`` with a learned gain g that starts
  at ``photo_gain`` (default 0.4: the network paints the picture over a faded photo and
  keeps of it what the content loss pays for; the gain moves little in training). "luma" (opt-in) is
  the gated path on the photo's luminance: the photo's shading passes through, its hues do
  not, so the colours are the network's (the painting's). Measured, the full
  path holds the output so close to the photo that the style loss stays several times the
  gated design's, even with a zero content weight. The last layer is zero-initialised; in
  training the clamp is straight-through (layers.py). ``output_range="tanh"`` (opt-in)
  replaces the clamp with a smooth ``0.5 + 0.5·tanh(2(v − 0.5))``: with the gated design and
  a clamp, outputs for a pale painting piled up at pure white.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_grayscale
from torch import Tensor, nn

from ..color_transfer import ColorTransfer
from ..config import GeneratorConfig
from ..thumbnail import thumbnail as make_thumbnail
from .layers import ConvLayer, NormStatistics, ResidualBlock, UpLayer, pad_to_multiple, straight_through_clamp

# Input sides are padded to a multiple of this (pixel unshuffle, then two stride-2 convs).
SIZE_MULTIPLE = 8
SLOPE = 0.2


class Generator(nn.Module):
    """Photo -> stylized photo, same size, any size.

    ``forward(images: N×3×H×W in [0, 1], cond: N×cond_dim | None, thumbnail: N×3×h×w | None)
    -> N×3×H×W in [0, 1]``; `thumbnail` (where image-wide statistics come from) defaults to
    the thumbnail of `images` (thumbnail.py); a tile of a larger image must get the whole image's.
    Widths: ``channels`` at 1/2 resolution, 2× at 1/4, 4× at 1/8 (the residual blocks).
    """

    size_multiple = SIZE_MULTIPLE

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig()
        c, n = self.config.channels, self.config.norm
        d = 2 * (self.config.cond_dim - 1) if self.config.cond_dim else 0  # the layers see [w, (S − 1)·w]
        self.colors = ColorTransfer() if self.config.color_transfer else None
        self.encode = nn.ModuleList(
            [
                ConvLayer(12, c, cond_dim=d, norm=n, slope=SLOPE),  # 1/2 (after pixel unshuffle)
                ConvLayer(c, 2 * c, stride=2, cond_dim=d, norm=n, slope=SLOPE),  # 1/4
                ConvLayer(2 * c, 4 * c, stride=2, cond_dim=d, norm=n, slope=SLOPE),  # 1/8
            ]
        )
        banks = self.config.cond_dim - 1 if self.config.per_style_blocks and self.config.cond_dim else 0
        self.blocks = nn.ModuleList([ResidualBlock(4 * c, d, n, SLOPE, banks) for _ in range(self.config.res_blocks)])
        self.decode = nn.ModuleList([UpLayer(4 * c, 2 * c, d, n, SLOPE), UpLayer(2 * c, c, d, n, SLOPE)])  # 1/4, 1/2
        # 1/2 resolution, then bilinear ×2 (files from before it: depth-to-space of 12 channels).
        self.bilinear_output = self.config.output_stage == "bilinear"
        self.to_rgb = nn.Conv2d(c, 3 if self.bilinear_output else 12, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)
        gated = self.config.residual in ("gated", "luma")
        self.photo_gain = nn.Parameter(torch.tensor(float(self.config.photo_gain))) if gated else None
        self.uses_thumbnail = self.colors is not None or n == "thumbnail"  # see thumbnail.py

    def forward(self, images: Tensor, cond: Tensor | None = None, thumbnail: Tensor | None = None) -> Tensor:
        h, w = images.shape[-2:]
        if self.uses_thumbnail and thumbnail is None:
            thumbnail = make_thumbnail(images)  # a small image is its own thumbnail
        own_thumbnail = thumbnail is images
        if self.colors is not None:
            recoloured = self.colors(images, thumbnail)
            thumbnail = recoloured if own_thumbnail else self.colors(thumbnail, thumbnail)
            images = recoloured
        gate = None
        if self.config.cond_dim:
            if cond is None:
                raise ValueError("this generator needs a conditioning vector [strength, style weights...]")
            gate, weights = cond[:, :1], cond[:, 1:]
            cond = torch.cat([weights, (gate - 1) * weights], dim=1)
        stats = None
        if self.config.norm == "thumbnail":
            stats = NormStatistics()
            if not own_thumbnail:  # record the thumbnail's statistics, then normalise with them
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

    def paint(
        self, images: Tensor, cond: Tensor | None, stats: NormStatistics | None, gate: Tensor | None = None
    ) -> Tensor:
        """The network proper on (recoloured) images; output padded to a multiple of 8."""
        x = pad_to_multiple(images, SIZE_MULTIPLE)
        half = self.encode[0](F.pixel_unshuffle(x, 2), cond, stats=stats)
        quarter = self.encode[1](half, cond, stats=stats)
        features = self.encode[2](quarter, cond, stats=stats)
        for block in self.blocks:
            features = block(features, cond, stats)
        features = self.decode[0](features, cond, skip=quarter, stats=stats)
        features = self.decode[1](features, cond, skip=half, stats=stats)
        if self.bilinear_output:
            delta = F.interpolate(self.to_rgb(features), scale_factor=2.0, mode="bilinear", align_corners=False)
        else:
            delta = F.pixel_shuffle(self.to_rgb(features), 2)
        if self.photo_gain is None:
            base = x
        else:
            # "luma": the photo's shading passes, its hues do not (Rec. 601 luminance).
            photo = rgb_to_grayscale(x) if self.config.residual == "luma" else x
            base = 0.5 + self.photo_gain * (photo - 0.5)
        painted = base + delta
        if self.config.output_range == "tanh":
            painted = 0.5 + 0.5 * torch.tanh(2 * (painted - 0.5))  # slope 1 at mid-grey
        if gate is not None:  # strength S scales the change from the photo: S = 0 is the photo itself
            painted = x + gate[:, :, None, None] * (painted - x)
        # Straight-through only where gradients are wanted: in inference a plain clamp, which
        # stays exact when normalisation drives values far out of range (x + (1 - x) need not be 1).
        return straight_through_clamp(painted) if self.training else painted.clamp(0, 1)
