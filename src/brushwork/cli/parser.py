"""The command line's flags: a list per command, in argument groups, with defaults and choices
in ``--help``. `brushwork train`'s come from one table, training/config.py's FLAGS; research
knobs (learning rates, layers, crop size, ...) are TOML keys of ``brushwork train --config`` only."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from brushwork.devices import DEVICE_HELP
from brushwork.errors import BrushworkError

LIBRARY_HELP = ("folder of trained styles, usable by name (default: $BRUSHWORK_LIBRARY, else the user's data "
                "folder, e.g. ~/.local/share/brushwork/styles)")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise BrushworkError(f"{self.prog}: {message}")


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, max_help_position=32, width=100)


def _default(config_class: type, name: str) -> Any:
    """The default of one dataclass field, so each default is written in one place."""
    field = next(f for f in dataclasses.fields(config_class) if f.name == name)
    return field.default if field.default is not dataclasses.MISSING else field.default_factory()


def _add_train(commands) -> None:
    """`brushwork train`: a flag for each field in training.config.FLAGS (its group and help
    from there, its default from the field), and the three flags that are no field."""
    from brushwork.models.config import ARCHITECTURES, GeneratorConfig
    from brushwork.perceptual.options import BACKBONES
    from brushwork.training.config import FLAGS, TrainConfig

    train = commands.add_parser(
        "train", help=HELP["train"], formatter_class=_help_formatter,
        description="Train a feed-forward style model. Flags override --config (TOML, which also takes the "
        "research options: README, 'Train your own style') and, with --resume, the checkpoint's stored values.",
    )  # fmt: skip
    argparse_options = {"style": {"action": "append"}, "backbone": {"choices": BACKBONES}, "arch": {"choices": ARCHITECTURES}}
    short_flags = {"output": ("-o",)}  # as stylize, evaluate, mix and export spell it
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    groups: dict[str, Any] = {}
    for name, (title, help_text) in FLAGS.items():
        if title not in groups:
            groups[title] = train.add_argument_group(title)
        group = groups[title]
        options = argparse_options.get(name, {})
        default = _default(TrainConfig if name in fields else GeneratorConfig, name)
        if "action" not in options:
            options = {"type": type(default), **options}
            if type(default) in (int, float):
                options["metavar"] = "N" if type(default) is int else "X"
        shown = f" (default: {default})" if default not in ("", (), None) else ""
        # Absent flags stay absent (SUPPRESS), so a --config file or a --resume checkpoint keeps its values.
        flags = (*short_flags.get(name, ()), "--" + name.replace("_", "-"))
        group.add_argument(*flags, default=argparse.SUPPRESS, help=help_text + shown, **options)
    groups["what to train on"].add_argument("--config", help="TOML file with training options (flags override it)")
    groups["what to train on"].add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.pt")
    groups["generator and machine"].add_argument("--quiet", action="store_true", help="no progress bar")


def _add_stylize(commands) -> None:
    from brushwork.perceptual.options import BACKBONES, OptimizeConfig

    stylize = commands.add_parser(
        "stylize", formatter_class=_help_formatter, help=HELP["stylize"],
        usage="brushwork stylize MODEL INPUT... -o OUTPUT [options]\n"
        "       brushwork stylize --optimize --style PAINTING INPUT... -o OUTPUT [options]",
    )  # fmt: skip
    stylize.add_argument(
        "items", nargs="+", metavar="MODEL INPUT",
        help="a model file (.safetensors or .onnx) or bundled style name (see `brushwork styles`), then "
        "image files, video clips or folders of them (recursive); with --optimize only the images",
    )  # fmt: skip
    files = stylize.add_argument_group("files")
    files.add_argument("-o", "--output", help="output image or clip (one input) or folder (required)")
    files.add_argument("--max-size", type=int, metavar="PX", help="resize so the longer side is at most this (default: keep)")
    files.add_argument("--image-format", choices=("png", "jpg", "webp", "tif", "bmp"),
                       help="output format for folder runs (default: each input's)")  # fmt: skip
    files.add_argument("--device", default="auto", help=DEVICE_HELP + " (default: auto)")
    files.add_argument("--quiet", action="store_true", help="no progress bar")
    model = stylize.add_argument_group("running a model")
    model.add_argument("--tile", type=int, metavar="PX", help="run large images as tiles of this many pixels (0: never tile; "
                       "default: tile above 4 MP)")  # fmt: skip
    model.add_argument("--engine", choices=("torch", "onnx"), help="torch, or onnxruntime (pip install "
                       "'brushwork[onnx]') (default: torch)")  # fmt: skip
    model.add_argument("--precision", choices=("fp32", "bf16", "fp16"),
                       help="the model's arithmetic: fp16 needs a GPU (default: fp32)")  # fmt: skip
    model.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA GPUs; pays off over a batch)")
    controls = stylize.add_argument_group("creative controls (models)")
    controls.add_argument("--strength", type=float, metavar="S", help="0 keeps the photo, 1 is the trained style, more exaggerates "
                          "it (models trained with --max-strength) (default: 1)")  # fmt: skip
    controls.add_argument("--style-mix", metavar="NAME|A=W,B=W", help="which style of a model of several "
                          "styles, or a blend, e.g. starry_night=0.7,great_wave=0.3 (default: its first)")  # fmt: skip
    controls.add_argument("--mask", help="stylize only where this image is white (black keeps the photo exactly)")
    controls.add_argument(
        "--region", action="append", default=[], metavar="MASK=STYLE",
        help="paint where MASK is white with STYLE: a style of the model, or another model file or bundled "
        "style; repeat for several regions (later ones on top)",
    )  # fmt: skip
    controls.add_argument("--feather", type=int, metavar="PX", help="fade masks in over PX pixels inside their border")
    stylize.add_argument("--preserve-color", action="store_true", help="keep the photo's colours; take only the "
                         "style's lightness (models and --optimize)")  # fmt: skip
    video = stylize.add_argument_group("video clips (.mp4, .mov, .mkv, .webm ...; needs brushwork[video])")
    _add_temporal(video)
    scale = stylize.add_argument_group("a batch job on Ray (pip install 'brushwork[ray]'; docs/scale-out.md)")
    scale.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS", help="run on a Ray cluster: a pool of "
                       "workers, each holding the model once; a re-run skips the images already done (ADDRESS: "
                       "auto, host:6379 or ray://host:10001; none: a local Ray)")  # fmt: skip
    scale.add_argument("--workers", type=int, metavar="N", help="with --ray: model copies (default: one per GPU, "
                       "else one per --cpus-per-worker cores)")  # fmt: skip
    scale.add_argument("--cpus-per-worker", type=int, metavar="N", help="with --ray: cores per worker on CPUs (default: 1)")
    optimize = stylize.add_argument_group("per-image optimisation (Gatys et al.; no model, slow, any painting)")
    optimize.add_argument("--optimize", action="store_true", help="optimise each image's pixels instead of running a model")
    optimize.add_argument("--style", help="the painting (or a folder of paintings) to optimise towards")
    for name, help_text in (("steps", "optimisation steps per image"), ("size", "longer side the photo is optimised at"),
                            ("content_weight", "weight of the content loss"), ("style_weight", "weight of the style loss")):  # fmt: skip
        default = _default(OptimizeConfig, name)
        optimize.add_argument("--" + name.replace("_", "-"), type=type(default), metavar="N" if type(default) is int else "W",
                              help=f"{help_text} (default: {default})")  # fmt: skip
    optimize.add_argument("--optimizer", choices=("adam", "lbfgs"), help="(default: adam)")
    optimize.add_argument("--backbone", choices=BACKBONES, help="loss network (default: efficientnet-lite0)")
    optimize.add_argument("--vgg-weights", help="with --backbone vgg19: torchvision's VGG-19 weights file")
    optimize.add_argument("--match-colors", action="store_true",
                          help="recolour the painting to each photo's colours first, so the strokes come in the photo's palette")  # fmt: skip


def _add_temporal(group) -> None:
    """The temporal flags of `stylize` (for clips) and `webcam`."""
    group.add_argument("--stable", action="store_true", help="blend each frame with the previous one along the "
                       "optical flow where it is reliable: less shimmer, slower (default: shared shot statistics only)")  # fmt: skip
    group.add_argument("--temporal-blend", type=float, metavar="W", help="how much of the previous frame --stable "
                       "carries over, 0 to 0.95 (default: 0.6)")  # fmt: skip


def _add_webcam(commands) -> None:
    webcam = commands.add_parser("webcam", help="live preview of a camera through a style (an OpenCV window)",
                                 formatter_class=_help_formatter)  # fmt: skip
    webcam.add_argument("model", help="model file or bundled style name")
    webcam.add_argument("--camera", type=int, default=0, metavar="N", help="camera index (default: 0)")
    webcam.add_argument("--max-size", type=int, default=480, metavar="PX", help="longer side of the preview (default: 480)")
    webcam.add_argument("--strength", type=float, metavar="S", help="style strength (models trained for it) (default: 1)")
    webcam.add_argument("--style-mix", metavar="NAME|A=W,B=W", help="which style of a model of several, or a blend")
    webcam.add_argument("--preserve-color", action="store_true", help="keep the camera's colours")
    webcam.add_argument("--device", default="auto", help=DEVICE_HELP + " (default: auto)")
    _add_temporal(webcam)


def _add_evaluate(commands) -> None:
    from brushwork.evaluation.evaluate import EvaluateConfig

    evaluate = commands.add_parser("evaluate", formatter_class=_help_formatter, help=HELP["evaluate"])
    what = evaluate.add_argument_group("what to measure (give --model or --outputs)")
    what.add_argument("--model", default="", help="model file or bundled style name: stylize the photos and time it")
    what.add_argument("--outputs", default="", help="a folder of stylized images named like the photos")
    what.add_argument("--content", required=True, help="photo file or folder (recursive)")
    what.add_argument("--style", required=True, help="the painting, or a folder of paintings, to compare with")
    what.add_argument("--strength", type=float, metavar="S", help="with --model: its style strength (default: 1)")
    what.add_argument("--style-mix", metavar="NAME|A=W,...", help="with --model: which of its styles, or a blend")
    report = evaluate.add_argument_group("report")
    report.add_argument("-o", "--output", default="evaluation", help="folder for metrics.json, metrics.md, "
                        "contact_sheet.png (default: evaluation)")  # fmt: skip
    for name, help_text in (("max_size", "photos are stylized at most this large (longer side)"),
                            ("metric_size", "longer side at which each pair is measured"),
                            ("style_size", "longer side of a painting when measured"),
                            ("limit", "only the first N photos (0: all)"),
                            ("sheet_rows", "photos shown in the contact sheet")):  # fmt: skip
        default = _default(EvaluateConfig, name)
        report.add_argument("--" + name.replace("_", "-"), type=int, default=default, metavar="N",
                            help=f"{help_text} (default: {default})")  # fmt: skip
    report.add_argument("--vgg-weights", default="", help="torchvision's VGG-19 weights: adds the standard VGG losses")
    report.add_argument("--device", default="auto", help=DEVICE_HELP + " (default: auto)")
    report.add_argument("--quiet", action="store_true", help="no progress bar")


HELP = {
    "train": "train a style model from a painting or a collection",
    "stylize": "stylize photos with a model file or a bundled style (or per image, with --optimize)",
    "evaluate": "measure content fidelity, style fidelity and speed of a model or of stylized outputs",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser. With `command` (the one asked for), train, stylize and evaluate get their
    flags only if it is theirs: their defaults come from configs whose modules load the
    training stack, which `brushwork stylize` (the inference path) does not need."""
    from brushwork.version import __version__

    parser = Parser(prog="brushwork", description="GAN-based, content-preserving style transfer.")
    parser.add_argument("--version", action="version", version=f"brushwork {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, add in (("train", _add_train), ("stylize", _add_stylize), ("evaluate", _add_evaluate)):
        if command in (None, name):
            add(commands)
        else:
            commands.add_parser(name, help=HELP[name])

    mix = commands.add_parser(
        "mix", help="render a photo going from one style of a model to another (a strip, or a GIF)",
        usage="brushwork mix MODEL STYLE_A STYLE_B PHOTO -o strip.png|anim.gif [options]", formatter_class=_help_formatter,
    )  # fmt: skip
    mix.add_argument("model", help="a model of several styles (file or bundled name)")
    mix.add_argument("first", metavar="STYLE_A", help="style at the start")
    mix.add_argument("second", metavar="STYLE_B", help="style at the end")
    mix.add_argument("photo", help="the photo")
    mix.add_argument("-o", "--output", required=True, help="a .gif plays there and back; .png/.jpg/.webp is a strip")
    mix.add_argument("--frames", type=int, default=6, help="how many steps from A to B, ends included (default: 6)")
    mix.add_argument("--strength", type=float, default=1.0, help="style strength of every frame (default: 1)")
    mix.add_argument("--max-size", type=int, default=512, help="longer side of each frame (default: 512)")
    mix.add_argument("--device", default="auto", help=DEVICE_HELP + " (default: auto)")

    export = commands.add_parser("export", help="export a model to ONNX or TorchScript (any image size)")
    export.add_argument("model", help="model file or bundled style name")
    export.add_argument("--format", default="onnx", choices=("onnx", "torchscript"),
                        help="onnx (onnxruntime; needs brushwork[onnx]) or torchscript (default: onnx)")  # fmt: skip
    export.add_argument("-o", "--output", help="output file (default: MODEL.onnx / MODEL.pt here)")

    info = commands.add_parser("info", help="print a model file's metadata")
    info.add_argument("model", help="model file or bundled style name")
    info.add_argument("--json", action="store_true", help="print the full metadata as JSON")

    styles = commands.add_parser("styles", help="list the bundled styles and those in the style library")
    styles.add_argument("--library", metavar="DIR", help=LIBRARY_HELP)
    _add_webcam(commands)

    serve = commands.add_parser("serve", help="start the web studio in a browser (needs brushwork[web])",
                                formatter_class=_help_formatter)  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="(default: 7860)")
    serve.add_argument("--library", metavar="DIR", help=LIBRARY_HELP + "; the studio trains into it and keeps its jobs in DIR/.studio")
    serve.add_argument("--photos", metavar="DIR", help="a server folder of training photos the Train page may use")
    return parser
