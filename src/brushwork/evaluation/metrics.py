"""Quality metrics that need no pretrained network: small pure functions on image tensors.

Content fidelity (photo vs output):

- :func:`content_ssim`: SSIM of luminance after a Gaussian blur of ``BLUR_SIGMA`` pixels,
  so fine brush texture does not count as lost content while shapes and shading do.
- :func:`edge_score`: correlation of gradient magnitudes at a coarse scale (blurred
  luminance, half resolution): do the photo's edges stay where they were?

Style fidelity (output vs style image(s)):

- :func:`color_swd`: sliced Wasserstein distance of the RGB colour distributions, in 0–255
  grey levels (how far apart the palettes are along an average direction of colour space).
- :func:`patch_swd`: Karras et al. 2018 (Progressive GANs, appendix D): 7×7 patches of each
  level of a Laplacian pyramid, each descriptor set normalised per colour channel, SWD per
  level, averaged over levels. It measures texture at several scales, not the palette.

Agreement of two renderings of the same image (tiled vs whole, GPU vs CPU):

- :func:`psnr`: peak signal-to-noise ratio in dB on the 0–255 scale.

Images are N×3×H×W float tensors in [0, 1] (uint8 pixels for :func:`psnr`); every random choice comes from a fixed seed, so
a metric gives the same number for the same images on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_grayscale
from kornia.filters import gaussian_blur2d, sobel
from kornia.geometry.transform import build_laplacian_pyramid
from kornia.metrics import ssim
from torch import Tensor

BLUR_SIGMA = 1.5  # pixels at the evaluation size (longer side 256 by default)
SSIM_WINDOW = 11  # Wang et al. 2004: 11×11 Gaussian window, sigma 1.5
PATCH_SIZE = 7
PATCHES_PER_LEVEL = 2048  # per image and pyramid level
PYRAMID_MIN_SIDE = 16  # coarsest level kept
SWD_DIRECTIONS = 512
COLOR_DIRECTIONS = 128  # colour space is 3-D: fewer directions already cover it densely
SEED = 1234


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR in dB of two same-shape uint8 pixel tensors (inf when identical)."""
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(255.0**2 / mse)).item()


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """N×C×H×W images blurred by a Gaussian of `sigma` pixels (a ±3σ kernel, reflected borders)."""
    if sigma <= 0:
        return images
    k = 2 * int(3 * sigma + 0.5) + 1
    return gaussian_blur2d(images, (k, k), (sigma, sigma), border_type="reflect")


def blurred_luminance(images: Tensor, sigma: float) -> Tensor:
    """N×3×H×W -> N×1×H×W: the luminance, blurred by `sigma` pixels."""
    return gaussian_blur(rgb_to_grayscale(images), sigma)


