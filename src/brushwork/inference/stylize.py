"""Inference: load a style model and stylize images, tensors or whole folders."""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from tqdm.auto import tqdm

from brushwork.inference.color_preservation import keep_photo_colors
from brushwork.inference.conditioning import condition, style_names
from brushwork.images import IMAGE_EXTENSIONS, find_images, from_uint8, open_image, save_image, to_uint8
from brushwork.devices import pick_device
from brushwork.inference.engines import ENGINES, OnnxEngine, TorchEngine
from brushwork.errors import BrushworkError, naming
from brushwork.inference.modelfile import load_model
from brushwork.styles import DEFAULT_STYLE, resolve_model
from brushwork.models.thumbnail import thumbnail as make_thumbnail
from brushwork.inference.tiling import DEFAULT_MARGIN, auto_tile_pixels, resolve_tile, stylize_uint8


class ImageStylizer:
    """What every way of stylizing shares: PIL/tensor in and out, files, alpha, and
    ``preserve_color`` (keep the photo's colours, take the style's lightness).

    Subclasses set ``name`` and implement :meth:`stylize_tensor`.
    """

    name: str = "style"
    preserve_color: bool = False

    def stylize_tensor(self, images: Tensor) -> Tensor:
        """N×3×H×W in [0, 1] -> N×3×H×W in [0, 1], on the input's device."""
        raise NotImplementedError

    def finish(self, stylized: Tensor, photo: Tensor) -> Tensor:
        """What every output gets after the stylizer proper: with ``preserve_color``, the
        photo's colours (per pixel, so it runs tile by tile)."""
        return keep_photo_colors(stylized, photo.to(stylized.device)) if self.preserve_color else stylized

    def stylize_pixels(self, pixels: Tensor, thumbnail: Tensor | None = None) -> Tensor:
        """H×W×3 uint8 -> H×W×3 uint8 (what images go through; models tile large ones).
        ``thumbnail`` (1×3×h×w float): where models take image-wide statistics from instead of
        the image's own (the frames of a video shot share one, see temporal.py)."""
        photo = from_uint8(pixels)
        return to_uint8(self.finish(self.stylize_tensor(photo), photo))[0]

    @overload
    def __call__(self, image: Image.Image) -> Image.Image: ...
    @overload
    def __call__(self, image: Tensor) -> Tensor: ...

    def __call__(self, image):
        """Stylize a PIL image (alpha kept) or a 3×H×W / N×3×H×W tensor in [0, 1]."""
        if isinstance(image, Tensor):
            batched = image if image.ndim == 4 else image.unsqueeze(0)
            out = self.finish(self.stylize_tensor(batched), batched)
            return out if image.ndim == 4 else out[0]
        alpha = image.getchannel("A") if image.mode in ("RGBA", "LA", "PA") else None
        # Bytes, not floats, until a tile is run: 4x less memory for large photos.
        pixels = torch.from_numpy(np.array(image.convert("RGB") if image.mode != "RGB" else image))
        out = Image.fromarray(self.stylize_pixels(pixels).numpy())
        if alpha is not None:
            out.putalpha(alpha)
        return out

    def stylize_file(self, source: str | Path, destination: str | Path, max_size: int | None = None) -> Path:
        """Read `source`, stylize it, write `destination` (format by extension, alpha kept)."""
        save_image(self(open_image(source, max_size=max_size)), destination)
        return Path(destination)

    def video(self, source: str | Path, destination: str | Path, max_size: int | None = None,
              blend: float = 0.0, progress: bool = True):  # fmt: skip
        """Stylize a clip into `destination` (.mp4, .mkv, .mov, .webm), sound, timing and rotation
        kept; ``blend`` > 0 adds flow-guided blending of the previous frame (``--stable``, see
        temporal.py). Returns a video.VideoResult. Needs brushwork[video]."""
        from brushwork.inference.video import stylize_video

        return stylize_video(self, source, destination, max_size=max_size, blend=blend, progress=progress)

    def frames(self, frames: Iterable[np.ndarray], blend: float = 0.0) -> Iterator[np.ndarray]:
        """Stylize a stream of H×W×3 uint8 frames (numpy, one shot or several) as :meth:`video` does."""
        from brushwork.inference.temporal import VideoStylizer

        video = VideoStylizer(self, blend=blend)
        return (video(frame) for frame in frames)


