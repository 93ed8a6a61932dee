"""Quality: brushwork vs per-image optimisation (Gatys et al.) vs the Johnson et al. baseline.

    python benchmarks/quality.py            # 3 paintings, validation photos, 6-minute budget per model
    python benchmarks/quality.py --quick    # synthetic data, seconds (CI smoke run)
    python benchmarks/quality.py --section quality-gain --sheet /tmp/gain_sheet.jpg \
        --variant "gain 0.2:generator.photo_gain=0.2"   # another generator setting

For each painting, brushwork's generator and the Johnson-architecture baseline are trained
with the same losses and settings (the default TrainConfig, random VGG-19 backbone) for the
same wall-clock budget: each architecture's seconds per step are measured first (before
and with the GAN term) and its step count set to fill the budget. Both models then stylize
every validation photo at 256 px (`brushwork evaluate`); the per-image optimisation
reference (`brushwork stylize --optimize`, same losses) is run on the first
--optimize-photos of them, at 256 px too. Validation photos are never trained on.
Writes a table per painting (all photos; and the optimisation subset, where all three are
compared on the same photos) and a contact sheet. --variant gives brushwork's model
generator options other than the defaults (ablation.py's syntax; training options stay
shared, so both models keep the same losses).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
import torch

from brushwork.models import GeneratorConfig
from brushwork.images import find_images, load_image, save_image, tensor_to_pil
from brushwork.evaluation.evaluate import EvaluateConfig, evaluate, style_reference
from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer
from brushwork.sheets import contact_sheet
from brushwork.training.trainer import Trainer
from common import DATA, REPO, STYLES, command_line, machine, parser, synthetic_data, write_section
from ablation import parse_variant
from training import timed_step, train_config

SECTION = "quality"
PAINTINGS = (
    "vangogh_the_starry_night_1889.jpg",
    "hokusai_the_great_wave_off_kanagawa.jpg",
    "munch_the_scream_1893.jpg",
)
ARCHS = ("brushwork", "johnson")
COLUMNS = ("ssim", "edge", "color_swd", "patch_swd", "gram_eval")
SIZE = 256


def model_config(arch: str, content: Path, style: Path, run_dir: Path, quick: bool, iterations: int, generator: dict):
    """The default TrainConfig for `arch`; brushwork's generator takes the --variant options."""
    config = train_config(arch, content, style, run_dir, quick, iterations)
    if arch == "brushwork" and generator:
        config.generator = GeneratorConfig(**generator)
    return config


def seconds_per_run_step(arch: str, content: Path, style: Path, work: Path, quick: bool, generator: dict) -> float:
    """Seconds per step over a default schedule (adversarial_start of it without the GAN term)."""
    trainer = Trainer(model_config(arch, content, style, work / "calibrate", quick, 1500, generator))
    timed_step(trainer, gan=False), timed_step(trainer, gan=True)  # warm-up
    plain = statistics.median(timed_step(trainer, gan=False) for _ in range(3))
    gan = statistics.median(timed_step(trainer, gan=True) for _ in range(3))
    share = trainer.config.adversarial_start
    return share * plain + (1 - share) * gan


def train_for_budget(arch: str, content: Path, style: Path, work: Path, budget: float, quick: bool, generator: dict) -> dict:
    per_step = seconds_per_run_step(arch, content, style, work, quick, generator)
    steps = max(4, int(budget / per_step))
    config = model_config(arch, content, style, work, quick, steps, generator)
    config.name = f"{style.stem}-{arch}"
    print(f"{style.stem}: training {arch} for {steps} steps ({per_step:.2f} s/step)", file=sys.stderr)
    result = Trainer(config).run(progress=False)
    return {"model": result.model_path, "steps": steps, "seconds": result.seconds}


