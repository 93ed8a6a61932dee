"""The user's style library: the folder where trained styles are kept, by name.

The studio trains into it and the CLI finds its styles by name (``brushwork stylize NAME``,
``brushwork styles``), so a style trained in the browser is usable from the command line. It
is the user's data folder (platformdirs: ``~/.local/share/brushwork/styles`` on Linux,
``~/Library/Application Support/brushwork/styles`` on macOS, ``%LOCALAPPDATA%\\brushwork\\styles``
on Windows), not the current directory, so it does not depend on where a command was started.
``--library DIR`` (or the environment variable BRUSHWORK_LIBRARY) chooses another.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from brushwork.errors import BrushworkError

ENVIRONMENT_VARIABLE = "BRUSHWORK_LIBRARY"


def library_dir(chosen: str | Path | None = None) -> Path:
    """The library folder: `chosen` (a --library flag), else $BRUSHWORK_LIBRARY, else the
    user's data folder. Not created here."""
    folder = chosen or os.environ.get(ENVIRONMENT_VARIABLE) or platformdirs.user_data_path("brushwork") / "styles"
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        source = "--library" if chosen else ENVIRONMENT_VARIABLE if os.environ.get(ENVIRONMENT_VARIABLE) else "library"
        raise BrushworkError(f"{source} {folder}: not a folder")
    return folder


def library_styles(chosen: str | Path | None = None) -> dict[str, Path]:
    """Name -> model file of every style in the library, sorted by name (none if it does not exist yet)."""
    folder = library_dir(chosen)
    return {path.stem: path for path in sorted(folder.glob("*.safetensors"))} if folder.is_dir() else {}