class Stylizer(ImageStylizer):
    """A loaded style model. ``Stylizer.from_file("starry_night")(photo)`` returns the stylized photo.

    ``strength`` (0 returns the photo, 1 the trained style, up to the model's --max-strength)
    and ``mix`` (style name -> weight, for models of several styles; default their first
    style) need a model trained for them (conditioning.py); ``preserve_color`` works with any.

    ``tile``: None tiles large images automatically (over 4 MP on a CPU; on a GPU, what would
    not fit in half its free memory), 0 never tiles, N uses N-pixel tiles (see tiling.py).
    ``engine``: "torch" or "onnx" (onnxruntime, CPU or CUDA). ``precision``: fp32, bf16 or
    fp16 (GPU) autocast. ``compile``: torch.compile the generator (CUDA only; worth it for
    batches: each new image size compiles once).
    """

    def __init__(
        self,
        generator: nn.Module | None,
        metadata: dict[str, Any],
        device: torch.device,
        tile: int | None = None,
        engine: str = "torch",
        precision: str = "fp32",
        runner: TorchEngine | OnnxEngine | None = None,
        compile: bool = False,
        strength: float = 1.0,
        mix: dict[str, float] | None = None,
        preserve_color: bool = False,
    ):
        if tile is not None and tile < 0:
            raise BrushworkError(f"--tile must be 0 (never tile) or a tile size in pixels (got {tile})")
        if engine not in ENGINES:
            raise BrushworkError(f"--engine must be one of {', '.join(ENGINES)} (got {engine!r})")
        if engine == "onnx" and precision != "fp32":
            raise BrushworkError(f"--precision {precision} is for the torch engine; the ONNX export runs in float32")
        if engine == "onnx" and compile:
            raise BrushworkError("--compile is for the torch engine (torch.compile), not onnx")
        self.generator = generator
        self.metadata = metadata
        self.tile = tile
        self.preserve_color = preserve_color
        self._set_condition(strength, mix)
        if runner is not None:
            self.engine = runner
        elif engine == "onnx":
            from brushwork.inference.export import onnx_bytes

            self.engine = OnnxEngine(onnx_bytes(generator, metadata), source=self.name)
        else:
            self.engine = TorchEngine(generator, device, precision, compile)
        self.device = self.engine.device
        # Johnson's network normalises each tile by itself, so its tiles differ slightly at the borders.
        self.local = metadata.get("generator", {}).get("arch", "brushwork") == "brushwork"

    def _set_condition(self, strength: float, mix: dict[str, float] | None) -> None:
        self.strength, self.mix = strength, mix
        self.cond = condition(self.metadata, strength, mix)
        self.name = self.metadata.get("style_name", "style")
        if len(self.styles) > 1:
            weights = mix or {self.styles[0]: 1.0}
            self.name += " (" + " + ".join(f"{k} {v:g}" if len(weights) > 1 else k for k, v in weights.items()) + ")"
        if strength != 1:
            self.name += f" at strength {strength:g}"

    def with_options(
        self, strength: float | None = None, mix: dict[str, float] | None = None, preserve_color: bool | None = None
    ) -> "Stylizer":
        """The same loaded model with another strength, style mix or colour setting (shares
        the weights and engine; what is not given is kept)."""
        other = copy.copy(self)
        other.preserve_color = self.preserve_color if preserve_color is None else preserve_color
        other._set_condition(self.strength if strength is None else strength, self.mix if mix is None else mix)
        return other

    @property
    def styles(self) -> list[str]:
        """The names of the styles this model paints (one for most models)."""
        return style_names(self.metadata)

    @classmethod
    def from_file(
        cls,
        model: str | Path = DEFAULT_STYLE,
        device: str = "auto",
        tile: int | None = None,
        engine: str = "torch",
        precision: str = "fp32",
        compile: bool = False,
        strength: float = 1.0,
        mix: dict[str, float] | None = None,
        preserve_color: bool = False,
    ) -> "Stylizer":
        """Load a model file (.safetensors, or an ONNX export), or a bundled style by name."""
        options = {"strength": strength, "mix": mix, "preserve_color": preserve_color, "compile": compile}
        if str(model).lower().endswith(".onnx"):
            if not Path(model).is_file():
                raise BrushworkError(f"{model}: no such model file")
            runner = OnnxEngine(model, source=str(model))
            return cls(None, runner.metadata(), runner.device, tile, "onnx", runner=runner, **options)
        resolved = pick_device(device)
        generator, metadata = load_model(resolve_model(model), device=resolved)
        return cls(generator, metadata, resolved, tile, engine, precision, **options)

    def stylize_tensor(self, images: Tensor) -> Tensor:
        """N×3×H×W in [0, 1] -> N×3×H×W in [0, 1], on the input's device (one whole pass)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N×3×H×W images, got shape {tuple(images.shape)}")
        return self.engine(images, cond=self.cond).to(images.device)

    def stylize_pixels(self, pixels: Tensor, thumbnail: Tensor | None = None) -> Tensor:
        """H×W×3 uint8 -> H×W×3 uint8, tiled when large (bounded memory, no seams); with
        ``thumbnail``, its statistics instead of the image's own."""
        tile = resolve_tile(pixels.shape[0], pixels.shape[1], self.tile, auto_tile_pixels(self.device))
        if not self.local and tile:
            warnings.warn(
                f"{self.name} normalises over the whole image, so its tiles may not match at the borders", stacklevel=2
            )
        small = None if thumbnail is None else thumbnail.to(self.device)
        if self.engine.uses_thumbnail and tile and small is None:  # every tile gets the whole image's statistics
            small = make_thumbnail(pixels.permute(2, 0, 1).unsqueeze(0)).to(self.device)

        def run(tile: Tensor) -> Tensor:
            return self.finish(self.engine(tile, small, self.cond), tile)

        # Tiles start on the model's stride grid (an ONNX file without its network: brushwork's 8).
        multiple = getattr(self.generator, "size_multiple", 8)
        return stylize_uint8(run, pixels, tile=tile, margin=DEFAULT_MARGIN, multiple=multiple, device=self.device)


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
        if len(inputs) == 1 and not Path(inputs[0]).exists():  # the input is what is wrong, not the output
            raise BrushworkError(f"{inputs[0]}: no such file or directory")
        raise BrushworkError(f"{output}: an output file needs exactly one input image; give a folder instead")
    pairs: list[tuple[Path, Path]] = []
    problems: list[str] = []
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
            pairs.append((source, (base / relative).with_suffix(suffix or source.suffix)))
    return distinct_outputs(pairs, problems)


