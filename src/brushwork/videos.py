"""Video files in and out with PyAV (the ``video`` extra): finding clips, decoding frames
upright, encoding stylized frames with the source's timing, rotation and sound.

Frames travel as H×W×3 uint8 numpy arrays, one at a time: nothing holds the whole clip.
Every problem a user's file can cause becomes a one-line
:class:`~brushwork.errors.BrushworkError` naming the file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from brushwork.errors import BrushworkError, describe
from brushwork.images import longer_side_size

VIDEO_EXTRA = "pip install 'brushwork[video]'"
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts", ".mts", ".ogv",
})  # fmt: skip
# What brushwork writes, and with which encoder. Other containers (AVI, MPEG-TS ...) cannot
# carry the source's timestamps as they are, so they are read but not written.
VIDEO_OUTPUTS = {".mp4": "libx264", ".m4v": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
# Containers with a display matrix: frames are stored as the source stored them, with its
# rotation; elsewhere (WebM) they are written upright.
_KEEPS_ROTATION = frozenset({".mp4", ".m4v", ".mov", ".mkv"})
_ENCODER_OPTIONS = {"libx264": {"crf": "18", "preset": "fast"}, "libvpx-vp9": {"crf": "30", "b": "0", "deadline": "good"}}


def import_av():
    """PyAV, or a one-line error saying how to install it."""
    try:
        import av
    except ImportError:
        raise BrushworkError(f"video needs PyAV: {VIDEO_EXTRA}") from None
    return av


def is_video(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def find_videos(root: str | os.PathLike[str]) -> list[Path]:
    """Video files at ``root`` (the file itself, or every clip below a folder, hidden ones
    skipped), sorted; may be empty."""
    root = Path(root)
    if root.is_file():
        return [root] if is_video(root) else []
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(Path(folder, name) for name in filenames if not name.startswith(".") and is_video(name))
    return sorted(found)


def check_output_suffix(path: str | os.PathLike[str]) -> None:
    """Refuse an output name brushwork cannot write a clip to, before any frame is run."""
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_OUTPUTS:
        raise BrushworkError(f"{path}: cannot write '{suffix or 'no extension'}' videos (use {', '.join(VIDEO_OUTPUTS)})")


@contextlib.contextmanager
def video_errors(path: str | os.PathLike[str], doing: str = "read") -> Iterator[None]:
    """Turn what the OS or FFmpeg raises for a bad clip into a one-line error naming it."""
    av = import_av()
    try:
        yield
    except BrushworkError:
        raise
    except FileNotFoundError:
        raise BrushworkError(f"{path}: no such file or directory") from None
    except PermissionError:
        raise BrushworkError(f"{path}: permission denied") from None
    except av.error.FFmpegError as exc:
        reason = exc.strerror or describe(exc)
        if doing == "read":
            raise BrushworkError(f"{path}: not a readable video, or truncated or corrupt ({reason})") from None
        raise BrushworkError(f"{path}: cannot write video ({reason})") from None
    except OSError as exc:
        raise BrushworkError(f"{path}: cannot {doing} ({describe(exc)})") from None


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is made of. ``width``/``height`` are those of the frames read: upright
    and after ``max_size``. ``frames`` is the container's count or an estimate (0: unknown)."""

    width: int
    height: int
    rate: Fraction
    frames: int
    rotation: int  # degrees counter-clockwise a player turns the stored picture (0, 90, 180, 270)
    codec: str
    audio: str | None  # the audio codec, or None without sound


@dataclass
class Frame:
    """A decoded frame, upright: ``pixels`` H×W×3 uint8, ``pts`` in ``time_base`` units."""

    pixels: np.ndarray
    pts: int | None
    time_base: Fraction | None


def _even(n: int) -> int:
    return max(2, n - n % 2)  # 4:2:0 video needs even sides


