"""Flicker: the warping error between consecutive stylized frames (Lai et al., ECCV 2018,
"Learning blind video temporal consistency").

Each stylized frame is compared with the previous one warped onto it along the *photo's*
optical flow, only where that flow is trustworthy (forward-backward consistent). A video
that is temporally stable moves with the scene and scores low; one that shimmers or pulses
scores high. The flow is Farnebäck's, not the DIS flow that ``--stable`` blends along, so the
stabiliser is not marked by its own flow. The photo clip's own warping error is the floor
(what flow errors alone cost), reported beside it by benchmarks/video.py.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from brushwork.inference.flow import consistent, optical_flow, warp


def warping_errors(photos: Iterable[np.ndarray], stylized: Iterable[np.ndarray], side: int = 480) -> list[float]:
    """Per consecutive pair of frames (H×W×3 uint8 each, the photos and their stylizations in
    step): mean squared difference (pixels in [0, 1], over the trusted pixels and channels)
    between stylized frame t and frame t-1 warped onto it. ``side``: the flow's resolution."""
    errors = []
    previous = None
    for photo, output in zip(photos, stylized, strict=True):
        if previous is not None:
            to_previous = optical_flow(photo, previous[0], "farneback", side)
            trusted = consistent(to_previous, optical_flow(previous[0], photo, "farneback", side))
            carried = warp(previous[1], to_previous).astype(np.float32) / 255
            squared = np.square(output.astype(np.float32) / 255 - carried).mean(-1)
            errors.append(float(squared[trusted].mean()) if trusted.any() else 0.0)
        previous = (photo, output)
    return errors


def warping_error(photos: Iterable[np.ndarray], stylized: Iterable[np.ndarray], side: int = 480) -> float:
    """The mean of :func:`warping_errors` over the clip (0 for a single frame)."""
    errors = warping_errors(photos, stylized, side)
    return float(np.mean(errors)) if errors else 0.0
