"""Temporal stability: stylizing a stream of frames so that it does not shimmer or pulse.

- **Flow-guided blending** (``blend`` > 0, ``--stable``). The previous output is warped onto
  the current frame along the photo's optical flow and mixed in with weight ``blend`` where
  the flow is trustworthy: forward and backward flow agree (not occluded) and the warped
  previous photo matches the current one (no lighting change, no flow error). Elsewhere
  (new content) the frame's own stylization shows, so nothing is smeared. The blend's fine
  detail is then scaled back to the frame's own (:func:`restore_detail`): averaging two
  stroke patterns would otherwise blur them.
- **Shots.** A cut (colour histograms of consecutive thumbnails far apart), or a view that
  has drifted far from its shot's first frame, starts a new shot: the blend starts afresh
  there, so one shot's strokes are never carried into the next.
- **Shared statistics** (``shots=True``, API only). Every frame of a shot is normalised with
  the thumbnail (models/thumbnail.py) of the shot's first frame instead of its own. Measured
  (benchmarks/video.py, RESULTS.md "Video"), it does not reliably lower the flicker: 4–17 %
  more warping error than per-frame statistics on the 320×180 and 640×360 pans, a pan with
  an object sliding in and one with ±4 % exposure jitter (per-frame statistics absorb
  exposure changes), 14 % less on the 1080p pan. Most of the per-frame shimmer comes from
  elsewhere: the generator's input noise channels (a hash of each 2×2 block's bytes,
  models/layers.py) change wherever the picture moves; with them zeroed the warping
  error of the pan fell 4×. So per-frame statistics are the default.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from brushwork.errors import BrushworkError
from brushwork.inference.flow import consistent, import_cv2, optical_flow, warp
from brushwork.models.thumbnail import thumbnail

# Histogram distance (0: same colours, 1: disjoint) between consecutive frames above which a
# new shot starts, and between a frame and its shot's first frame. Measured on the test clips
# and a pan over examples/photo.jpg: moving shapes and pans stay under 0.1 frame to frame,
# a cut between two photos is over 0.5.
CUT = 0.3
DRIFT = 0.45
HISTOGRAM_BINS = 16
# Where the warped previous photo differs from the current one by more than this (mean
# absolute difference over channels, 0..255), the flow is wrong there or the light changed.
PHOTO_TOLERANCE = 20.0
DEFAULT_BLEND = 0.6
MAX_BLEND = 0.95


def colour_histogram(small: Tensor) -> Tensor:
    """1×3×h×w float in [0, 1] -> 3·bins: each channel's histogram, summing to 1 per channel."""
    bins = [torch.histc(small[0, c], bins=HISTOGRAM_BINS, min=0.0, max=1.0) for c in range(3)]
    return torch.cat([b / b.sum().clamp_min(1) for b in bins])


def histogram_distance(a: Tensor, b: Tensor) -> float:
    """Total variation distance of two :func:`colour_histogram` s, averaged over channels (0..1)."""
    return float((a - b).abs().sum() / 6)


class ShotThumbnail:
    """The thumbnail each frame is normalised with: the first frame of its shot's.

    ``tracker(pixels)`` (H×W×3 uint8 tensor) returns (thumbnail 1×3×h×w float, new_shot).
    """

    def __init__(self, cut: float = CUT, drift: float = DRIFT):
        self.cut, self.drift = cut, drift
        self.key: Tensor | None = None
        self.key_histogram: Tensor | None = None
        self.previous_histogram: Tensor | None = None
        self.shots = 0

    def __call__(self, pixels: Tensor) -> tuple[Tensor, bool]:
        small = thumbnail(pixels.permute(2, 0, 1).unsqueeze(0))
        histogram = colour_histogram(small)
        new_shot = (
            self.key is None
            or histogram_distance(histogram, self.previous_histogram) > self.cut
            or histogram_distance(histogram, self.key_histogram) > self.drift
        )
        if new_shot:
            self.key, self.key_histogram = small, histogram
            self.shots += 1
        self.previous_histogram = histogram
        return self.key, new_shot


