"""OpenCV's Haar frontal-face cascade as a `FaceDetector` (the default, `face_detector: haar`).

The cascade file comes from the opencv package's own data directory (`cv2.data.haarcascades`, which
opencv-python 4.x ships and OpenCV 5 does not), or from $FDAN_HAAR_CASCADE when that is set.
Detection runs on the histogram-equalised grey image, scale step 1.1, 5 neighbours.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from fdan.features.detector_interface import Box, FaceDetectorError

CASCADE_FILE = "haarcascade_frontalface_default.xml"
CASCADE_ENV = "FDAN_HAAR_CASCADE"
MIN_WINDOW = 24  # the cascade's own window side: smaller faces are never found


def cascade_path() -> Path:
    """Where the cascade is read from: $FDAN_HAAR_CASCADE, else opencv's bundled data folder."""
    env = os.environ.get(CASCADE_ENV)
    if env:
        return Path(env).expanduser()
    data = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not data:
        raise FaceDetectorError(_missing(None))
    return Path(data) / CASCADE_FILE


def _missing(path: Path | None) -> str:
    where = f"{path} is missing or unreadable" if path else "this OpenCV has no bundled cascade data (cv2.data)"
    return (f"OpenCV's Haar face cascade {CASCADE_FILE}: {where} (OpenCV {cv2.__version__}; OpenCV 5 no longer "
            f"ships it). Fix: install the pinned opencv-python-headless 4.x from requirements.lock, or set "
            f"{CASCADE_ENV}=/path/to/{CASCADE_FILE} (the file from any OpenCV 4 release), or use "
            "face_detector: center, or register another detector (fdan.features.face_detector).")


class HaarDetector:
    """`FaceDetector` over OpenCV's cascade, loaded once when built (FaceDetectorError if it cannot be)."""

    grey = True

    def __init__(self, path: Path | None = None) -> None:
        path = Path(path) if path is not None else cascade_path()
        cascade = cv2.CascadeClassifier(str(path)) if path.is_file() else None
        if cascade is None or cascade.empty():
            raise FaceDetectorError(_missing(path))
        self._cascade = cascade

    def detect(self, image: np.ndarray, min_side: int, max_side: int | None) -> list[Box]:
        grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else np.ascontiguousarray(image))
        lo = max(MIN_WINDOW, int(min_side))
        hi = 0 if max_side is None else max(lo + 1, int(max_side))  # 0: no upper bound
        boxes = self._cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(lo, lo),
                                               maxSize=(hi, hi))
        return [tuple(int(v) for v in b) for b in boxes]
