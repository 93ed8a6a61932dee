"""The training config: saved inside model files and checkpoints, so a run can be resumed
(and a model's recipe read back) from the file alone. Older files are brought up to date by
brushwork.migrations."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brushwork.devices import DEVICE_HELP
from brushwork.errors import BrushworkError
from brushwork.migrations import drop_removed_options
from brushwork.models.config import GeneratorConfig
from brushwork.perceptual.features import resolve_layers
from brushwork.perceptual.options import BACKBONES, CONTENT_WEIGHT, DEFAULT_BACKBONE, STYLE_SIZE, STYLE_WEIGHT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# `brushwork train`'s flags, in --help order: field -> (the --help group it is listed in, its
# help). cli/parser.py adds them, each with its field's default; every other field is a TOML
# key only. "arch" is the generator's field ([generator] in TOML).
FLAGS: dict[str, tuple[str, str]] = {
    "content": ("what to train on", "folder of photos (searched recursively)"),
    "style": ("what to train on", "a painting (image file) or a folder of an artist's paintings, optionally "
              "NAME=PATH; repeat it to train one model for several styles"),
    "output": ("output", "model file to write (.safetensors)"),
    "name": ("output", "style name stored in the model (default: the style file or folder name)"),
    "description": ("output", "one-line description stored in the model"),
    "run_dir": ("output", "folder for samples, checkpoints and TensorBoard logs (default: runs/NAME)"),
    "iterations": ("training", "training steps"),
    "batch_size": ("training", "photos per step; under torchrun, of all N processes together (each trains "
                   "batch-size/N), so a run optimises the same way on any number of processes"),
    "max_strength": ("training", "train strength control: strengths from 0 to this (e.g. 1.5) for stylize "
                     "--strength; 0: one strength"),
    "init": ("training", "generator to start from: base (the bundled base generator, trained on 20 paintings), "
             "none (random weights) or a model file (default: base, or none for a generator of another shape)"),
    "seed": ("training", "random seed (a run is reproducible, also across --resume)"),
    "content_weight": ("loss", "weight of the content loss (relative feature error)"),
    "style_weight": ("loss", "weight of the style loss (sliced Wasserstein, in units of the unstyled photos' distance)"),
    "adversarial_weight": ("loss", "weight of the adversarial loss (0: no discriminator)"),
    "backbone": ("loss", "loss network: ImageNet EfficientNet-Lite0 from pip, VGG-19 (needs --vgg-weights) or "
                 "random (tests and speed checks only)"),
    "vgg_weights": ("loss", "with --backbone vgg19: torchvision's VGG-19 weights (vgg19-dcbb9e9d.pth)"),
    "arch": ("generator and machine", "generator: brushwork's, or johnson (Johnson et al. 2016, the baseline)"),
    "device": ("generator and machine", DEVICE_HELP),
}  # fmt: skip


@dataclass
class TrainConfig:
    """Everything `brushwork train` needs. Field names are the TOML keys; the CLI has flags
    for the common ones (FLAGS above)."""

    content: str = ""
    # Each a painting or a folder of an artist's paintings, optionally named: "NAME=PATH".
    # Several train one model for all of them (a string is one style).
    style: tuple[str, ...] = ()
    output: str = "style.safetensors"
    name: str = ""  # style name recorded in the model; defaults to the style file/folder stem
    description: str = ""
    run_dir: str = ""  # samples, checkpoints, TensorBoard logs; defaults to runs/<name>
    # The generator to start from (training/base.py): "base", "none" or a model; "" picks
    # base when the generator has its shape. Training records what it resolved to.
    init: str = ""
    # 150 from 0.9's base paint as 400 did from 0.8's (docs/method.md, "A new style in a minute").
    iterations: int = 150
    batch_size: int = 4
    crop: int = 128
    style_size: int = STYLE_SIZE
    lr_g: float = 2e-3
    lr_d: float = 2e-4
    warmup_steps: int = 40  # learning rates ramp up linearly over these first steps
    # ...then decay along a cosine to this fraction of their start by the last step (1: constant).
    lr_final: float = 0.1
    content_weight: float = CONTENT_WEIGHT
    style_weight: float = STYLE_WEIGHT
    adversarial_weight: float = 0.3
    # Strength control: each step adds batch_size // 2 photos at strengths S drawn from
    # [0, max_strength], their style (and adversarial) loss weighted by S, so one model covers
    # them all (0: a model of one strength, 1; a model of several styles still takes blends).
    max_strength: float = 0.0
    adversarial_start: float = 0.2  # fraction of iterations trained without the GAN term first
    # Empty: the backbone's own choice (features.default_layers).
    content_layer: str = ""
    style_layers: tuple[str, ...] = ()
    backbone: str = DEFAULT_BACKBONE
    vgg_weights: str = ""  # with backbone vgg19: a local copy of torchvision's ImageNet weights
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # feature network precision: auto, fp32 or bf16
    sample_every: int = 200
    checkpoint_every: int = 500
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)

    def validate(self) -> None:
        """Raise BrushworkError naming the first option that is out of range or does not apply."""
        if not self.content:
            raise BrushworkError("--content is required (a folder of photos)")
        if not self.style:
            raise BrushworkError("--style is required (a painting or a folder of paintings)")
        for name in ("iterations", "batch_size", "crop", "style_size", "sample_every", "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise BrushworkError(f"{option_name(name)} must be positive (got {getattr(self, name)})")
        if self.warmup_steps < 0:
            raise BrushworkError(f"warmup_steps must be >= 0 (got {self.warmup_steps})")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) <= 1:
                raise BrushworkError(f"{name} must be in (0, 1] (got {getattr(self, name)})")
        if not 0 <= self.lr_final <= 1:
            raise BrushworkError(f"lr_final must be in [0, 1] (got {self.lr_final})")
        for name in ("content_weight", "style_weight", "adversarial_weight"):
            if getattr(self, name) < 0:
                raise BrushworkError(f"{option_name(name)} must be >= 0 (got {getattr(self, name)})")
        if not 0 <= self.adversarial_start <= 1:
            raise BrushworkError(f"adversarial_start must be in [0, 1] (got {self.adversarial_start})")
        if not 0 <= self.max_strength <= 4:
            raise BrushworkError(f"--max-strength must be from 0 to 4 (got {self.max_strength})")
        if self.backbone not in BACKBONES:
            raise BrushworkError(f"--backbone must be one of {', '.join(BACKBONES)} (got {self.backbone!r})")
        if self.vgg_weights and self.backbone != "vgg19":
            raise BrushworkError(f"--vgg-weights is for --backbone vgg19 (this run uses {self.backbone})")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise BrushworkError(f"precision must be auto, fp32 or bf16 (got {self.precision!r})")
        self.generator.validate()
        if self.conditioned and self.generator.arch != "brushwork":
            raise BrushworkError("strength control and several styles need the brushwork generator (--arch brushwork)")
        names = [name for name, _ in self.style_specs()]
        if len(set(names)) < len(names):
            raise BrushworkError(f"--style: two styles named {sorted(n for n in names if names.count(n) > 1)[0]!r}; name them NAME=PATH")

    def __post_init__(self) -> None:
        self.style = self.styles()

    def loss_layers(self) -> tuple[str, tuple[str, ...]]:
        """(content layer, style layers), the backbone's defaults filled in."""
        return resolve_layers(self.backbone, self.content_layer, self.style_layers)

    def styles(self) -> tuple[str, ...]:
        """`style` as a tuple (it may have been set to one path as a string)."""
        if isinstance(self.style, (str, Path)):
            return (str(self.style),) if str(self.style) else ()
        return tuple(map(str, self.style))

    @property
    def conditioned(self) -> bool:
        """Whether the generator takes a conditioning vector (strength control or several styles)."""
        return self.max_strength > 0 or len(self.styles()) > 1

    def style_specs(self) -> list[tuple[str, str]]:
        """(name, path) of each style: "NAME=PATH" as given, else the path's stem; with one
        style, --name names it."""
        specs = []
        styles = self.styles()
        for spec in styles:
            name, sep, path = spec.partition("=")
            if not sep or not name or "/" in name or Path(spec).exists():
                name, path = "", spec
            specs.append((name or (self.name if len(styles) == 1 else "") or Path(path).stem, path))
        return specs

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from plain values (TOML, JSON); unknown keys are an error naming `source`."""
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BrushworkError(f"{source}: unknown option(s) {', '.join(unknown)}")
        generator = values.pop("generator", None) or {}
        if isinstance(generator, dict):
            gen_known = {f.name for f in dataclasses.fields(GeneratorConfig)}
            bad = sorted(set(generator) - gen_known)
            if bad:
                raise BrushworkError(f"{source}: unknown generator option(s) {', '.join(bad)}")
            generator = GeneratorConfig(**generator)
        for key in ("style", "style_layers"):
            if isinstance(values.get(key), str):
                values[key] = [values[key]]
            if key in values:
                values[key] = tuple(values[key])
        try:
            return cls(generator=generator, **values)
        except TypeError as exc:
            raise BrushworkError(f"{source}: {exc}") from None


def option_name(field: str) -> str:
    """How a user names a TrainConfig field: its flag if `brushwork train` has one, else its TOML key."""
    return "--" + field.replace("_", "-") if field in FLAGS else field


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file into a dict, with a one-line error for missing/bad files."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise BrushworkError(f"{path}: no such config file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BrushworkError(f"{path}: not a valid TOML config ({exc})") from None
    return drop_removed_options(values, str(path))