class VideoReader:
    """Open a clip: ``info``, then iterate for :class:`Frame` s and the audio packets between
    them (``av.Packet``, in file order, to copy to the output). Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], max_size: int | None = None):
        self.path = Path(path)
        self.av = av = import_av()
        if self.path.is_dir():
            raise BrushworkError(f"{self.path}: is a directory, not a video file")
        with video_errors(self.path):
            if self.path.exists() and self.path.stat().st_size == 0:
                raise BrushworkError(f"{self.path}: file is empty")
            self.container = av.open(str(self.path), "r")
        try:
            self._inspect(max_size)
        except BaseException:
            self.container.close()
            raise

    def _inspect(self, max_size: int | None) -> None:
        av = self.av
        if not self.container.streams.video:
            raise BrushworkError(f"{self.path}: no video stream (audio or data only)")
        self.video = self.container.streams.video[0]
        context = self.video.codec_context
        if context is None:  # FFmpeg does not know the codec at all
            raise BrushworkError(f"{self.path}: unsupported video codec (none of FFmpeg's decoders reads it)")
        if not context.is_decoder:
            raise BrushworkError(f"{self.path}: unsupported video codec ({context.name}: this FFmpeg cannot decode it)")
        self.video.thread_type = "AUTO"  # frame threads: decoding keeps up with two cores
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        self._raw = self._demux()
        self._ahead: list[Any] = []  # what was read to find the first frame, yielded first
        with video_errors(self.path):
            for item in self._raw:
                self._ahead.append(item)
                if isinstance(item, av.VideoFrame):
                    break
            else:
                raise BrushworkError(f"{self.path}: the video stream has no frames")
        first = self._ahead[-1]
        # The display matrix, which FFmpeg attaches to every frame from the stream's side data.
        rotation = round(first.rotation / 90) * 90 % 360 if first.rotation else 0
        stored = (first.height, first.width)
        upright = stored[::-1] if rotation in (90, 270) else stored
        size = longer_side_size(*upright, max_size) if max_size and max(upright) > max_size else upright
        self.size = (_even(size[0]), _even(size[1])) if size != upright else size
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(25)
        frames = self.video.frames
        if not frames and self.container.duration:
            frames = round(self.container.duration / 1_000_000 * rate)
        self.info = VideoInfo(self.size[1], self.size[0], Fraction(rate), int(frames or 0), rotation,
                              self.video.codec_context.name, self.audio.codec_context.name if self.audio else None)  # fmt: skip
        self._turns = rotation // 90

    def _demux(self) -> Iterator[Any]:
        """The clip in file order: decoded video frames (``av.VideoFrame``) and audio packets."""
        streams = [self.video] + ([self.audio] if self.audio is not None else [])
        for packet in self.container.demux(*streams):
            if packet.stream is not self.video:
                if packet.dts is not None:  # not the demuxer's final empty packet
                    yield packet
                continue
            try:
                yield from packet.decode()  # the final empty packet flushes the decoder
            except self.av.error.EOFError:  # flushing a decoder that never got a frame's data
                if packet.size:
                    raise

    def __iter__(self) -> Iterator[Any]:
        av = import_av()
        height, width = self.size if self._turns % 2 == 0 else self.size[::-1]  # scaled before turning
        with video_errors(self.path):
            while self._ahead or self._raw is not None:
                item = self._ahead.pop(0) if self._ahead else next(self._raw, None)
                if item is None:
                    self._raw = None
                elif isinstance(item, av.VideoFrame):
                    pixels = item.to_ndarray(format="rgb24", width=width, height=height)
                    yield Frame(np.ascontiguousarray(np.rot90(pixels, self._turns)), item.pts, item.time_base)
                else:
                    yield item

    def frames(self) -> Iterator[np.ndarray]:
        """Only the pictures, H×W×3 uint8, upright."""
        for item in self:
            if isinstance(item, Frame):
                yield item.pixels

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoWriter:
    """Encode frames to ``path`` (its suffix picks the container, see :data:`VIDEO_OUTPUTS`),
    with the timing, rotation and audio of ``source``. Audio packets are copied where the
    container takes their codec and re-encoded (to its default codec) where it does not."""

    def __init__(self, path: str | os.PathLike[str], source: VideoReader, name: str | os.PathLike[str] | None = None):
        av = import_av()
        self.path = Path(path)
        self.name = Path(name or path)  # what errors call the file (the temporary one is hidden)
        check_output_suffix(self.name)
        suffix = self.path.suffix.lower()
        with video_errors(self.name, "write"):
            self.container = av.open(str(self.path), "w")
            self.turns = source._turns if suffix in _KEEPS_ROTATION else 0
            height, width = source.size if self.turns % 2 == 0 else source.size[::-1]
            encoder = VIDEO_OUTPUTS[suffix]
            self.video = self.container.add_stream(encoder, rate=source.info.rate, options=_ENCODER_OPTIONS[encoder])
            self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
            self.video.time_base = source.video.time_base  # the source's timestamps, as they are
            if self.turns:
                self.video.set_display_rotation(self.turns * 90)
            self.audio_in, self.audio, self.copy_audio = source.audio, None, False
            if source.audio is not None:
                self.copy_audio = source.audio.codec_context.name in self.container.supported_codecs
                if self.copy_audio:
                    self.audio = self.container.add_stream_from_template(source.audio)
                else:
                    self.audio = self.container.add_stream(self.container.default_audio_codec, rate=source.audio.rate)
                    self.audio.layout = source.audio.layout
        self.count = 0

    def write(self, pixels: np.ndarray, pts: int | None = None, time_base: Fraction | None = None) -> None:
        """One upright H×W×3 uint8 frame; ``pts`` in ``time_base`` units (default: the next frame)."""
        av = import_av()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(pixels, -self.turns)), format="rgb24")
        if pts is None or time_base is None:
            frame.pts, frame.time_base = self.count, 1 / Fraction(self.video.codec_context.framerate or 25)
        else:
            frame.pts, frame.time_base = pts, time_base
        with video_errors(self.name, "write"):
            self.container.mux(self.video.encode(frame))
        self.count += 1

    def write_audio(self, packet) -> None:
        """One audio packet of the source, copied or re-encoded."""
        with video_errors(self.name, "write"):
            if self.copy_audio:
                packet.stream = self.audio
                self.container.mux(packet)
                return
            for frame in packet.decode():
                frame.pts = None  # the encoder counts samples itself
                self.container.mux(self.audio.encode(frame))

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        with video_errors(self.name, "write"):
            self.container.mux(self.video.encode(None))
            if self.audio is not None and not self.copy_audio:
                self.container.mux(self.audio.encode(None))
            self.container.close()

    def abandon(self) -> None:
        """Close without flushing (the file is thrown away)."""
        with contextlib.suppress(Exception):
            self.container.close()
