"""Tiny generated clips for the video tests: moving shapes over a gradient, with a sine tone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def shapes_frame(index: int, width: int = 64, height: int = 48, scene: int = 0) -> np.ndarray:
    """Frame `index` of a scene: a gradient background, a square sliding right and a disc going down."""
    y, x = np.mgrid[0:height, 0:width]
    if scene == 0:
        image = np.stack([x / width, y / height, 0.5 + 0.3 * np.sin(x / 5.0)], axis=-1)
    else:  # another shot: other colours, another texture
        image = np.stack([0.8 - 0.5 * y / height, 0.3 + 0.2 * np.cos(y / 4.0), 0.2 + 0.6 * x / width], axis=-1)
    left = 4 + 2 * index
    image[10:22, left : left + 12] = (0.9, 0.2, 0.1)
    cy, cx = 8 + index, width * 2 // 3
    image[(y - cy) ** 2 + (x - cx) ** 2 < 36] = (0.1, 0.3, 0.9)
    return (image * 255).astype(np.uint8)


def make_clip(path: Path, frames: int = 12, rate: int = 12, size=(64, 48), audio: bool = True,
              rotation: int = 0, codec: str | None = None, cut_at: int | None = None) -> Path:  # fmt: skip
    """Write a clip with PyAV: `frames` frames at `rate` fps, a 440 Hz tone (AAC, or Opus in
    WebM) unless ``audio`` is False, a display rotation; a cut to another scene at ``cut_at``."""
    import av

    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec or ("libvpx-vp9" if path.suffix == ".webm" else "libx264"), rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("libopus" if path.suffix == ".webm" else "aac", rate=48000)
            sound.layout = "mono"
        for i in range(frames):
            scene = int(cut_at is not None and i >= cut_at)
            frame = av.VideoFrame.from_ndarray(shapes_frame(i, width, height, scene), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, rate)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = 48000 * frames // rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
            for start in range(0, samples, 960):
                chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 960], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path
