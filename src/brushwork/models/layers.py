"""Building blocks of the brushwork generator: replicate-padded convs whose instance
normalisation takes its statistics from the whole image's thumbnail (thumbnail.py), so tiled
inference matches whole-image inference."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


NORM_EPS = 1e-5  # as nn.InstanceNorm2d


class NormStatistics:
    """Instance-norm statistics for one forward call of a thumbnail-normalised generator.

    A fresh object records: each normalising layer takes its input's per-channel mean and
    variance (plain instance norm) and keeps them. After :meth:`replay`, the layers use the
    kept values in the same order instead, so the image (or one of its tiles) is normalised
    with its thumbnail's statistics (see thumbnail.py). One object per call: no state is
    shared between calls, so one model can serve several threads.
    """

    def __init__(self) -> None:
        self.recorded: list[tuple[Tensor, Tensor]] = []
        self._replay = None

    def replay(self) -> "NormStatistics":
        self._replay = iter(self.recorded)
        return self

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, 1 / std) per image and channel, N×C×1×1 in float32 whatever the autocast precision."""
        if self._replay is None:
            var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
            self.recorded.append((mean, torch.rsqrt(var + NORM_EPS)))
        else:
            return next(self._replay)
        return self.recorded[-1]


class ConditionalAffine(nn.Module):
    """Thumbnail instance normalisation, then per-channel ``x * (1 + scale) + shift``;
    scale/shift come from `cond` if the layer has one (conditional instance norm, Dumoulin et al.)."""

    def __init__(self, channels: int, cond_dim: int = 0):
        super().__init__()
        self.cond_dim = cond_dim
        if cond_dim:
            self.to_scale_shift = nn.Linear(cond_dim, 2 * channels)
            nn.init.zeros_(self.to_scale_shift.weight)
            nn.init.zeros_(self.to_scale_shift.bias)
        else:
            self.scale = nn.Parameter(torch.zeros(channels))
            self.shift = nn.Parameter(torch.zeros(channels))

    def scale_shift(self, cond: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Per-channel (1 + scale, shift), each N×C (or 1×C without conditioning)."""
        if self.cond_dim:
            if cond is None:
                raise ValueError("this generator needs a conditioning vector")
            scale, shift = self.to_scale_shift(cond).chunk(2, dim=1)
            return 1 + scale, shift
        return 1 + self.scale[None], self.shift[None]

    def forward(self, x: Tensor, stats: NormStatistics, cond: Tensor | None = None) -> Tensor:
        """x: N×C×H×W; cond: N×cond_dim (required when cond_dim > 0)."""
        scale, shift = self.scale_shift(cond)
        # Normalisation and affine folded into one multiply-add per pixel: the statistics are
        # constants for the image, and at 1024² these passes cost as much as the convs.
        mean, inv_std = stats.statistics(x)
        gain = inv_std * scale[:, :, None, None]
        return torch.addcmul((shift[:, :, None, None] - mean * gain).to(x.dtype), x, gain.to(x.dtype))


class ConvLayer(nn.Module):
    """Replicate-padded (works for any size, even 1 pixel) conv (3×3 unless told), normalisation
    and conditional affine, an optional added tensor (a skip connection), optional leaky ReLU."""

    def __init__(
        self, cin: int, cout: int, stride: int = 1, cond_dim: int = 0, relu: bool = True, slope: float = 0.2, kernel: int = 3
    ):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=1, padding_mode="replicate")
        self.affine = ConditionalAffine(cout, cond_dim)
        self.relu = relu
        self.slope = slope  # leaky ReLU's negative slope

    def forward(
        self, x: Tensor, stats: NormStatistics, cond: Tensor | None = None, add: Tensor | None = None
    ) -> Tensor:
        x = self.affine(self.conv(x), stats, cond)
        if add is not None:
            x = x + add
        return F.leaky_relu(x, self.slope) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, cond_dim: int = 0):
        super().__init__()
        self.first = ConvLayer(channels, channels, cond_dim=cond_dim)
        self.second = ConvLayer(channels, channels, cond_dim=cond_dim, relu=False)
        # Small start value keeps the stack well conditioned early in training (SkipInit-style).
        self.gain = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: Tensor, stats: NormStatistics, cond: Tensor | None = None) -> Tensor:
        return x + self.gain * self.second(self.first(x, stats, cond), stats, cond)


class UpLayer(nn.Module):
    """Nearest ×2 upsampling followed by a conv layer (resize-convolution, which avoids the
    checkerboard artefacts of transposed convolutions)."""

    def __init__(self, cin: int, cout: int, cond_dim: int = 0):
        super().__init__()
        self.layer = ConvLayer(cin, cout, cond_dim=cond_dim)

    def forward(self, x: Tensor, stats: NormStatistics, cond: Tensor | None = None, skip: Tensor | None = None) -> Tensor:
        return self.layer(F.interpolate(x, scale_factor=2.0, mode="nearest"), stats, cond, add=skip)


# The noise is an integer hash modulo this prime: integer arithmetic gives the same values in
# every runtime (a float hash such as frac(sin(x) * 43758) did not: onnxruntime's sin of large
# arguments differs from PyTorch's in the digits that hash keeps).
_HASH_PRIME = 65521


def pixel_noise(blocks: Tensor, channels: int) -> Tensor:
    """Pseudo-random noise in [-1, 1) as a fixed function of each position's pixel bytes.

    Args:
        blocks: N×C×H×W pixels in [0, 1] (the generator's 2×2 blocks, pixel-unshuffled).
        channels: noise channels wanted.
    Returns:
        N×channels×H×W float32.

    Why: a deterministic generator fills flat areas (a clear sky) from nothing but the faint
    variation in them, and what it draws there comes out periodic (a regular pattern on the
    1/8 grid, docs/method.md). Noise gives it something irregular to paint strokes from. Being
    a function of the pixel bytes at each position, not of a seed or of the position, it is
    the same for a tile as for the whole image, in every runtime, and a flat area stays flat.
    """
    c = blocks.shape[1]
    pixels = torch.round(blocks.float() * 255.0).to(torch.int64)
    rows = torch.arange(1, c + 1, device=blocks.device)[:, None]
    cols = torch.arange(1, channels + 1, device=blocks.device)[None, :]
    multipliers = (rows * 7919 + cols * 104729) % _HASH_PRIME  # C×channels, fixed
    noise = []
    for k in range(channels):
        value = (pixels * multipliers[:, k, None, None]).sum(1) % _HASH_PRIME
        for salt in (12345 * (k + 1), 54321):  # two squaring rounds scramble the linear sum
            value = (value * value + salt) % _HASH_PRIME
        noise.append(value)
    return torch.stack(noise, dim=1).float() * (2.0 / _HASH_PRIME) - 1.0


def straight_through_clamp(x: Tensor) -> Tensor:
    """Forward: clamped to [0, 1]. Backward: identity, so a generator pushed into saturation
    (e.g. towards a painting's white paper) still gets gradients and recovers."""
    return x + (x.clamp(0, 1) - x).detach()


def pad_to_multiple(images: Tensor, multiple: int) -> Tensor:
    """Replicate-pad the bottom/right so both sides are multiples of `multiple`.

    Always pads, by 0 if need be: a shape-dependent branch would be frozen into exported
    (ONNX, TorchScript) graphs. Replicate works for any size (reflect needs the pad smaller
    than the side)."""
    h, w = images.shape[-2:]
    return F.pad(images, (0, -w % multiple, 0, -h % multiple), mode="replicate")
