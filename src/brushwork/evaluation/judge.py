"""The headline quality metrics: distances under a pretrained network that no model trains with.

Training's loss network is EfficientNet-Lite0; these use EfficientNet-Lite2 (its own ImageNet
weights, from its own pip package), so a generator cannot score well by fitting the very
features it is judged on. Pretrained features are what make these agree with the eye where the
pretrained-free metrics did not (docs/method.md, "Evaluation"): on one photo and The Starry Night,
per-image optimisation with a pretrained network paints swirling strokes yet gets a worse
Laplacian patch SWD than optimisation with a random VGG-19, which looks like coloured noise.

- :meth:`Judge.content_distance` (photo vs output), in the spirit of LPIPS (Zhang et al. 2018):
  features at 1/8, 1/16 and 1/32 unit-normalised over channels at each position, the mean squared
  difference, averaged over the depths. 0 for the same image; 0–2 in principle (opposite unit vectors
  give 4 per position, but real features are non-negative and overlap).
- :meth:`StyleStatistics.gram_distance` (output vs painting): mean over five depths of the Gram
  matrices' squared error relative to the painting's (the training loss's normalisation, on other
  features). 0 for the painting's own statistics.
- :meth:`StyleStatistics.frechet_distance` (output vs painting), in the spirit of ArtFID (Wright and
  Ommer 2022): every position of the 1/8 feature map, 2×2-average-pooled, is the descriptor of one
  image patch (receptive field about 100 px at the evaluation size); the Fréchet distance between
  the Gaussians fitted to the output's patches and to the painting's. It compares *which* textures
  occur and how often, where a Gram matrix only compares their correlations.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

from brushwork.perceptual.efficientnet import EfficientNetFeatures
from brushwork.perceptual.losses import gram_distance, mean_grams

JUDGE_BACKBONE = "efficientnet-lite2"
CONTENT_LAYERS = ("block3", "block4", "block5")  # 1/8, 1/16, 1/32
STYLE_LAYERS = ("dw1", "dw2", "dw3", "dw4", "dw5")  # 1/2 … 1/32, as training's default on Lite0
PATCH_LAYER = "block3"  # 1/8


class Judge:
    """EfficientNet-Lite2 with the taps the metrics need; :meth:`style` measures a painting once."""

    def __init__(self, device: torch.device | str = "cpu", weights: str | None = None):
        layers = tuple(dict.fromkeys((*CONTENT_LAYERS, *STYLE_LAYERS, PATCH_LAYER)))
        self.network = EfficientNetFeatures(layers, backbone=JUDGE_BACKBONE, weights=weights).to(device).eval()
        self.device = torch.device(device)

    @property
    def backbone_id(self) -> str:
        return self.network.backbone_id

    @torch.no_grad()
    def features(self, image: Tensor) -> dict[str, Tensor]:
        return {k: v.float() for k, v in self.network(image.to(self.device)).items()}

    @torch.no_grad()
    def content_distance(self, photo: Tensor | dict[str, Tensor], output: Tensor | dict[str, Tensor]) -> float:
        """LPIPS-like distance of two 1×3×H×W images of one size (0: identical); either may be
        given as its :meth:`features` already taken."""
        a, b = (image if isinstance(image, dict) else self.features(image) for image in (photo, output))
        return sum(float(_unit(a[k]).sub(_unit(b[k])).pow(2).sum(1).mean()) for k in CONTENT_LAYERS) / len(CONTENT_LAYERS)

    def style(self, images: Iterable[Tensor]) -> "StyleStatistics":
        """The painting's (or collection's) Gram matrices and patch Gaussian."""
        maps = [self.features(image) for image in images]
        grams = mean_grams(maps, STYLE_LAYERS)
        return StyleStatistics(self, grams, _gaussian(torch.cat([_patch_descriptors(m[PATCH_LAYER]) for m in maps])))


class StyleStatistics:
    """A painting's statistics under the judge's network: distances of outputs to it."""

    def __init__(self, judge: Judge, grams: dict[str, Tensor], gaussian: tuple[Tensor, Tensor]):
        self.judge, self.grams, self.gaussian = judge, grams, gaussian

    @torch.no_grad()
    def distances(self, image: Tensor | dict[str, Tensor]) -> dict[str, float]:
        """{"gram": …, "frechet": …} of one 1×3×H×W image (or of its judge features)."""
        features = image if isinstance(image, dict) else self.judge.features(image)
        return {
            "gram": gram_distance(features, self.grams),
            "frechet": frechet_distance(_gaussian(_patch_descriptors(features[PATCH_LAYER])), self.gaussian),
        }


def _unit(features: Tensor) -> Tensor:
    return features / features.norm(dim=1, keepdim=True).clamp_min(1e-10)


def _patch_descriptors(features: Tensor) -> Tensor:
    """N×C×H×W -> (N·H'·W')×C: one descriptor per 2×2-pooled position (fewer, less correlated
    samples than every position, and a larger patch each)."""
    if min(features.shape[-2:]) >= 2:
        features = F.avg_pool2d(features, 2)
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1]).double()


def _gaussian(samples: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and covariance of n×d samples (float64; a single sample has zero covariance)."""
    mean = samples.mean(0)
    centred = samples - mean
    return mean, centred.T @ centred / max(1, len(samples) - 1)


def frechet_distance(a: tuple[Tensor, Tensor], b: tuple[Tensor, Tensor]) -> float:
    """Fréchet distance of two Gaussians (mean, covariance):
    ``|μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)``, via symmetric eigendecompositions
    (exact for positive semi-definite matrices, no general matrix square root needed)."""
    (mu_a, cov_a), (mu_b, cov_b) = a, b
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross)
