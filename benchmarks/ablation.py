"""Ablation: training options side by side, with the spread over seeds.

    python benchmarks/ablation.py --seeds 2 \\
        --variant brushwork \\
        --variant "wider:generator.channels=24" \\
        --variant "Johnson, 700 steps:generator.arch=johnson,iterations=700"
    python benchmarks/ablation.py --quick    # synthetic data, seconds (CI smoke run)

A variant is ``NAME`` or ``NAME:key=value,key=value``: the default TrainConfig (random
VGG-19 backbone, 1500 steps) with those options changed (TrainConfig fields, and
``generator.FIELD`` for the generator's). Each variant is trained once per seed on the
first --train-photos training photos (sorted by name) and measured with `brushwork
evaluate` at 256 px on the next --eval-photos training photos. The validation photos are
never used: this script is for choosing options, and options must not be tuned on them.
A single GAN run can land far from another with the same settings, so each metric is
reported as the mean over seeds, with the lowest and highest run when there are several.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import tomllib
from pathlib import Path

import torch

from brushwork.training.config import TrainConfig
from brushwork.images import find_images
from brushwork.evaluation.evaluate import EvaluateConfig, evaluate, style_reference
from brushwork.training.trainer import Trainer
from common import DATA, STYLES, command_line, machine, parser, synthetic_data, write_section
from training import train_config

SECTION = "ablation"
SIZE = 256
COLUMNS = {"ssim": "SSIM ↑", "edge": "edge ↑", "color_swd": "colour SWD ↓", "patch_swd": "patch SWD ↓", "gram_eval": "Gram (eval) ↓"}
DEFAULT_VARIANTS = ("brushwork", "wider:generator.channels=24")


def parse_variant(text: str) -> tuple[str, dict, dict]:
    """``NAME[:key=value,...]`` -> (name, TrainConfig overrides, GeneratorConfig overrides)."""
    name, _, options = text.partition(":")
    train, generator = {}, {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, equals, value = item.partition("=")
        if not equals:
            raise SystemExit(f"--variant {text!r}: {item!r} is not key=value")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]  # numbers, true/false, quoted strings
        except tomllib.TOMLDecodeError:
            parsed = value  # a bare word: a string (e.g. generator.arch=johnson)
        target, key = (generator, key[len("generator.") :]) if key.startswith("generator.") else (train, key)
        target[key] = parsed
    return name.strip(), train, generator


def variant_config(base: TrainConfig, train: dict, generator: dict, seed: int) -> TrainConfig:
    """`base` with the variant's options and `seed`. The generator is rebuilt from its
    overrides alone, so derived defaults (e.g. each architecture's width) follow them."""
    values = {key: value for key, value in base.to_dict().items() if key != "generator"}
    return TrainConfig.from_dict({**values, **train, "seed": seed, "generator": generator}, source="--variant")


def link_photos(photos: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        (folder / photo.name).symlink_to(photo.resolve())
    return folder


def summary(values: list[float]) -> str:
    mean = f"{statistics.fmean(values):.4g}"
    return mean if len(values) == 1 else f"{mean} ({min(values):.3g}–{max(values):.3g})"


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--variant", action="append", help="NAME or NAME:key=value,... (repeat; default: brushwork and a wider brushwork)")
    p.add_argument("--painting", type=Path, default=STYLES / "vangogh_the_starry_night_1889.jpg")
    p.add_argument("--content", type=Path, default=DATA / "content" / "train")
    p.add_argument("--train-photos", type=int, default=450)
    p.add_argument("--eval-photos", type=int, default=24)
    p.add_argument("--seeds", type=int, default=1, help="runs per variant, seeds 0, 1, ...")
    p.add_argument("--section", default=SECTION, help="RESULTS.md section to write, so several ablation tables can coexist")
    args = p.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = Path(tmp.name)
    variants = [parse_variant(text) for text in args.variant or DEFAULT_VARIANTS]
    if args.quick:
        train_dir, eval_dir, painting = synthetic_data(root / "data")
        iterations = 4
    else:
        photos = sorted(find_images(args.content), key=lambda path: path.name)
        if len(photos) < args.train_photos + args.eval_photos:
            raise SystemExit(f"{args.content}: {len(photos)} photos, fewer than --train-photos + --eval-photos")
        train_dir = link_photos(photos[: args.train_photos], root / "train")
        eval_dir = link_photos(photos[args.train_photos : args.train_photos + args.eval_photos], root / "eval")
        painting, iterations = args.painting, 1500

    settings = dict(max_size=SIZE, metric_size=SIZE, style_size=64 if args.quick else 512, device="cpu")
    reference = style_reference(EvaluateConfig(content=str(eval_dir), style=str(painting), model="-", **settings), torch.device("cpu"))
    rows = []
    for name, train, generator in variants:
        runs = []
        for seed in range(args.seeds):
            run_dir = root / "runs" / f"{len(rows)}-{seed}"
            base = train_config("brushwork", train_dir, painting, run_dir, args.quick, iterations)
            config = variant_config(base, train, generator, seed)
            print(f"{name}, seed {seed}: training {config.iterations} steps", file=sys.stderr)
            trained = Trainer(config).run(progress=False)
            result = evaluate(
                EvaluateConfig(content=str(eval_dir), style=str(painting), model=str(trained.model_path),
                               report=str(run_dir / "evaluation"), **settings),
                progress=False, reference=reference,
            )  # fmt: skip
            runs.append({"seconds": trained.seconds, **{k: statistics.fmean(r[k] for r in result.images) for k in COLUMNS}})
        changes = ", ".join(f"`{k}={v}`" for k, v in {**train, **{f"generator.{k}": v for k, v in generator.items()}}.items())
        cells = [name, changes or "defaults", f"{statistics.fmean(r['seconds'] for r in runs):.0f}"]
        rows.append("| " + " | ".join(cells + [summary([r[k] for r in runs]) for k in COLUMNS]) + " |")

    text = f"""
## Ablation{'' if args.section == SECTION else f' ({args.section})'}: training options, mean over {args.seeds} seed(s)

`{command_line()}` — {machine()}.
Painting `{painting.name}`; each variant trained on {'synthetic photos' if args.quick else f'the first {args.train_photos} training photos'}
and measured at {SIZE} px on {'synthetic photos' if args.quick else f'the next {args.eval_photos} training photos'} (`brushwork evaluate`; validation photos
unused). With several seeds, each cell is the mean (lowest–highest run).

| variant | changes | train s | {' | '.join(COLUMNS.values())} |
|---|---|---|{'---|' * len(COLUMNS)}
""" + "\n".join(rows)
    write_section(args.results, args.section, text)
    print(text.strip())
    tmp.cleanup()


if __name__ == "__main__":
    main()