def _check_pair(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape or a.ndim != 4 or a.shape[1] != 3:
        raise ValueError(f"expected two N×3×H×W images of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def content_ssim(photo: Tensor, output: Tensor, blur_sigma: float = BLUR_SIGMA) -> Tensor:
    """SSIM of the blurred luminance of `photo` and `output`.

    Args:
        photo, output: N×3×H×W in [0, 1], same shape.
        blur_sigma: Gaussian blur (pixels) applied to both luminance images first.
    Returns:
        N values in [-1, 1]; 1 for identical images.
    """
    _check_pair(photo, output)
    a, b = blurred_luminance(photo, blur_sigma), blurred_luminance(output, blur_sigma)
    side = min(a.shape[-2:])
    window = SSIM_WINDOW if side >= SSIM_WINDOW else side - (1 - side % 2)  # odd, fits the image
    return ssim(a, b, window, max_val=1.0).mean(dim=(1, 2, 3))


def edge_score(photo: Tensor, output: Tensor, blur_sigma: float = 2 * BLUR_SIGMA) -> Tensor:
    """Pearson correlation of gradient magnitudes at a coarse scale.

    Both images' luminance is blurred by `blur_sigma` pixels and halved in size; the Sobel
    gradient magnitudes are then correlated over all pixels.

    Args:
        photo, output: N×3×H×W in [0, 1], same shape.
    Returns:
        N values in [-1, 1]; 1 when the edges are the same up to contrast. A flat image
        (no gradient at all) scores 0.
    """
    _check_pair(photo, output)
    mags = []
    for image in (photo, output):
        gray = blurred_luminance(image, blur_sigma)
        if min(gray.shape[-2:]) >= 8:
            gray = F.avg_pool2d(gray, 2)
        mags.append(sobel(gray).flatten(1))
    a, b = (m - m.mean(dim=1, keepdim=True) for m in mags)
    denominator = (a.pow(2).sum(1) * b.pow(2).sum(1)).sqrt()
    return torch.where(denominator > 1e-12, (a * b).sum(1) / denominator.clamp_min(1e-12), torch.zeros_like(denominator))


def sliced_wasserstein(a: Tensor, b: Tensor, directions: int = SWD_DIRECTIONS, seed: int = SEED) -> Tensor:
    """Sliced Wasserstein-1 distance between two point sets.

    Both sets are projected on `directions` random unit vectors (fixed seed); along each,
    the W1 distance of the two 1-D distributions is the mean absolute difference of their
    quantiles (taken at min(n, m) evenly spaced levels, so the sets may differ in size).

    Args:
        a: n×d points; b: m×d points.
    Returns:
        scalar: the mean over directions.
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected n×d and m×d point sets, got {tuple(a.shape)} and {tuple(b.shape)}")
    rng = torch.Generator().manual_seed(seed)
    dirs = torch.randn(a.shape[1], directions, generator=rng).to(a)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    # directions×points, sorted along the contiguous dimension (much faster than dim 0).
    pa, pb = (torch.sort(dirs.T @ x.float().T, dim=1).values for x in (a, b.to(a)))
    count = min(pa.shape[1], pb.shape[1])
    pa, pb = (p[:, torch.linspace(0, p.shape[1] - 1, count, device=p.device).round().long()] for p in (pa, pb))
    return (pa - pb).abs().mean()


def color_pixels(images: Sequence[Tensor] | Tensor, max_pixels: int = 16384, seed: int = SEED) -> Tensor:
    """Up to `max_pixels` RGB values (k×3, on the 0–255 scale), sampled evenly from the images."""
    images = [images] if isinstance(images, Tensor) else list(images)
    per_image = max(1, max_pixels // len(images))
    rng = torch.Generator().manual_seed(seed)
    chosen = []
    for image in images:
        pixels = image.permute(0, 2, 3, 1).reshape(-1, 3)
        if len(pixels) > per_image:
            pixels = pixels[torch.randperm(len(pixels), generator=rng)[:per_image].to(pixels.device)]
        chosen.append(pixels)
    return torch.cat(chosen).float() * 255.0


def color_swd(output: Tensor, style: Sequence[Tensor] | Tensor) -> Tensor:
    """Sliced Wasserstein distance between the colours of `output` and of the style image(s).

    Args:
        output: 1×3×H×W in [0, 1].
        style: one or more 1×3×h×w images in [0, 1] (sizes may differ), or a k×3 set
            already made by :func:`color_pixels` (reuse it when comparing many outputs).
    Returns:
        scalar, in 0–255 grey levels; 0 for the same colour distribution.
    """
    pixels = style if isinstance(style, Tensor) and style.ndim == 2 else color_pixels(style)
    return sliced_wasserstein(color_pixels(output), pixels, directions=COLOR_DIRECTIONS)


def laplacian_levels(image: Tensor, min_side: int = PYRAMID_MIN_SIDE) -> list[Tensor]:
    """Laplacian pyramid of a 1×3×H×W image, finest first, down to a side of `min_side`.

    The last level is the low-pass residual (the Gaussian level), as in Karras et al.
    """
    levels = 1
    side = min(image.shape[-2:])
    while side // 2 >= min_side:
        side //= 2
        levels += 1
    if levels == 1:
        return [image]
    # kornia needs sides divisible by 2**(levels-1); crop the few extra rows/columns.
    step = 2 ** (levels - 1)
    h, w = image.shape[-2:]
    image = image[:, :, : h - h % step, : w - w % step]
    return build_laplacian_pyramid(image, levels)


def patch_descriptors(
    images: Sequence[Tensor] | Tensor, per_level: int = PATCHES_PER_LEVEL, seed: int = SEED
) -> list[Tensor]:
    """Normalised 7×7 patch descriptors per Laplacian level, pooled over the images.

    Each image contributes up to `per_level` random patches (fixed seed) per level; each
    level's set is then normalised per colour channel to mean 0, std 1 (Karras et al.).

    Returns:
        list over levels (finest first) of k×147 tensors; as many levels as the smallest
        image has.
    """
    images = [images] if isinstance(images, Tensor) else list(images)
    rng = torch.Generator().manual_seed(seed)
    pyramids = [laplacian_levels(image) for image in images]
    depth = min(len(p) for p in pyramids)
    out = []
    for level in range(depth):
        chosen = []
        for pyramid in pyramids:
            band = pyramid[level]
            if min(band.shape[-2:]) < PATCH_SIZE:
                band = F.interpolate(band, size=(max(PATCH_SIZE, band.shape[-2]), max(PATCH_SIZE, band.shape[-1])))
            patches = F.unfold(band, PATCH_SIZE).transpose(1, 2).reshape(-1, 3, PATCH_SIZE * PATCH_SIZE)
            if len(patches) > per_level:
                patches = patches[torch.randperm(len(patches), generator=rng)[:per_level].to(patches.device)]
            chosen.append(patches)
        patches = torch.cat(chosen).float()
        mean = patches.mean(dim=(0, 2), keepdim=True)
        std = patches.std(dim=(0, 2), keepdim=True).clamp_min(1e-6)
        out.append(((patches - mean) / std).flatten(1))
    return out


def patch_swd(output: Tensor | list[Tensor], style: Tensor | list[Tensor]) -> Tensor:
    """Multi-scale patch SWD (Karras et al. 2018) between an output and the style.

    Args:
        output, style: a 1×3×H×W image (or several) in [0, 1], or descriptors already made
            by :func:`patch_descriptors` (reuse them when one side is compared many times).
    Returns:
        scalar: SWD averaged over the pyramid levels both sides have; 0 for the same image.
    """
    a = output if isinstance(output, list) else patch_descriptors(output)
    b = style if isinstance(style, list) else patch_descriptors(style)
    levels = min(len(a), len(b))
    return torch.stack([sliced_wasserstein(a[i], b[i]) for i in range(levels)]).mean()
