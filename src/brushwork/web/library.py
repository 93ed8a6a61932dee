"""The styles a studio offers: the bundled ones (read-only) and those trained into its
style library (brushwork/library.py). Users pick styles by name; a name is looked up here, never used as a path."""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import read_metadata
from brushwork.library import library_styles
from brushwork.styles import bundled_styles

THUMBNAIL_KEY = "style_thumbnail_jpeg_base64"


@dataclass(frozen=True)
class StyleEntry:
    name: str  # unique in the library; what the page shows and sends back
    path: Path
    bundled: bool
    info: dict[str, Any]

    @property
    def styles(self) -> list[str]:
        """The style names inside the model (several for a multi-style model like classics)."""
        return [style["name"] for style in self.info.get("styles", [])] or [self.info.get("style_name", self.name)]

    @property
    def max_strength(self) -> float:
        return float(self.info.get("max_strength", 0) or 0)

    def thumbnail(self) -> Image.Image | None:
        encoded = self.info.get(THUMBNAIL_KEY)
        if not encoded:
            return None
        return Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")


class StyleLibrary:
    """Bundled styles plus ``library_dir/*.safetensors``; loaded models are cached (thread-safe)."""

    def __init__(self, library_dir: Path):
        self.library_dir = Path(library_dir).resolve()
        self._lock = threading.Lock()
        self._stylizers: dict[tuple[Path, float], Any] = {}
        self.problems: list[str] = []  # model files in library_dir that could not be read

    def entries(self) -> list[StyleEntry]:
        """Every style, bundled first, then trained ones by name."""
        found = [StyleEntry(name, path, True, read_metadata(path)) for name, path in bundled_styles().items()]
        taken = {entry.name for entry in found}
        problems = []
        for path in library_styles(self.library_dir).values():
            try:
                info = read_metadata(path)
            except BrushworkError as exc:
                problems.append(str(exc))
                continue
            name = path.stem if path.stem not in taken else f"{path.stem} (trained)"
            found.append(StyleEntry(name, path, False, info))
        self.problems = problems
        return found

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries()]

    def find(self, name: str | None) -> StyleEntry:
        for entry in self.entries():
            if entry.name == name:
                return entry
        raise BrushworkError(f"no style named {name!r} here (it may have been deleted; reload the page)")

    def stylizer(self, name: str):
        """The loaded model of style `name` (a Stylizer at its defaults; vary it with with_options)."""
        from brushwork.inference.stylize import Stylizer

        entry = self.find(name)
        key = (entry.path, entry.path.stat().st_mtime)
        with self._lock:  # two requests for a new style load it once
            if key not in self._stylizers:
                self._stylizers[key] = Stylizer.from_file(entry.path)
            return self._stylizers[key]

    def trained_path(self, style_name: str) -> Path:
        """Where a newly trained style of this name is written (inside library_dir only)."""
        return self.library_dir / f"{style_name}.safetensors"

    def delete(self, name: str) -> str:
        """Delete a trained style's model file; bundled styles are refused."""
        entry = self.find(name)
        if entry.bundled:
            raise BrushworkError(f"{name} is a bundled style; only trained styles can be deleted")
        if entry.path.parent != self.library_dir:  # never reached through the listing, but cheap to be sure
            raise BrushworkError(f"{name}: not in the style library; not deleted")
        entry.path.unlink(missing_ok=True)
        with self._lock:
            self._stylizers = {key: value for key, value in self._stylizers.items() if key[0] != entry.path}
        return f"deleted {name} ({entry.path.name})"
