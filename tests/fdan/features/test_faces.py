from __future__ import annotations

import cv2
import numpy as np

from fdan.config import FeatureConfig
from fdan.features.faces import center_box, detect_largest_face, face_crops, square_box

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=3, clip_seconds=1.0)


def test_detects_drawn_faces_where_they_are(draw):
    for cx, cy, s in [(80, 60, 36), (50, 55, 30), (110, 70, 40)]:
        box = detect_largest_face(draw(120, 160, cx=cx, cy=cy, s=s))
        assert box is not None, (cx, cy, s)
        x, y, w, h = box
        assert abs(x + w / 2 - cx) < 8 and abs(y + h / 2 - cy) < 12
        assert 1.0 * s < w < 3.5 * s


def test_no_face_in_blank_or_noise_frames(draw):
    rng = np.random.default_rng(0)
    assert detect_largest_face(draw(face=False)) is None
    assert detect_largest_face(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)) is None


def test_picks_the_largest_face(draw):
    frame = np.concatenate([draw(120, 160, s=24), draw(120, 160, s=44)], axis=1)  # 120 x 320
    x, y, w, h = detect_largest_face(frame)
    assert x > 160 and w > 60


def test_square_box_margin_and_bounds():
    assert square_box((40, 30, 20, 30), 0.0, 120, 160) == (35, 30, 30, 30)
    assert square_box((40, 30, 20, 20), 0.5, 120, 160) == (30, 20, 40, 40)
    x, y, w, h = square_box((0, 0, 40, 40), 0.5, 120, 160)  # would leave the frame: shifted in
    assert (x, y, w, h) == (0, 0, 80, 80)
    assert square_box((0, 0, 150, 110), 0.5, 120, 160)[2:] == (120, 120)  # capped at the short side
    assert center_box(120, 160) == (20, 0, 120, 120)


def test_face_crops_shapes_and_counted_fallback(draw):
    frames = np.stack([draw(cx=60), draw(face=False), draw(cx=100)])
    crops, n_fallback = face_crops(frames, CFG)
    assert crops.shape == (3, 3, 32, 32) and crops.dtype == np.uint8
    assert n_fallback == 1
    expected_center = cv2.resize(frames[1][:, 20:140], (32, 32), interpolation=cv2.INTER_AREA).transpose(2, 0, 1)
    np.testing.assert_array_equal(crops[1], expected_center)
    # a face crop is filled by the skin oval (bright red channel), not by the dark background
    for i in (0, 2):
        assert crops[i, 0, 8:24, 8:24].mean() > 150


def test_center_detector_never_detects(draw):
    frames = np.stack([draw(cx=60), draw(face=False)])
    crops, n_fallback = face_crops(frames, CFG.model_copy(update={"face_detector": "center"}))
    assert n_fallback == 0
    centre = cv2.resize(frames[0][:, 20:140], (32, 32), interpolation=cv2.INTER_AREA).transpose(2, 0, 1)
    np.testing.assert_array_equal(crops[0], centre)
