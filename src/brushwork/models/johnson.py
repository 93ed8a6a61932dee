"""Johnson et al. 2016's image transformation network, the classic fast-style-transfer design.

Built from the paper's architecture (Perceptual Losses for Real-Time Style Transfer and
Super-Resolution, supplementary material), as the baseline brushwork is measured against:
9×9 conv with C channels, two stride-2 3×3 convs (2C, 4C), residual blocks at 4C, two
×2 upsampling convs (4C → 2C → C), 9×9 conv to RGB; instance normalisation after every
conv but the last (Ulyanov et al., as the paper's later versions and most reimplementations
use), ReLU, and the paper's scaled tanh output. With C = 32 and 5 blocks: 1.68 M parameters.

Upsampling is nearest ×2 then conv (instead of the paper's fractionally strided convs),
which avoids checkerboard artefacts and is what the widely used reimplementations do; the
parameter count is the same. Instance normalisation ties every pixel to whole-image
statistics, so this network cannot be tiled exactly: one reason brushwork's generator differs.

``forward(images: N×3×H×W in [0, 1], cond=None) -> N×3×H×W in [0, 1]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from brushwork.models.config import GeneratorConfig


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(cin, cout, kernel, stride=stride),
        nn.InstanceNorm2d(cout, affine=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels, 3), nn.ReLU(), _conv(channels, channels, 3))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class _Upsample(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout, 3)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.conv(F.interpolate(x, scale_factor=2, mode="nearest")))


class JohnsonNet(nn.Module):
    """The baseline transformation network; ``config.channels`` is C, ``config.res_blocks`` the blocks."""

    size_multiple = 4  # two stride-2 convs

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig(arch="johnson")
        c = self.config.channels
        self.body = nn.Sequential(
            _conv(3, c, 9), nn.ReLU(),
            _conv(c, 2 * c, 3, stride=2), nn.ReLU(),
            _conv(2 * c, 4 * c, 3, stride=2), nn.ReLU(),
            *[_Residual(4 * c) for _ in range(self.config.res_blocks)],
            _Upsample(4 * c, 2 * c),
            _Upsample(2 * c, c),
            nn.ReflectionPad2d(4),
            nn.Conv2d(c, 3, 9),
        )  # fmt: skip

    def forward(self, images: Tensor, cond: Tensor | None = None) -> Tensor:
        n, _, h, w = images.shape
        # Two stride-2 stages: pad to a multiple of 4 so the output has the input's size, and
        # to at least 16 pixels, which the reflection pads at 1/4 resolution need.
        x = F.pad(images, (0, max(-w % 4, 16 - w), 0, max(-h % 4, 16 - h)), mode="replicate")
        out = (torch.tanh(self.body(x * 2 - 1)) + 1) / 2
        return out[:, :, :h, :w]