def optimize_outputs(style: Path, photos: list[Path], out: Path, steps: int) -> tuple[float, bool]:
    """Write the optimisation reference for `photos` to `out` (same names).
    Returns (seconds per image, whether a previous run's outputs were reused).

    The reference does not depend on the generator, so a previous run's outputs (same
    photos, steps and loss weights, recorded in `out/reference.json`) are reused: delete
    `out` to redo.
    """
    record = out / "reference.json"
    weights = ("content_weight", "style_weight")
    loss = {name: getattr(OptimizeConfig, name) for name in weights}
    wanted = {"photos": [p.name for p in photos], "steps": steps, "size": SIZE, "loss": loss}
    if record.is_file():
        saved = json.loads(record.read_text())
        if {k: saved.get(k) for k in wanted} == wanted and all((out / f"{p.stem}.png").is_file() for p in photos):
            print(f"{style.stem}: reusing the optimisation reference in {out}", file=sys.stderr)
            return saved["seconds_per_image"], True
    optimizer = StyleOptimizer(OptimizeConfig(style=str(style), steps=steps, size=SIZE, backbone="random"))
    start = time.perf_counter()
    for photo in photos:
        optimizer.stylize_file(photo, out / f"{photo.stem}.png")
    seconds = (time.perf_counter() - start) / max(1, len(photos))
    record.write_text(json.dumps({**wanted, "seconds_per_image": seconds}))
    return seconds, False


def _means(rows: list[dict], photos: set[str] | None = None) -> dict[str, float]:
    chosen = [r for r in rows if photos is None or r["photo_file"] in photos]
    return {k: statistics.fmean(r[k] for r in chosen) for k in COLUMNS}


