"""Colour matching (``stylize --optimize --match-colors``, Gatys et al. 2016): before the
per-image optimisation, the painting is recoloured to the photo's mean colour and colour
covariance, so the style targets already carry the photo's palette and the strokes are
painted in it.

The map is the optimal linear map between two Gaussians, the linear Monge–Kantorovich map
(Pitié & Kokaram 2007):

    x -> m_s + A (x - m_p),   A = P^-1/2 (P^1/2 S P^1/2)^1/2 P^-1/2

where m_p, P are the source's (the painting's) mean colour and colour covariance and m_s, S
the target's (the photo's). Of all linear maps that give the source the target's mean and
covariance, it moves colours the least, so shapes and shading stay. Matrix square roots use
Newton–Schulz iterations (matrix products only).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# A painting's statistics come from at most this many pixels along the longer side (an even
# subsample: the mean and covariance of 512² pixels are those of the whole painting to a
# fraction of a grey level).
COLOR_SAMPLE_SIDE = 512
# Added to the photo's colour covariance: a flat or near-grey photo would otherwise get an
# unbounded gain (noise and JPEG blocks blown up to the painting's contrast). (16/255)², so a
# direction with no spread at all gains at most sqrt(painting variance) / (16/255), about 4×.
PHOTO_COVARIANCE_FLOOR = (16 / 255) ** 2
NEWTON_SCHULZ_STEPS = 24


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
    """The colour map (A: N×3×3, b: N×3) taking each source image's (mean, covariance), here
    called the photo's, to the target's (3, 3×3), so that ``A @ x + b`` is the recoloured pixel x."""
    photo_mean, photo_cov = photo
    style_mean, style_cov = style
    floor = PHOTO_COVARIANCE_FLOOR * torch.eye(3, dtype=photo_cov.dtype, device=photo_cov.device)
    root, inverse_root = sqrtm_and_inverse(photo_cov + floor)
    middle, _ = sqrtm_and_inverse(root @ style_cov @ root)
    matrix = inverse_root @ middle @ inverse_root
    return matrix, style_mean - (matrix @ photo_mean[:, :, None])[:, :, 0]


def match_colors(paintings: list[Tensor], photo: Tensor) -> list[Tensor]:
    """Each painting (1×3×h×w in [0, 1]) recoloured to the photo's (1×3×H×W) colour statistics."""
    with torch.autocast(photo.device.type, enabled=False):  # the iteration needs float32
        mean, cov = color_statistics(color_sample(photo))
        out = []
        for painting in paintings:
            painting = painting.to(photo.device).float()
            matrix, offset = monge_map(color_statistics(painting), (mean[0], cov[0]))
            out.append((torch.einsum("nij,njhw->nihw", matrix, painting) + offset[:, :, None, None]).clamp(0, 1))
    return out
