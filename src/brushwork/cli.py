"""Command line: parses, calls the API, prints errors as one line. ``main(argv)`` runs in-process."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from typing import Any

from .config import GeneratorConfig, TrainConfig, load_toml
from .evaluate import EvaluateConfig
from .optimize import OptimizeConfig
from .errors import BrushworkError

HELP = {
    "content": "folder of photos (searched recursively)",
    "style": "one painting (image file) or a folder of an artist's paintings, optionally NAME=PATH; "
    "repeat it to train one model for several styles",
    "output": "model file to write (.safetensors)",
    "name": "style name stored in the model (default: style file/folder name)",
    "description": "one-line description stored in the model",
    "run_dir": "folder for samples, checkpoints and TensorBoard logs (default: runs/NAME)",
    "iterations": "training steps",
    "batch_size": "photos per step",
    "crop": "training crop size in pixels",
    "style_size": "longer side of a single painting when its style is measured",
    "lr_g": "generator learning rate (Adam)",
    "lr_final": "learning rates decay (cosine, after warm-up) to this fraction by the last step; 1 keeps them constant",
    "grad_clip": "clip the generator's gradient norm to this (0: off)",
    "lr_d": "discriminator learning rate (Adam)",
    "warmup_steps": "learning rates ramp up linearly over these first steps",
    "content_weight": "weight of the content loss (relative feature error)",
    "style_weight": "weight of the Gram style loss (relative, per layer)",
    "adversarial_weight": "weight of the adversarial loss (0 disables the discriminator)",
    "tv_weight": "weight of the total-variation loss",
    "palette_weight": "weight of the palette loss (sliced Wasserstein distance of output and painting colours)",
    "max_strength": "train strength control: strengths from 0 to this (e.g. 1.5) for stylize --strength "
    "(0: one strength)",
    "adversarial_start": "fraction of the iterations trained before the adversarial loss starts",
    "content_layer": "feature-network layer of the content loss (default: the backbone's, block3 or relu4_2)",
    "style_layers": "feature-network layers of the style loss (default: the backbone's, dw1..dw5 or relu1_1..relu5_1)",
    "style_layer_weights": "one weight per style layer",
    "backbone": "loss network: efficientnet-lite0 (default, ImageNet weights from pip), vgg19 (needs its weights) or random (tests and speed benchmarks only: it cannot describe a style)",
    "random_backbones": "with the random backbone: train against this many random VGG-19s, one per step in turn",
    "vgg_weights": "local copy of torchvision's VGG-19 ImageNet weights (vgg19-dcbb9e9d.pth)",
    "seed": "random seed",
    "device": "auto, cpu, cuda or mps",
    "precision": "feature-network precision: auto (bf16 where the hardware is fast at it), fp32 or bf16",
    "sample_every": "save a sample grid every N steps",
    "checkpoint_every": "save a checkpoint every N steps",
    "arch": "generator architecture: brushwork, or johnson (Johnson et al. 2016, the baseline)",
    "channels": "generator width at 1/2 resolution (doubled at 1/4 and 1/8)",
    "res_blocks": "generator residual blocks",
    "norm": "generator normalisation: thumbnail (default; instance norm with the statistics of the whole "
    "image's thumbnail; tiles exactly), none (purely local layers, models before 0.3) or instance (not tileable)",
    "residual": "the photo's path to the output: gated (default; a learned gain, the network paints the picture), full (photo + change, models before 0.3) or luma (a learned gain on the photo's luminance)",
    "photo_gain": "with --residual gated or luma: the gain's start value, 0 (paint from scratch) to 1 (start from the photo); default 0.4",
    "output_range": "how the generator keeps outputs in [0, 1]: clamp (default) or tanh (smooth; for --residual gated or luma)",
    "output_stage": "how the painted change reaches full resolution: bilinear (default; made at 1/2 resolution) or shuffle (depth-to-space, models before 0.3)",
    "color_transfer": "brushwork generator: map each photo's colours to the painting's before the network",
    "per_style_blocks": "several styles: one filter bank per style in the residual blocks (experimental)",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise BrushworkError(f"{self.prog}: {message}")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig/GeneratorConfig field; absent flags stay absent (SUPPRESS)."""
    fields = [f for f in dataclasses.fields(TrainConfig) if f.name != "generator"]
    # The generator's design version is set by the code (TOML can still name it), and its
    # conditioning size by the styles and --max-strength: not flags.
    fields += [f for f in dataclasses.fields(GeneratorConfig) if f.name not in ("version", "cond_dim")]
    for f in fields:
        default = f.default if f.default is not dataclasses.MISSING else None
        flag = "--" + f.name.replace("_", "-")
        if f.name == "style":  # --style A --style B
            parser.add_argument(flag, action="append", default=argparse.SUPPRESS, help=HELP.get(f.name))
        elif isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=HELP.get(f.name))
        elif isinstance(default, tuple):
            kind = type(default[0]) if default else str
            parser.add_argument(flag, nargs="+", type=kind, default=argparse.SUPPRESS, help=HELP.get(f.name))
        else:  # a None default stands for a number chosen from other options (photo_gain)
            kind = float if default is None else type(default)
            parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=HELP.get(f.name))


