"""A batch job's manifest: which images are finished, so a re-run (or a killed job started
again) does only the rest.

A JSON-lines file in the output folder (hidden, so no later run takes it for an image): a
header naming the job (model file digest and every option that changes the pictures), then
one line per image as its result arrives, with the time. Each line is flushed to disk before
the next, so a killed job loses at most the line it was writing; a torn last line is ignored.
Images are written atomically (brushwork.files), so an output either is complete or is not
there; one written but not yet recorded is simply done again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from brushwork.errors import BrushworkError, describe
from brushwork.files import atomic_write

MANIFEST_NAME = ".brushwork-manifest.jsonl"
FORMAT = 1


def file_digest(path: str | Path) -> str:
    """The sha256 of a file (a model: outputs of another model are not finished work)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Manifest:
    """The manifest of the job `job` (plain values naming it) writing into `folder`."""

    def __init__(self, folder: str | Path, job: dict[str, Any]):
        self.path = Path(folder) / MANIFEST_NAME
        self.job = json.loads(json.dumps(job))  # as it reads back
        self.restarted = False  # whether an earlier manifest of other options was set aside
        self._done: dict[str, str] = {}  # source -> its output, for the images written
        self._ours: bool | None = None  # whether the file on disk is this job's (None: not read yet)
        self._handle = None

    def finished(self) -> dict[str, str]:
        """Source -> output of the images an earlier run of this job wrote (their outputs still there)."""
        self._read()
        return {source: output for source, output in self._done.items() if Path(output).is_file()}

    def _read(self) -> None:
        self._done, self._ours = {}, False
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            raise BrushworkError(f"{self.path}: cannot read the job's manifest ({describe(exc)})") from None
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:  # the line a killed job was writing
                continue
        header = entries[0] if entries else {}
        if header.get("brushwork_manifest") != FORMAT or header.get("job") != self.job:
            self.restarted = bool(entries)  # another model or options: nothing of it is finished
            return
        self._ours = True
        for entry in entries[1:]:
            if isinstance(entry, dict) and not entry.get("error") and "source" in entry:
                self._done[entry["source"]] = entry.get("output", "")

    def open(self) -> None:
        """Start recording: append to this job's manifest, or begin a new one."""
        if self._ours is None:
            self._read()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._ours:
            header = json.dumps({"brushwork_manifest": FORMAT, "job": self.job}) + "\n"
            atomic_write(self.path, lambda tmp: Path(tmp).write_text(header, encoding="utf-8"))
        try:
            self._handle = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise BrushworkError(f"{self.path}: cannot write the job's manifest ({describe(exc)})") from None

    def record(self, source: str, output: str, error: str = "") -> None:
        """One image's result, on disk before this returns."""
        entry = {"source": source, "output": output, "error": error, "time": round(time.time(), 3)}
        self._handle.write(json.dumps(entry) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        if not error:
            self._done[source] = output

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