def distinct_outputs(pairs: list[tuple[Any, Path]], problems: list[str]) -> tuple[list[tuple[Any, Path]], list[str]]:
    """The (source, destination) pairs whose destination no earlier pair has taken (a.jpg and
    a.png side by side, with one output format); each dropped one is added to `problems`."""
    seen: set[Path] = set()
    kept = []
    for source, destination in pairs:
        if destination in seen:
            problems.append(f"{source}: output {destination} would overwrite another output")
            continue
        seen.add(destination)
        kept.append((source, destination))
    return kept, problems


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
        problem = stylize_pair(stylizer, source, destination, max_size)
        if problem:
            report.failed.append(problem)
        else:
            report.written.append(Path(destination))
    return report


def stylize_pair(stylizer: ImageStylizer, source: Path, destination: Path, max_size: int | None = None) -> str | None:
    """Stylize one planned pair (:func:`plan_outputs`): None once written, else the one-line
    "path: reason" of why not. Folder runs and batch jobs (brushwork.batch) share it, so they
    write the same bytes."""
    if os.path.realpath(destination) == os.path.realpath(source):  # never raises, even for a symlink loop
        return f"{source}: output would overwrite the input"
    try:
        stylizer.stylize_file(source, destination, max_size=max_size)
    except BrushworkError as exc:
        return naming(exc, source, destination)
    return None