def _field_default(config_class: type, name: str) -> Any:
    """The default of one dataclass field, so a flag's default is written in one place."""
    return next(f.default for f in dataclasses.fields(config_class) if f.name == name)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="brushwork", description="GAN-based, content-preserving style transfer.")
    from .version import __version__

    parser.add_argument("--version", action="version", version=f"brushwork {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a style model from a painting or a collection")
    train.add_argument("--config", help="TOML file with training options (flags override it)")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.pt")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_flags(train)

    stylize = commands.add_parser(
        "stylize",
        help="stylize photos with a model file or a bundled style (or per image, with --optimize)",
        usage="brushwork stylize MODEL INPUT... -o OUTPUT [options]\n"
        "       brushwork stylize --optimize --style-image PAINTING INPUT... -o OUTPUT [options]",
    )
    stylize.add_argument(
        "items", nargs="+", metavar="MODEL INPUT",
        help="a model file (.safetensors) or bundled style name (see `brushwork styles`), then image "
        "files or folders (recursive); with --optimize only the images",
    )  # fmt: skip
    stylize.add_argument("-o", "--output", required=True, help="output image (one input) or folder")
    stylize.add_argument("--max-size", type=int, help="resize so the longer side is at most this (default: keep)")
    stylize.add_argument("--format", help="output format for folder runs, e.g. png or jpg (default: input's)")
    stylize.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    stylize.add_argument(
        "--tile", type=int, default=None,
        help="run large images as tiles of this many pixels (0: never tile; default: tile above 4 MP)",
    )  # fmt: skip
    stylize.add_argument("--engine", default="torch", help="torch, or onnx (onnxruntime; pip install 'brushwork[onnx]')")
    stylize.add_argument("--precision", default="fp32", help="fp32, bf16 (fast on recent CPUs and GPUs) or fp16 (GPU)")
    stylize.add_argument(
        "--compile", action="store_true", help="torch.compile the model (CUDA GPUs; pays off over a batch of photos)"
    )
    stylize.add_argument("--quiet", action="store_true", help="no progress bar")
    controls = stylize.add_argument_group("creative controls")
    controls.add_argument(
        "--strength", type=float, default=1.0,
        help="0 keeps the photo, 1 is the trained style, up to 1.5 exaggerates it (models trained with --max-strength)",
    )  # fmt: skip
    controls.add_argument("--style", dest="style_name", metavar="NAME", help="which style of a model of several styles")
    controls.add_argument("--style-mix", metavar="A=W,B=W", help="blend a model's styles, e.g. starry_night=0.7,great_wave=0.3")
    controls.add_argument(
        "--preserve-color", action="store_true", help="keep the photo's colours; take only the style's lightness"
    )
    controls.add_argument("--mask", help="stylize only where this image is white (black keeps the photo exactly)")
    controls.add_argument(
        "--region", action="append", default=[], metavar="MASK=STYLE",
        help="paint where MASK is white with STYLE: a style of the model, or another model file or bundled "
        "style; repeat for several regions (later ones on top)",
    )  # fmt: skip
    controls.add_argument("--feather", type=int, default=0, metavar="PX", help="fade masks in over PX pixels inside their border")
    optimize = stylize.add_argument_group("per-image optimisation (Gatys et al.; no model, slow, any painting)")
    optimize.add_argument("--optimize", action="store_true", help="optimise each image's pixels instead of running a model")
    optimize.add_argument("--style-image", help="the painting (or a folder of paintings) to optimise towards")
    optimize.add_argument(
        "--match-colors", action="store_true",
        help="recolour the painting to each photo's colours first, so the strokes come in the photo's palette",
    )  # fmt: skip
    optimize_help = {
        "steps": "optimisation steps per image",
        "size": "longer side the photo is optimised at",
        "optimizer": "lbfgs or adam",
    }
    loss_options = ("content_weight", "style_weight", "tv_weight", "palette_weight")
    for name in (*optimize_help, *loss_options, "style_size", "backbone", "vgg_weights"):
        default = _field_default(OptimizeConfig, name)
        help_text = optimize_help.get(name) or HELP[name]
        optimize.add_argument("--" + name.replace("_", "-"), type=type(default), default=default, help=help_text)

    evaluate = commands.add_parser(
        "evaluate", help="measure content fidelity, style fidelity and speed of a model or of stylized outputs"
    )
    evaluate.add_argument("--model", default="", help="model file or bundled style name: stylize the photos and time it")
    evaluate.add_argument("--outputs", default="", help="or: a folder of stylized images named like the photos")
    evaluate.add_argument("--content", required=True, help="photo file or folder (recursive)")
    evaluate.add_argument("--style", required=True, help="the painting, or a folder of paintings, to compare with")
    evaluate.add_argument("-o", "--report", default="evaluation", help="folder for metrics.json, metrics.md, contact_sheet.png")
    evaluate_help = {
        "max_size": "photos are stylized at most this large (longer side)",
        "metric_size": "longer side at which each pair is measured",
        "style_size": "longer side of a painting when measured",
        "limit": "only the first N photos (0: all)",
        "sheet_rows": "photos shown in the contact sheet",
    }
    for name, help_text in evaluate_help.items():
        evaluate.add_argument("--" + name.replace("_", "-"), type=int, default=_field_default(EvaluateConfig, name), help=help_text)
    evaluate.add_argument("--strength", type=float, default=1.0, help="with --model: its style strength")
    evaluate.add_argument("--style-mix", default="", metavar="A=W,...", help="with --model: which of its styles (NAME=1), or a blend")
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    evaluate.add_argument("--vgg-weights", default="", help=HELP["vgg_weights"] + " (adds the standard VGG losses)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")

    mix = commands.add_parser(
        "mix", help="render a photo going from one style of a model to another (a strip, or a GIF)",
        usage="brushwork mix MODEL STYLE_A STYLE_B PHOTO -o strip.png|anim.gif [options]",
    )  # fmt: skip
    mix.add_argument("model", help="a model of several styles (file or bundled name)")
    mix.add_argument("first", metavar="STYLE_A", help="style at the start")
    mix.add_argument("second", metavar="STYLE_B", help="style at the end")
    mix.add_argument("photo", help="the photo")
    mix.add_argument("-o", "--output", required=True, help="a .gif plays there and back; .png/.jpg/.webp is a strip")
    mix.add_argument("--frames", type=int, default=6, help="how many steps from A to B, ends included")
    mix.add_argument("--strength", type=float, default=1.0, help="style strength of every frame")
    mix.add_argument("--max-size", type=int, default=512, help="longer side of each frame")
    mix.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")

    export = commands.add_parser("export", help="export a model to ONNX or TorchScript (any image size)")
    export.add_argument("model", help="model file or bundled style name")
    export.add_argument("--format", default="onnx", help="onnx (onnxruntime; needs brushwork[onnx]) or torchscript")
    export.add_argument("-o", "--output", help="output file (default: MODEL.onnx / MODEL.pt here)")

    info = commands.add_parser("info", help="print a model file's metadata")
    info.add_argument("model", help="model file or bundled style name")
    info.add_argument("--json", action="store_true", help="print the full metadata as JSON")

    commands.add_parser("styles", help="list the bundled styles")
    return parser


