"""Equal steps for every style of a multi-style run (``--balance-styles``).

Styles take turns, one per step, under one Adam optimiser. Adam divides each parameter's
step by the running size of its gradients, and the style with the largest gradients sets
that size, so the other styles move the shared layers less than they would in a run of
their own. With the three bundled styles, The Great Wave's first gradient is a quarter of
Monet's (docs/method.md). This scales each style's loss by ``mean(norms) / norms[style]``,
from every style's running gradient norm, so that each turn moves the network about as far.
Scaling a style's whole loss changes no style's optimum, only how fast it is approached.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

DECAY = 0.9  # per turn of a style: its norm follows about its last ten turns


class StyleBalance:
    def __init__(self, n_styles: int):
        self.norms = torch.zeros(n_styles, dtype=torch.float64)  # 0: not measured yet

    def scale(self, style: int) -> float:
        """The factor for `style`'s loss this step (1 until every style has been measured)."""
        if not bool((self.norms > 0).all()):
            return 1.0
        return float(self.norms.mean() / self.norms[style])

    def record(self, style: int, grad_norm: float, scale: float) -> None:
        """Fold in the gradient norm of a step of `style` whose loss was multiplied by `scale`."""
        norm = grad_norm / scale
        if not math.isfinite(norm) or norm <= 0:
            return
        old = float(self.norms[style])
        self.norms[style] = norm if old == 0 else DECAY * old + (1 - DECAY) * norm

    def state(self) -> Tensor:
        return self.norms.clone()

    def load(self, norms: Tensor) -> None:
        if norms.shape != self.norms.shape:
            raise ValueError(f"style balance for {len(norms)} styles, this run has {len(self.norms)}")
        self.norms = norms.to(torch.float64).clone()
