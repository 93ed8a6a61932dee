"""Training checkpoints: everything needed to continue a run at the same step.

Our own format, a torch file of tensors and plain values, always read with
``weights_only=True`` so a hostile file cannot run code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .errors import BrushworkError, describe
from .files import atomic_write

if TYPE_CHECKING:
    from .train import Trainer

CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, trainer: "Trainer") -> None:
    state = {
        "brushwork_checkpoint": CHECKPOINT_VERSION,
        "step": trainer.step,
        "elapsed": trainer.elapsed,
        "config": json.dumps(trainer.config.to_dict()),
        "generator": trainer.generator.state_dict(),
        "discriminator": trainer.discriminator.state_dict(),
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "history": json.dumps(trainer.history),
    }
    atomic_write(Path(path), lambda tmp: torch.save(state, tmp))


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise BrushworkError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types on damaged files
        raise BrushworkError(f"{path}: not a readable brushwork checkpoint ({describe(exc)})") from None
    if not isinstance(state, dict) or "brushwork_checkpoint" not in state:
        raise BrushworkError(f"{path}: not a brushwork checkpoint")
    if state["brushwork_checkpoint"] > CHECKPOINT_VERSION:
        raise BrushworkError(f"{path}: checkpoint from a newer brushwork; upgrade brushwork")
    return state


def load_checkpoint(path: str | Path, trainer: "Trainer") -> None:
    """Restore models, optimisers, step and history from `path` into `trainer`."""
    state = read_checkpoint(path)
    try:
        trainer.generator.load_state_dict(state["generator"])
        trainer.discriminator.load_state_dict(state["discriminator"])
        trainer.opt_g.load_state_dict(state["opt_g"])
        trainer.opt_d.load_state_dict(state["opt_d"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise BrushworkError(f"{path}: checkpoint does not match this configuration ({describe(exc)})") from None
    trainer.step = int(state["step"])
    trainer.elapsed = float(state["elapsed"])
    trainer.history = json.loads(state["history"])
    if trainer.step > trainer.config.iterations:
        raise BrushworkError(
            f"{path}: checkpoint is at step {trainer.step}, past --iterations {trainer.config.iterations}"
        )
