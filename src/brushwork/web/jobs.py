"""Training jobs: a queue kept on disk, run one at a time, each in its own process.

Every job is a folder under the studio's jobs folder: request.json (what to train, written
once), state.json (queued / running / cancelling / done / failed / cancelled, written only
by this server), progress.json and result.json (written by the worker, train_worker.py),
worker.log, the uploaded paintings and photos, and run/ (samples, checkpoint). So the page
shows the same jobs after a reload, and after a server restart too: a job that was running
then is marked interrupted, queued ones still run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brushwork.errors import BrushworkError
from brushwork.web.train_worker import write_json

ACTIVE = ("queued", "running", "cancelling")
CANCEL_GRACE_S = 60  # a cancelled worker gets this long to checkpoint before it is killed
POLL_S = 0.5


@dataclass
class Job:
    """One job as read from its folder."""

    id: str
    folder: Path
    request: dict[str, Any]
    state: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any]

    @property
    def name(self) -> str:
        return self.request["name"]

    @property
    def status(self) -> str:
        return self.state.get("state", "queued")

    def latest_sample(self) -> Path | None:
        samples = sorted((self.folder / "run" / "samples").glob("step_*.png"))
        return samples[-1] if samples else None


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


class JobQueue:
    """Creates, lists, cancels and runs jobs; a background thread starts the next queued job
    when none is running and notices when the running one ends."""

    def __init__(self, jobs_dir: Path, on_finished=None):
        self.jobs_dir = Path(jobs_dir)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.on_finished = on_finished  # called with the Job when a job ends (e.g. to refresh the style list)
        self._lock = threading.RLock()
        self._process: subprocess.Popen | None = None
        self._running: str | None = None
        self._cancel_sent = 0.0
        self._stop = threading.Event()
        for job in self.jobs():  # a server that stopped while a job ran
            if job.status in ("running", "cancelling"):
                self._set_state(job.id, "interrupted", "the server stopped while this job ran")
        self._thread = threading.Thread(target=self._loop, name="brushwork-jobs", daemon=True)
        self._thread.start()

    # -- reading -------------------------------------------------------------------------
    def job(self, job_id: str) -> Job:
        folder = self.jobs_dir / job_id
        if not job_id or "/" in job_id or job_id.startswith(".") or not (folder / "request.json").is_file():
            raise BrushworkError(f"no training job {job_id!r}")
        return Job(job_id, folder, _read(folder / "request.json"), _read(folder / "state.json"),
                   _read(folder / "progress.json"), _read(folder / "result.json"))  # fmt: skip

    def jobs(self) -> list[Job]:
        """Every job, oldest first."""
        found = []
        for folder in self.jobs_dir.iterdir():
            if (folder / "request.json").is_file():
                found.append(self.job(folder.name))
        return sorted(found, key=lambda job: job.request.get("created", 0))

    # -- changing ------------------------------------------------------------------------
    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (empty) folder, to copy the uploads into before :meth:`submit`."""
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        folder = self.jobs_dir / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def submit(self, job_id: str, name: str, config: dict[str, Any]) -> Job:
        """Queue a job whose folder holds its inputs; `config` is a TrainConfig as a dict."""
        with self._lock:
            folder = self.jobs_dir / job_id
            self._set_state(job_id, "queued", "waiting for the running job" if self._running else "starting")
            write_json(folder / "request.json", {"name": name, "created": time.time(), "config": config})
        return self.job(job_id)

    def cancel(self, job_id: str) -> str:
        with self._lock:
            job = self.job(job_id)
            if job.status == "queued":
                self._set_state(job_id, "cancelled", "cancelled before it started")
                return f"cancelled {job.name} (it had not started)"
            if job.status == "running" and self._running == job_id and self._process:
                self._process.send_signal(signal.SIGINT)  # the trainer stops at a step boundary, checkpointed
                self._cancel_sent = time.monotonic()
                self._set_state(job_id, "cancelling", "stopping at the next step")
                return f"cancelling {job.name}"
            raise BrushworkError(f"job {job.name} is {job.status}; only queued or running jobs can be cancelled")

    def close(self) -> None:
        """Stop the scheduler; a running worker is interrupted (its checkpoint is kept)."""
        self._stop.set()
        with self._lock:
            if self._process and self._process.poll() is None:
                self._process.send_signal(signal.SIGINT)
                try:
                    self._process.wait(timeout=CANCEL_GRACE_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
        self._thread.join(timeout=5)

    # -- the scheduler -------------------------------------------------------------------
    def _set_state(self, job_id: str, state: str, message: str = "") -> None:
        write_json(self.jobs_dir / job_id / "state.json", {"state": state, "message": message, "time": time.time()})

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._tick()
            except Exception:  # the scheduler must outlive any one bad job folder
                import logging

                logging.getLogger("brushwork.web").exception("training queue")

    def _tick(self) -> None:
        finished = None
        with self._lock:
            if self._process is not None:
                code = self._process.poll()
                if code is None:
                    if self._cancel_sent and time.monotonic() - self._cancel_sent > CANCEL_GRACE_S:
                        self._process.kill()
                    return
                finished = self._finish(self._running, code)
            queued = [job for job in self.jobs() if job.status == "queued"]
            if queued:
                self._start(queued[0])
        if finished is not None and self.on_finished:
            self.on_finished(finished)

    def _start(self, job: Job) -> None:
        log = open(job.folder / "worker.log", "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "brushwork.web.train_worker", str(job.folder)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        log.close()
        self._running, self._cancel_sent = job.id, 0.0
        self._set_state(job.id, "running", f"started (process {self._process.pid})")

    def _finish(self, job_id: str, code: int) -> Job:
        job = self.job(job_id)
        if self._cancel_sent:
            state, message = "cancelled", f"cancelled at step {job.progress.get('step', 0)}"
        elif code == 0 and job.result.get("ok"):
            state, message = "done", job.result.get("message", "done")
        else:
            state, message = "failed", job.result.get("message") or f"the worker exited with status {code}; see worker.log"
        self._set_state(job_id, state, message)
        self._process, self._running, self._cancel_sent = None, None, 0.0
        return self.job(job_id)
