"""Stylize video files: one clip (``Stylizer.video``) or a folder of them, frames streaming
from the decoder through the model to the encoder, the sound carried across.

The output is written to a hidden temporary file beside it and renamed when complete
(files.py), so Ctrl-C, a full disk or a broken clip never leaves a half-written video.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from brushwork.errors import BrushworkError, naming
from brushwork.files import atomic_write
from brushwork.inference.stylize import BatchReport, ImageStylizer, distinct_outputs
from brushwork.inference.temporal import VideoStylizer
from brushwork.videos import (
    VIDEO_OUTPUTS, Frame, VideoInfo, VideoReader, VideoWriter, check_output_suffix, find_videos, is_video,
)  # fmt: skip

# Folder runs keep each clip's container where brushwork can write it, else make an MP4.
FALLBACK_SUFFIX = ".mp4"


@dataclass
class VideoResult:
    path: Path
    frames: int
    seconds: float
    info: VideoInfo
    cuts: int  # scene cuts found (new shots after the first)


def stylize_video(
    stylizer: ImageStylizer,
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    max_size: int | None = None,
    blend: float = 0.0,
    progress: bool = True,
    shots: bool = False,
) -> VideoResult:
    """Stylize the clip at `source` into `destination` (container from its suffix); frame
    rate, timestamps, rotation and audio are kept. See temporal.py for ``blend`` and
    ``shots`` (shared shot statistics; measured not to help, so off by default)."""
    source, destination = Path(source), Path(destination)
    check_output_suffix(destination)
    if os.path.realpath(destination) == os.path.realpath(source):
        raise BrushworkError(f"{source}: output would overwrite the input")
    start = time.perf_counter()
    video = VideoStylizer(stylizer, blend=blend, shots=shots)  # checks blend before any file is opened
    with VideoReader(source, max_size) as reader:
        frames = 0

        def write(temporary: str) -> None:
            nonlocal frames
            writer = VideoWriter(temporary, reader, name=destination)
            bar = tqdm(total=reader.info.frames or None, desc=f"{source.name}: {stylizer.name}", unit="frame",
                       disable=not progress, leave=False)  # fmt: skip
            try:
                for item in reader:
                    if isinstance(item, Frame):
                        writer.write(video(item.pixels), item.pts, item.time_base)
                        frames += 1
                        bar.update()
                    else:
                        writer.write_audio(item)
                writer.close()
            except BaseException:
                writer.abandon()
                raise
            finally:
                bar.close()

        try:
            atomic_write(destination, write)
        except OSError as exc:
            raise BrushworkError(f"{destination}: cannot write video ({exc.strerror or exc}); any earlier file there is unchanged") from None
    return VideoResult(destination, frames, time.perf_counter() - start, reader.info, video.cuts)


def plan_clips(inputs: list[str | Path], output: str | Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Pair each input clip with its output path, as plan_outputs does for images: one clip
    and an output with a suffix writes that file; otherwise `output` is a folder (one input
    folder mirrored into it, several each in a subfolder). Returns (pairs, problems)."""
    output = Path(output)
    clips = [Path(item) for item in inputs if is_video(item) and not Path(item).is_dir()]
    if len(inputs) == 1 and clips and output.suffix and not output.is_dir():
        check_output_suffix(output)
        return [(clips[0], output)], []
    if output.suffix.lower() in VIDEO_OUTPUTS and not output.is_dir():
        raise BrushworkError(f"{output}: an output video needs exactly one input clip; give a folder instead")
    pairs: list[tuple[Path, Path]] = []
    problems: list[str] = []
    for item in map(Path, inputs):
        if not item.exists():
            if is_video(item):
                problems.append(f"{item}: no such file or directory")
            continue
        base = output if (item.is_file() or len(inputs) == 1) else output / item.name
        for source in find_videos(item):
            relative = source.relative_to(item) if item.is_dir() else Path(source.name)
            suffix = source.suffix if source.suffix.lower() in VIDEO_OUTPUTS else FALLBACK_SUFFIX
            pairs.append((source, (base / relative).with_suffix(suffix)))
    return distinct_outputs(pairs, problems)  # a.mov and a.mp4 side by side, or a.avi beside a.mp4


def stylize_clips(
    stylizer: ImageStylizer,
    pairs: list[tuple[Path, Path]],
    max_size: int | None = None,
    blend: float = 0.0,
    progress: bool = True,
) -> tuple[BatchReport, list[VideoResult]]:
    """Stylize planned clips; one bad clip is reported and the rest still run."""
    report, results = BatchReport(), []
    bar = tqdm(pairs, desc=f"video {stylizer.name}", unit="clip", disable=not progress or len(pairs) < 2)
    for source, destination in bar:
        try:
            results.append(stylize_video(stylizer, source, destination, max_size, blend, progress))
            report.written.append(results[-1].path)
        except BrushworkError as exc:
            report.failed.append(naming(exc, source, destination))
    return report, results
