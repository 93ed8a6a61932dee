"""Building blocks shared by the brushwork generators: every layer is local (no statistics
over the whole image unless plain instance norm is asked for; thumbnail normalisation takes
them from the shared thumbnail), so tiled inference matches whole-image inference."""

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
    """Optional normalisation, then per-channel ``x * (1 + scale) + shift``; scale/shift come
    from `cond` if it has one (conditional instance norm, Dumoulin et al.).

    `norm`: "none"; "instance" (each image's own statistics: not tileable); "thumbnail"
    (statistics from the :class:`NormStatistics` passed in)."""

    def __init__(self, channels: int, cond_dim: int = 0, norm: str = "none"):
        super().__init__()
        self.cond_dim = cond_dim
        self.thumbnail_norm = norm == "thumbnail"
        self.norm = nn.InstanceNorm2d(channels) if norm == "instance" else nn.Identity()
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

    def forward(self, x: Tensor, cond: Tensor | None = None, stats: NormStatistics | None = None) -> Tensor:
        """x: N×C×H×W; cond: N×cond_dim (required when cond_dim > 0); stats: required with
        thumbnail normalisation."""
        scale, shift = self.scale_shift(cond)
        scale, shift = scale[:, :, None, None], shift[:, :, None, None]
        if self.thumbnail_norm:
            # Normalisation and affine folded into one multiply-add per pixel: the statistics are
            # constants for the image, and at 1024² these passes cost as much as the convs.
            mean, inv_std = stats.statistics(x)
            gain = inv_std * scale
            return torch.addcmul((shift - mean * gain).to(x.dtype), x, gain.to(x.dtype))
        return self.norm(x) * scale + shift


class StyleBankConv(nn.Module):
    """A replicate-padded 3×3 conv with one filter bank per style (StyleBank, Chen et al. 2017).

    Each image is convolved with its styles' banks blended by its style weights ``w``
    (N×K): one-hot picks a style's own filters, a mix blends them, as the conditional affine
    layers blend their scale and shift. Why: with one shared set of filters, a model of
    several styles painted every style with about the same strength of texture, too weak for
    some and too strong for others (docs/method.md, "Strength and several styles"). The
    banks start equal, so blends between styles trained from the same start stay smooth.

    A batch of one mix (every training step, one photo's tiles) is one plain conv with the
    blended filters. A batch of several mixes, and exported graphs (whose batch can be
    anything), run each image's filters as one matrix product over the nine shifted copies
    of the input: the same arithmetic, in ops every exporter takes (a grouped conv would need
    the batch size as a constant)."""

    def __init__(self, cin: int, cout: int, banks: int):
        super().__init__()
        shared = nn.Conv2d(cin, cout, 3)  # PyTorch's default initialisation, copied to every bank
        # Banks stacked along the output channels (K·O×I×3×3): a 4-D weight, as memory-format
        # conversions (channels-last inference) expect of every parameter.
        self.weight = nn.Parameter(shared.weight.detach().repeat(banks, 1, 1, 1))
        self.bias = nn.Parameter(shared.bias.detach().repeat(banks))
        self.banks = banks

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        h, width = x.shape[-2:]
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        w = w.to(x.dtype)
        weight = self.weight.to(x.dtype).unflatten(0, (self.banks, -1))  # K×O×I×3×3
        bias = self.bias.to(x.dtype).unflatten(0, (self.banks, -1))  # K×O
        if _one_mix(w):
            return F.conv2d(padded, torch.einsum("k,koihw->oihw", w[0], weight), w[0] @ bias)
        shifted = torch.cat([padded[:, :, i : i + h, j : j + width] for i in range(3) for j in range(3)], dim=1)
        filters = torch.einsum("nk,koihw->nohwi", w, weight).flatten(2)  # N×O×(3·3·I), in `shifted`'s order
        out = filters @ shifted.flatten(2) + (w @ bias)[:, :, None]
        return out.unflatten(2, (h, width))


def _one_mix(w: Tensor) -> bool:
    """Whether every image of the batch has the same style weights (never while exporting or
    compiling: the graph must serve any batch)."""
    if torch.jit.is_tracing() or torch.compiler.is_exporting() or torch.compiler.is_compiling():
        return False
    return bool((w == w[:1]).all())


class ConvLayer(nn.Module):
    """Replicate-padded (works for any size, even 1 pixel) 3×3 conv, conditional affine,
    an optional added tensor (a skip connection), optional (leaky) ReLU. With ``banks`` > 0
    the conv has one filter bank per style (:class:`StyleBankConv`); the first ``banks``
    entries of `cond` are then the style weights."""

    def __init__(
        self,
        cin: int,
        cout: int,
        stride: int = 1,
        cond_dim: int = 0,
        relu: bool = True,
        norm: str = "none",
        slope: float = 0.0,
        banks: int = 0,
    ):
        super().__init__()
        self.banks = banks
        if banks:
            if stride != 1:
                raise ValueError("per-style filter banks are for stride-1 layers")
            self.conv = StyleBankConv(cin, cout, banks)
        else:
            self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode="replicate")
        self.affine = ConditionalAffine(cout, cond_dim, norm)
        self.relu = relu
        self.slope = slope  # leaky ReLU's negative slope (0: plain ReLU)

    def forward(
        self, x: Tensor, cond: Tensor | None = None, add: Tensor | None = None, stats: NormStatistics | None = None
    ) -> Tensor:
        x = self.conv(x, cond[:, : self.banks]) if self.banks else self.conv(x)
        x = self.affine(x, cond, stats)
        if add is not None:
            x = x + add
        if not self.relu:
            return x
        return F.leaky_relu(x, self.slope) if self.slope else F.relu(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, cond_dim: int = 0, norm: str = "none", slope: float = 0.0, banks: int = 0):
        super().__init__()
        self.first = ConvLayer(channels, channels, cond_dim=cond_dim, norm=norm, slope=slope, banks=banks)
        self.second = ConvLayer(channels, channels, cond_dim=cond_dim, relu=False, norm=norm, banks=banks)
        # Small start value keeps the un-normalised stack well conditioned early in training.
        self.gain = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: Tensor, cond: Tensor | None = None, stats: NormStatistics | None = None) -> Tensor:
        return x + self.gain * self.second(self.first(x, cond, stats=stats), cond, stats=stats)


class UpLayer(nn.Module):
    """Nearest ×2 upsampling followed by a conv layer (resize-convolution, which avoids the
    checkerboard artefacts of transposed convolutions)."""

    def __init__(self, cin: int, cout: int, cond_dim: int = 0, norm: str = "none", slope: float = 0.0):
        super().__init__()
        self.layer = ConvLayer(cin, cout, cond_dim=cond_dim, norm=norm, slope=slope)

    def forward(
        self, x: Tensor, cond: Tensor | None = None, skip: Tensor | None = None, stats: NormStatistics | None = None
    ) -> Tensor:
        return self.layer(F.interpolate(x, scale_factor=2.0, mode="nearest"), cond, add=skip, stats=stats)


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