def check_blend(weight: float) -> float:
    """`weight` if it is a usable blend weight, else a one-line error (1 would freeze the picture)."""
    if not 0 <= weight <= MAX_BLEND:
        raise BrushworkError(f"--temporal-blend must be between 0 and {MAX_BLEND} (got {weight:g})")
    return weight


def restore_detail(mixed: np.ndarray, own: np.ndarray) -> np.ndarray:
    """`mixed` with its fine detail (what a 2-px Gaussian blur removes) scaled back up to the
    energy of `own`, the frame's own stylization (H×W×3 float32 each, 0..255).

    Two stroke patterns that do not line up average out: a 0.6 blend kept 47 % of the
    per-frame output's Laplacian energy on the benchmark's 320×180 pan. Rescaling the blend's
    high frequencies to the frame's own (at most ×1.6; never down, so a blend that agrees
    with its frame is left alone) kept 85 %, for a warping error of 0.74 instead of 0.61
    (per-frame: 5.5). Being measured against each new frame, it cannot build up over time."""
    cv2 = import_cv2()
    smooth = cv2.GaussianBlur(mixed, (0, 0), 2.0)
    fine = mixed - smooth
    target = float((own - cv2.GaussianBlur(own, (0, 0), 2.0)).std())
    gain = min(max(target / max(float(fine.std()), 1e-6), 1.0), 1.6)
    return smooth + gain * fine


class FlowBlend:
    """Mix the previous output, warped along the flow, into each new stylized frame."""

    def __init__(self, weight: float = DEFAULT_BLEND):
        self.weight = check_blend(weight)
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # (photo, output)

    def reset(self) -> None:
        self.previous = None

    def __call__(self, photo: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 photo and its stylization -> the blended output (uint8)."""
        if self.previous is None or self.previous[0].shape != photo.shape or self.weight == 0:
            self.previous = (photo, stylized)
            return stylized
        previous_photo, previous_output = self.previous
        to_previous = optical_flow(photo, previous_photo)
        trusted = consistent(to_previous, optical_flow(previous_photo, photo))
        mismatch = np.abs(warp(previous_photo, to_previous).astype(np.int16) - photo).mean(-1)
        trusted &= mismatch < PHOTO_TOLERANCE
        cv2 = import_cv2()
        # A soft edge, so a trusted region does not end in a hard seam.
        weight = cv2.blur(trusted.astype(np.float32), (5, 5))[..., None] * self.weight
        own = stylized.astype(np.float32)
        mixed = own + weight * (warp(previous_output, to_previous).astype(np.float32) - own)
        result = np.clip(np.rint(restore_detail(mixed, own)), 0, 255).astype(np.uint8)
        self.previous = (photo, result)
        return result


class VideoStylizer:
    """Stylize frames one after another: with ``blend`` > 0, flow-guided blending of the
    previous output; with ``shots``, shared shot statistics (see above). The default is the
    per-frame stylization of a still, frame after frame. ``video(frame)``: H×W×3 uint8 numpy -> same."""

    def __init__(self, stylizer, blend: float = 0.0, shots: bool = False):
        self.stylizer = stylizer
        self.tracker = ShotThumbnail()
        self.shots = shots
        self.flow = FlowBlend(blend) if check_blend(blend) else None
        self.cuts = 0  # shots after the first

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        pixels = torch.from_numpy(np.require(frame, np.uint8, ["C", "W"]))  # a copy only if read-only
        small, new_shot = self.tracker(pixels)
        if new_shot and self.tracker.shots > 1:
            self.cuts += 1
            if self.flow is not None:
                self.flow.reset()
        out = self.stylizer.stylize_pixels(pixels, small if self.shots else None).numpy()
        return out if self.flow is None else self.flow(frame, out)
