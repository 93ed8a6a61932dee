"""Loss functions: small pure functions on tensors.

Adversarial objective: hinge loss with spectral-norm discriminators (Miyato et al. 2018,
Zhang et al. 2019). Why this one: the hinge stops rewarding D once a patch is classified
with margin, so a discriminator that sees only crops of a single painting cannot drive its
logits (and G's gradients) to extremes; spectral norm bounds D's Lipschitz constant without
the extra backward pass that R1 needs, which matters on a 2-core CPU. In our measurements
(design notes) this pair moved colour and patch statistics towards the painting cheaply and
trained without divergence; LSGAN and the non-saturating loss are kept for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

PALETTE_PIXELS = 65536  # colours sampled from the painting(s) once, for the palette loss
PALETTE_DIRECTIONS = 32  # random projections per call (colour space is 3-D)


# The loss network sees the output and the photo through the same small random shift and
# rescale each step (see jittered_views).
JITTER_SHIFT = 4  # pixels, at most
JITTER_SCALE = 0.15  # relative, either way


def jittered_views(photos: Tensor, stylized: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
    """Both batches rescaled by one random factor in [1 − JITTER_SCALE, 1 + JITTER_SCALE] and
    cropped at one random offset of 0..JITTER_SHIFT pixels (the same view of both, so the
    content loss still compares aligned pixels).

    Why: the loss network downsamples by strides of 2 up to 32, so against a fixed pixel grid a
    generator can lower the Gram loss with a periodic pattern that matches those strides (a
    regular diagonal hatching, measured in docs/method.md). A pattern that pays off only on
    one grid stops paying when the grid moves every step; brush strokes keep paying.
    """
    h, w = stylized.shape[-2:]
    scale = 1 + JITTER_SCALE * (2 * torch.rand((), generator=rng).item() - 1)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    dy, dx = (int(v) for v in torch.randint(0, JITTER_SHIFT + 1, (2,), generator=rng))

    def view(images: Tensor) -> Tensor:
        resized = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        return resized[:, :, dy : size[0] - JITTER_SHIFT + dy, dx : size[1] - JITTER_SHIFT + dx]

    return view(photos), view(stylized)


def gram_matrix(features: Tensor) -> Tensor:
    """Normalised Gram matrix.

    Args:
        features: N×C×H×W feature maps.
    Returns:
        N×C×C, ``F Fᵀ / (C·H·W)`` with F the C×(H·W) map of each sample.
    """
    n, c, h, w = features.shape
    # N×HW×C: a view of the channels-last maps the feature network returns (no copy).
    flat = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return torch.bmm(flat.transpose(1, 2), flat) / (c * h * w)


def content_loss(features: Tensor, target: Tensor, scale: float | Tensor = 1.0) -> Tensor:
    """Mean squared feature difference, i.e. normalised by the map size.

    Args:
        features, target: N×C×H×W maps of the output and of the photo.
        scale: divides the loss; training passes the photo features' mean square so the
            loss is relative and its weight means the same for every backbone.
    Returns:
        scalar.
    """
    return F.mse_loss(features, target) / scale


def style_loss(
    grams: Mapping[str, Tensor],
    targets: Mapping[str, Tensor],
    layer_weights: Mapping[str, float | Tensor],
    sample_weights: Tensor | None = None,
) -> Tensor:
    """Weighted sum over layers of the MSE between Gram matrices.

    Args:
        grams: layer name -> N×C×C Gram matrices of the output.
        targets: layer name -> 1×C×C (broadcast over the batch) or N×C×C target Grams.
        layer_weights: layer name -> weight; only these layers are summed.
        sample_weights: N weights, one per sample (training's strengths); default all 1.
    Returns:
        scalar.
    """
    total = grams[next(iter(layer_weights))].new_zeros(())
    for name, weight in layer_weights.items():
        error = (grams[name] - targets[name].expand_as(grams[name])).pow(2)
        total = total + weight * _weighted_mean(error, sample_weights)
    return total


def _weighted_mean(values: Tensor, sample_weights: Tensor | None) -> Tensor:
    """The mean of N×... `values`, each sample's part weighted (plain mean without weights)."""
    if sample_weights is None:
        return values.mean()
    return (values.flatten(1).mean(1) * sample_weights).mean()


def palette_loss(
    images: Tensor, palette: Tensor, directions: int, generator: torch.Generator, samples: int = 8192
) -> Tensor:
    """Sliced Wasserstein-2 distance (squared) between the colours of ``images`` and a palette.

    The Gram loss sees colour only through the feature network's first filters; this term
    compares the RGB distributions themselves (the histogram losses of Risser et al. 2017 and
    the sliced Wasserstein loss of Heitz et al. 2021, here on pixels): ``samples`` colours of
    each set are projected on random unit directions, sorted, and matched quantile by quantile.

    Args:
        images: N×3×H×W in [0, 1].
        palette: k×3 RGB values in [0, 1] sampled from the style images.
        directions, samples: drawn at random from ``generator`` (a CPU generator) on each call.
    Returns:
        scalar: mean squared difference of matched quantiles.
    """
    pixels = images.permute(0, 2, 3, 1).reshape(-1, 3).float()
    ours = pixels[torch.randint(len(pixels), (samples,), generator=generator).to(pixels.device)]
    theirs = palette[torch.randint(len(palette), (samples,), generator=generator).to(palette.device)].to(pixels)
    dirs = torch.randn(3, directions, generator=generator).to(pixels)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    # directions×samples, sorted along the contiguous dimension.
    ours, theirs = (torch.sort(dirs.T @ x.T, dim=1).values for x in (ours, theirs))
    return (ours - theirs).pow(2).mean()


def relative_layer_weights(
    targets: Mapping[str, Tensor], weights: Mapping[str, float] | None = None
) -> dict[str, Tensor]:
    """Per-layer style weights that make each layer's Gram error relative to its target.

    Args:
        targets: layer name -> 1×C×C target Gram.
        weights: layer name -> user weight (default 1 for every target layer).
    Returns:
        layer name -> ``weight / mean(target²)``: with these, :func:`style_loss` is a sum of
        relative errors, so the layers (and the ImageNet and random backbones, whose
        activation scales differ) are on a comparable footing.
    """
    weights = weights if weights is not None else dict.fromkeys(targets, 1.0)
    return {layer: weight / targets[layer].pow(2).mean().clamp_min(1e-12) for layer, weight in weights.items()}


def total_variation_loss(images: Tensor) -> Tensor:
    """Mean absolute difference of neighbouring pixels (anisotropic TV).

    Args:
        images: N×C×H×W.
    Returns:
        scalar.
    """
    dy = (images[:, :, 1:, :] - images[:, :, :-1, :]).abs().mean()
    dx = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs().mean()
    return dx + dy


def discriminator_loss(real: Sequence[Tensor], fake: Sequence[Tensor], kind: str = "hinge") -> Tensor:
    """Discriminator loss averaged over the scales of a multi-scale discriminator.

    Args:
        real, fake: per scale, N×1×h×w patch logits for real style images and for G's
            (detached) outputs.
        kind: "hinge", "nonsaturating" or "lsgan".
    Returns:
        scalar.
    """
    losses = []
    for r, f in zip(real, fake, strict=True):
        if kind == "hinge":
            losses.append(F.relu(1 - r).mean() + F.relu(1 + f).mean())
        elif kind == "nonsaturating":
            losses.append(F.softplus(-r).mean() + F.softplus(f).mean())
        elif kind == "lsgan":
            losses.append(((r - 1) ** 2).mean() + (f**2).mean())
        else:
            raise ValueError(f"unknown GAN loss {kind!r}")
    return torch.stack(losses).mean()


def generator_adversarial_loss(
    fake: Sequence[Tensor], kind: str = "hinge", sample_weights: Tensor | None = None
) -> Tensor:
    """Generator's adversarial loss, averaged over scales.

    Args:
        fake: per scale, N×1×h×w patch logits for G's outputs (not detached).
        kind: "hinge", "nonsaturating" or "lsgan".
        sample_weights: N weights, one per sample (training's strengths); default all 1.
    Returns:
        scalar.
    """
    losses = []
    for f in fake:
        if kind == "hinge":
            losses.append(_weighted_mean(-f, sample_weights))
        elif kind == "nonsaturating":
            losses.append(_weighted_mean(F.softplus(-f), sample_weights))
        elif kind == "lsgan":
            losses.append(_weighted_mean((f - 1) ** 2, sample_weights))
        else:
            raise ValueError(f"unknown GAN loss {kind!r}")
    return torch.stack(losses).mean()
