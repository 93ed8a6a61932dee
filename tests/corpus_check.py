"""Judge a brushwork command's run over the hostile corpus (hostile_corpus.py).

Shared by tests/test_reliability_corpus.py (in-process runs) and benchmarks/reliability.py
(subprocess runs, where a traceback would show in stderr).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile_corpus import Entry

# Kinds PIL refuses from the header alone: every command names them, even a training run
# that never draws them.
HEADER_KINDS = frozenset({"zero-byte", "not an image", "huge header", "decompression bomb", "fifo",
                          "symlink loop", "dangling symlink"})  # fmt: skip


@dataclass
class Verdict:
    tried: int = 0  # files the command was expected to look at (not "ignored")
    written: int = 0
    named: int = 0  # bad files named on a line with a reason
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)


def reasons(entries: list[Entry], stderr: str) -> dict[Path, str]:
    """For each corpus file named in `stderr` as "PATH: reason", the reason (its last mention)."""
    found = {}
    for line in stderr.splitlines():
        for entry in entries:
            head, sep, reason = line.partition(f"{entry.path}: ")
            if sep and reason.strip():
                found[entry.path] = reason.strip()
    return found


def judge(entries: list[Entry], stderr: str, output_of: Callable[[Path], Path] | None) -> Verdict:
    """Check one run: good files written, bad ones named, ignored ones left alone.

    `output_of` maps an input file to the file the command should write for it; None for a
    training run, where only header-level damage is sure to be named (a file damaged further
    in is named only if a step draws it) and nothing good may be named as bad."""
    verdict = Verdict(tracebacks=stderr.count("Traceback (most recent call last)"))
    if verdict.tracebacks:
        verdict.problems.append(f"{verdict.tracebacks} traceback(s) in stderr")
    named = reasons(entries, stderr)
    for entry in entries:
        if entry.expect == "ignored":
            if entry.path in named:
                verdict.problems.append(f"{entry.path.name}: ignored file named ({named[entry.path]})")
            continue
        verdict.tried += 1
        written = output_of is not None and os.path.lexists(output_of(entry.path))
        verdict.written += written
        verdict.named += entry.path in named and not written
        if entry.expect == "good" and output_of is not None and not written:
            verdict.problems.append(f"{entry.path.name}: good file not written ({named.get(entry.path, 'not named')})")
        elif entry.expect == "good" and output_of is None and entry.path in named and entry.kind != "broken exif":
            verdict.problems.append(f"{entry.path.name}: good file named ({named[entry.path]})")
        elif entry.expect == "bad" and written:
            verdict.problems.append(f"{entry.path.name}: bad file written")
        elif entry.expect in ("bad", "either") and not written and entry.path not in named:
            if output_of is not None or entry.kind in HEADER_KINDS:
                verdict.problems.append(f"{entry.path.name}: {entry.expect} file neither written nor named")
    return verdict


def mirrored(root: Path, out: Path, suffix: str | None = None) -> Callable[[Path], Path]:
    """Where a folder run writes each input: the same relative path under `out`."""
    return lambda path: (out / path.relative_to(root)).with_suffix(suffix or path.suffix)


def sample(entries: list[Entry], per_kind: int) -> list[Entry]:
    """At most `per_kind` files of each kind; the others are deleted (for slow commands)."""
    kept: list[Entry] = []
    counts: dict[tuple[str, str], int] = {}
    for entry in entries:
        key = (entry.kind, entry.expect)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= per_kind or entry.path.name.startswith("valid."):  # symlinks point at valid.png
            kept.append(entry)
        elif entry.path.is_dir() and not entry.path.is_symlink():
            shutil.rmtree(entry.path)
        else:
            entry.path.unlink()
    return kept


def relaxed(entries: list[Entry], fragments: tuple[str, ...]) -> list[Entry]:
    """The entries with good files whose names contain a fragment turned into "either"."""
    return [Entry(e.path, e.kind, "either") if e.expect == "good" and any(f in e.path.name for f in fragments)
            else e for e in entries]  # fmt: skip
