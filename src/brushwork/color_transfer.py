"""Colour transfer: the first stage of brushwork generators that have one (``color_transfer``).

Each photo's colours are mapped to the painting's with the optimal linear map between two
Gaussians, the linear Monge–Kantorovich map (Pitié & Kokaram 2007):

    x -> m_s + A (x - m_p),   A = P^-1/2 (P^1/2 S P^1/2)^1/2 P^-1/2

where m_p, P are the photo's mean colour and colour covariance and m_s, S the painting's.
Of all linear maps that give the photo the painting's mean and covariance, it moves colours
the least, so shapes and shading stay.

Why a separate stage: the generator's layers are purely local (that is what makes tiling
exact), so it cannot see a photo's overall colours and adapt them per photo; Johnson et
al.'s network does that with instance normalisation, at the cost of tiling. Here the
statistics are taken once per image, from the whole image's thumbnail (thumbnail.py), and
every tile gets the same map, so tiled output still equals whole-image output. Measured in
docs/method.md ("Colour transfer").

Matrix square roots use Newton–Schulz iterations (matrix products only), so the stage
exports to ONNX and TorchScript with the rest of the generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

# A painting's statistics come from at most this many pixels along the longer side (an even
# subsample: the mean and covariance of 512² pixels are those of the whole painting to a
# fraction of a grey level).
COLOR_SAMPLE_SIDE = 512
# Added to the photo's colour covariance: a flat or near-grey photo would otherwise get an
# unbounded gain (noise and JPEG blocks blown up to the painting's contrast). (16/255)², so a
# direction with no spread at all gains at most sqrt(painting variance) / (16/255), about 4×.
PHOTO_COVARIANCE_FLOOR = (16 / 255) ** 2
NEWTON_SCHULZ_STEPS = 24


def color_stage(generator: nn.Module) -> "ColorTransfer | None":
    """The generator's colour-transfer stage, or None (other designs and older models have none)."""
    return getattr(generator, "colors", None)


def sample_stride(height: int, width: int, max_side: int = COLOR_SAMPLE_SIDE) -> int:
    """The smallest stride that brings the longer side to at most `max_side`."""
    return max(1, math.ceil(max(height, width) / max_side))


def color_sample(images: Tensor) -> Tensor:
    """Every k-th pixel of N×3×H×W images along each axis (k from :func:`sample_stride`;
    no blur: blurring would shrink the covariance)."""
    stride = sample_stride(*images.shape[-2:])
    return images[..., ::stride, ::stride]


def color_statistics(images: Tensor) -> tuple[Tensor, Tensor]:
    """Mean colour (N×3) and colour covariance (N×3×3) of each of N×3×H×W images, in float32."""
    pixels = images.float().flatten(2)  # N×3×HW
    mean = pixels.mean(dim=2)
    centred = pixels - mean[:, :, None]
    return mean, centred @ centred.transpose(1, 2) / pixels.shape[2]


def sqrtm_and_inverse(matrices: Tensor, steps: int = NEWTON_SCHULZ_STEPS) -> tuple[Tensor, Tensor]:
    """Square root and inverse square root of symmetric positive-definite N×3×3 matrices
    (coupled Newton–Schulz iteration on the matrix scaled to Frobenius norm 1, where it converges)."""
    norm = matrices.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]
    identity = torch.eye(3, dtype=matrices.dtype, device=matrices.device).expand_as(matrices)
    root, inverse = matrices / norm, identity
    for _ in range(steps):
        t = 0.5 * (3 * identity - inverse @ root)
        root, inverse = root @ t, t @ inverse
    return root * norm.sqrt(), inverse / norm.sqrt()


def monge_map(photo: tuple[Tensor, Tensor], style: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """The colour map (A: N×3×3, b: N×3) taking each photo's (mean, covariance) to the
    style's (3, 3×3), so that ``A @ x + b`` is the recoloured pixel x."""
    photo_mean, photo_cov = photo
    style_mean, style_cov = style
    floor = PHOTO_COVARIANCE_FLOOR * torch.eye(3, dtype=photo_cov.dtype, device=photo_cov.device)
    root, inverse_root = sqrtm_and_inverse(photo_cov + floor)
    middle, _ = sqrtm_and_inverse(root @ style_cov @ root)
    matrix = inverse_root @ middle @ inverse_root
    return matrix, style_mean - (matrix @ photo_mean[:, :, None])[:, :, 0]


class ColorTransfer(nn.Module):
    """Recolours photos to a painting's colour statistics (buffers, saved with the model)."""

    def __init__(self):
        super().__init__()
        # Until set_style is called: mid-grey with a photo-like spread (any valid pair works).
        self.register_buffer("style_mean", torch.full((3,), 0.5))
        self.register_buffer("style_cov", torch.eye(3) * 0.05)

    @torch.no_grad()
    def set_style(self, images: Sequence[Tensor]) -> None:
        """Take the painting's statistics from its image(s) (1×3×h×w each, pooled over all pixels)."""
        pixels = torch.cat([color_sample(image).float().flatten(2) for image in images], dim=2)
        mean, cov = color_statistics(pixels[:, :, :, None])
        self.style_mean.copy_(mean[0])
        self.style_cov.copy_(cov[0])

    def forward(self, images: Tensor, source: Tensor | None = None) -> Tensor:
        """Recolour N×3×H×W `images` with the map computed from `source` (N×3×h×w, e.g. a
        thumbnail of the whole image a tile comes from; default: `images` itself)."""
        source = images if source is None else source
        with torch.autocast(images.device.type, enabled=False):  # the iteration needs float32
            matrix, offset = monge_map(color_statistics(source), (self.style_mean.float(), self.style_cov.float()))
            recoloured = torch.einsum("nij,njhw->nihw", matrix, images.float()) + offset[:, :, None, None]
        return recoloured.clamp(0, 1).to(images.dtype)
