"""Perceptual loss terms: small pure functions on tensors (perceptual/objective.py puts them
together; the adversarial terms live with the discriminator, training/discriminator.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_grayscale
from torch import Tensor

# The loss network sees the output and the photo through the same small random shift and
# rescale each step (see jittered_views).
JITTER_SHIFT = 4  # pixels, at most
JITTER_SCALE = 0.15  # relative, either way


def smallest_view(side: int) -> int:
    """The smallest side :func:`jittered_views` makes of a `side`-pixel crop."""
    return max(8, round(side * (1 - JITTER_SCALE))) - JITTER_SHIFT


def jittered_views(photos: Tensor, stylized: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
    """Both batches rescaled by one random factor in [1 − JITTER_SCALE, 1 + JITTER_SCALE] and
    cropped at one random offset of 0..JITTER_SHIFT pixels, and mirrored left to right half
    the time (the same view of both, so the content loss still compares aligned pixels).

    Why: the loss network downsamples by strides of 2 up to 32, so against a fixed pixel grid a
    generator can lower the Gram loss with a periodic pattern that matches those strides (a
    regular diagonal hatching, measured in docs/method.md). A pattern that pays off only on
    one grid stops paying when the grid moves every step; brush strokes keep paying. The
    mirror: Lite0's stride-2 convs pad only the right and bottom borders, so the loss saw the
    left border differently from the right, and models painted a band down one side.
    """
    h, w = stylized.shape[-2:]
    scale = 1 + JITTER_SCALE * (2 * torch.rand((), generator=rng).item() - 1)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    dy, dx = (int(v) for v in torch.randint(0, JITTER_SHIFT + 1, (2,), generator=rng))
    mirrored = torch.rand((), generator=rng).item() < 0.5

    def view(images: Tensor) -> Tensor:
        resized = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        cropped = resized[:, :, dy : size[0] - JITTER_SHIFT + dy, dx : size[1] - JITTER_SHIFT + dx]
        return cropped.flip(-1) if mirrored else cropped

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


def random_directions(channels: int, count: int, rng: torch.Generator | None = None) -> Tensor:
    """`count` random unit vectors in `channels` dimensions (uniform on the sphere), C×K."""
    directions = torch.randn(channels, count, generator=rng)
    return directions / directions.norm(dim=0, keepdim=True)


def sorted_projections(samples: Tensor, directions: Tensor) -> Tensor:
    """Projections of feature vectors on directions, sorted: the 1-D distributions that
    sliced Wasserstein distances compare.

    Args:
        samples: ...×M×C feature vectors; directions: C×K.
    Returns:
        ...×K×M, ascending along the last (contiguous) dimension, where sorting is fastest.
    """
    return torch.sort((samples @ directions.to(samples)).transpose(-1, -2), dim=-1).values


def sliced_wasserstein_loss(samples: Tensor, target: Tensor, directions: Tensor) -> Tensor:
    """Squared sliced Wasserstein-2 distance of each sample's feature distribution to a target's
    (Heitz et al., CVPR 2021): along each direction, the mean squared difference of the sorted
    projections, the target's taken at the sample's quantile levels (so the counts may differ).

    Args:
        samples: N×M×C, the feature vectors of N images (M positions each).
        target: T×C, the target's feature vectors (e.g. every position of a painting's map).
        directions: C×K unit vectors (:func:`random_directions`); a new draw each step
            makes K directions cover the whole space over training.
    Returns:
        N, one distance per image.
    """
    projected, wanted = sorted_projections(samples, directions), sorted_projections(target.to(samples), directions)
    m, t = projected.shape[-1], wanted.shape[-1]
    levels = ((torch.arange(m, device=samples.device) + 0.5) * (t / m)).long()
    return (projected - wanted[:, levels]).pow(2).mean(dim=(1, 2))


def mean_grams(feature_maps: Iterable[Mapping[str, Tensor]], layers: Sequence[str]) -> dict[str, Tensor]:
    """The mean Gram matrix per layer over several images' feature maps (1×C×H×W each):
    layer -> 1×C×C float32. Evaluation's Gram distances compare outputs with these."""
    sums: dict[str, Tensor] = {}
    count = 0
    for features in feature_maps:
        for layer in layers:
            gram = gram_matrix(features[layer].float())
            sums[layer] = sums[layer] + gram if layer in sums else gram
        count += 1
    if not count:
        raise ValueError("no style images")
    return {layer: total / count for layer, total in sums.items()}


