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

from brushwork.inference.modelfile import read_metadata
from brushwork.sheets import contact_sheet
from brushwork.styles import resolve_model

CELL = 320


def _style_thumbnail(style: str) -> Image.Image:
    meta = read_metadata(resolve_model(style))
    return Image.open(io.BytesIO(base64.b64decode(meta["style_thumbnail_jpeg_base64"]))).convert("RGB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--styles", nargs="+", required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--max-size", type=int, default=512)
    args = parser.parse_args()

    rows: list[list[Image.Image | None]] = [[None, *map(_style_thumbnail, args.styles)]]
    with tempfile.TemporaryDirectory() as tmp:
        for row, photo in enumerate(args.photos, start=1):
            cells: list[Image.Image | None] = [Image.open(photo).convert("RGB")]
            for col, style in enumerate(args.styles, start=1):
                out = Path(tmp) / f"{row}_{col}.png"
                command = ["brushwork", "stylize", style, photo, "-o", str(out), "--max-size", str(args.max_size)]
                print(" ".join(command), file=sys.stderr)
                subprocess.run(command, check=True)
                cells.append(Image.open(out).convert("RGB"))
            rows.append(cells)
    sheet = contact_sheet(rows, cell=CELL, crop=True)  # square cells keep rows and columns aligned
    sheet.save(args.output, quality=90)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
