"""Pick the compute device once (cuda -> mps -> cpu) and pass it down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brushwork.errors import BrushworkError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
# The --device help of every command (the parser reads it before torch is imported).
DEVICE_HELP = "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps"


def pick_device(name: str = "auto") -> torch.device:
    """Resolve "auto" to the best available device; check that an explicit one exists."""
    import torch

    base = name.split(":")[0]
    if base not in DEVICE_CHOICES:
        raise BrushworkError(f"--device must be one of {', '.join(DEVICE_CHOICES)} (got {name!r})")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise BrushworkError("--device cuda: no CUDA GPU is available here")
    if base == "mps" and not torch.backends.mps.is_available():
        raise BrushworkError("--device mps: Apple MPS is not available here")
    return torch.device(name)
