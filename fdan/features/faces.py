"""Face crops from a clip's K sampled RGB frames: which face, and how it is cut out.

Detection goes through the `FaceDetector` named by `FeatureConfig.face_detector` (default "haar",
OpenCV's cascade; "center": no detection); faces are found and followed by `face_track`. Which face
(the utterance's `face_rule`, an importer option where a corpus shows several people):

- "largest": in the first frame with a detection, the largest box, and among boxes of at least
  SIMILAR_AREA of its area the one whose centre is nearest the frame centre; then followed.
- "speaker": every face of at least half the largest one's side (at most MAX_CANDIDATES, largest
  first) is followed, and the one whose mouth moves while the audio is loud is taken
  (`speaker_face`); when they cannot be told apart, the "largest" pick (the clip is "undecided").

The outcome is the clip's `face_choice`: "largest" (the largest rule's face), "single" (speaker
rule, one candidate face), "speaker" (several, the speaking one), "undecided" (several, not told
apart: the largest rule's face), "none" (no face: centre crops), "center" (no detector). The box is enlarged by `face_margin` of its size on
each side, made square (side = max(w, h) after the margin, same centre), shifted inside the frame
(shrunk to the frame's short side if needed) and resized to `face_size` (area interpolation). A frame
where the followed face is not found is a counted fallback and reuses the box of the nearest earlier
frame (of the first detection, for frames before it); a clip without a detection gets the centre
square of side min(H, W) in every frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fdan.config import FeatureConfig
from fdan.corpora.base import FACE_RULES
from fdan.features.face_detector import Box, FaceDetector, get_detector
from fdan.features.face_track import SIMILAR_AREA, detect_faces as _detect_faces, find_start, follow
from fdan.features.face_track import follow_face, iou  # noqa: F401  (re-exported: the follower's rules)
from fdan.features.speaker_face import choose_speaker

FACE_CHOICES = ("largest", "single", "speaker", "undecided", "none", "center")
SPEAKER_CANDIDATE_SIDE = 0.5
MAX_CANDIDATES = 4


@dataclass
class FaceCrops:
    """crops: (K, 3, S, S) uint8 RGB; n_fallback: frames where the followed face was not found;
    choice: one of FACE_CHOICES (module docstring)."""

    crops: np.ndarray
    n_fallback: int
    choice: str


def _detector(detector: FaceDetector | None) -> FaceDetector:
    return detector if detector is not None else get_detector("haar")


def detect_faces(frame: np.ndarray, near_side: int | None = None, detector: FaceDetector | None = None) -> list[Box]:
    """Every face in an RGB uint8 frame (H, W, 3), as (x, y, w, h) in frame pixels (all sizes, or
    0.6-1.6 times `near_side`)."""
    return _detect_faces(frame, _detector(detector), near_side)


def detect_largest_face(frame: np.ndarray, detector: FaceDetector | None = None) -> Box | None:
    """Largest face in an RGB uint8 frame (H, W, 3) as (x, y, w, h), or None."""
    boxes = detect_faces(frame, detector=detector)
    return max(boxes, key=lambda b: b[2] * b[3]) if boxes else None


def first_face(boxes: list[Box], height: int, width: int) -> Box:
    """The face to follow: the largest, or the most central of those within SIMILAR_AREA of it."""
    largest = max(b[2] * b[3] for b in boxes)
    similar = [b for b in boxes if b[2] * b[3] >= SIMILAR_AREA * largest]
    return min(similar, key=lambda b: (b[0] + b[2] / 2 - width / 2) ** 2 + (b[1] + b[3] / 2 - height / 2) ** 2)


def _filled(track: list[Box | None]) -> list[Box]:
    """Missing boxes replaced by the nearest earlier one (the first one, before it)."""
    last = next(b for b in track if b is not None)
    out = []
    for box in track:
        last = box or last
        out.append(last)
    return out


def choose_and_track(frames: np.ndarray, detector: FaceDetector, rule: str = "largest",
                     energy: np.ndarray | None = None) -> tuple[list[Box] | None, list[bool], str]:
    """(the chosen face's box per frame or None if no face, detected per frame, choice) for (K, H, W, 3).

    `energy` (K-1,): the audio RMS between consecutive frames, needed by the "speaker" rule."""
    if rule not in FACE_RULES:
        raise ValueError(f"face rule {rule!r} is not one of {FACE_RULES}")
    height, width = frames.shape[1:3]
    speaker = rule == "speaker" and energy is not None
    keep = SPEAKER_CANDIDATE_SIDE if speaker else math.sqrt(SIMILAR_AREA)
    first, starts = find_start(frames, detector, keep)
    if first < 0:
        return None, [False] * len(frames), "none"
    largest = first_face(starts, height, width)
    if not speaker or len(starts) == 1:
        track, choice = follow(frames, detector, first, [largest])[0], "largest" if not speaker else "single"
    else:
        starts = sorted(starts, key=lambda b: -b[2] * b[3])[:MAX_CANDIDATES]
        starts = starts if largest in starts else [largest, *starts[:-1]]
        tracks = follow(frames, detector, first, starts)
        pick = choose_speaker(frames, [_filled(t) for t in tracks], energy)
        choice = "undecided" if pick is None else "speaker"
        track = tracks[starts.index(largest) if pick is None else pick]
    return _filled(track), [b is not None for b in track], choice


def track_face(frames: np.ndarray, detector: FaceDetector | None = None) -> tuple[list[Box | None], list[bool]]:
    """The "largest" rule's face: per frame its box (None for all if nothing is ever detected) and
    whether it was detected in that frame (False = reused box, a fallback)."""
    boxes, detected, _ = choose_and_track(frames, _detector(detector))
    return (boxes if boxes is not None else [None] * len(frames)), detected


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


def crop_faces(frames: np.ndarray, cfg: FeatureConfig, rule: str = "largest",
               energy: np.ndarray | None = None) -> FaceCrops:
    """(K, H, W, 3) uint8 RGB frames -> the chosen face's crops (module docstring for the rules)."""
    k, height, width = frames.shape[:3]
    out = np.empty((k, 3, cfg.face_size, cfg.face_size), dtype=np.uint8)
    detector = get_detector(cfg.face_detector)
    if detector is None:
        boxes, n_fallback, choice = [None] * k, 0, "center"
    else:
        boxes, detected, choice = choose_and_track(frames, detector, rule, energy)
        boxes = boxes if boxes is not None else [None] * k
        n_fallback = k - sum(detected)
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        box = center_box(height, width) if box is None else square_box(box, cfg.face_margin, height, width)
        out[i] = crop_resize(frame, box, cfg.face_size).transpose(2, 0, 1)
    return FaceCrops(out, n_fallback, choice)


def face_crops(frames: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, int]:
    """(K, H, W, 3) uint8 RGB -> ((K, 3, S, S) crops of the "largest"-rule face, fallbacks).

    The fallback count is the number of frames in which the followed face was not detected; with
    `cfg.face_detector == "center"` every frame is a centre crop and the count is 0."""
    res = crop_faces(frames, cfg)
    return res.crops, res.n_fallback
