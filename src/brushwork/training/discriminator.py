"""Multi-scale patch discriminator.

Each scale is a small spectral-norm PatchGAN that classifies overlapping patches, so it
judges local texture (brush strokes, colour mixtures) rather than the whole picture: with a
single painting it cannot memorise the composition, and the scales (full, 1/2, 1/4) see
patches of about 26, 52 and 104 pixels (receptive fields).

Adversarial objective: hinge loss with spectral-norm discriminators (Miyato et al. 2018,
Zhang et al. 2019). Why this one: the hinge stops rewarding D once a patch is classified
with margin, so a discriminator that sees only crops of a single painting cannot drive its
logits (and G's gradients) to extremes; spectral norm bounds D's Lipschitz constant without
the extra backward pass that R1 needs, which matters on a 2-core CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


def _patch_net(channels: int) -> nn.Sequential:
    c = channels
    return nn.Sequential(
        spectral_norm(nn.Conv2d(3, c, 4, stride=2, padding=1)),
        nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)),
        nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(2 * c, 4 * c, 3, stride=1, padding=1)),
        nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(4 * c, 1, 3, stride=1, padding=1)),
    )


class MultiScaleDiscriminator(nn.Module):
    """``forward(images: N×3×H×W in [0, 1]) -> list of N×1×h_s×w_s patch logits, one per scale``."""

    def __init__(self, scales: int = 3, channels: int = 32):
        super().__init__()
        self.nets = nn.ModuleList([_patch_net(channels) for _ in range(scales)])

    def forward(self, images: Tensor) -> list[Tensor]:
        x = images * 2 - 1
        outputs = []
        for index, net in enumerate(self.nets):
            if index:
                x = F.avg_pool2d(x, 2)
            outputs.append(net(x))
        return outputs


def discriminator_loss(real: Sequence[Tensor], fake: Sequence[Tensor]) -> Tensor:
    """Hinge loss of the discriminator, averaged over scales; `real`, `fake`: per scale, N×1×h×w
    patch logits for style images and for G's (detached) outputs."""
    return torch.stack([F.relu(1 - r).mean() + F.relu(1 + f).mean() for r, f in zip(real, fake, strict=True)]).mean()


def generator_adversarial_loss(fake: Sequence[Tensor], sample_weights: Tensor | None = None) -> Tensor:
    """The generator's hinge loss, averaged over scales; `fake`: per scale, N×1×h×w patch logits
    for G's outputs (not detached); `sample_weights`: N weights (training's strengths), default 1."""
    losses = []
    for f in fake:
        per_sample = -f.flatten(1).mean(1)
        losses.append(per_sample.mean() if sample_weights is None else (per_sample * sample_weights).mean())
    return torch.stack(losses).mean()
