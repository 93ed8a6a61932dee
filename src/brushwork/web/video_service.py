"""Stylizing one uploaded clip for the studio: a style of the library with its controls and,
optionally, the flow-guided stabilisation; the result is an MP4 the page plays and offers
for download. The clip goes through the same code as `brushwork stylize clip.mp4`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brushwork.errors import BrushworkError
from brushwork.inference.conditioning import parse_mix
from brushwork.web.library import StyleLibrary
from brushwork.web.settings import StudioSettings
from brushwork.web.stylize_service import _slug, result_folder
from brushwork.web.uploads import display_name


@dataclass
class VideoRequest:
    clip: str  # path of the uploaded clip
    style: str  # a library name
    strength: float = 1.0
    mix: str = ""
    preserve_color: bool = False
    stable: bool = False
    max_size: int = 640  # longer side of the output (clips cost a model pass per frame)


@dataclass
class VideoUploadResult:
    video: Path
    message: str


def stylize_video_upload(request: VideoRequest, library: StyleLibrary, settings: StudioSettings) -> VideoUploadResult:
    """Check the clip (size on disk, length), stylize it into an MP4; one-line errors."""
    from brushwork.inference.temporal import DEFAULT_BLEND
    from brushwork.inference.video import stylize_video
    from brushwork.videos import VideoReader

    limits = settings.limits
    name = display_name(request.clip)
    path = Path(request.clip)
    if not path.is_file():
        raise BrushworkError("upload a clip first")
    if path.stat().st_size > limits.max_upload_bytes:
        raise BrushworkError(f"{name}: over the studio's {limits.max_upload_mb:g} MB upload limit")
    try:
        with VideoReader(path) as reader:  # refused here, with its own message, before the model loads
            seconds = reader.info.frames / float(reader.info.rate)
    except BrushworkError as exc:  # the upload's temporary path means nothing to the user
        raise BrushworkError(str(exc).replace(str(path), name)) from None
    if seconds > limits.max_video_seconds:
        raise BrushworkError(f"{name}: {seconds:.0f} s long; the studio takes clips up to {limits.max_video_seconds:g} s")
    mix = parse_mix(request.mix) if request.mix.strip() else None
    stylizer = library.stylizer(request.style).with_options(
        strength=float(request.strength), mix=mix, preserve_color=request.preserve_color
    )
    folder = result_folder(settings)
    out = folder / f"{(Path(name).stem[:80] or 'clip')}-{_slug(stylizer.name)}.mp4"
    try:
        result = stylize_video(stylizer, path, out, max_size=int(request.max_size),
                               blend=DEFAULT_BLEND if request.stable else 0.0, progress=True)  # fmt: skip
    except BrushworkError as exc:
        raise BrushworkError(str(exc).replace(str(path), name)) from None
    rate = result.frames / max(result.seconds, 1e-9)
    message = (f"Stylized {name} ({result.info.width}×{result.info.height}, {result.frames} frames) with {stylizer.name} "
               f"in {result.seconds:.1f} s ({rate:.1f} frames/s)" + ("; sound kept." if result.info.audio else "."))  # fmt: skip
    return VideoUploadResult(out, message)