def _train_config(args: argparse.Namespace) -> TrainConfig:
    from .train import checkpoint_config

    values: dict[str, Any] = {}
    if args.resume:
        values = checkpoint_config(args.resume)
    elif args.config:
        values = load_toml(args.config)
    generator = dict(values.pop("generator", {}) or {})
    for f in dataclasses.fields(GeneratorConfig):
        if f.name in vars(args):
            generator[f.name] = getattr(args, f.name)
    for f in dataclasses.fields(TrainConfig):
        if f.name in vars(args) and f.name != "generator":
            values[f.name] = getattr(args, f.name)
    return TrainConfig.from_dict({**values, "generator": generator}, source=args.config or "options")


def _run_train(args: argparse.Namespace) -> int:
    from .train import train

    config = _train_config(args)
    result = train(config, resume=args.resume, progress=not args.quiet)
    rate = (result.steps / result.seconds) if result.seconds else 0.0
    for line in result.skipped:
        print(f"brushwork: skipped unreadable image {line}", file=sys.stderr)
    print(f"wrote {result.model_path} ({result.steps} steps, {result.seconds:.0f} s, {rate:.2f} it/s, backbone {result.backbone})")
    return 0


def _stylizer(args: argparse.Namespace):
    """The model named first, or with --optimize a per-image optimiser; returns (stylizer, inputs)."""
    if args.optimize:
        from .optimize import StyleOptimizer

        if not args.style_image:
            raise BrushworkError("--optimize needs --style-image PAINTING (an image or a folder of paintings)")
        model_options = {"--engine": args.engine != "torch", "--precision": args.precision != "fp32",
                         "--compile": args.compile, "--tile": args.tile is not None, "--strength": args.strength != 1,
                         "--style": bool(args.style_name), "--style-mix": bool(args.style_mix),
                         "--mask": bool(args.mask), "--region": bool(args.region)}  # fmt: skip
        if misplaced := [name for name, given in model_options.items() if given]:
            raise BrushworkError(f"{', '.join(misplaced)}: options for running a model, not for --optimize")
        fields = ("steps", "size", "optimizer", "content_weight", "style_weight", "tv_weight", "palette_weight",
                  "style_size", "backbone", "vgg_weights", "device")  # fmt: skip
        config = OptimizeConfig(style=args.style_image, match_colors=args.match_colors,
                                **{name: getattr(args, name) for name in fields})
        optimizer = StyleOptimizer(config, progress=not args.quiet)
        optimizer.preserve_color = args.preserve_color
        return optimizer, args.items
    from .conditioning import parse_mix
    from .stylize import Stylizer

    if args.style_image:
        raise BrushworkError("--style-image is only used with --optimize (a model carries its own style)")
    if args.match_colors:
        raise BrushworkError("--match-colors is only used with --optimize (a model's palette is trained in; "
                             "--preserve-color keeps the photo's colours with any model)")
    if len(args.items) < 2:
        raise BrushworkError("stylize needs a model (or bundled style name) and at least one image or folder")
    if args.style_name and args.style_mix:
        raise BrushworkError("give --style NAME or --style-mix A=W,B=W, not both")
    mix = {args.style_name: 1.0} if args.style_name else parse_mix(args.style_mix) if args.style_mix else None
    options = {"device": args.device, "tile": args.tile, "engine": args.engine, "precision": args.precision,
               "compile": args.compile, "strength": args.strength, "preserve_color": args.preserve_color}  # fmt: skip
    stylizer = Stylizer.from_file(args.items[0], mix=mix, **options)
    if args.mask or args.region or args.feather:
        stylizer = _region_stylizer(args, stylizer, options)
    return stylizer, args.items[1:]


