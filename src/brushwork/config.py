"""Dataclass configs. Both are saved inside model files and checkpoints, so a model can be
rebuilt (and a run resumed) from the file alone."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import BrushworkError
from .features import BACKBONES, DEFAULT_BACKBONE, default_layers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Generator widths by architecture: brushwork's version-2 default, and Johnson et al.'s 32.
DEFAULT_CHANNELS = {"brushwork": 16, "johnson": 32}
PHOTO_GAIN = 0.4  # start gain of the gated photo path, unless given (GeneratorConfig.photo_gain)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # VGG-19's (evaluation's random VGG)


@dataclass
class GeneratorConfig:
    """Shape of the feed-forward generator (see models/generator.py)."""

    arch: str = "brushwork"  # "brushwork" (models/generator.py) or "johnson" (the baseline, models/johnson.py)
    # Width. brushwork: at 1/2 resolution, 2x at 1/4, 4x at 1/8 where the residual blocks run.
    # 0 picks the architecture's default (DEFAULT_CHANNELS).
    channels: int = 0
    res_blocks: int = 5
    # brushwork generator design: 2 is models/generator.py; 1 (brushwork 0.1, models/generator_v1.py)
    # is only for loading old model files, whose configs have no version.
    version: int = 2

    # Size of the conditioning vector [strength, one weight per style] (0: a model of one style
    # at one strength). Set by training from its styles and --max-strength, not by hand.
    cond_dim: int = 0
    # Opt-in for a model of several styles: the residual blocks' convs get one filter bank per
    # style (models/layers.py, StyleBankConv); the rest stays shared. One trial painted weaker
    # than shared blocks (docs/method.md, "Strength and several styles"), hence opt-in.
    per_style_blocks: bool = False
    # "thumbnail" (default): instance norm with statistics from the whole image's thumbnail
    # (tiles exactly; docs/method.md "Thumbnail normalisation"); "none": purely local layers
    # (models before 0.3); "instance": plain instance norm (each tile by itself: tiles do not match).
    norm: str = "thumbnail"
    # The photo's path to the output: "gated" (default; a learned gain: the network paints the
    # picture), "full" (photo + change; models before 0.3) or "luma" (the gated path on the
    # photo's luminance only).
    residual: str = "gated"
    # Start value of the gated path's gain. It moves little in training, so it sets how much of
    # the photo the network starts from: 0 paints from scratch, 1 starts from the photo. 0.4
    # keeps more of the photo's colours early in training; measured, most fade by the end
    # (docs/bundled-styles.md, "What is still weak").
    # None: PHOTO_GAIN on the gated and luma paths, 0 on the full path (which has no gain).
    photo_gain: float | None = None
    # How the output is kept in [0, 1]: "clamp" (straight-through in training) or "tanh"
    # (0.5 + 0.5·tanh(2(v − 0.5)), smooth). Measured, the gated design with a clamp left much
    # of each picture pure white on a pale painting (docs/method.md, "Output range").
    output_range: str = "clamp"
    # Map each photo's colours to the painting's before the network (color_transfer.py).
    # Off by default: measured, it keeps far more of the photo but stalls brush texture
    # (docs/method.md, "Colour transfer"). Only the version-2 brushwork generator has the stage.
    color_transfer: bool = False
    # How the painted change reaches full resolution: "bilinear" (3 channels at 1/2, enlarged)
    # or "shuffle" (12 channels at 1/2, depth-to-space; models trained before 0.3).
    output_stage: str = "bilinear"

    #: Values that model files and checkpoints written before a field existed were made with.
    LEGACY: ClassVar[dict[str, Any]] = {
        "version": 1, "norm": "none", "residual": "full", "color_transfer": False, "output_range": "clamp",
        "per_style_blocks": False, "output_stage": "shuffle",
    }  # fmt: skip

    @classmethod
    def from_saved(cls, values: dict[str, Any]) -> "GeneratorConfig":
        """The config stored in a model file or checkpoint; keys it lacks take their LEGACY values."""
        return cls(**{**cls.LEGACY, **values})

    def __post_init__(self) -> None:
        if self.photo_gain is None:
            self.photo_gain = PHOTO_GAIN if self.residual in ("gated", "luma") else 0.0
        if self.channels == 0:
            self.channels = DEFAULT_CHANNELS.get(self.arch, 16)
        if self.arch != "brushwork" or self.version != 2:
            self.color_transfer = False


@dataclass
class TrainConfig:
    """Everything `brushwork train` needs. Field names are also the TOML keys and CLI flags."""

    content: str = ""
    # Each a painting or a folder of an artist's paintings, optionally named: "NAME=PATH".
    # Several train one model for all of them (a string is one style).
    style: tuple[str, ...] = ()
    output: str = "style.safetensors"
    name: str = ""  # style name recorded in the model; defaults to the style file/folder stem
    description: str = ""
    run_dir: str = ""  # samples, checkpoints, TensorBoard logs; defaults to runs/<name>
    iterations: int = 800
    batch_size: int = 4
    crop: int = 128
    style_size: int = 512  # longer side of a single painting when its Gram target is taken
    lr_g: float = 2e-3
    lr_d: float = 2e-4
    warmup_steps: int = 100  # learning rates ramp up linearly over these first steps
    # ...then decay along a cosine to this fraction of their start by the last step (1: constant).
    lr_final: float = 0.1
    grad_clip: float = 0.0  # clip the generator's gradient norm to this (0: no clipping)
    content_weight: float = 4.0
    style_weight: float = 20.0
    adversarial_weight: float = 0.3
    tv_weight: float = 0.0
    palette_weight: float = 0.0  # sliced Wasserstein distance of output and painting colours (losses.palette_loss)
    # Strength control: each step adds batch_size // 2 photos at strengths S drawn from
    # [0, max_strength], their style (and adversarial) loss weighted by S, so one model covers
    # them all (0: a model of one strength, 1; a model of several styles still takes blends).
    max_strength: float = 0.0
    adversarial_start: float = 0.2  # fraction of iterations trained without the GAN term first
    # Empty: the backbone's own choice (features.default_layers); weights default to 1 each.
    content_layer: str = ""
    style_layers: tuple[str, ...] = ()
    style_layer_weights: tuple[float, ...] = ()
    backbone: str = DEFAULT_BACKBONE
    random_backbones: int = 1  # with the random backbone: this many VGG-19s (consecutive seeds), one per step in turn
    vgg_weights: str = ""
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # feature network precision: auto, fp32 or bf16
    sample_every: int = 200
    checkpoint_every: int = 500
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)

    def validate(self) -> None:
        """Raise BrushworkError naming the first option that is out of range."""
        positive = ("iterations", "batch_size", "crop", "style_size", "sample_every", "checkpoint_every")
        if self.warmup_steps < 0:
            raise BrushworkError(f"--warmup-steps must be >= 0 (got {self.warmup_steps})")
        for name in positive:
            if getattr(self, name) <= 0:
                raise BrushworkError(f"--{name.replace('_', '-')} must be positive (got {getattr(self, name)})")
        if self.crop < 32:
            raise BrushworkError(f"--crop must be at least 32 pixels (got {self.crop})")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) <= 1:
                raise BrushworkError(f"--{name.replace('_', '-')} must be in (0, 1] (got {getattr(self, name)})")
        if not 0 <= self.lr_final <= 1:
            raise BrushworkError(f"--lr-final must be in [0, 1] (got {self.lr_final})")
        for name in ("content_weight", "style_weight", "adversarial_weight", "tv_weight", "palette_weight", "grad_clip"):
            if getattr(self, name) < 0:
                raise BrushworkError(f"--{name.replace('_', '-')} must be >= 0 (got {getattr(self, name)})")
        if not 0 <= self.adversarial_start <= 1:
            raise BrushworkError(f"--adversarial-start must be in [0, 1] (got {self.adversarial_start})")
        _, layers, _ = self.loss_layers()
        if self.style_layer_weights and len(self.style_layer_weights) != len(layers):
            raise BrushworkError(
                f"--style-layer-weights has {len(self.style_layer_weights)} values for {len(layers)} style layers"
            )
        if self.generator.channels < 4 or self.generator.res_blocks < 0:
            raise BrushworkError("generator channels must be >= 4 and res_blocks >= 0")
        if self.generator.arch not in ("brushwork", "johnson"):
            raise BrushworkError(f"--arch must be brushwork or johnson (got {self.generator.arch!r})")
        if not 0 <= self.max_strength <= 4:
            raise BrushworkError(f"--max-strength must be from 0 to 4 (got {self.max_strength})")
        if self.conditioned:
            if self.generator.arch != "brushwork" or self.generator.version != 2:
                raise BrushworkError("strength control and several styles need the brushwork generator (--arch brushwork)")
            # Strength 0 must give the photo back: the colour stage changes the photo before the network.
            if self.generator.color_transfer:
                raise BrushworkError("strength control and several styles do not work with --color-transfer")
        if self.generator.per_style_blocks and len(self.style_specs()) < 2:
            raise BrushworkError("--per-style-blocks is for a model of several styles (give --style more than once)")
        if self.generator.per_style_blocks and (self.generator.arch != "brushwork" or self.generator.version != 2):
            raise BrushworkError("--per-style-blocks needs the brushwork generator (--arch brushwork)")
        if self.generator.version not in (1, 2):
            raise BrushworkError(f"generator version must be 1 or 2 (got {self.generator.version})")
        if self.generator.norm not in ("thumbnail", "none", "instance"):
            raise BrushworkError(f"--norm must be thumbnail, none or instance (got {self.generator.norm!r})")
        if self.generator.residual not in ("full", "gated", "luma"):
            raise BrushworkError(f"--residual must be full, gated or luma (got {self.generator.residual!r})")
        if self.generator.output_stage not in ("bilinear", "shuffle"):
            raise BrushworkError(f"--output-stage must be bilinear or shuffle (got {self.generator.output_stage!r})")
        if self.generator.output_range not in ("clamp", "tanh"):
            raise BrushworkError(f"--output-range must be clamp or tanh (got {self.generator.output_range!r})")
        if not 0 <= self.generator.photo_gain <= 1:
            raise BrushworkError(f"--photo-gain must be in [0, 1] (got {self.generator.photo_gain})")
        if self.generator.photo_gain and self.generator.residual == "full":
            # The full path has no gain: the value would be silently ignored.
            raise BrushworkError("--photo-gain needs --residual gated or luma (the full path has no gain)")
        if self.backbone not in BACKBONES:
            raise BrushworkError(f"--backbone must be one of {', '.join(BACKBONES)} (got {self.backbone!r})")
        if not 1 <= self.random_backbones <= 16:
            raise BrushworkError(f"--random-backbones must be from 1 to 16 (got {self.random_backbones})")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise BrushworkError(f"--precision must be auto, fp32 or bf16 (got {self.precision!r})")
        if not self.content:
            raise BrushworkError("--content is required (a folder of photos)")
        if not self.style:
            raise BrushworkError("--style is required (a painting or a folder of paintings)")
        names = [name for name, _ in self.style_specs()]
        if len(set(names)) < len(names):
            raise BrushworkError(f"--style: two styles named {sorted(n for n in names if names.count(n) > 1)[0]!r}; name them NAME=PATH")

    def __post_init__(self) -> None:
        self.style = self.styles()

    def loss_layers(self) -> tuple[str, tuple[str, ...], tuple[float, ...]]:
        """(content layer, style layers, style layer weights), the backbone's defaults filled in."""
        return resolve_layers(self.backbone, self.content_layer, self.style_layers, self.style_layer_weights)

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
        for key in ("style", "style_layers", "style_layer_weights"):
            if isinstance(values.get(key), str):
                values[key] = [values[key]]
            if key in values:
                values[key] = tuple(values[key])
        try:
            return cls(generator=generator, **values)
        except TypeError as exc:
            raise BrushworkError(f"{source}: {exc}") from None


def resolve_layers(
    backbone: str, content_layer: str, style_layers: tuple[str, ...], weights: tuple[float, ...] = ()
) -> tuple[str, tuple[str, ...], tuple[float, ...]]:
    """The loss layers a config asks for, with `backbone`'s defaults where it gives none."""
    default_content, default_style = default_layers(backbone)
    style_layers = tuple(style_layers) or default_style
    return content_layer or default_content, style_layers, tuple(weights) or (1.0,) * len(style_layers)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file into a dict, with a one-line error for missing/bad files."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise BrushworkError(f"{path}: no such config file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BrushworkError(f"{path}: not a valid TOML config ({exc})") from None
