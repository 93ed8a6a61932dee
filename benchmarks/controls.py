"""Creative controls: one model of several styles against single-style models, and the strength ladder.

    python benchmarks/controls.py            # bundled `classics` vs the bundled single styles, 20 val photos
    python benchmarks/controls.py --quick    # tiny synthetic data and models (CI smoke run)
    python benchmarks/controls.py --model M.safetensors --also-single starry_night=S1.safetensors

--also-single adds another single-style model of a style (e.g. the same command with another
--seed) as a row of its own, its change measured against the first single model: how far two
runs of the same recipe land apart, the yardstick for the multi-style model's change.

Per style, `brushwork evaluate` measures the multi-style model (that style picked with
--style-mix NAME=1) and the single-style model of the same style on the same validation
photos at 256 px, against the same painting(s); the table gives each metric and the
multi-style model's change relative to the single one. The bundled models did not have the
same budget: 800 steps for each single style, 900 for the three-style model, 300 per style
(docs/train_bundled.sh).
Then the strength ladder: the multi-style model's first style at strengths 0 to 1.5.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

from brushwork.models import GeneratorConfig
from brushwork.training.config import TrainConfig
from brushwork.evaluation.evaluate import EvaluateConfig, evaluate, style_reference
from brushwork.training.trainer import train
from common import DATA, STYLES, command_line, machine, parser, synthetic_data, write_section

SECTION = "controls"
# Style name in the multi-style model -> (single-style model, the painting or collection it learned).
STYLES_OF_CLASSICS = {
    "starry_night": ("starry_night", STYLES / "vangogh_the_starry_night_1889.jpg"),
    "great_wave": ("great_wave", STYLES / "hokusai_the_great_wave_off_kanagawa.jpg"),
    "monet": ("monet", DATA / "collections" / "monet"),
}
COLUMNS = {"ssim": "SSIM ↑", "edge": "edge ↑", "color_swd": "colour SWD ↓", "patch_swd": "patch SWD ↓", "gram_eval": "Gram (eval VGG) ↓"}
STRENGTHS = (0.0, 0.25, 0.5, 1.0, 1.5)
SIZE = 256


def _means(result) -> dict[str, float]:
    return {k: statistics.fmean(row[k] for row in result.images) for k in COLUMNS}


def _changes(values: dict[str, float], reference: dict[str, float]) -> list[str]:
    """Each metric's relative difference to `reference`, in %, positive where `values` is better."""
    signs = {key: 1 if "↑" in title else -1 for key, title in COLUMNS.items()}
    return [f"{signs[k] * (values[k] - reference[k]) / abs(reference[k]) * 100:+.1f} %" for k in COLUMNS]