def _region_stylizer(args: argparse.Namespace, stylizer, options: dict[str, Any]):
    """--mask and --region: the model (or another) painted only where each mask is white."""
    from .regions import Region, RegionStylizer
    from .stylize import Stylizer

    if not (args.mask or args.region):
        raise BrushworkError("--feather needs --mask or --region")
    regions = [Region(args.mask, stylizer)] if args.mask else []
    for spec in args.region:
        mask, sep, style = spec.rpartition("=")
        if not sep or not mask or not style:
            raise BrushworkError(f"--region {spec}: expected MASK=STYLE (e.g. sky.png=great_wave)")
        if style in stylizer.styles:  # a style of the model given first (any model takes its own name)
            regions.append(Region(mask, stylizer.with_options(mix={style: 1.0})))
        else:  # another model file or bundled style, with the same options
            regions.append(Region(mask, Stylizer.from_file(style, **options)))
    return RegionStylizer(regions, feather=args.feather)


def _run_stylize(args: argparse.Namespace) -> int:
    from .stylize import stylize_paths

    if args.max_size is not None and args.max_size < 1:
        raise BrushworkError(f"--max-size must be a positive number of pixels (got {args.max_size})")
    stylizer, inputs = _stylizer(args)
    report = stylize_paths(stylizer, inputs, args.output, args.max_size, args.format, progress=not args.quiet)
    for line in report.failed:
        print(f"brushwork: failed: {line}", file=sys.stderr)
    print(f"stylized {len(report.written)} image(s) with {stylizer.name}" + (f"; {len(report.failed)} failed" if report.failed else ""))
    if len(report.written) == 1 and not report.failed:
        print(f"wrote {report.written[0]}")
    return 1 if report.failed else 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, markdown_table

    fields = ("model", "outputs", "content", "style", "report", "max_size", "metric_size", "style_size",
              "limit", "sheet_rows", "device", "vgg_weights", "strength", "style_mix")  # fmt: skip
    config = EvaluateConfig(**{name: getattr(args, name) for name in fields})
    result = evaluate(config, progress=not args.quiet)
    for line in result.failed:
        print(f"brushwork: failed: {line}", file=sys.stderr)
    print(markdown_table(result))
    for note in result.notes:
        print(f"- {note}")
    print(f"wrote {result.report_dir}/metrics.json, metrics.md, contact_sheet.png ({len(result.images)} image(s)"
          + (f"; {len(result.failed)} failed)" if result.failed else ")"))
    return 1 if result.failed else 0


