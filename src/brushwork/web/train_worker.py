"""One studio training job, run as its own process: ``python -m brushwork.web.train_worker JOB_DIR``.

A process of its own keeps training's CPU work and memory out of the web server, and lets a
cancel interrupt it cleanly: SIGINT makes the trainer stop at the next step boundary and
save its checkpoint, as Ctrl-C does for ``brushwork train``. The job folder's request.json
says what to train; this writes progress.json (step, losses, ETA) as it goes and
result.json at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from brushwork.errors import BrushworkError, describe
from brushwork.training.config import TrainConfig
from brushwork.training.trainer import Trainer

PROGRESS_EVERY_S = 0.5  # progress.json is rewritten at most this often (and at the last step)


def write_json(path: Path, value: dict) -> None:
    """Replace `path` atomically (the server may read it at any moment); no fsync, it is only progress."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


class ReportingTrainer(Trainer):
    """The trainer, reporting each step to the job folder's progress.json."""

    def __init__(self, config: TrainConfig, job_dir: Path):
        self.job_dir = job_dir
        self._last_report = 0.0
        super().__init__(config)

    def train_step(self) -> dict[str, float]:
        values = super().train_step()
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_EVERY_S or self.step == self.config.iterations:
            self._last_report = now
            rate = self.step / self.elapsed if self.elapsed else 0.0
            eta = (self.config.iterations - self.step) / rate if rate else None
            write_json(self.job_dir / "progress.json", {
                "step": self.step, "total": self.config.iterations, "elapsed": round(self.elapsed, 1),
                "eta": None if eta is None else round(eta, 1),
                "losses": {k: round(v, 4) for k, v in values.items() if k in ("content", "style", "adversarial", "total")},
            })  # fmt: skip
        return values


def run(job_dir: Path) -> int:
    request = json.loads((job_dir / "request.json").read_text())
    try:
        config = TrainConfig.from_dict(request["config"], source="training job")
        trainer = ReportingTrainer(config, job_dir)
        write_json(job_dir / "progress.json", {"step": 0, "total": config.iterations, "elapsed": 0, "eta": None, "losses": {}})
        result = trainer.run(progress=False)
    except BrushworkError as exc:  # also a cancel: the trainer saved its checkpoint and says so
        write_json(job_dir / "result.json", {"ok": False, "message": str(exc)})
        return 1
    except KeyboardInterrupt:  # cancelled before the first step
        write_json(job_dir / "result.json", {"ok": False, "message": "cancelled before training started"})
        return 1
    except Exception as exc:  # a bug; the traceback goes to worker.log
        write_json(job_dir / "result.json", {"ok": False, "message": f"internal error ({type(exc).__name__}: {describe(exc)})"})
        raise
    write_json(job_dir / "result.json", {
        "ok": True, "model": str(result.model_path), "steps": result.steps, "seconds": round(result.seconds, 1),
        "message": f"trained {result.steps} steps in {result.seconds:.0f} s",
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
