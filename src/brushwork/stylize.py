"""Inference: load a style model and stylize images, tensors or whole folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import torch
from PIL import Image
from torch import Tensor, nn
from tqdm.auto import tqdm

from .data import IMAGE_EXTENSIONS, find_images, open_image, pil_to_tensor, save_image, tensor_to_pil
from .devices import pick_device
from .errors import BrushworkError
from .modelfile import load_model
from .styles import DEFAULT_STYLE, resolve_model


class ImageStylizer:
    """What every way of stylizing shares: PIL/tensor in and out, files, alpha.

    Subclasses set ``name`` and implement :meth:`stylize_tensor`.
    """

    name: str = "style"

    def stylize_tensor(self, images: Tensor) -> Tensor:
        """N×3×H×W in [0, 1] -> N×3×H×W in [0, 1], on the input's device."""
        raise NotImplementedError

    @overload
    def __call__(self, image: Image.Image) -> Image.Image: ...
    @overload
    def __call__(self, image: Tensor) -> Tensor: ...

    def __call__(self, image):
        """Stylize a PIL image (alpha kept) or a 3×H×W / N×3×H×W tensor in [0, 1]."""
        if isinstance(image, Tensor):
            batched = image if image.ndim == 4 else image.unsqueeze(0)
            out = self.stylize_tensor(batched)
            return out if image.ndim == 4 else out[0]
        alpha = image.getchannel("A") if image.mode in ("RGBA", "LA", "PA") else None
        out = tensor_to_pil(self.stylize_tensor(pil_to_tensor(image.convert("RGB"))))
        if alpha is not None:
            out.putalpha(alpha)
        return out

    def stylize_file(self, source: str | Path, destination: str | Path, max_size: int | None = None) -> Path:
        """Read `source`, stylize it, write `destination` (format by extension, alpha kept)."""
        save_image(self(open_image(source, max_size=max_size)), destination)
        return Path(destination)


class Stylizer(ImageStylizer):
    """A loaded style model. ``Stylizer.from_file("starry_night")(photo)`` returns the stylized photo."""

    def __init__(self, generator: nn.Module, metadata: dict[str, Any], device: torch.device):
        self.generator = generator.to(device).eval()
        self.metadata = metadata
        self.device = device
        self.name = metadata.get("style_name", "style")

    @classmethod
    def from_file(cls, model: str | Path = DEFAULT_STYLE, device: str = "auto") -> "Stylizer":
        """Load a model file, or a bundled style by name."""
        resolved = pick_device(device)
        generator, metadata = load_model(resolve_model(model), device=resolved)
        return cls(generator, metadata, resolved)

    @torch.inference_mode()
    def stylize_tensor(self, images: Tensor) -> Tensor:
        """N×3×H×W in [0, 1] -> N×3×H×W in [0, 1], on the input's device."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N×3×H×W images, got shape {tuple(images.shape)}")
        return self.generator(images.to(self.device, torch.float32)).to(images.device)


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: "path: reason"


def plan_outputs(
    inputs: list[str | Path], output: str | Path, fmt: str | None = None
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Pair each input image with its output path.

    One input file and an output with an image extension: that file. Otherwise `output` is
    a folder; a single input folder is mirrored into it, several inputs each get a subfolder.
    Returns (pairs, problems): problems are "path: reason" lines for inputs that cannot run.
    """
    output = Path(output)
    suffix = f".{fmt.lower().lstrip('.')}" if fmt else None
    if suffix and suffix not in IMAGE_EXTENSIONS:
        raise BrushworkError(f"--format {fmt}: unsupported (use one of {', '.join(sorted(IMAGE_EXTENSIONS))})")
    if len(inputs) == 1 and Path(inputs[0]).is_file() and output.suffix.lower() in IMAGE_EXTENSIONS:
        return [(Path(inputs[0]), output)], []
    if output.suffix.lower() in IMAGE_EXTENSIONS:
        raise BrushworkError(f"{output}: an output file needs exactly one input image; give a folder instead")
    pairs: list[tuple[Path, Path]] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for item in map(Path, inputs):
        if not item.exists():
            problems.append(f"{item}: no such file or directory")
            continue
        base = output if (item.is_file() or len(inputs) == 1) else output / item.name
        sources = find_images(item) if item.is_dir() else [item]
        if not sources:
            problems.append(f"{item}: " + ("no images found" if item.is_dir() else "not an image file extension"))
        for source in sources:
            relative = source.relative_to(item) if item.is_dir() else Path(source.name)
            destination = (base / relative).with_suffix(suffix or source.suffix)
            if destination in seen:
                problems.append(f"{source}: output {destination} would overwrite another output")
                continue
            seen.add(destination)
            pairs.append((source, destination))
    return pairs, problems


def stylize_paths(
    stylizer: ImageStylizer,
    inputs: list[str | Path],
    output: str | Path,
    max_size: int | None = None,
    fmt: str | None = None,
    progress: bool = True,
) -> BatchReport:
    """Stylize files and folders; one bad file is reported and the rest still run."""
    pairs, problems = plan_outputs(inputs, output, fmt)
    report = BatchReport(failed=list(problems))
    bar = tqdm(pairs, desc=f"stylize {stylizer.name}", unit="img", disable=not progress or len(pairs) < 2)
    for source, destination in bar:
        if destination.resolve() == source.resolve():
            report.failed.append(f"{source}: output would overwrite the input")
            continue
        try:
            report.written.append(stylizer.stylize_file(source, destination, max_size=max_size))
        except BrushworkError as exc:
            report.failed.append(str(exc))
    return report
