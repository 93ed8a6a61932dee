"""Per-image optimisation (Gatys et al. 2016): the quality reference a trained generator is held against.

No training: the output pixels themselves are optimised, starting from the photo, to lower
the same content + sliced Wasserstein style loss that `brushwork train` gives the generator
(perceptual/objective.py: same layers, same calibration, same weights). Slow (seconds to
minutes per image), but it works with any painting and shows what the loss can reach for
that photo.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from brushwork.devices import pick_device
from brushwork.errors import BrushworkError
from brushwork.inference.stylize import ImageStylizer
from brushwork.perceptual.color_matching import match_colors
from brushwork.perceptual.features import feature_network, resolve_layers
from brushwork.perceptual.objective import PerceptualObjective
from brushwork.perceptual.options import OptimizeConfig
from brushwork.perceptual.style_images import open_style

class StyleOptimizer(ImageStylizer):
    """Stylizes each photo by optimising its pixels. The style's targets are taken once.

    ``StyleOptimizer(OptimizeConfig(style="painting.jpg"))(photo)``; ``last_losses`` holds
    the total loss after every step of the most recent image.
    """

    def __init__(self, config: OptimizeConfig, progress: bool = False):
        config.validate()
        config.content_layer, config.style_layers = resolve_layers(config.backbone, config.content_layer, config.style_layers)
        self.config = config
        self.progress = progress
        self.device = pick_device(config.device)
        self.style = open_style(config.style, config.style_size)
        self.name = f"{self.style.name} (optimised)"
        layers = tuple(dict.fromkeys((*config.style_layers, config.content_layer)))
        weights = config.vgg_weights or None
        self.vgg = feature_network(layers, config.backbone, weights).to(self.device)
        paintings = list(self.style.images())
        # With match_colors the targets are taken again for each photo, from recoloured paintings.
        self.paintings = paintings if config.match_colors else None
        self._set_style(paintings)
        self.last_losses: list[float] = []

    def _set_style(self, paintings: list[Tensor]) -> None:
        """The objective with the style targets of `paintings` (1×3×h×w each): training's, so
        the weights mean the same thing."""
        config = self.config
        self.objective = PerceptualObjective(self.vgg, config.style_layers, [paintings], self.device, config.content_layer)

    def loss(self, image: Tensor, photo_target: dict[str, Tensor], rng: torch.Generator | None = None) -> Tensor:
        """The training objective for one image (1×3×H×W) against the photo's content target."""
        config = self.config
        features = self.objective.features(image)
        total = config.content_weight * self.objective.content(features, photo_target)
        return total + config.style_weight * self.objective.style(features, rng=rng)

    def stylize_tensor(self, images: Tensor) -> Tensor:
        """N×3×H×W in [0, 1] -> N×3×H×W in [0, 1]; each image is optimised on its own."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N×3×H×W images, got shape {tuple(images.shape)}")
        if min(images.shape[-2:]) < self.objective.min_size:
            raise BrushworkError(
                f"image is {images.shape[-2]}x{images.shape[-1]}; --optimize needs at least "
                f"{self.objective.min_size} pixels on each side"
            )
        return torch.cat([self._optimise(image[None].to(self.device)) for image in images]).to(images.device)

    def _optimise(self, photo: Tensor) -> Tensor:
        config = self.config
        with torch.no_grad():
            if self.paintings is not None:
                self._set_style(match_colors(self.paintings, photo))
            photo_target = self.objective.content_target(photo)
        # The style distances in units of this photo's own (objective.py), as training's are in its photos'.
        rng = torch.Generator().manual_seed(0)
        self.objective.calibrate(photo, rng)
        image = photo.clone(memory_format=torch.contiguous_format).requires_grad_(True)
        if config.optimizer == "lbfgs":
            optimizer = torch.optim.LBFGS([image], lr=config.lr or 1.0, max_iter=1, history_size=50)
        else:
            optimizer = torch.optim.Adam([image], lr=config.lr or 0.02)
        self.last_losses = []

        def closure() -> Tensor:
            optimizer.zero_grad(set_to_none=True)
            total = self.loss(image, photo_target, rng)
            total.backward()
            return total

        bar = tqdm(range(config.steps), desc=self.name, unit="step", leave=False, disable=not self.progress)
        for _ in bar:
            total = optimizer.step(closure)
            with torch.no_grad():
                image.clamp_(0.0, 1.0)  # pixels stay valid colours
            self.last_losses.append(float(total.detach()))
            bar.set_postfix(loss=f"{self.last_losses[-1]:.4g}", refresh=False)
        return image.detach()

    def stylize_file(self, source: str | Path, destination: str | Path, max_size: int | None = None) -> Path:
        """As :meth:`ImageStylizer.stylize_file`, at most ``config.size`` pixels on the longer side."""
        size = min(max_size, self.config.size) if max_size else self.config.size
        return super().stylize_file(source, destination, max_size=size)

