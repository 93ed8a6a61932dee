"""What a studio server may touch and how much it accepts: its folders and its limits."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from brushwork import library
from brushwork.errors import BrushworkError


@dataclass
class Limits:
    """Refusal thresholds for uploads and requests (each refusal is a one-line message)."""

    max_upload_mb: float = 50.0  # bytes of one uploaded file
    max_megapixels: float = 40.0  # width × height of one uploaded image, read from its header before decoding
    max_training_files: int = 500  # paintings + photos of one training job
    queue_size: int = 64  # requests waiting at once; more are refused, not held
    stylize_workers: int = 2  # stylize requests running at once (the CPU is the limit)
    preview_size: int = 1024  # longer side of the images shown in the page (downloads are full size)
    max_video_seconds: float = 60.0  # length of one uploaded clip (every frame is a model pass)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)


@dataclass
class StudioSettings:
    """The folders of one studio server. It reads and writes nothing outside them (besides
    the bundled styles, read-only, and Gradio's own upload cache)."""

    # The style library (brushwork/library.py): trained styles (*.safetensors); jobs under .studio/.
    library_dir: Path = field(default_factory=library.library_dir)
    photos_dir: Path | None = None  # a server folder of training photos (read-only)
    host: str = "127.0.0.1"
    port: int = 7860
    limits: Limits = field(default_factory=Limits)
    # Where stylized downloads are written; a fresh private temp folder by default.
    outputs_dir: Path | None = None

    def __post_init__(self) -> None:
        self.library_dir = Path(self.library_dir).expanduser().resolve()
        if self.photos_dir is not None:
            self.photos_dir = Path(self.photos_dir).expanduser().resolve()
            if not self.photos_dir.is_dir():
                raise BrushworkError(f"--photos {self.photos_dir}: no such folder")
        if self.library_dir.exists() and not self.library_dir.is_dir():
            raise BrushworkError(f"--library {self.library_dir}: not a folder")
        self.library_dir.mkdir(parents=True, exist_ok=True)
        self.outputs_are_temporary = self.outputs_dir is None  # then `brushwork serve` removes it when it stops
        self.outputs_dir = Path(self.outputs_dir or tempfile.mkdtemp(prefix="brushwork-studio-")).resolve()
        self.outputs_dir.mkdir(parents=True, exist_ok=True)

    @property
    def jobs_dir(self) -> Path:
        return self.library_dir / ".studio" / "jobs"
