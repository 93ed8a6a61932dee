"""Atomic file writes: a crash or a full disk never leaves half a model or image behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    """The process umask (reading it means setting it, so it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _flush_to_disk(path: str) -> None:
    """fsync `path`, so the rename never publishes a file whose bytes are still only in memory
    (after a power cut the new name could otherwise hold zeros)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a hidden temporary file next to `path`, then rename it over
    `path` (atomic within one file system). On any failure the temporary file is removed and
    an existing `path` is left untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The stem is shortened so a name near the 255-byte limit still leaves room for the suffix.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:64]}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        _flush_to_disk(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
