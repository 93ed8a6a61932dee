"""The first brushwork generator (brushwork 0.1; model files whose generator config has
no ``version``). Kept so that models trained with it still load and stylize; new models
use the faster generator.py.

Two stride-2 convs, residual blocks at 1/4 resolution, resize-conv upsampling to full
resolution, a zero-initialised residual output on the photo.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..config import GeneratorConfig
from .layers import ConvLayer, ResidualBlock, UpLayer, pad_to_multiple, straight_through_clamp

SIZE_MULTIPLE = 4  # two stride-2 stages


class GeneratorV1(nn.Module):
    """Photo -> stylized photo, same size, any size.

    ``forward(images: N×3×H×W in [0, 1], cond: N×cond_dim | None) -> N×3×H×W in [0, 1]``.
    """

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = config or GeneratorConfig()
        c, d = self.config.channels, self.config.cond_dim
        n = "instance" if self.config.norm == "instance" else "none"  # version 1 predates thumbnail norm
        self.down = nn.ModuleList(
            [ConvLayer(3, c, stride=2, cond_dim=d, norm=n), ConvLayer(c, 2 * c, stride=2, cond_dim=d, norm=n)]
        )
        self.blocks = nn.ModuleList([ResidualBlock(2 * c, d, n) for _ in range(self.config.res_blocks)])
        self.up = nn.ModuleList([UpLayer(2 * c, c, d, n), UpLayer(c, max(c // 2, 4), d, n)])
        self.to_rgb = nn.Conv2d(max(c // 2, 4), 3, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)

    def forward(self, images: Tensor, cond: Tensor | None = None) -> Tensor:
        h, w = images.shape[-2:]
        x = pad_to_multiple(images, SIZE_MULTIPLE)
        features = x
        for layer in self.down:
            features = layer(features, cond)
        for block in self.blocks:
            features = block(features, cond)
        for layer in self.up:
            features = layer(features, cond)
        return straight_through_clamp(x + self.to_rgb(features))[:, :, :h, :w]
