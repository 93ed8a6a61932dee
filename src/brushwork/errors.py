"""The one exception type for problems a user can cause (bad file, bad option).

The CLI prints its message as a single line and exits non-zero; anything else is a bug
and keeps its traceback.
"""


class BrushworkError(Exception):
    """A user-facing error whose message names the file or option and the problem."""


def describe(exc: BaseException, limit: int = 200) -> str:
    """An exception as one short line for a user-facing message: an OSError's strerror,
    else the first line of its text, else its type name."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def naming(exc: BaseException, *paths: object) -> str:
    """`exc`'s message as one "path: reason" line: as it is if it starts with one of `paths`,
    else with the first of them added (a problem found deep inside, e.g. an image too small
    for the network, names no file)."""
    text = str(exc)
    return text if any(text.startswith(f"{path}: ") for path in paths) else f"{paths[0]}: {text}"
