"""`brushwork evaluate`: how well outputs keep the photo's content and carry the style, and how fast.

Either a model stylizes every photo of a folder (and is timed), or already stylized outputs
are paired with their photos by file name. Every pair is measured at one size (the longer
side `metric_size`) so numbers compare across resolutions; the style is measured once.

Headline metrics (judge.py), under EfficientNet-Lite2, a pretrained network no model trains
with: a content distance (photo vs output) and two style distances (Gram, and a Fréchet
distance of patch features; output vs style). Secondary, pretrained-free (metrics.py): content
SSIM and edge score; colour SWD, patch SWD and a Gram distance under a random VGG-19. The
standard ImageNet-VGG content and style losses when those weights are present. The unstyled
photo's own style distances are reported beside them as the starting point. No metric alone
has been right every time (docs/method.md, "Evaluation"): the contact sheet is the judge.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from brushwork.errors import BrushworkError, describe, naming
from brushwork.evaluation.judge import Judge
from brushwork.evaluation.metrics import BLUR_SIGMA, color_pixels, color_swd, content_ssim, edge_score, patch_descriptors, patch_swd
from brushwork.evaluation.repaint import band_energy, repaint_measures
from brushwork.files import atomic_write
from brushwork.images import IMAGE_EXTENSIONS, find_images, load_image, save_image, shrink_to, tensor_to_pil
from brushwork.inference.stylize import ImageStylizer
from brushwork.perceptual.losses import content_loss, gram_distance, mean_grams
from brushwork.perceptual.vgg import VGG_STYLE_LAYERS, VGGFeatures, imagenet_weights_available
from brushwork.sheets import contact_sheet
from brushwork.perceptual.style_images import open_style

#: Seed of the evaluation network: a random VGG-19 that differs from the training backbone
#: (seed 20161), so a model cannot score well by fitting the very features it is judged on.
EVAL_SEED = 7
CONTENT_LAYER = "relu4_2"
# The judge network's deepest layer is at 1/32 scale; thinner photos cannot be measured.
MIN_MEASURE_SIDE = 32

# Metric -> (label, which direction is better), in report order.
METRICS = {
    "content_lite2": ("content distance, Lite2", "lower"),
    "gram_lite2": ("Gram distance to style, Lite2", "lower"),
    "frechet_lite2": ("patch Fréchet distance to style, Lite2", "lower"),
    "repaint": ("repaint score (repaint.py)", "higher"),
    "photo_detail": ("photo's fine detail kept", "lower"),
    "painted_texture": ("fine texture, painting = 1", "higher"),
    "clouds": ("colour clouds within the photo's regions (a*b*)", "lower"),
    "legibility": ("neighbouring shapes kept apart, photo = 1", "higher"),
    "ssim": ("content SSIM (blurred luminance)", "higher"),
    "edge": ("edge score", "higher"),
    "color_swd": ("colour SWD to style", "lower"),
    "patch_swd": ("patch SWD to style", "lower"),
    "gram_eval": ("Gram distance, evaluation VGG", "lower"),
    "imagenet_content": ("ImageNet-VGG content loss", "lower"),
    "imagenet_style": ("ImageNet-VGG style loss", "lower"),
    "ms": ("ms per image", "lower"),
    "ms_per_mp": ("ms per megapixel", "lower"),
}
STYLE_METRICS = ("gram_lite2", "frechet_lite2", "color_swd", "patch_swd", "gram_eval", "imagenet_style")


@dataclass
class EvaluateConfig:
    """Options of `brushwork evaluate`. Give `model` or `outputs`, not both."""

    content: str
    style: str
    model: str = ""  # model file or bundled style: stylize the photos and time it
    outputs: str = ""  # or: a folder of outputs named like the photos (any image extension)
    report: str = "evaluation"  # folder for metrics.json, metrics.md, contact_sheet.png
    max_size: int = 512  # photos are stylized at most this large (longer side)
    metric_size: int = 256  # longer side at which every pair is measured
    style_size: int = 512  # longer side of a painting when its statistics are taken
    limit: int = 0  # only the first N photos (0: all)
    sheet_rows: int = 8
    device: str = "auto"
    vgg_weights: str = ""  # ImageNet VGG-19 weights, for the standard losses
    strength: float | None = None  # with `model`: the style strength (models trained with --max-strength); None: 1
    style_mix: str = ""  # with `model`: which of its styles, or a blend ("a=0.7,b=0.3")

    def validate(self) -> None:
        if bool(self.model) == bool(self.outputs):
            raise BrushworkError("give either --model (to stylize and time) or --outputs (already stylized images)")
        for name in ("max_size", "metric_size", "style_size"):
            if getattr(self, name) < 16:
                raise BrushworkError(f"--{name.replace('_', '-')} must be at least 16 pixels (got {getattr(self, name)})")
        if self.limit < 0 or self.sheet_rows < 0:
            raise BrushworkError("--limit and --sheet-rows must be >= 0")
        if self.outputs and (self.strength is not None or self.style_mix):
            raise BrushworkError("--strength and --style-mix choose how --model stylizes; they do not apply to --outputs")


@dataclass
class EvaluationResult:
    config: dict[str, Any]
    summary: dict[str, dict[str, float]]  # metric -> {"mean", "median", "photo_mean"?}
    images: list[dict[str, Any]] = field(default_factory=list)  # per image: name + metrics
    failed: list[str] = field(default_factory=list)  # "path: reason"
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)
    report_dir: Path | None = None


class StyleReference:
    """The style's statistics, taken once: Lite2 statistics, colours, patch descriptors, evaluation Grams."""

    def __init__(self, style: str, style_size: int, device: torch.device, imagenet: VGGFeatures | None):
        source = open_style(style, style_size)
        self.name = source.name
        images = list(source.images())
        self.images = images
        self.first_image = images[0]
        self.judge = Judge(device)
        self.judged_style = self.judge.style(images)
        self.pixels = color_pixels(images)
        self.patches = patch_descriptors(images)
        self.eval_vgg = VGGFeatures(VGG_STYLE_LAYERS, backbone="random", random_seed=EVAL_SEED).to(device)
        with torch.no_grad():
            self.eval_grams = mean_grams((self.eval_vgg(image.to(device)) for image in images), VGG_STYLE_LAYERS)
            # The standard VGG losses, when its weights are present.
            self.imagenet = imagenet
            if imagenet is not None:
                self.imagenet_grams = mean_grams((imagenet(image.to(device)) for image in images), VGG_STYLE_LAYERS)
        self.device = device
        self._photo_cache: dict[tuple[str, int], dict[str, float]] = {}
        self._energies: dict[int, float] = {}

    def painting_energy(self, size: int) -> float:
        """The style images' mean fine-band energy with their longer side at `size` (the metric
        size): the unit of the repaint judge's painted texture."""
        if size not in self._energies:
            self._energies[size] = statistics.fmean(band_energy(shrink_to(image, size)) for image in self.images)
        return self._energies[size]

    def photo_distances(self, path: Path, photo: Tensor) -> dict[str, float]:
        """The unstyled photo's style metrics (the starting point), cached by file and size:
        comparing several methods on one photo set measures each photo once."""
        key = (str(path), photo.shape[-1])
        if key not in self._photo_cache:
            self._photo_cache[key] = {k: v for k, v in self.distances(photo, photo).items() if k in STYLE_METRICS}
        return self._photo_cache[key]

    @torch.no_grad()
    def distances(self, image: Tensor, photo: Tensor) -> dict[str, float]:
        """Style metrics of `image` (1×3×H×W), plus content loss vs `photo` under ImageNet VGG."""
        seen = self.judge.features(image)  # one Lite2 pass serves the content and style distances
        judged = self.judged_style.distances(seen)
        out = {
            "content_lite2": self.judge.content_distance(photo, seen),
            "gram_lite2": judged["gram"],
            "frechet_lite2": judged["frechet"],
            "color_swd": float(color_swd(image, self.pixels)),
            "patch_swd": float(patch_swd(image, self.patches)),
            "gram_eval": gram_distance(self.eval_vgg(image.to(self.device)), self.eval_grams),
        }
        if self.imagenet is not None:
            features = self.imagenet(image.to(self.device))
            photo_content = self.imagenet(photo.to(self.device))[CONTENT_LAYER].float()
            out["imagenet_style"] = gram_distance(features, self.imagenet_grams)
            # Relative, as training's content term.
            out["imagenet_content"] = float(content_loss(features[CONTENT_LAYER].float(), photo_content, photo_content.pow(2).mean()))
        return out


