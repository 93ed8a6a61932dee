"""The repaint judge: has the scene been repainted, or is it the photo with colours laid over it?

The other metrics miss the defect people see first (docs/method.md, "The repaint judge"): an
output that keeps the photo's own shading and fine texture and lays the painting's colours over
it as clouds that cross the scene's shapes scores as well as, or better than, a picture that
repaints each shape. Four pretrained-free measures, each on luminance or colour at the metric
size, and their combination:

- :func:`photo_detail` (lower is repainted): correlation of the output's fine band (a
  difference of Gaussians, strokes and photo texture alike) with the photo's. The photo itself
  scores 1; a painter keeps its contours but replaces its bricks, grass and noise.
- :func:`painted_texture` (higher is painted, 1 about the painting's): the output's fine-band
  energy over the painting's own. A blurred photo has little; strokes have much. (The energy
  the photo's band does not explain was tried first: a blurred photo's missing detail counted
  as new texture there.)
- :func:`color_clouds` (lower follows the scene): the spread of the output's coarse chroma
  (CIELAB a*, b*, blurred to the scale of a cloud) inside the photo's regions, which
  Felzenszwalb's graph segmentation of the photo finds. Flat fields per shape, and strokes
  finer than the blur, add little; colour clouds that ignore the shapes add much.
- :func:`legibility` (higher keeps the scene readable, 1 the photo's): how far apart in CIELAB
  the output paints neighbouring regions of the photo, over how far apart the photo has them.
  A picture that maps every shape into one hue, darkens the whole or smears its edges loses
  the scene even when its texture is new and its colours follow the shapes; that was where the
  first judge (the other three alone) disagreed with the eye.
- :func:`repaint_score`: their product, ``changed · textured² · coherent · legible²``, in [0, 1]:
  ``changed = min(1, (1 − photo_detail) / (1 − CHANGED_DETAIL))``, ``textured = min(1,
  painted_texture)``, ``coherent = min(1, clouds of the photo / clouds of the output)``,
  ``legible = min(1, legibility)``. 0 for the photo itself, a recoloured or colour-clouded
  photo near 0; a product, so a low score on one is not bought back by the others. The squares
  and CHANGED_DETAIL were chosen against eight sheets judged by eye and four imitations (a
  blurred, posterised, recoloured and colour-clouded photo; docs/method.md, "The repaint judge,
  second version, and the contrast term").

Images are 1×3×H×W float tensors in [0, 1], photo and output of one size.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from kornia.color import rgb_to_lab
from torch import Tensor

from brushwork.evaluation.metrics import blurred_luminance, gaussian_blur

# The fine band: luminance blurred by 0.7 px minus luminance blurred by 2 px at the metric size
# (256 px by default), the scale of a brush stroke's edge and of a photo's texture.
FINE_BAND = (0.7, 2.0)
# Coarse chroma is blurred by this fraction of the longer side (13 px at 256): a cloud survives
# it, a stroke does not. On 0.8's outputs and the peer's (8 validation photos, four paintings),
# the peer's colour over the photo's own was 1.40-1.97 here against ours 1.87-2.27 (at 1/32 the
# gap was half as large: the peer's stroke-sized patches still counted).
CLOUD_BLUR = 1 / 20
# Felzenszwalb's parameters at 256 px: about 50 regions on a scene photo (objects, sky, ground).
SEGMENT_SCALE = 300
SEGMENT_SIGMA = 0.8
SEGMENT_MIN_AREA = 1 / 1000  # of the image
# A fine band that correlates less than this with the photo's counts as changed (the peer's
# outputs: 0.70-0.85 on the held-out sheets); above it the score falls to 0 at the photo itself.
# The peer keeps the photo's contours, so the band of a repainted scene still correlates with the
# photo's; a posterised photo keeps 0.93 of it, a recoloured one 0.99.
CHANGED_DETAIL = 0.85


def fine_band(images: Tensor) -> Tensor:
    """N×3×H×W -> N×1×H×W: the luminance's fine band (difference of Gaussians, FINE_BAND)."""
    return blurred_luminance(images.float(), FINE_BAND[0]) - blurred_luminance(images.float(), FINE_BAND[1])


def photo_detail(photo: Tensor, output: Tensor) -> float:
    """Correlation (clipped at 0) of the output's fine band with the photo's: 1 when the photo's
    texture is all there, 0 when none of it is."""
    a, b = (fine_band(image).flatten() for image in (photo, output))
    a, b = a - a.mean(), b - b.mean()
    denominator = float(a.norm() * b.norm())
    return max(0.0, float((a * b).sum()) / denominator) if denominator > 1e-12 else 0.0