def gram_distance(features: Mapping[str, Tensor], targets: Mapping[str, Tensor]) -> float:
    """The relative Gram error of one image's maps to the targets, averaged over the layers
    (each layer's squared error divided by its target's mean square; 0: the same statistics)."""
    grams = {layer: gram_matrix(features[layer].float()) for layer in targets}
    return float(style_loss(grams, targets, relative_layer_weights(targets))) / len(targets)


def tonal_layout(colors: Tensor) -> Tensor:
    """N×3×h×w colours (a picture average-pooled) -> N×(h·w) luminance, standardised per
    picture (zero mean, unit mean square): where the picture is light and where dark, whatever
    its overall brightness and contrast."""
    luminance = rgb_to_grayscale(colors.float()).flatten(1)
    luminance = luminance - luminance.mean(1, keepdim=True)
    return luminance * torch.rsqrt(luminance.pow(2).mean(1, keepdim=True) + 1e-8)


def tone_loss(layout: Tensor, target: Tensor) -> Tensor:
    """1 − the correlation of two tonal layouts (:func:`tonal_layout`), averaged over the
    batch: 0 when the light and dark areas sit where the photo's do (at any brightness and
    contrast), 1 when unrelated, 2 when inverted."""
    return (1 - (layout * target).mean(1)).mean()


def quadratic_colour_basis(colors: Tensor) -> Tensor:
    """N×3×P colours -> N×P×10: 1, r, g, b and their squares and products, the terms of any
    quadratic function of a colour."""
    r, g, b = colors.unbind(1)
    return torch.stack([torch.ones_like(r), r, g, b, r * r, g * g, b * b, r * g, r * b, g * b], dim=-1)


def unexplained_color(output: Tensor, photo: Tensor, ridge: float = 1e-5) -> Tensor:
    """The share of the output's colour variance that no one function of the photo's colour
    explains, averaged over the batch: 0 when the output recolours the photo consistently
    (every photo colour to one colour, wherever it is), near 1 for colour laid over the photo
    regardless of it (colour clouds). `output`, `photo`: N×3×h×w coarse colours (pictures
    average-pooled); the function is the least-squares quadratic of each picture, found anew
    each call (a ridge of `ridge` keeps it defined on a flat photo)."""
    n = output.shape[0]
    y = output.double().reshape(n, 3, -1).transpose(1, 2)  # N×P×3
    x = quadratic_colour_basis(photo.double().reshape(n, 3, -1))  # N×P×10
    normal = x.transpose(1, 2) @ x + ridge * torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    fitted = x @ torch.linalg.solve(normal, x.transpose(1, 2) @ y)
    residual = (y - fitted).pow(2).sum((1, 2))
    # The floor (a variance of 1e-3 per colour) keeps a near-flat output from dividing by nothing.
    variance = (y - y.mean(1, keepdim=True)).pow(2).sum((1, 2)) + 1e-3 * y.shape[1]
    return (residual / variance).mean().to(output.dtype)


def neighbour_contrast(colors: Tensor) -> Tensor:
    """N×3×h×w coarse colours -> N: the mean colour distance between horizontally and
    vertically neighbouring cells, summed over the two directions: how far apart the picture
    paints its neighbouring areas."""
    colors = colors.float()
    across = (colors[..., :, 1:] - colors[..., :, :-1]).pow(2).sum(1).add(1e-8).sqrt().mean((1, 2))
    down = (colors[..., 1:, :] - colors[..., :-1, :]).pow(2).sum(1).add(1e-8).sqrt().mean((1, 2))
    return across + down


def lost_contrast(output: Tensor, photo: Tensor) -> Tensor:
    """How much of the photo's neighbour contrast (:func:`neighbour_contrast`) the output lost,
    squared and averaged over the batch: 0 when its neighbouring areas are at least as far apart
    as the photo's, 1 when the output is flat. A one-sided hinge: a painting may add contrast."""
    kept = neighbour_contrast(output) / neighbour_contrast(photo).clamp_min(1e-3)
    return torch.relu(1 - kept).pow(2).mean()


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
