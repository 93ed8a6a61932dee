"""Build a picture grid (photos × styles) with the brushwork CLI.

    python docs/make_gallery.py PHOTO... --styles starry_night great_wave monet -o docs/images/grid.jpg

Each cell is written by `brushwork stylize`; this script only lays them out, with the
style's thumbnail (from the model file) above each column.
"""

from __future__ import annotations

import argparse
import base64
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from brushwork.modelfile import read_metadata
from brushwork.styles import resolve_model

CELL = 320
GAP = 6


def _fit(image: Image.Image) -> Image.Image:
    """Centre-crop to a square and resize, so rows and columns line up."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((CELL, CELL), Image.Resampling.LANCZOS)


def _style_header(style: str) -> Image.Image:
    meta = read_metadata(resolve_model(style))
    thumb = Image.open(io.BytesIO(base64.b64decode(meta["style_thumbnail_jpeg_base64"]))).convert("RGB")
    return _fit(thumb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--styles", nargs="+", required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--max-size", type=int, default=512)
    args = parser.parse_args()

    columns = len(args.styles) + 1
    rows = len(args.photos) + 1
    sheet = Image.new("RGB", (columns * (CELL + GAP) - GAP, rows * (CELL + GAP) - GAP), "white")
    for col, style in enumerate(args.styles, start=1):
        sheet.paste(_style_header(style), (col * (CELL + GAP), 0))
    with tempfile.TemporaryDirectory() as tmp:
        for row, photo in enumerate(args.photos, start=1):
            y = row * (CELL + GAP)
            with Image.open(photo) as image:
                sheet.paste(_fit(image.convert("RGB")), (0, y))
            for col, style in enumerate(args.styles, start=1):
                out = Path(tmp) / f"{row}_{col}.png"
                command = ["brushwork", "stylize", style, photo, "-o", str(out), "--max-size", str(args.max_size)]
                print(" ".join(command), file=sys.stderr)
                subprocess.run(command, check=True)
                with Image.open(out) as image:
                    sheet.paste(_fit(image.convert("RGB")), (col * (CELL + GAP), y))
    sheet.save(args.output, quality=90)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
