"""What each command does with its parsed flags: build the config, call the API, print."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from brushwork.errors import BrushworkError


def train_config(args: argparse.Namespace):
    """The TrainConfig of `brushwork train`: --resume's stored config or --config's TOML,
    with the flags given on top."""
    from brushwork.models.config import GeneratorConfig
    from brushwork.training.checkpoint import checkpoint_config
    from brushwork.training.config import TrainConfig, load_toml

    if args.resume and args.config:
        raise BrushworkError("give --resume (the run's stored options) or --config, not both")
    values: dict[str, Any] = checkpoint_config(args.resume) if args.resume else load_toml(args.config) if args.config else {}
    generator = dict(values.pop("generator", {}) or {})
    for f in dataclasses.fields(GeneratorConfig):
        if f.name in vars(args):
            generator[f.name] = getattr(args, f.name)
    for f in dataclasses.fields(TrainConfig):
        if f.name in vars(args) and f.name != "generator":
            values[f.name] = getattr(args, f.name)
    return TrainConfig.from_dict({**values, "generator": generator}, source=args.resume or args.config or "options")


def run_train(args: argparse.Namespace) -> int:
    from brushwork.training.trainer import train

    config = train_config(args)
    result = train(config, resume=args.resume, progress=not args.quiet)
    if os.environ.get("RANK", "0") != "0":  # torchrun's other processes: process 0 reports for the run
        return 1 if result.skipped else 0
    rate = (result.steps / result.seconds) if result.seconds else 0.0
    for line in result.skipped:
        print(f"brushwork: skipped unreadable image {line}", file=sys.stderr)
    start = {"base": "the base generator", "none": "random weights"}.get(config.init, config.init)  # resolved by train()
    print(f"wrote {result.model_path} ({result.steps} steps from {start}, {result.seconds:.0f} s, {rate:.2f} it/s, "
          f"backbone {result.backbone})"
          + (f"; skipped {len(result.skipped)} unreadable image(s)" if result.skipped else ""))
    return 1 if result.skipped else 0  # as stylize: everything readable was used, but not every file


# The OptimizeConfig fields that `stylize --optimize` has flags for, and the flags of running a model.
OPTIMIZE_ONLY = ("style", "steps", "size", "content_weight", "style_weight", "optimizer", "backbone", "vgg_weights", "match_colors")
MODEL_ONLY = ("tile", "engine", "precision", "compile", "strength", "style_mix", "mask", "region", "feather")


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """The flags among `names` that were given (absent ones are None, False or []; 0 was given)."""
    values = {name: getattr(args, name) for name in names}
    return [f"--{name.replace('_', '-')}" for name, value in values.items() if value is not None and value is not False and value != []]


def _stylizer(args: argparse.Namespace):
    """The model named first, or with --optimize a per-image optimiser; returns (stylizer, inputs)."""
    if args.optimize:
        from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer

        if misplaced := _given(args, MODEL_ONLY):
            raise BrushworkError(f"{', '.join(misplaced)}: options for running a model, not for --optimize")
        if not args.style:
            raise BrushworkError("--optimize needs --style PAINTING (an image or a folder of paintings)")
        given = {name: getattr(args, name) for name in OPTIMIZE_ONLY if getattr(args, name) is not None}
        config = OptimizeConfig(device=args.device, **given)
        optimizer = StyleOptimizer(config, progress=not args.quiet)
        optimizer.preserve_color = args.preserve_color
        return optimizer, args.items
    from brushwork.inference.stylize import Stylizer

    if misplaced := _given(args, OPTIMIZE_ONLY):
        raise BrushworkError(f"{', '.join(misplaced)}: options for --optimize (a model carries its own style and "
                             "palette; --preserve-color keeps the photo's colours with any model)")  # fmt: skip
    options, mix = _model_options(args)
    stylizer = Stylizer.from_file(args.items[0], mix=mix, **options)
    if args.mask or args.region or args.feather is not None:
        stylizer = _region_stylizer(args, stylizer, options)
    return stylizer, args.items[1:]


def _model_options(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, float] | None]:
    """The Stylizer options of `brushwork stylize`'s flags (but the mix), and the --style-mix."""
    from brushwork.inference.conditioning import parse_mix

    options = {"device": args.device, "tile": args.tile, "engine": args.engine or "torch",
               "precision": args.precision or "fp32", "compile": args.compile,
               "strength": 1.0 if args.strength is None else args.strength, "preserve_color": args.preserve_color}  # fmt: skip
    return options, parse_mix(args.style_mix) if args.style_mix else None


def _region_stylizer(args: argparse.Namespace, stylizer, options: dict[str, Any]):
    """--mask and --region: the model (or another) painted only where each mask is white."""
    from brushwork.inference.regions import Region, RegionStylizer
    from brushwork.inference.stylize import Stylizer

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
    return RegionStylizer(regions, feather=args.feather or 0)


