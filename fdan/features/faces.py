"""Face crops from RGB frames: OpenCV's bundled Haar frontal-face cascade, one face followed through the clip.

Per frame: detect faces on a (down-scaled, histogram-equalised) grey image. One face is followed
through the clip's frames (MELD shows several people): in the first frame with a detection, the
largest box, and among boxes of at least `SIMILAR_AREA` of the largest one's area the one whose
centre is nearest the frame centre; in each later frame, the detection overlapping the followed box
most (IoU), else the one whose centre is nearest to it if within one box side, else none (a frame
is first searched for faces of 0.6-1.6 times the followed face's side only, which is several times
faster, then over all sizes if that finds no continuation). The box is
enlarged by `face_margin` of its size on each side, made square (side = max(w, h) after the margin,
same centre), shifted inside the frame (shrunk to the frame's short side if needed), and resized to
`face_size` x `face_size` (area interpolation). A frame where the followed face is not detected is a
counted fallback and reuses the followed box of the nearest earlier frame (of the first detection,
for frames before it); a clip without any detection gets the centre square crop of side min(H, W).
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
# Boxes at least this fraction of the largest one's area compete on centrality for the first pick.
SIMILAR_AREA = 0.8
# After the first detection, look for faces of these multiples of the followed face's side first.
TRACK_SIZES = (0.6, 1.6)


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    """The cascade, loaded once per process from the opencv package's own data directory."""
    path = Path(cv2.data.haarcascades) / CASCADE_FILE
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"cannot load OpenCV's Haar cascade {path}")
    return cascade


def detect_faces(frame: np.ndarray, near_side: int | None = None) -> list[Box]:
    """Every frontal face in an RGB uint8 frame (H, W, 3), as (x, y, w, h) in frame pixels.

    `near_side` (pixels): look only for faces of TRACK_SIZES times that side (the followed face's
    size), which skips most of the cascade's scales (several times faster on 720p frames)."""
    h, w = frame.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    min_side, max_side = max(24, min(grey.shape) // 10), 0  # 0: no upper limit
    if near_side is not None:
        min_side = max(min_side, int(near_side * scale * TRACK_SIZES[0]))
        max_side = max(min_side + 1, int(near_side * scale * TRACK_SIZES[1]))
    boxes = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side),
                                        maxSize=(max_side, max_side))
    return [(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)) for x, y, bw, bh in boxes]


def detect_largest_face(frame: np.ndarray) -> Box | None:
    """Largest frontal face in an RGB uint8 frame (H, W, 3) as (x, y, w, h), or None."""
    boxes = detect_faces(frame)
    return max(boxes, key=lambda b: b[2] * b[3]) if boxes else None


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def first_face(boxes: list[Box], height: int, width: int) -> Box:
    """The face to follow: the largest, or the most central of those within SIMILAR_AREA of it."""
    largest = max(b[2] * b[3] for b in boxes)
    similar = [b for b in boxes if b[2] * b[3] >= SIMILAR_AREA * largest]
    return min(similar, key=lambda b: (_centre(b)[0] - width / 2) ** 2 + (_centre(b)[1] - height / 2) ** 2)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def follow_face(prev: Box, boxes: list[Box]) -> Box | None:
    """The detection that continues `prev`: highest IoU, else the nearest centre within one box side."""
    if not boxes:
        return None
    best = max(boxes, key=lambda b: iou(prev, b))
    if iou(prev, best) > 0:
        return best
    px, py = _centre(prev)
    near = min(boxes, key=lambda b: (_centre(b)[0] - px) ** 2 + (_centre(b)[1] - py) ** 2)
    dist = ((_centre(near)[0] - px) ** 2 + (_centre(near)[1] - py) ** 2) ** 0.5
    return near if dist <= max(prev[2], prev[3]) else None


def track_face(frames: np.ndarray) -> tuple[list[Box | None], list[bool]]:
    """Per frame of (K, H, W, 3): the followed face's box (None for all if nothing is ever detected)
    and whether it was detected in that frame (False = reused box, a fallback)."""
    height, width = frames.shape[1:3]
    found: list[Box | None] = []
    followed: Box | None = None
    for frame in frames:
        if followed is None:
            boxes = detect_faces(frame)
            box = first_face(boxes, height, width) if boxes else None
        else:  # faces of about the followed size first; the full scale range if that finds none
            box = follow_face(followed, detect_faces(frame, max(followed[2], followed[3])))
            box = box or follow_face(followed, detect_faces(frame))
        followed = box or followed
        found.append(box)
    detected = [b is not None for b in found]
    first = next((b for b in found if b is not None), None)
    out: list[Box | None] = []
    last = first
    for box in found:
        last = box or last
        out.append(last)
    return out, detected


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
    """(K, H, W, 3) uint8 RGB frames -> ((K, 3, S, S) uint8 crops of the followed face, fallbacks).

    The fallback count is the number of frames in which the followed face was not detected. With
    `cfg.face_detector == "center"` no detection is attempted: every frame is a centre crop and the
    fallback count is 0.
    """
    k, height, width = frames.shape[:3]
    out = np.empty((k, 3, cfg.face_size, cfg.face_size), dtype=np.uint8)
    if cfg.face_detector == "haar":
        boxes, detected = track_face(frames)
        n_fallback = k - sum(detected)
    else:
        boxes, n_fallback = [None] * k, 0
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        box = center_box(height, width) if box is None else square_box(box, cfg.face_margin, height, width)
        out[i] = crop_resize(frame, box, cfg.face_size).transpose(2, 0, 1)
    return out, n_fallback
