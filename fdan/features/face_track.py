"""Following faces through a clip's K sampled frames: one full search, then small searches around each face.

Full search (`start_faces`, on the first frame with any face): the frame is scaled so its longer side
is at most DETECT_MAX_SIDE, and sizes are searched in bands from large to small (sides >= 4 s0,
>= 2 s0, >= s0, where s0 = max(24, short side / 10) is the smallest face looked for); as soon as a
band holds a face of side S, only sides down to `keep` x S are searched further. Haar's cost is
dominated by the smallest sizes, so a clip whose faces are large never pays for them; every face of
side >= keep x S is still found (keep = sqrt(0.8) for the "largest" rule: a face of less than 0.8 of
the largest one's area can never be picked).

Following (`follow`): in each later frame a face is looked for in a region around its box in the
previous frame (the box grown by ROI_MARGIN of its side on each side), scaled so that the face is
about ROI_FACE_SIDE pixels, for faces of ROI_SIZES times its side; the detection overlapping the
previous box most (IoU), else the nearest one within one box side (`follow_face`). Only when that
finds nothing is the whole frame searched (faces of TRACK_SIZES times that size, then all sizes). A frame where
a face is not found keeps None (a counted fallback; the caller reuses the nearest earlier box).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from fdan.features.face_detector import Box, FaceDetector

DETECT_MAX_SIDE = 480
SIMILAR_AREA = 0.8  # boxes at least this fraction of the largest one's area compete on centrality
TRACK_SIZES = (0.6, 1.6)  # a followed face is looked for at these multiples of its side
ROI_MARGIN = 0.4
ROI_FACE_SIDE = 96
ROI_SIZES = (0.75, 1.33)  # sizes looked for in the region first (the whole frame then uses TRACK_SIZES)
BANDS = (4, 2, 1)  # size bands of the full search, in multiples of the smallest side looked for
BAND_OVERLAP = 1.25  # a band's upper bound reaches this far into the band above (no face split between two)


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def _input(image: np.ndarray, detector: FaceDetector) -> np.ndarray:
    """An RGB image in the form the detector takes (grey for a `grey` detector)."""
    if getattr(detector, "grey", False) and image.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return image


def _scaled(frame: np.ndarray, detector: FaceDetector) -> tuple[np.ndarray, float]:
    frame = _input(frame, detector)
    h, w = frame.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    if scale < 1.0:
        frame = cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return frame, scale


def _unscale(boxes: list[Box], scale: float, dx: int = 0, dy: int = 0) -> list[Box]:
    return [(dx + round(x / scale), dy + round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in boxes]


def _dedupe(boxes: list[Box]) -> list[Box]:
    """Drop a box that overlaps an earlier (larger) one by IoU > 0.5 (the same face from two bands)."""
    out: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b[2] * b[3]):
        if all(iou(b, o) <= 0.5 for o in out):
            out.append(b)
    return out


def detect_faces(frame: np.ndarray, detector: FaceDetector, near_side: int | None = None) -> list[Box]:
    """Every face in an RGB frame (H, W, 3), searched at all sizes (or at TRACK_SIZES x `near_side`)."""
    small, scale = _scaled(frame, detector)
    lo = max(24, min(small.shape[:2]) // 10)
    hi = None
    if near_side is not None:
        lo = max(lo, int(near_side * scale * TRACK_SIZES[0]))
        hi = max(lo + 1, int(near_side * scale * TRACK_SIZES[1]))
    return _unscale(detector.detect(small, lo, hi), scale)


def start_faces(frame: np.ndarray, detector: FaceDetector, keep: float) -> list[Box]:
    """The faces of one frame whose side is >= `keep` x the largest face's side, largest first
    (banded search, module docstring); [] when there is none."""
    small, scale = _scaled(frame, detector)
    s0 = max(24, min(small.shape[:2]) // 10)
    found: list[Box] = []
    upper: int | None = None
    for mult in BANDS:
        lo = s0 * mult
        found += detector.detect(small, lo, None if upper is None else int(upper * BAND_OVERLAP))
        if found:
            need = max(s0, math.ceil(keep * max(max(b[2], b[3]) for b in found)))
            if need < lo:  # faces between keep x S and this band's bottom would still count
                found += detector.detect(small, need, int(lo * BAND_OVERLAP))
            break
        upper = lo
    if not found:
        return []
    found = _dedupe(found)
    largest = max(max(b[2], b[3]) for b in found)
    return _unscale([b for b in found if max(b[2], b[3]) >= keep * largest], scale)


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


def _in_region(frame: np.ndarray, prev: Box, detector: FaceDetector) -> list[Box]:
    """Faces of about prev's size in a region around prev, scaled so the face is ~ROI_FACE_SIDE px."""
    height, width = frame.shape[:2]
    side = max(prev[2], prev[3])
    grow = ROI_MARGIN * side
    x0, y0 = max(0, int(prev[0] - grow)), max(0, int(prev[1] - grow))
    x1, y1 = min(width, int(prev[0] + prev[2] + grow)), min(height, int(prev[1] + prev[3] + grow))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    scale = min(1.0, ROI_FACE_SIDE / side)
    roi = _input(frame[y0:y1, x0:x1], detector)
    if scale < 1.0:
        roi = cv2.resize(roi, (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))),
                         interpolation=cv2.INTER_AREA)
    boxes = detector.detect(roi, int(side * scale * ROI_SIZES[0]), int(side * scale * ROI_SIZES[1]) + 1)
    return _unscale(boxes, scale, x0, y0)


def find_start(frames: np.ndarray, detector: FaceDetector, keep: float) -> tuple[int, list[Box]]:
    """(index of the first of the (K, H, W, 3) frames with a face, its `start_faces`), or (-1, [])."""
    for i, frame in enumerate(frames):
        starts = start_faces(frame, detector, keep)
        if starts:
            return i, starts
    return -1, []


def follow(frames: np.ndarray, detector: FaceDetector, first: int, starts: list[Box]) -> list[list[Box | None]]:
    """Per start face (found in frame `first`), its box in every frame of (K, H, W, 3) or None where it
    was not found (frames before `first` included)."""
    k = len(frames)
    tracks: list[list[Box | None]] = [[None] * k for _ in starts]
    for t, box in zip(tracks, starts):
        t[first] = box
    last = list(starts)
    for i in range(first + 1, k) if first >= 0 else ():
        whole: dict[int | None, list[Box]] = {}  # whole-frame searches of this frame, made at most once each

        def search(near: int | None) -> list[Box]:
            if near not in whole:
                whole[near] = detect_faces(frames[i], detector, near)
            return whole[near]

        for j, prev in enumerate(last):
            box = (follow_face(prev, _in_region(frames[i], prev, detector))
                   or follow_face(prev, search(max(prev[2], prev[3])))
                   or follow_face(prev, search(None)))
            tracks[j][i] = box
            last[j] = box or prev
    return tracks
