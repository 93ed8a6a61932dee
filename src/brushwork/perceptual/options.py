"""The loss networks' names and the loss settings' defaults, shared by training, per-image
optimisation and the command line, and the options of `stylize --optimize`. Imports nothing
heavy: `brushwork stylize` builds its flags from here without loading the feature networks."""

from __future__ import annotations

from dataclasses import dataclass

from brushwork.errors import BrushworkError

BACKBONES = ("efficientnet-lite0", "vgg19", "random")
DEFAULT_BACKBONE = "efficientnet-lite0"
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 1.0
STYLE_SIZE = 512  # longer side of a single painting when its Gram target is taken


@dataclass
class OptimizeConfig:
    """Options of `brushwork stylize --optimize`; the loss settings default to training's."""

    style: str  # one painting, or a folder of paintings
    steps: int = 200
    size: int = 384  # longer side the photo is optimised at (never upscaled)
    # Adam: the style term draws new directions at every step, and L-BFGS's curvature estimate
    # does not survive that (it stayed near the photo where Adam painted; docs/method.md).
    optimizer: str = "adam"  # "adam" or "lbfgs"
    lr: float = 0.0  # 0: the optimiser's own default (L-BFGS 1.0, Adam 0.02)
    style_size: int = STYLE_SIZE
    content_weight: float = CONTENT_WEIGHT
    style_weight: float = STYLE_WEIGHT
    content_layer: str = ""
    style_layers: tuple[str, ...] = ()  # empty: the backbone's own (features.default_layers)
    backbone: str = DEFAULT_BACKBONE
    vgg_weights: str = ""
    device: str = "auto"
    # Recolour the painting(s) to each photo's colours before taking the targets
    # (color_matching.match_colors): the strokes come out in the photo's palette.
    match_colors: bool = False

    def validate(self) -> None:
        for name in ("steps", "size", "style_size"):
            if getattr(self, name) <= 0:
                raise BrushworkError(f"--{name.replace('_', '-')} must be positive (got {getattr(self, name)})")
        if self.optimizer not in ("lbfgs", "adam"):
            raise BrushworkError(f"--optimizer must be lbfgs or adam (got {self.optimizer!r})")
        if self.vgg_weights and self.backbone != "vgg19":
            raise BrushworkError(f"--vgg-weights is for --backbone vgg19 (got --backbone {self.backbone})")
        for name in ("lr", "content_weight", "style_weight"):
            if getattr(self, name) < 0:
                raise BrushworkError(f"--{name.replace('_', '-')} must be >= 0 (got {getattr(self, name)})")
