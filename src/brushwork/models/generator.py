"""The feed-forward style generator.

Design choices, and why:

- Early downsampling (two stride-2 convs) so the residual blocks, where most compute goes,
  run at 1/4 resolution: cheap on a CPU, and a large receptive field for brush strokes.
- No normalisation that uses image statistics (no instance/batch norm). Every layer is
  local, so the output at a pixel depends only on a bounded neighbourhood: tiled inference
  with enough overlap gives the same picture as whole-image inference. Residual branches
  start scaled down (SkipInit-style) so the net trains without normalisation.
- Conditioning goes through `ConditionalAffine` layers (FiLM): per-channel scale and shift,
  learned constants when ``cond_dim == 0``, or predicted from a conditioning vector
  (style strength, style id) when ``cond_dim > 0``.
- Upsampling is nearest-neighbour resize then convolution, which avoids the checkerboard
  artefacts of transposed convolutions.
- The output is a residual on the photo, ``clamp(x + delta, 0, 1)``, with the last layer
  zero-initialised: training starts from the identity (content fully kept). The clamp
  passes gradients straight through, so a generator pushed into saturation (e.g. towards a
  painting's white paper) still gets gradients and recovers; a sigmoid output did not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import GeneratorConfig

# Input sides are padded to a multiple of this (two stride-2 stages).
SIZE_MULTIPLE = 4


class ConditionalAffine(nn.Module):
    """Optional instance normalisation, then per-channel ``x * (1 + scale) + shift``;
    scale/shift come from `cond` if it has one (conditional instance norm, Dumoulin et al.)."""

    def __init__(self, channels: int, cond_dim: int = 0, instance_norm: bool = False):
        super().__init__()
        self.cond_dim = cond_dim
        self.norm = nn.InstanceNorm2d(channels) if instance_norm else nn.Identity()
        if cond_dim:
            self.to_scale_shift = nn.Linear(cond_dim, 2 * channels)
            nn.init.zeros_(self.to_scale_shift.weight)
            nn.init.zeros_(self.to_scale_shift.bias)
        else:
            self.scale = nn.Parameter(torch.zeros(channels))
            self.shift = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """x: N×C×H×W; cond: N×cond_dim (required when cond_dim > 0)."""
        x = self.norm(x)
        if self.cond_dim:
            if cond is None:
                raise ValueError("this generator needs a conditioning vector")
            scale, shift = self.to_scale_shift(cond).chunk(2, dim=1)
            return x * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        return x * (1 + self.scale[None, :, None, None]) + self.shift[None, :, None, None]


class ConvLayer(nn.Module):
    """Replicate-padded (works for any size, even 1 pixel) 3×3 conv, conditional affine, optional ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1, cond_dim: int = 0, relu: bool = True, norm: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode="replicate")
        self.affine = ConditionalAffine(cout, cond_dim, norm)
        self.relu = relu

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        x = self.affine(self.conv(x), cond)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, cond_dim: int = 0, norm: bool = False):
        super().__init__()
        self.first = ConvLayer(channels, channels, cond_dim=cond_dim, norm=norm)
        self.second = ConvLayer(channels, channels, cond_dim=cond_dim, relu=False, norm=norm)
        # Small start value keeps the un-normalised stack well conditioned early in training.
        self.gain = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        return x + self.gain * self.second(self.first(x, cond), cond)


class UpLayer(nn.Module):
    """Nearest ×2 upsampling followed by a conv layer (resize-convolution)."""

    def __init__(self, cin: int, cout: int, cond_dim: int = 0, norm: bool = False):
        super().__init__()
        self.layer = ConvLayer(cin, cout, cond_dim=cond_dim, norm=norm)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.layer(F.interpolate(x, scale_factor=2, mode="nearest"), cond)


class Generator(nn.Module):
    """Photo -> stylized photo, same size, any size.

    ``forward(images: N×3×H×W in [0, 1], cond: N×cond_dim | None) -> N×3×H×W in [0, 1]``.
    """

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig()
        c, d, n = self.config.channels, self.config.cond_dim, self.config.norm == "instance"
        self.down = nn.ModuleList(
            [ConvLayer(3, c, stride=2, cond_dim=d, norm=n), ConvLayer(c, 2 * c, stride=2, cond_dim=d, norm=n)]
        )
        self.blocks = nn.ModuleList([ResidualBlock(2 * c, d, n) for _ in range(self.config.res_blocks)])
        self.up = nn.ModuleList([UpLayer(2 * c, c, d, n), UpLayer(c, max(c // 2, 4), d, n)])
        self.to_rgb = nn.Conv2d(max(c // 2, 4), 3, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)

    def forward(self, images: Tensor, cond: Tensor | None = None) -> Tensor:
        n, _, h, w = images.shape
        pad_h, pad_w = -h % SIZE_MULTIPLE, -w % SIZE_MULTIPLE
        x = images
        if pad_h or pad_w:
            # Replicate works for any size (reflect needs the pad smaller than the side).
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        features = x
        for layer in self.down:
            features = layer(features, cond)
        for block in self.blocks:
            features = block(features, cond)
        for layer in self.up:
            features = layer(features, cond)
        out = x + self.to_rgb(features)
        # Forward: clamped to [0, 1]. Backward: identity (straight-through).
        out = out + (out.clamp(0, 1) - out).detach()
        return out[:, :, :h, :w]