def _blend(args: argparse.Namespace) -> float:
    """The flow-blend weight that --stable / --temporal-blend ask for (0: none)."""
    from brushwork.inference.temporal import DEFAULT_BLEND, check_blend

    if args.temporal_blend is not None:
        return check_blend(args.temporal_blend)
    return DEFAULT_BLEND if args.stable else 0.0


def _split_inputs(items: list[str]) -> tuple[list[str], list[str]]:
    """(still inputs, clip inputs). A folder goes to each whose files it holds; one holding
    neither stays with the stills, whose planner reports it."""
    from pathlib import Path

    from brushwork.images import find_images
    from brushwork.videos import find_videos, is_video

    stills, clips = [], []
    for item in items:
        folder = Path(item).is_dir()
        has_clips = is_video(item) if not folder else bool(find_videos(item))
        if has_clips:
            clips.append(item)
        if not is_video(item) and (not folder or find_images(item) or not has_clips):
            stills.append(item)
    return stills, clips


def run_stylize(args: argparse.Namespace) -> int:
    from brushwork.inference.stylize import BatchReport, stylize_paths

    if not args.optimize and len(args.items) < 2:
        raise BrushworkError("stylize needs a model (or bundled style name) and at least one image or folder")
    if args.output is None:  # after the inputs: a command with neither is missing its input first
        raise BrushworkError("stylize needs -o/--output: an output image or clip (one input) or a folder")
    if args.max_size is not None and args.max_size < 1:
        raise BrushworkError(f"--max-size must be a positive number of pixels (got {args.max_size})")
    if args.ray is not None:
        return _run_on_ray(args)
    if given := _given(args, ("workers", "cpus_per_worker")):
        raise BrushworkError(f"{', '.join(given)}: options of a Ray job (--ray)")
    stills, clips = _split_inputs(args.items if args.optimize else args.items[1:])
    temporal = _given(args, ("stable", "temporal_blend"))
    if temporal and not clips:
        raise BrushworkError(f"{', '.join(temporal)}: options for video clips, and no input is one")
    if clips and args.optimize:
        raise BrushworkError(f"{clips[0]}: --optimize (minutes per image) is for stills, not video clips")
    if args.image_format and not stills:
        raise BrushworkError("--image-format: the output format of stills; a clip keeps its container "
                             "(give -o out.mkv to choose one)")  # fmt: skip
    blend = _blend(args)
    stylizer, _ = _stylizer(args)
    report, videos = BatchReport(), []
    if clips:
        from brushwork.inference.video import plan_clips, stylize_clips

        pairs, problems = plan_clips(clips, args.output)
        clip_report, videos = stylize_clips(stylizer, pairs, args.max_size, blend, progress=not args.quiet)
        report.failed += problems + clip_report.failed
    if stills:
        images = stylize_paths(stylizer, stills, args.output, args.max_size, args.image_format, progress=not args.quiet)
        report.written += images.written
        report.failed += images.failed
    for line in report.failed:
        print(f"brushwork: failed: {line}", file=sys.stderr)
    counts = ([f"{len(report.written)} image(s)"] if stills else []) + ([f"{len(videos)} clip(s)"] if clips else [])
    print(f"stylized {' and '.join(counts)} with {stylizer.name}" + (f"; {len(report.failed)} failed" if report.failed else ""))
    for result in videos:
        print(f"wrote {result.path} ({result.frames} frames at {float(result.info.rate):.3g} fps, "
              f"{result.frames / max(result.seconds, 1e-9):.2f} frames/s" + (f", {result.cuts} cut(s)" if result.cuts else "")
              + (", sound copied" if result.info.audio else "") + ")")  # fmt: skip
    if len(report.written) == 1 and not report.failed and not clips:
        print(f"wrote {report.written[0]}")
    return 1 if report.failed else 0


def run_webcam(args: argparse.Namespace) -> int:
    from brushwork.inference.conditioning import parse_mix
    from brushwork.inference.stylize import Stylizer
    from brushwork.inference.webcam import preview

    if args.max_size < 1:
        raise BrushworkError(f"--max-size must be a positive number of pixels (got {args.max_size})")
    mix = parse_mix(args.style_mix) if args.style_mix else None
    stylizer = Stylizer.from_file(args.model, device=args.device, mix=mix, preserve_color=args.preserve_color,
                                  strength=1.0 if args.strength is None else args.strength)  # fmt: skip
    frames = preview(stylizer, camera=args.camera, max_size=args.max_size, blend=_blend(args))
    print(f"showed {frames} frame(s) of camera {args.camera} with {stylizer.name}")
    return 0