def _quick_models(work: Path) -> tuple[str, dict[str, tuple[str, Path]]]:
    """Tiny two-style and single-style models on synthetic data (same total steps)."""
    content, _, style = synthetic_data(work / "data")
    other = work / "data" / "other.png"
    from PIL import Image, ImageOps

    ImageOps.mirror(Image.open(style)).rotate(90).save(other)
    tiny = dict(content=str(content), iterations=4, batch_size=2, crop=48, style_size=48, backbone="random",
                device="cpu", sample_every=100, checkpoint_every=100, generator=GeneratorConfig(channels=8, res_blocks=1))  # fmt: skip
    singles = {}
    for name, painting in (("a", style), ("b", other)):
        path = work / f"{name}.safetensors"
        train(TrainConfig(style=str(painting), name=name, output=str(path), run_dir=str(work / name), **tiny), progress=False)
        singles[name] = (str(path), painting)
    multi = work / "ab.safetensors"
    tiny["iterations"] = 8
    train(TrainConfig(style=(f"a={style}", f"b={other}"), max_strength=1.5, output=str(multi), run_dir=str(work / "ab"), **tiny),
          progress=False)  # fmt: skip
    return str(multi), singles


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--model", default="classics", help="the multi-style model (file or bundled name)")
    p.add_argument("--val", type=Path, default=DATA / "content" / "val")
    p.add_argument("--limit", type=int, default=20, help="validation photos per evaluation")
    p.add_argument("--also-single", action="append", default=[], metavar="NAME=MODEL",
                   help="another single-style model of style NAME (e.g. another seed), compared with the first")
    p.add_argument("--work", type=Path, default=None, help="folder for the evaluation reports (default: a temporary one)")
    args = p.parse_args()
    also = [spec.partition("=")[::2] for spec in args.also_single]
    if any(not name or not other for name, other in also):  # before --quick spends minutes training
        p.error("--also-single takes NAME=MODEL")
    tmp = tempfile.TemporaryDirectory()
    work = args.work or Path(tmp.name)
    model, styles, val, style_size = args.model, STYLES_OF_CLASSICS, args.val, 512
    if args.quick:
        model, styles = _quick_models(work)
        val, args.limit, style_size = work / "data" / "val", 2, 64
    common = dict(content=str(val), limit=args.limit, max_size=SIZE, metric_size=SIZE, style_size=style_size,
                  device="cpu", sheet_rows=4)  # fmt: skip

    header = "| style | model | " + " | ".join(COLUMNS.values()) + " |"
    rule = "|---" * (len(COLUMNS) + 2) + "|"
    lines = ["## Creative controls", "", f"`{command_line()}`", "", machine(), "",
             f"### One model of {len(styles)} styles vs one model per style", "",
             f"`brushwork evaluate` on the first {args.limit} photos of {val.name} at {SIZE} px. "
             "Each \"change\" row is the row above's relative difference to the single-style model (positive: better).",
             "", header, rule]  # fmt: skip
    if unknown := sorted({name for name, _ in also} - set(styles)):
        p.error(f"--also-single: no style {unknown[0]!r} (known: {', '.join(styles)})")
    first = next(iter(styles))
    references = {}
    for name, (single, painting) in styles.items():
        base = EvaluateConfig(style=str(painting), model="-", **common)
        references[name] = style_reference(base, torch.device("cpu"))
        def measure(index: int, label: str, **options) -> dict[str, float]:
            config = EvaluateConfig(style=str(painting), report=str(work / f"{name}_{index}"), **common, **options)
            values = _means(evaluate(config, progress=False, reference=references[name]))
            lines.append(f"| {name} | {label} | " + " | ".join(f"{values[k]:.4g}" for k in COLUMNS) + " |")
            return values

        one_values = measure(0, f"{Path(single).stem} (one style)", model=single)
        compared = [(f"{Path(model).stem} --style-mix {name}=1", {"model": model, "style_mix": f"{name}=1"})]
        compared += [(f"{Path(other).stem} (one style, another run)", {"model": other}) for n, other in also if n == name]
        for index, (label, options) in enumerate(compared, start=1):
            values = measure(index, label, **options)
            lines.append(f"| {name} | change | " + " | ".join(_changes(values, one_values)) + " |")

    painting = styles[first][1]
    lines += ["", f"### Strength ladder: {Path(model).stem}, style {first}", "",
              f"`brushwork evaluate --model {Path(model).stem} --style-mix {first}=1 --strength S`, same photos.", "",
              "| strength | " + " | ".join(COLUMNS.values()) + " |", "|---" * (len(COLUMNS) + 1) + "|"]  # fmt: skip
    for strength in STRENGTHS:
        config = EvaluateConfig(style=str(painting), model=model, style_mix=f"{first}=1", strength=strength,
                                report=str(work / f"strength_{strength}"), **common)  # fmt: skip
        values = _means(evaluate(config, progress=False, reference=references[first]))
        lines.append(f"| {strength:g} | " + " | ".join(f"{values[k]:.4g}" for k in COLUMNS) + " |")
    write_section(args.results, SECTION, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