def style_reference(config: EvaluateConfig, device: torch.device) -> StyleReference:
    """The StyleReference for `config`'s style, with the ImageNet VGG-19 when its weights are present."""
    imagenet = None
    if imagenet_weights_available(config.vgg_weights or None):
        layers = (*VGG_STYLE_LAYERS, CONTENT_LAYER)
        imagenet = VGGFeatures(layers, backbone="vgg19", weights_path=config.vgg_weights or None).to(device)
    return StyleReference(config.style, config.style_size, device, imagenet)


def _pair_outputs(photos: list[Path], content_root: Path, outputs: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Each photo with the output of the same relative path and stem (any image extension)."""
    if not outputs.is_dir():
        raise BrushworkError(f"{outputs}: no such folder of outputs")
    by_stem = {p.relative_to(outputs).with_suffix("").as_posix(): p for p in find_images(outputs)}
    pairs, missing = [], []
    for photo in photos:
        key = (photo.relative_to(content_root) if content_root.is_dir() else Path(photo.name)).with_suffix("").as_posix()
        if key in by_stem:
            pairs.append((photo, by_stem[key]))
        else:
            missing.append(f"{photo}: no output named {key}.* in {outputs}")
    return pairs, missing


def _timed(stylizer: ImageStylizer, photo: Tensor, device: torch.device) -> tuple[Tensor, float]:
    """The stylized photo (on the CPU) and the milliseconds the stylizer took."""
    start = time.perf_counter()
    output = stylizer.stylize_tensor(photo.to(device))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return output.cpu(), 1000 * (time.perf_counter() - start)


def measure_pair(reference: StyleReference, photo_path: Path, photo: Tensor, output: Tensor, size: int) -> dict[str, Any]:
    """Content and style metrics of one photo/output pair (1×3×H×W each, sizes may differ),
    both resized to the photo's aspect with the longer side at `size`; the unstyled photo's
    own style metrics under "photo"."""
    photo = shrink_to(photo, size)
    if min(photo.shape[-2:]) < MIN_MEASURE_SIDE:
        h, w = photo.shape[-2:]
        raise BrushworkError(f"{photo_path}: too small to measure ({w}x{h} px at the metric size; "
                             f"the metrics need at least {MIN_MEASURE_SIDE} px a side)")  # fmt: skip
    output = F.interpolate(output.cpu(), size=photo.shape[-2:], mode="bilinear", antialias=True).clamp(0, 1)
    return {
        "ssim": float(content_ssim(photo, output)),
        "edge": float(edge_score(photo, output)),
        **repaint_measures(photo, output, reference.painting_energy(size)),
        **reference.distances(output, photo),
        "photo": reference.photo_distances(photo_path, photo),
    }


def _summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    summary: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        values = [row[metric] for row in rows if metric in row]
        if not values:
            continue
        summary[metric] = {"mean": statistics.fmean(values), "median": statistics.median(values)}
        photo_values = [row["photo"][metric] for row in rows if metric in row.get("photo", {})]
        if photo_values:
            summary[metric]["photo_mean"] = statistics.fmean(photo_values)
    return summary


def markdown_table(result: EvaluationResult) -> str:
    """The summary as a Markdown table (metric | better | mean | median | unstyled photo)."""
    lines = ["| metric | better | mean | median | unstyled photo |", "|---|---|---|---|---|"]
    for metric, values in result.summary.items():
        label, better = METRICS[metric]
        photo = f"{values['photo_mean']:.4g}" if "photo_mean" in values else ""
        lines.append(f"| {label} | {better} | {values['mean']:.4g} | {values['median']:.4g} | {photo} |")
    return "\n".join(lines)


def evaluate(
    config: EvaluateConfig, progress: bool = True, reference: StyleReference | None = None
) -> EvaluationResult:
    """Measure a model (or a folder of outputs) on a folder of photos against a style.

    Writes metrics.json, metrics.md and contact_sheet.png to `config.report` (with a model,
    also the outputs under outputs/). Unreadable photos or outputs are listed in `failed`.
    `reference` reuses the style statistics of an earlier call with the same style options.
    """
    from brushwork.devices import pick_device
    from brushwork.inference.stylize import Stylizer

    config.validate()
    device = pick_device(config.device)
    content_root = Path(config.content)
    if not content_root.exists():
        raise BrushworkError(f"{content_root}: no such photo file or folder")
    photos = find_images(content_root)
    if not photos:
        raise BrushworkError(f"{content_root}: no images found ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    photos = photos[: config.limit] if config.limit else photos
    report_dir = Path(config.report)

    notes = [f"SSIM on luminance blurred with sigma {BLUR_SIGMA} px; all pairs measured with the longer side at {config.metric_size} px"]
    reference = reference or style_reference(config, device)
    if reference.imagenet is None:
        notes.append("ImageNet VGG-19 weights not found: the standard VGG content/style losses are not reported")

    stylizer: ImageStylizer | None = None
    if config.model:
        from brushwork.inference.conditioning import parse_mix

        mix = parse_mix(config.style_mix) if config.style_mix else None
        strength = 1.0 if config.strength is None else config.strength
        stylizer = Stylizer.from_file(config.model, device=config.device, strength=strength, mix=mix)
        pairs, failed = [(photo, None) for photo in photos], []
        stylizer(torch.rand(1, 3, 64, 64))  # warm-up, so the first image's time is not an outlier
    else:
        pairs, failed = _pair_outputs(photos, content_root, Path(config.outputs))

    rows: list[dict[str, Any]] = []
    sheet: list[list] = []
    for photo_path, output_path in tqdm(pairs, desc="evaluate", unit="img", disable=not progress or len(pairs) < 2):
        row: dict[str, Any] = {"photo_file": str(photo_path)}
        try:
            photo = load_image(photo_path, max_size=config.max_size)
            if stylizer is not None:
                output, row["ms"] = _timed(stylizer, photo, device)
                row["ms_per_mp"] = row["ms"] / (photo.shape[-2] * photo.shape[-1] / 1e6)
                relative = photo_path.relative_to(content_root) if content_root.is_dir() else Path(photo_path.name)
                output_path = (report_dir / "outputs" / relative).with_suffix(".png")
            else:
                output = load_image(output_path)
            measured = measure_pair(reference, photo_path, photo, output, config.metric_size)
            if stylizer is not None:  # only once measured: a photo that fails leaves no output behind
                save_image(output, output_path)
        except BrushworkError as exc:  # e.g. a 1×10000 photo, too thin for the judge network
            failed.append(naming(exc, photo_path, output_path))
            continue
        row["output_file"] = str(output_path)
        row.update(measured)
        rows.append(row)
        if len(sheet) < config.sheet_rows:
            sheet.append([tensor_to_pil(photo), tensor_to_pil(reference.first_image), tensor_to_pil(output)])

    if not rows:
        first = f" (e.g. {failed[0]})" if failed else ""
        raise BrushworkError(f"nothing to evaluate: no photo could be paired and read{first}")
    result = EvaluationResult(
        config=asdict(config),
        summary=_summarise(rows),
        images=rows,
        failed=failed,
        device=str(device),
        notes=notes,
        report_dir=report_dir,
    )
    _write_report(result, sheet, reference.name, stylizer.name if stylizer else Path(config.outputs).name)
    return result


def _write_report(result: EvaluationResult, sheet: list[list], style_name: str, subject: str) -> None:
    folder = result.report_dir
    payload = {k: v for k, v in asdict(result).items() if k != "report_dir"}
    payload["style"] = style_name
    payload["subject"] = subject
    try:
        atomic_write(folder / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2)))
        text = f"# Evaluation: {subject} vs {style_name}\n\n{len(result.images)} image(s) on {result.device}"
        text += (f"; {len(result.failed)} failed" if result.failed else "") + ".\n\n" + markdown_table(result) + "\n"
        text += "".join(f"\n- {note}" for note in result.notes) + "\n"
        atomic_write(folder / "metrics.md", lambda tmp: Path(tmp).write_text(text))
    except OSError as exc:
        raise BrushworkError(f"{folder}: cannot write the report ({describe(exc)})") from None
    if sheet:
        save_image(contact_sheet(sheet, titles=["photo", "style", "output"]), folder / "contact_sheet.png")
