"""Frames of a stylized clip, for the README: a pan/zoom over examples/photo.jpg through
`brushwork stylize STYLE clip.mp4 -o out.mp4 --stable`.

    python docs/make_video_strip.py -o docs/images/video_strip.jpg --gif docs/images/video.gif

Writes a strip (top: the clip's frames; bottom: the same frames stylized) and, with --gif, the
stylized clip as an animated GIF. The clip is benchmarks/video.py's (needs brushwork[video]).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from video import pan_clip  # noqa: E402

from brushwork.videos import VideoReader  # noqa: E402

GAP = 4


def frames(path: Path) -> list[Image.Image]:
    with VideoReader(path) as reader:
        return [Image.fromarray(pixels) for pixels in reader.frames()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="the strip (.jpg/.png)")
    parser.add_argument("--gif", help="also write the stylized clip as an animated GIF")
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--size", default="480x270", help="WxH of the clip (default: 480x270)")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        clip = pan_clip(Path(tmp) / "pan.mp4", width, height, args.seconds)
        out = Path(tmp) / "stylized.mp4"
        command = ["stylize", args.style, str(clip), "-o", str(out), "--stable", "--quiet"]
        print("brushwork " + " ".join(command), file=sys.stderr)
        subprocess.run([sys.executable, "-m", "brushwork", *command], check=True)  # this interpreter's brushwork
        photos, stylized = frames(clip), frames(out)
    picks = [round(i * (len(photos) - 1) / (args.columns - 1)) for i in range(args.columns)]
    strip = Image.new("RGB", (args.columns * (width + GAP) - GAP, 2 * height + GAP), "white")
    for column, index in enumerate(picks):
        strip.paste(photos[index], (column * (width + GAP), 0))
        strip.paste(stylized[index], (column * (width + GAP), height + GAP))
    strip.save(args.output, quality=88)
    print(f"wrote {args.output} (frames {', '.join(map(str, picks))} of {len(photos)})")
    if args.gif:
        small = [frame.resize((width * 2 // 3, height * 2 // 3), Image.Resampling.LANCZOS) for frame in stylized[::2]]
        small[0].save(args.gif, save_all=True, append_images=small[1:], duration=1000 * 2 // 24, loop=0, optimize=True)
        print(f"wrote {args.gif} ({len(small)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
