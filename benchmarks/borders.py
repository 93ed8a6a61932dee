"""Does a model treat one border of the picture differently? The change it makes along each edge.

    python benchmarks/borders.py                                  # the bundled styles
    python benchmarks/borders.py --model matisse=runs/heldout/matisse_woman_with_a_hat_1905.safetensors
    python benchmarks/borders.py --quick                          # synthetic photos, tiny sizes (CI smoke run)

Each validation photo is stylized as it is, mirrored left to right and mirrored top to bottom,
so every edge of the set sees the same pictures; the mean absolute change (0–1 scale) in the
EDGE outermost columns or rows is then compared with that in the middle. A model that paints
a band down one side (0.6's models did: docs/method.md, "What 0.7 changed") shows it as a
left/right or top/bottom difference here. Writes the section `borders` of RESULTS.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from brushwork.images import find_images, load_image
from brushwork.inference.stylize import Stylizer
from brushwork.styles import bundled_styles
from common import DATA, command_line, machine, parser, synthetic_data, write_section

EDGE = 8  # pixels: the band measured along each border
SIDES = ("left", "right", "top", "bottom", "middle")


def border_changes(stylizer: Stylizer, photos: list[torch.Tensor]) -> dict[str, float]:
    """Side -> mean absolute change there, over the photos and their mirror images."""
    totals = dict.fromkeys(SIDES, 0.0)
    views = [view for photo in photos for view in (photo, photo.flip(-1), photo.flip(-2))]
    for view in views:
        change = (stylizer.stylize_tensor(view) - view).abs().mean(dim=(0, 1))
        h, w = change.shape
        parts = {"left": change[:, :EDGE], "right": change[:, -EDGE:], "top": change[:EDGE], "bottom": change[-EDGE:],
                 "middle": change[h // 4 : -h // 4, w // 4 : -w // 4]}  # fmt: skip
        for side, part in parts.items():
            totals[side] += float(part.mean()) / len(views)
    return totals


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--model", action="append", default=[], metavar="NAME=MODEL",
                   help="a model file or bundled style (default: the bundled styles)")
    p.add_argument("--photos", type=int, default=12, help="validation photos")
    p.add_argument("--max-size", type=int, default=384, help="longer side the photos are stylized at")
    args = p.parse_args()
    if args.quick:
        _, val, _ = synthetic_data(Path(tempfile.mkdtemp(prefix="brushwork-borders-")), photos=2, size=64)
        models = {"starry_night": "starry_night"}
        args.photos, args.max_size = 2, 64
    else:
        val = DATA / "content" / "val"
        specs = args.model or [f"{name}={name}" for name in bundled_styles()]
        models = dict(spec.partition("=")[::2] for spec in specs)
    photos = [load_image(path, max_size=args.max_size) for path in find_images(val)[: args.photos]]
    lines = ["| model | " + " | ".join(SIDES) + " | left − right | top − bottom |", "|---|" + "---|" * (len(SIDES) + 2)]
    for name, model in models.items():
        c = border_changes(Stylizer.from_file(model, device="cpu"), photos)
        lines.append(f"| {name} | " + " | ".join(f"{c[side]:.3f}" for side in SIDES)
                     + f" | {c['left'] - c['right']:+.3f} | {c['top'] - c['bottom']:+.3f} |")  # fmt: skip
    text = "\n\n".join([
        "## Borders: the change a model makes along each edge",
        f"`{command_line()}`  \n{machine()}",
        f"{len(photos)} validation photos at {args.max_size} px, each also mirrored left–right and top–bottom; mean "
        f"absolute change (0–1) in the {EDGE} outermost columns or rows, and in the middle half. An even-handed model "
        "has left ≈ right and top ≈ bottom.",
        "\n".join(lines),
    ])  # fmt: skip
    write_section(args.results, "borders", text)
    print(text)


if __name__ == "__main__":
    main()
