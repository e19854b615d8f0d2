"""Face crops from RGB frames: OpenCV's bundled Haar frontal-face cascade, with a counted centre-crop fallback.

Per frame: detect faces on a (down-scaled, histogram-equalised) grey image, keep the largest box,
enlarge it by `face_margin` of its size on each side, make it square (side = max(w, h) after the
margin, same centre), shift it inside the frame (shrinking it to the frame's short side if needed),
and resize to `face_size` x `face_size` (area interpolation). A frame without a detection gets the
centre square crop of side min(H, W) instead, and is counted as a fallback.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from fdan.config import FeatureConfig

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Detection runs on frames scaled so their longer side is at most this (speed; faces stay > 24 px).
DETECT_MAX_SIDE = 480
Box = tuple[int, int, int, int]  # x, y, w, h in pixels


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    """The cascade, loaded once per process from the opencv package's own data directory."""
    path = Path(cv2.data.haarcascades) / CASCADE_FILE
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"cannot load OpenCV's Haar cascade {path}")
    return cascade


def detect_largest_face(frame: np.ndarray) -> Box | None:
    """Largest frontal face in an RGB uint8 frame (H, W, 3) as (x, y, w, h), or None."""
    h, w = frame.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    min_side = max(24, min(grey.shape) // 10)
    boxes = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    if len(boxes) == 0:
        return None
    x, y, bw, bh = max(boxes, key=lambda b: int(b[2]) * int(b[3]))
    return (round(x / scale), round(y / scale), round(bw / scale), round(bh / scale))


def square_box(box: Box, margin: float, height: int, width: int) -> Box:
    """Enlarge `box` by `margin` per side, make it square around its centre, and fit it in the frame."""
    x, y, w, h = box
    side = int(round(max(w, h) * (1 + 2 * margin)))
    side = max(1, min(side, height, width))
    cx, cy = x + w / 2, y + h / 2
    x0 = int(round(min(max(cx - side / 2, 0), width - side)))
    y0 = int(round(min(max(cy - side / 2, 0), height - side)))
    return x0, y0, side, side


def center_box(height: int, width: int) -> Box:
    """The centre square of side min(H, W)."""
    side = min(height, width)
    return (width - side) // 2, (height - side) // 2, side, side


def crop_resize(frame: np.ndarray, box: Box, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8 crop of `box`."""
    x, y, w, h = box
    crop = frame[y:y + h, x:x + w]
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def face_crops(frames: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, int]:
    """(K, H, W, 3) uint8 RGB frames -> ((K, 3, S, S) uint8 crops, number of centre-crop fallbacks).

    With `cfg.face_detector == "center"` no detection is attempted: every frame is a centre crop and
    the fallback count is 0 (it counts only frames where the Haar detector found no face).
    """
    k, height, width = frames.shape[:3]
    out = np.empty((k, 3, cfg.face_size, cfg.face_size), dtype=np.uint8)
    n_fallback = 0
    for i, frame in enumerate(frames):
        box = detect_largest_face(frame) if cfg.face_detector == "haar" else None
        if box is None:
            n_fallback += cfg.face_detector == "haar"
            box = center_box(height, width)
        else:
            box = square_box(box, cfg.face_margin, height, width)
        out[i] = crop_resize(frame, box, cfg.face_size).transpose(2, 0, 1)
    return out, n_fallback
