"""Optical flow between video frames (OpenCV, the ``video`` extra): computing it, warping
along it, and where it can be trusted (forward-backward consistency).

Convention: ``flow = optical_flow(a, b)`` is H×W×2 (x, y) float32 with a(p) ≈ b(p + flow(p)),
so ``warp(b, flow)`` brings `b` onto `a`'s pixel grid. Frames are H×W×3 uint8 numpy arrays.
"""

from __future__ import annotations

import numpy as np

from brushwork.errors import BrushworkError
from brushwork.videos import VIDEO_EXTRA

# Flow is computed with the longer side at most this many pixels and then enlarged: at 1080p
# a full-resolution flow costs more than the generator, and motion this coarse is enough to
# carry strokes from one frame to the next.
FLOW_SIDE = 640
METHODS = ("dis", "farneback")


def import_cv2():
    """OpenCV, or a one-line error saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise BrushworkError(f"optical flow needs OpenCV: {VIDEO_EXTRA}") from None
    return cv2


def _grey(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    cv2 = import_cv2()
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return grey if size is None else cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def optical_flow(a: np.ndarray, b: np.ndarray, method: str = "dis", side: int = FLOW_SIDE) -> np.ndarray:
    """H×W×2 flow from frame `a` to frame `b` (same size): a(p) ≈ b(p + flow(p)).

    ``dis``: OpenCV's DIS (fast, what stabilisation uses); ``farneback``: Farnebäck's
    polynomial expansion (slower, a different algorithm: what the flicker measure uses, so a
    stabiliser is not judged by its own flow).
    """
    cv2 = import_cv2()
    height, width = a.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = None if scale == 1.0 else (max(8, round(width * scale)), max(8, round(height * scale)))
    small_a, small_b = _grey(a, size), _grey(b, size)
    if method == "dis":
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(small_a, small_b, None)
    elif method == "farneback":
        flow = cv2.calcOpticalFlowFarneback(small_a, small_b, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    else:
        raise ValueError(f"flow method must be one of {METHODS} (got {method!r})")
    if size is not None:  # back to full size, the vectors scaled with it
        flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= width / size[0]
        flow[..., 1] *= height / size[1]
    return flow.astype(np.float32, copy=False)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at p + flow(p) (bilinear, edges repeated): H×W×C, its dtype kept."""
    cv2 = import_cv2()
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistent(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """H×W bool: where ``forward`` (a -> b) and ``backward`` (b -> a) agree, i.e. the pixel of `a`
    is seen in `b` (not occluded, not mismatched). The test of Sundaram et al. (2010), as in
    Ruder et al.'s video style transfer: |f + b(p + f)|² < 0.01 (|f|² + |b(p + f)|²) + 0.5."""
    back = warp(backward, forward)
    mismatch = np.square(forward + back).sum(-1)
    return mismatch < 0.01 * (np.square(forward).sum(-1) + np.square(back).sum(-1)) + 0.5
