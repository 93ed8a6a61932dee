"""The perceptual objective: content loss + Gram style loss under one frozen feature network.

One definition, used by training (the generator's loss), per-image optimisation (the pixels'
loss) and evaluation (the Gram distance of an output to the painting), so that "style loss"
means the same number everywhere. Both terms are relative: the content error is divided by
the photo features' mean square, each layer's Gram error by its target's, so the weights mean
the same for every backbone, layer and painting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

from brushwork.perceptual.losses import content_loss, gram_matrix, relative_layer_weights, style_loss


@torch.no_grad()
def mean_grams(network: nn.Module, images: Iterable[Tensor], layers: Sequence[str], device: torch.device | str) -> dict[str, Tensor]:
    """Mean Gram matrix per layer over style images (1×3×H×W each): layer -> 1×C×C float32."""
    sums: dict[str, Tensor] = {}
    count = 0
    for image in images:
        features = network(image.to(device))
        for layer in layers:
            gram = gram_matrix(features[layer].float())
            sums[layer] = sums[layer] + gram if layer in sums else gram
        count += 1
    if not count:
        raise ValueError("no style images")
    return {layer: total / count for layer, total in sums.items()}


class PerceptualObjective:
    """Content and style terms against the Gram targets of one or several styles.

    ``network``: a frozen feature network (perceptual/features.py) returning at least
    `content_layer` (if given) and `style_layers`. ``paintings``: per style, its image(s).
    ``layer_weights``: the user's weight per style layer (default 1 each).
    """

    def __init__(
        self,
        network: nn.Module,
        style_layers: Sequence[str],
        paintings: Sequence[Iterable[Tensor]],
        device: torch.device | str,
        content_layer: str = "",
        layer_weights: Mapping[str, float] | None = None,
    ):
        self.network, self.content_layer, self.style_layers = network, content_layer, tuple(style_layers)
        self.targets = [mean_grams(network, images, self.style_layers, device) for images in paintings]
        self.layer_weights = [relative_layer_weights(targets, layer_weights) for targets in self.targets]

    def features(self, images: Tensor) -> dict[str, Tensor]:
        return self.network(images)

    def content(self, features: Mapping[str, Tensor], photo_content: Tensor) -> Tensor:
        """Relative content error of an output's features against the photo's `content_layer` map."""
        photo_content = photo_content.float()
        return content_loss(features[self.content_layer].float(), photo_content, photo_content.pow(2).mean().clamp_min(1e-12))

    def style(self, features: Mapping[str, Tensor], style: int = 0, sample_weights: Tensor | None = None) -> Tensor:
        """Weighted sum over the style layers of the relative Gram error to style `style`
        (each sample's part weighted by `sample_weights`, training's strengths)."""
        grams = {layer: gram_matrix(features[layer].float()) for layer in self.style_layers}
        return style_loss(grams, self.targets[style], self.layer_weights[style], sample_weights)

    def style_distance(self, features: Mapping[str, Tensor], style: int = 0) -> float:
        """The style term averaged over layers: how evaluation reports a Gram distance."""
        return float(self.style(features, style)) / len(self.style_layers)
