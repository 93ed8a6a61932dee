"""Pick the compute device once (cuda -> mps -> cpu) and pass it down."""

from __future__ import annotations

import torch

from brushwork.errors import BrushworkError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """Resolve "auto" to the best available device; check that an explicit one exists."""
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