def _run_on_ray(args: argparse.Namespace) -> int:
    """`brushwork stylize ... --ray [ADDRESS]`: the same job on a Ray cluster (brushwork.batch)."""
    if args.optimize or args.mask or args.region or args.feather is not None:
        raise BrushworkError("--ray runs a model file or bundled style; --optimize, --mask, --region and --feather run without it")
    if misplaced := _given(args, OPTIMIZE_ONLY):
        raise BrushworkError(f"{', '.join(misplaced)}: options for --optimize, which --ray does not run")
    from brushwork.batch import stylize_dataset

    options, mix = _model_options(args)
    report = stylize_dataset(args.items[0], args.items[1:], args.output, address=args.ray, workers=args.workers,
                             cpus_per_worker=args.cpus_per_worker or 1, max_size=args.max_size, fmt=args.image_format,
                             progress=not args.quiet, mix=mix, **options)  # fmt: skip
    for line in report.failed:
        print(f"brushwork: failed: {line}", file=sys.stderr)
    done = f"; {report.already_done} already done" if report.already_done else ""
    print(f"stylized {len(report.written)} image(s) with {report.name} on Ray ({report.workers} workers){done}"
          + (f"; {len(report.failed)} failed" if report.failed else ""))  # fmt: skip
    return 1 if report.failed else 0


def run_evaluate(args: argparse.Namespace) -> int:
    from brushwork.evaluation.evaluate import EvaluateConfig, evaluate, markdown_table

    fields = ("model", "outputs", "content", "style", "max_size", "metric_size", "style_size",
              "limit", "sheet_rows", "device", "vgg_weights", "strength")  # fmt: skip
    config = EvaluateConfig(report=args.output, style_mix=args.style_mix or "", **{name: getattr(args, name) for name in fields})
    result = evaluate(config, progress=not args.quiet)
    for line in result.failed:
        print(f"brushwork: failed: {line}", file=sys.stderr)
    print(markdown_table(result))
    for note in result.notes:
        print(f"- {note}")
    print(f"wrote {result.report_dir}/metrics.json, metrics.md, contact_sheet.png ({len(result.images)} image(s)"
          + (f"; {len(result.failed)} failed)" if result.failed else ")"))
    return 1 if result.failed else 0


def run_mix(args: argparse.Namespace) -> int:
    from brushwork.inference.mixing import mix_file
    from brushwork.inference.stylize import Stylizer

    if args.max_size < 1:
        raise BrushworkError(f"--max-size must be a positive number of pixels (got {args.max_size})")
    stylizer = Stylizer.from_file(args.model, device=args.device, strength=args.strength)
    path = mix_file(stylizer, args.first, args.second, args.photo, args.output, args.frames, args.max_size)
    print(f"wrote {path} ({args.frames} frames, {args.first} to {args.second})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from brushwork.inference.export import export_model

    path = export_model(args.model, args.format, args.output)
    print(f"wrote {path} ({args.format})")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from brushwork.inference.modelfile import read_metadata, summary_rows
    from brushwork.styles import resolve_model

    path = resolve_model(args.model)
    info = read_metadata(path)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    rows = summary_rows(info, path)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def run_styles(args: argparse.Namespace) -> int:
    from brushwork.inference.modelfile import read_metadata
    from brushwork.library import library_dir, library_styles
    from brushwork.styles import bundled_styles

    bundled, folder = bundled_styles(), library_dir(args.library)
    trained = {name: path for name, path in library_styles(folder).items() if name not in bundled}
    width = max(map(len, [*bundled, *trained]), default=0)
    print("bundled:" if bundled else "no bundled styles installed")
    for name, path in bundled.items():
        print(f"  {name:<{width}}  {read_metadata(path).get('description', '')}")
    print(f"library ({folder}):" if trained else f"library ({folder}): no styles yet")
    unreadable = []
    for name, path in trained.items():
        try:
            print(f"  {name:<{width}}  {read_metadata(path).get('description', '')}")
        except BrushworkError as exc:
            unreadable.append(str(exc))
    for problem in unreadable:
        print(f"brushwork: skipped {problem}", file=sys.stderr)
    return 1 if unreadable else 0


def run_serve(args: argparse.Namespace) -> int:
    import importlib.util

    from brushwork.web import INSTALL_HINT

    if importlib.util.find_spec("gradio") is None:
        raise BrushworkError(INSTALL_HINT)
    from brushwork.web.app import launch
    from brushwork.web.settings import StudioSettings

    from brushwork.library import library_dir

    settings = StudioSettings(library_dir=library_dir(args.library), photos_dir=args.photos, host=args.host, port=args.port)
    print(f"brushwork studio on http://{args.host}:{args.port} (styles in {settings.library_dir}); Ctrl-C stops it")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("brushwork: warning: the studio has no login; anyone who can reach this address can use it", file=sys.stderr)
    launch(settings)
    return 0