def _run_mix(args: argparse.Namespace) -> int:
    from .mixing import mix_file
    from .stylize import Stylizer

    if args.max_size < 1:
        raise BrushworkError(f"--max-size must be a positive number of pixels (got {args.max_size})")
    stylizer = Stylizer.from_file(args.model, device=args.device, strength=args.strength)
    path = mix_file(stylizer, args.first, args.second, args.photo, args.output, args.frames, args.max_size)
    print(f"wrote {path} ({args.frames} frames, {args.first} to {args.second})")
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from .export import export_model

    path = export_model(args.model, args.format, args.output)
    print(f"wrote {path} ({args.format})")
    return 0


def _run_info(args: argparse.Namespace) -> int:
    from .modelfile import read_metadata
    from .styles import resolve_model

    path = resolve_model(args.model)
    info = read_metadata(path)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    train_config = info.get("train_config", {})
    rows = [
        ("file", str(path)),
        ("style", info.get("style_name")),
        ("description", info.get("description")),
        ("kind", info.get("style_kind")),
        ("backbone", f"{info.get('backbone')} ({info.get('backbone_id')})"),
        ("generator", ", ".join(f"{k}={v}" for k, v in info.get("generator", {}).items())),
        ("trained", f"{info.get('steps')} steps, {info.get('train_seconds')} s on {info.get('device')}"),
        ("crop / batch", f"{train_config.get('crop')} px / {train_config.get('batch_size')}"),
        ("weights", ", ".join(f"{k}={train_config.get(k + '_weight')}" for k in ("content", "style", "adversarial", "tv"))),
        ("format", f"{info.get('format')} v{info.get('format_version')}, brushwork {info.get('brushwork_version')}"),
    ]
    if info.get("styles"):  # a model of several styles, or with strength control
        rows.insert(3, ("styles", ", ".join(style["name"] for style in info["styles"])))
        top = info.get("max_strength", 0)
        rows.insert(4, ("strength", f"0 to {top:g} (--strength)" if top else "1 only"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _run_styles(args: argparse.Namespace) -> int:
    from .modelfile import read_metadata
    from .styles import bundled_styles

    styles = bundled_styles()
    if not styles:
        print("no bundled styles installed")
        return 0
    width = max(map(len, styles))
    for name, path in styles.items():
        print(f"{name:<{width}}  {read_metadata(path).get('description', '')}")
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"brushwork: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `brushwork` command. Returns the exit status."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            args = _build_parser().parse_args(argv)
            runner = {
                "train": _run_train,
                "stylize": _run_stylize,
                "evaluate": _run_evaluate,
                "mix": _run_mix,
                "export": _run_export,
                "info": _run_info,
                "styles": _run_styles,
            }
            return runner[args.command](args)
    except BrushworkError as exc:
        print(f"brushwork: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("brushwork: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
