"""Training checkpoints: everything needed to continue a run at the same step.

Our own format, a torch file of tensors and plain values (what ``Trainer.state_dict()``
returns), always read with ``weights_only=True`` so a hostile file cannot run code. Older
checkpoints are brought up to date by brushwork.migrations.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from brushwork.errors import BrushworkError, describe
from brushwork.files import atomic_write
from brushwork.migrations import CHECKPOINT_VERSION, migrate_checkpoint_config


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write a trainer's state (``Trainer.state_dict()``) atomically to `path`; a checkpoint
    already there is only replaced once the new one is complete."""
    path = Path(path)
    state = {"brushwork_checkpoint": CHECKPOINT_VERSION, **state}
    try:
        atomic_write(path, lambda tmp: torch.save(state, tmp))
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as a RuntimeError
        full = isinstance(exc, RuntimeError) and shutil.disk_usage(path.parent).free < (1 << 20)
        reason = "no space left on device" if full else describe(exc)
        raise BrushworkError(f"{path}: cannot write checkpoint ({reason}); any earlier checkpoint there is unchanged") from None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's state, its ``config`` as plain values of the current schema."""
    path = Path(path)
    if not path.is_file():
        raise BrushworkError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types on damaged files
        raise BrushworkError(f"{path}: not a readable brushwork checkpoint ({describe(exc)})") from None
    if not isinstance(state, dict) or "brushwork_checkpoint" not in state:
        raise BrushworkError(f"{path}: not a brushwork checkpoint")
    try:
        config = json.loads(state["config"])
    except (KeyError, TypeError, ValueError):
        raise BrushworkError(f"{path}: brushwork checkpoint is damaged (no training config)") from None
    state["config"] = migrate_checkpoint_config(config, int(state["brushwork_checkpoint"]), str(path))
    return state


def checkpoint_config(path: str | Path) -> dict[str, Any]:
    """The training config stored in a checkpoint, as plain values (for ``--resume``)."""
    return read_checkpoint(path)["config"]
