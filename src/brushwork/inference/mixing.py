"""``brushwork mix``: a photo painted along the way from one style of a model to another,
as a strip of frames side by side (PNG, JPEG, WEBP) or an animation that goes there and
back (GIF)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from brushwork.images import open_image, save_image
from brushwork.errors import BrushworkError
from brushwork.files import atomic_write
from brushwork.inference.stylize import Stylizer

STRIP_GAP = 4  # white pixels between the frames of a strip
FRAME_MS = 120  # GIF frame time


def mix_frames(stylizer: Stylizer, first: str, second: str, photo: Image.Image, frames: int = 6) -> list[Image.Image]:
    """`frames` stylizations of `photo`, from all `first` to all `second` in even steps."""
    if frames < 2:
        raise BrushworkError(f"--frames must be at least 2 (got {frames})")
    if first == second:
        raise BrushworkError(f"mix needs two different styles (got {first!r} twice)")
    out = []
    for index in range(frames):
        t = index / (frames - 1)
        out.append(stylizer.with_options(mix={first: 1 - t, second: t})(photo))
    return out


def save_mix(frames: list[Image.Image], path: str | Path) -> Path:
    """A GIF plays the frames there and back; any other image format gets them in a row."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        loop = frames + frames[-2:0:-1]  # there and back, without repeating the ends
        palette = [frame.convert("RGB").quantize(256, dither=Image.Dither.FLOYDSTEINBERG) for frame in loop]

        def write(tmp: str) -> None:
            palette[0].save(tmp, format="GIF", save_all=True, append_images=palette[1:], duration=FRAME_MS, loop=0)

        try:
            atomic_write(path, write)
        except OSError as exc:
            raise BrushworkError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return path
    width, height = frames[0].size
    strip = Image.new("RGB", (len(frames) * width + (len(frames) - 1) * STRIP_GAP, height), "white")
    for index, frame in enumerate(frames):
        strip.paste(frame.convert("RGB"), (index * (width + STRIP_GAP), 0))
    save_image(strip, path)
    return path


def mix_file(
    stylizer: Stylizer, first: str, second: str, photo: str | Path, output: str | Path, frames: int = 6,
    max_size: int | None = 512,
) -> Path:  # fmt: skip
    """Read `photo`, render the mix from `first` to `second`, write `output` (strip or GIF)."""
    return save_mix(mix_frames(stylizer, first, second, open_image(photo, max_size=max_size), frames), output)
