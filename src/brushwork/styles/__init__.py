"""Style models bundled with the package, usable by name (e.g. ``brushwork stylize starry_night``)."""

from __future__ import annotations

from pathlib import Path

from brushwork.errors import BrushworkError

STYLES_DIR = Path(__file__).parent
DEFAULT_STYLE = "starry_night"


def bundled_styles() -> dict[str, Path]:
    """Name -> model file of every bundled style, sorted by name."""
    return {path.stem: path for path in sorted(STYLES_DIR.glob("*.safetensors"))}


def resolve_model(name_or_path: str | Path) -> Path:
    """A model file path for an existing file, a bundled style name or the name of a style in
    the user's library (brushwork/library.py; bundled names first); else a clear error."""
    from brushwork.library import library_dir, library_styles

    path = Path(name_or_path)
    if path.is_file():
        return path
    styles = {**library_styles(), **bundled_styles()}
    if str(name_or_path) in styles:
        return styles[str(name_or_path)]
    if path.suffix or len(path.parts) > 1:
        raise BrushworkError(f"{path}: no such model file")
    known = ", ".join(sorted(styles)) or "(none installed)"
    raise BrushworkError(
        f"unknown style {str(name_or_path)!r}; known styles: {known} (bundled, and the library {library_dir()}), "
        "or give a model file"
    )