def _row(label: str, values: dict[str, float]) -> str:
    return f"| {label} | " + " | ".join(f"{values[k]:.4g}" for k in COLUMNS) + " |"


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content", type=Path, default=DATA / "content" / "train")
    p.add_argument("--val", type=Path, default=DATA / "content" / "val")
    p.add_argument("--paintings", type=Path, nargs="+", default=[STYLES / name for name in PAINTINGS])
    p.add_argument("--budget-minutes", type=float, default=6.0, help="training wall-clock budget per model")
    p.add_argument("--optimize-photos", type=int, default=6)
    p.add_argument("--optimize-steps", type=int, default=200)
    p.add_argument("--work", type=Path, default=REPO / "runs" / "bench_quality", help="models and reports")
    p.add_argument("--sheet", type=Path, default=REPO / "benchmarks" / "quality_sheet.jpg")
    p.add_argument("--variant", default="brushwork", help="brushwork's model: NAME[:generator.FIELD=VALUE,...]")
    p.add_argument("--section", default=SECTION, help="RESULTS.md section to write (another for a --variant)")
    args = p.parse_args()
    label, train_options, generator = parse_variant(args.variant)
    if train_options:
        p.error(f"--variant {args.variant!r}: only generator.FIELD options (both models share the training settings)")
    tmp = tempfile.TemporaryDirectory()
    content, val, paintings, budget = args.content, args.val, args.paintings, args.budget_minutes * 60
    if args.quick:
        content, val, style = synthetic_data(Path(tmp.name) / "data")
        paintings, budget, args.optimize_photos, args.optimize_steps = [style], 2.0, 2, 3
        args.work = Path(tmp.name) / "work"
    quick_eval = dict(max_size=SIZE, metric_size=SIZE, style_size=64 if args.quick else 512, device="cpu")

    sections, sheet_rows = [], []
    for painting in paintings:
        work = args.work / painting.stem
        trained = {arch: train_for_budget(arch, content, painting, work / arch, budget, args.quick, generator) for arch in ARCHS}
        subset = find_images(val)[: args.optimize_photos]
        optimize_dir = work / "optimize"
        opt_seconds, reused = optimize_outputs(painting, subset, optimize_dir, args.optimize_steps)
        base = EvaluateConfig(content=str(val), style=str(painting), model="-", **quick_eval)
        reference = style_reference(base, torch.device("cpu"))
        results = {}
        for arch in ARCHS:
            config = EvaluateConfig(content=str(val), style=str(painting), model=str(trained[arch]["model"]),
                                    report=str(work / f"eval_{arch}"), **quick_eval)  # fmt: skip
            results[arch] = evaluate(config, progress=False, reference=reference)
        config = EvaluateConfig(content=str(val), style=str(painting), outputs=str(optimize_dir),
                                limit=len(subset), report=str(work / "eval_optimize"), **quick_eval)  # fmt: skip
        results["optimize"] = evaluate(config, progress=False, reference=reference)

        names = {str(path) for path in subset}
        # The unstyled photo keeps all of its content (SSIM and edge score 1 by definition).
        photo_means = {"ssim": 1.0, "edge": 1.0}
        photo_means.update({k: statistics.fmean(r["photo"][k] for r in results["brushwork"].images) for k in COLUMNS[2:]})
        lines = [
            f"### {painting.stem}",
            "",
            f"Training budget {budget / 60:.1f} min per model: {label} {trained['brushwork']['steps']} steps "
            f"({trained['brushwork']['seconds']:.0f} s measured), Johnson baseline {trained['johnson']['steps']} steps "
            f"({trained['johnson']['seconds']:.0f} s). Optimisation: {args.optimize_steps} L-BFGS steps, "
            f"{opt_seconds:.0f} s per image" + (" (outputs reused from an earlier run of this script)." if reused else "."),
            "",
            "| method | SSIM ↑ | edge ↑ | colour SWD ↓ | patch SWD ↓ | Gram (eval VGG) ↓ |",
            "|---|---|---|---|---|---|",
            _row(f"{label}, all {len(results['brushwork'].images)} photos", _means(results["brushwork"].images)),
            _row(f"Johnson baseline, all {len(results['johnson'].images)} photos", _means(results["johnson"].images)),
            _row("unstyled photo, all photos", photo_means),
            _row(f"{label}, first {len(subset)} photos", _means(results["brushwork"].images, names)),
            _row(f"optimisation reference, first {len(subset)} photos", _means(results["optimize"].images)),
            _row(f"Johnson baseline, first {len(subset)} photos", _means(results["johnson"].images, names)),
        ]
        sections.append("\n".join(lines))
        style_image = load_image(painting, max_size=SIZE)
        for photo in subset[:2]:
            outputs = [work / "eval_brushwork" / "outputs" / f"{photo.stem}.png", optimize_dir / f"{photo.stem}.png",
                       work / "eval_johnson" / "outputs" / f"{photo.stem}.png"]  # fmt: skip
            cells = [Image.open(photo), tensor_to_pil(style_image)] + [Image.open(path) for path in outputs]
            sheet_rows.append(cells)

    sheet_path = Path(tmp.name) / "sheet.jpg" if args.quick else args.sheet
    save_image(contact_sheet(sheet_rows, titles=["photo", "style", label, "optimisation", "Johnson"]), sheet_path)
    design = "" if not generator else "\n" + f"{label}: the brushwork generator with " + ", ".join(f"`{k}={v}`" for k, v in generator.items()) + "."
    text = f"""
## Quality{'' if args.section == SECTION else f' ({args.section})'}: {label} vs the optimisation reference vs the Johnson baseline

`{command_line()}` — {machine()}.
Same losses for all three (content relu4_2, Gram relu1_1…relu5_1, default weights; the two
generators also get the adversarial term), random VGG-19 backbone, {SIZE} px. Metrics from
`brushwork evaluate` at {SIZE} px: SSIM of blurred luminance and edge score vs the photo
(higher keeps more content), colour SWD, patch SWD and Gram distance under the evaluation
VGG-19 vs the painting (lower is closer to the style). Contact sheet: `{sheet_path.relative_to(REPO) if sheet_path.is_relative_to(REPO) else sheet_path.name}`
(photo | style | {label} | optimisation | Johnson, two photos per painting).{design}

""" + "\n\n".join(sections)
    write_section(args.results, args.section, text)
    print(text.strip())
    tmp.cleanup()



if __name__ == "__main__":
    main()
