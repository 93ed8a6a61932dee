"""Turning the Train page's uploads and options into a queued job, and jobs into text."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

from brushwork.errors import BrushworkError
from brushwork.training.config import TrainConfig
from brushwork.web.jobs import ACTIVE, Job, JobQueue
from brushwork.web.library import StyleLibrary
from brushwork.web.settings import StudioSettings
from brushwork.web.uploads import copy_checked

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


@dataclass
class TrainRequest:
    name: str
    paintings: list[str] = field(default_factory=list)  # uploaded files: one painting, or a collection
    photos: list[str] = field(default_factory=list)  # uploaded training photos
    use_server_photos: bool = False  # the --photos folder instead of uploads
    iterations: int = TrainConfig.iterations
    batch_size: int = TrainConfig.batch_size
    crop: int = TrainConfig.crop
    backbone: str = TrainConfig.backbone
    max_strength: float = 0.0


def _check_name(name: str, library: StyleLibrary, queue: JobQueue) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise BrushworkError(f"style name {name!r}: use 1 to 40 letters, digits, '-' or '_' (starting with a letter or digit)")
    if name in library.names() or library.trained_path(name).exists():
        raise BrushworkError(f"a style named {name!r} exists already; choose another name (or delete it on the Styles page)")
    if any(job.name == name and job.status in ACTIVE for job in queue.jobs()):
        raise BrushworkError(f"a job training {name!r} is already queued or running")


def start_training(request: TrainRequest, queue: JobQueue, library: StyleLibrary, settings: StudioSettings) -> Job:
    """Check the request, copy its uploads into a new job folder and queue it."""
    name = (request.name or "").strip()
    _check_name(name, library, queue)
    if not request.paintings:
        raise BrushworkError("upload one painting (or several paintings of one artist)")
    if request.use_server_photos and not settings.photos_dir:
        raise BrushworkError("this server has no photo folder (start it with --photos DIR)")
    if not request.use_server_photos and not request.photos:
        raise BrushworkError("upload some photos to train on" + (", or use the server's photo folder" if settings.photos_dir else ""))
    if len(request.paintings) + len(request.photos) > settings.limits.max_training_files:
        raise BrushworkError(f"too many files: this server takes at most {settings.limits.max_training_files} per job")
    job_id, folder = queue.new_folder()
    try:
        paintings = copy_checked(request.paintings, folder / "paintings", settings.limits)
        if not request.use_server_photos:
            copy_checked(request.photos, folder / "photos", settings.limits)
        iterations = int(request.iterations)
        config = TrainConfig(
            content=str(settings.photos_dir if request.use_server_photos else folder / "photos"),
            style=(str(paintings[0] if len(paintings) == 1 else folder / "paintings"),),
            name=name, output=str(library.trained_path(name)), run_dir=str(folder / "run"),
            iterations=iterations, batch_size=int(request.batch_size), crop=int(request.crop),
            backbone=request.backbone, max_strength=float(request.max_strength),
            sample_every=max(1, min(100, iterations // 8)),  # previews often enough to watch
            checkpoint_every=max(1, min(500, iterations // 2)),
        )  # fmt: skip
        config.validate()
        return queue.submit(job_id, name, config.to_dict())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def describe_job(job: Job) -> str:
    """One job's live state as Markdown: state, step, losses, ETA, message."""
    progress = job.progress
    lines = [f"**{job.name}** — {job.status}" + (f": {job.state.get('message')}" if job.state.get("message") else "")]
    if progress:
        lines.append(f"step {progress.get('step', 0)} / {progress.get('total', '?')}, "
                     f"elapsed {_duration(progress.get('elapsed'))}, ETA {_duration(progress.get('eta'))}")  # fmt: skip
        if progress.get("losses"):
            lines.append("losses: " + ", ".join(f"{k} {v:.4g}" for k, v in progress["losses"].items()))
    return "\n\n".join(lines)


def jobs_table(jobs: list[Job]) -> str:
    """Every job as a Markdown table, newest first."""
    if not jobs:
        return "No training jobs yet."
    rows = ["| job | style | state | step | message |", "|---|---|---|---|---|"]
    for job in reversed(jobs):
        step = f"{job.progress.get('step', 0)} / {job.progress.get('total', job.request['config'].get('iterations'))}"
        message = str(job.state.get("message", "")).replace("|", "/").replace("\n", " ")
        rows.append(f"| {job.id} | {job.name} | {job.status} | {step} | {message} |")
    return "\n".join(rows)
