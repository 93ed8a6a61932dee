"""`brushwork webcam`: a camera's frames through a style, live, in an OpenCV window.

The window needs OpenCV's GUI build (``pip install opencv-python``; the ``video`` extra's
headless build has none) and a display. Both, and the camera, are checked before the model
runs, so each missing piece is one clear line rather than an OpenCV abort.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time

import numpy as np

from brushwork.errors import BrushworkError
from brushwork.images import longer_side_size
from brushwork.inference.flow import import_cv2
from brushwork.inference.temporal import VideoStylizer

WINDOW = "brushwork webcam (q or Esc: quit)"
GUI_HINT = "pip install opencv-python (the headless build has no windows)"


def check_display() -> None:
    """Raise a one-line error where no window can open: no display, or OpenCV without a GUI."""
    cv2 = import_cv2()
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise BrushworkError("webcam: no display to open a window on (DISPLAY is not set)")
    if re.search(r"^\s*GUI:\s*NONE\s*$", cv2.getBuildInformation(), re.M):
        raise BrushworkError(f"webcam: this OpenCV has no window support: {GUI_HINT}")


def open_camera(index: int):
    """The camera as a cv2.VideoCapture that has delivered a frame, or a one-line error."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(index)
    ok = capture.isOpened() and capture.read()[0]
    if not ok:
        capture.release()
        raise BrushworkError(f"camera {index}: cannot be opened (no such camera, or in use by another program)")
    return capture


def preview(stylizer, camera: int = 0, max_size: int = 480, blend: float = 0.0, frames: int | None = None) -> int:
    """Show the camera through ``stylizer`` until q/Esc, the window is closed or ``frames``
    frames were shown. Returns the number of frames shown."""
    cv2 = import_cv2()
    check_display()
    video = VideoStylizer(stylizer, blend=blend)
    capture = open_camera(camera)
    shown, start = 0, time.perf_counter()
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
        while frames is None or shown < frames:
            ok, bgr = capture.read()
            if not ok:
                raise BrushworkError(f"camera {camera}: stopped delivering frames")
            height, width = bgr.shape[:2]
            if max(height, width) > max_size:
                h, w = longer_side_size(height, width, max_size)
                bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
            out = video(np.ascontiguousarray(bgr[..., ::-1]))[..., ::-1]  # the model takes RGB
            rate = (shown + 1) / (time.perf_counter() - start)
            view = np.ascontiguousarray(out)
            cv2.putText(view, f"{rate:.1f} fps", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
            cv2.imshow(WINDOW, view)
            shown += 1
            key = cv2.waitKey(1) & 0xFF
            if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                break
    except cv2.error as exc:  # a window that cannot be made, in a build check_display could not see
        raise BrushworkError(f"webcam: cannot open a window ({str(exc).strip().splitlines()[-1]}): {GUI_HINT}") from None
    finally:
        capture.release()
        with contextlib.suppress(cv2.error):
            cv2.destroyAllWindows()
    return shown
