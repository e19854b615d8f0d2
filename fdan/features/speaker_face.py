"""Which of several faces is speaking: the one whose mouth region moves while the utterance's audio is loud.

For the K sampled frames (times t_0 < ... < t_{K-1} in the audio window) and each followed face f:

    m_f,i = min over shifts (dx, dy) in [-3, 3]^2 of mean |P_f,i - shifted P_f,i-1|
            (grey mouth patch P: x in [0.25, 0.75] w, y in [0.62, 0.95] h of the face's box in that frame,
            resized to 32 x 16, the box's side fixed at the track's median side; i = 1 .. K-1)
    e_i   = RMS of the audio over [t_i-1, t_i];  w_i = e_i / max_i e_i
    s_f   = sum_i w_i m_f,i / sum_i w_i   (mouth motion while there is speech)

The patch follows the face's box in each frame, and the shift search absorbs the detector's jitter,
so moving the head is not mouth motion. The face
with the highest s_f is the speaker when s_f >= SPEAKER_MARGIN x the runner-up's and >= MIN_MOTION
grey levels; otherwise (silence, fewer than 2 sampled frames, mouths that move alike) the clip is
"undecided" and the caller falls back to the largest-face rule.
"""
from __future__ import annotations

import cv2
import numpy as np

from fdan.features.face_detector import Box

SPEAKER_MARGIN = 1.5
MIN_MOTION = 5.0  # grey levels (0..255): below this no mouth is taken to move (set on drawn faces; jitter gives <= 4)
PATCH = (32, 16)  # width, height of the resized mouth patch
MAX_SHIFT = 3  # patch pixels (about 6 % of the face's side) searched to align consecutive patches


def mouth_patch(frame: np.ndarray, box: Box) -> np.ndarray:
    """Grey float32 (16, 32) patch of the mouth region of `box` in an RGB frame (H, W, 3)."""
    x, y, w, h = box
    height, width = frame.shape[:2]
    x0, x1 = max(0, int(x + 0.25 * w)), min(width, int(x + 0.75 * w))
    y0, y1 = max(0, int(y + 0.62 * h)), min(height, int(y + 0.95 * h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros(PATCH[::-1], np.float32)
    grey = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, PATCH, interpolation=cv2.INTER_AREA).astype(np.float32)


def _steady(boxes: list[Box]) -> list[Box]:
    """Each frame's box re-sized to the track's median side around that frame's centre: the detector's
    size jitter (10 % between frames) would otherwise move the mouth patch as much as a mouth moves."""
    side = float(np.median([max(b[2], b[3]) for b in boxes]))
    return [(int(round(b[0] + b[2] / 2 - side / 2)), int(round(b[1] + b[3] / 2 - side / 2)), int(side), int(side))
            for b in boxes]


def _aligned_change(a: np.ndarray, b: np.ndarray, shift: int = MAX_SHIFT) -> float:
    """Mean |a - b| over their overlap at the best integer shift within +-`shift` patch pixels (the
    box's position jitter is not mouth motion)."""
    h, w = a.shape
    best = np.inf
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            pa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            pb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            best = min(best, float(np.abs(pa - pb).mean()))
    return best


def mouth_motion(frames: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """(K-1,) change of the mouth patch between consecutive frames (grey levels, jitter-compensated)."""
    patches = [mouth_patch(f, b) for f, b in zip(frames, _steady(boxes))]
    return np.array([_aligned_change(patches[i], patches[i - 1]) for i in range(1, len(patches))], np.float64)


def interval_energy(wave: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """(len(times)-1,) RMS of `wave` over [times[i-1], times[i]) seconds (0 for an empty interval)."""
    out = np.zeros(max(0, len(times) - 1))
    for i in range(1, len(times)):
        a, b = int(round(times[i - 1] * sr)), int(round(times[i] * sr))
        seg = wave[max(0, a):max(0, b)]
        out[i - 1] = float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)))) if seg.size else 0.0
    return out


def speaker_scores(frames: np.ndarray, tracks: list[list[Box]], energy: np.ndarray) -> np.ndarray:
    """s_f per face (module docstring); tracks: per face its box in every frame; energy: (K-1,)."""
    total = float(energy.max()) if energy.size else 0.0
    if total <= 0:
        return np.zeros(len(tracks))
    w = energy / total
    return np.array([float((w * mouth_motion(frames, t)).sum() / w.sum()) for t in tracks])


def choose_speaker(frames: np.ndarray, tracks: list[list[Box]], energy: np.ndarray) -> int | None:
    """Index of the speaking face among `tracks`, or None when they cannot be told apart."""
    if len(tracks) < 2 or len(frames) < 2:
        return None
    scores = speaker_scores(frames, tracks, energy)
    order = np.argsort(-scores)
    best, second = scores[order[0]], scores[order[1]]
    if best < MIN_MOTION or best < SPEAKER_MARGIN * second:
        return None
    return int(order[0])