def band_energy(image: Tensor) -> float:
    """Standard deviation of an image's fine band: a painting's, measured once, is the unit of
    :func:`painted_texture`."""
    return float(fine_band(image).std())


def painted_texture(output: Tensor, painting_energy: float) -> float:
    """The output's fine-band energy over `painting_energy` (:func:`band_energy` of the
    painting at the metric size)."""
    return band_energy(output) / max(painting_energy, 1e-6)


def regions(photo: Tensor) -> Tensor:
    """H·W region labels of a 1×3×H×W photo (Felzenszwalb and Huttenlocher's graph segmentation)."""
    from skimage.segmentation import felzenszwalb

    pixels = photo[0].permute(1, 2, 0).double().cpu().numpy()
    min_area = max(8, round(SEGMENT_MIN_AREA * pixels.shape[0] * pixels.shape[1]))
    labels = felzenszwalb(pixels, scale=SEGMENT_SCALE, sigma=SEGMENT_SIGMA, min_size=min_area)
    return torch.from_numpy(np.ascontiguousarray(labels).reshape(-1).astype(np.int64))


def color_clouds(image: Tensor, labels: Tensor) -> float:
    """Root-mean-square spread, in CIELAB a*b* units, of the image's coarse chroma around each
    region's mean (`labels`: :func:`regions` of the photo)."""
    sigma = CLOUD_BLUR * max(image.shape[-2:])
    chroma = rgb_to_lab(gaussian_blur(image.float().clamp(0, 1), sigma))[0, 1:].reshape(2, -1).double()
    count = torch.bincount(labels).double().clamp_min(1)
    means = torch.stack([torch.bincount(labels, weights=channel) / count for channel in chroma])
    return math.sqrt(float((chroma - means[:, labels]).pow(2).sum(0).mean()))


def region_contrast(image: Tensor, labels: Tensor) -> float:
    """Root-mean-square CIELAB distance between the mean colours of neighbouring regions
    (`labels`: :func:`regions` of the photo), each pair weighted by the length of the border
    they share."""
    h, w = image.shape[-2:]
    lab = rgb_to_lab(image.float().clamp(0, 1))[0].reshape(3, -1).double()
    count = torch.bincount(labels).double().clamp_min(1)
    means = torch.stack([torch.bincount(labels, weights=channel, minlength=len(count)) / count for channel in lab])
    grid = labels.reshape(h, w)
    pairs = torch.cat([
        torch.stack([grid[:, :-1].flatten(), grid[:, 1:].flatten()]),
        torch.stack([grid[:-1].flatten(), grid[1:].flatten()]),
    ], dim=1)  # fmt: skip
    pairs = pairs[:, pairs[0] != pairs[1]]  # one column per pixel of border
    if not pairs.shape[1]:
        return 0.0
    return math.sqrt(float((means[:, pairs[0]] - means[:, pairs[1]]).pow(2).sum(0).mean()))


def legibility(output: Tensor, photo_contrast: float, labels: Tensor) -> float:
    """:func:`region_contrast` of the output over the photo's (1: the shapes as far apart as in
    the photo; a photo of one region counts as legible)."""
    return region_contrast(output, labels) / photo_contrast if photo_contrast > 1e-9 else 1.0


def repaint_score(detail: float, texture: float, clouds: float, photo_clouds: float, legible: float) -> float:
    """The four measures in one number in [0, 1] (higher: more repainted); see the module's
    docstring."""
    changed = min(1.0, max(0.0, 1 - detail) / (1 - CHANGED_DETAIL))
    textured = min(1.0, texture)
    coherent = min(1.0, photo_clouds / clouds) if clouds > 1e-9 else 1.0
    return changed * textured**2 * coherent * min(1.0, legible) ** 2


def repaint_measures(photo: Tensor, output: Tensor, painting_energy: float) -> dict[str, float]:
    """{"photo_detail", "painted_texture", "clouds", "legibility", "repaint"} of one output
    (1×3×H×W, the photo's size)."""
    labels = regions(photo)
    detail, texture = photo_detail(photo, output), painted_texture(output, painting_energy)
    clouds, legible = color_clouds(output, labels), legibility(output, region_contrast(photo, labels), labels)
    return {
        "photo_detail": detail,
        "painted_texture": texture,
        "clouds": clouds,
        "legibility": legible,
        "repaint": repaint_score(detail, texture, clouds, color_clouds(photo, labels), legible),
    }
