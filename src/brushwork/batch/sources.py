"""Which images a batch job reads and where each output goes: local folders and files as
`brushwork stylize` pairs them (inference/stylize.py's plan_outputs, the same names), and
URIs of the file systems Ray Data reads through pyarrow (s3://, gs://, abfs://, hdfs://,
file://) by the same rules."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from brushwork.errors import BrushworkError, describe
from brushwork.images import IMAGE_EXTENSIONS
from brushwork.inference.stylize import distinct_outputs, plan_outputs

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_uri(item: str | Path) -> bool:
    """Whether `item` names a file system by scheme (s3://bucket/photos) rather than a local path."""
    return isinstance(item, str) and bool(_URI.match(item))


def plan_sources(inputs: list[str], output: Path, fmt: str | None = None) -> tuple[list[tuple[str, Path]], list[str]]:
    """(source, output path) pairs, and "path: reason" lines for inputs that cannot run.
    Local inputs alone are planned exactly as `brushwork stylize` plans them."""
    if not any(is_uri(item) for item in inputs):
        pairs, problems = plan_outputs(list(inputs), output, fmt)
        return [(str(source), destination) for source, destination in pairs], problems
    suffix = f".{fmt.lower().lstrip('.')}" if fmt else None
    pairs: list[tuple[str, Path]] = []
    problems: list[str] = []
    for item in inputs:
        try:
            files, is_folder = _listing(item)
        except BrushworkError as exc:
            problems.append(str(exc))
            continue
        name = PurePosixPath(item.rstrip("/")).name if is_uri(item) else Path(item).name
        base = output if (not is_folder or len(inputs) == 1) else output / name
        if not files:
            problems.append(f"{item}: " + ("no images found" if is_folder else "not an image file extension"))
        for source, relative in files:
            pairs.append((source, (base / relative).with_suffix(suffix or PurePosixPath(relative).suffix)))
    return distinct_outputs(pairs, problems)


def _listing(item: str) -> tuple[list[tuple[str, str]], bool]:
    """The image files at `item` as (URI, path relative to it) pairs, sorted, hidden names left
    out as find_images does; and whether `item` is a folder."""
    import pyarrow.fs as pafs

    try:
        fs, root = pafs.FileSystem.from_uri(item if is_uri(item) else str(Path(item).resolve()))
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.NotFound:
            raise BrushworkError(f"{item}: no such file or directory")
        if info.type == pafs.FileType.File:
            wanted = PurePosixPath(root).suffix.lower() in IMAGE_EXTENSIONS
            return ([(item, PurePosixPath(root).name)] if wanted else []), False
        found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    except (OSError, ValueError) as exc:  # pyarrow's errors for unknown schemes, credentials, networks
        raise BrushworkError(f"{item}: cannot list ({describe(exc)})") from None
    prefix = item.rstrip("/")
    files = []
    for entry in found:
        relative = PurePosixPath(entry.path).relative_to(root.rstrip("/"))
        if entry.type != pafs.FileType.File or any(part.startswith(".") for part in relative.parts):
            continue
        if relative.suffix.lower() in IMAGE_EXTENSIONS:
            files.append((f"{prefix}/{relative}", str(relative)))
    return sorted(files, key=lambda pair: pair[1]), True
