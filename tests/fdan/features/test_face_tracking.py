"""Several faces in frame (MELD): one face is chosen and followed through the clip."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import extract_utterance
from fdan.features.faces import detect_faces, first_face, follow_face, track_face
from tests.fdan.features.conftest import GREEN_SKIN, RED_SKIN, draw_faces

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=48, n_frames=6, clip_seconds=1.0)


def _skin(crops: np.ndarray) -> list[str]:
    """Which face each (K, 3, S, S) crop shows, by the sign of R - G at the crop centre."""
    c = crops.astype(int)[:, :, 16:32, 16:32]
    return ["red" if (c[i, 0] - c[i, 1]).mean() > 0 else "green" for i in range(len(c))]


def _crossing(k: int = 6) -> np.ndarray:
    """(k, 240, 320, 3): the red-skinned face (left) shrinks from s=44 while the green one (right)
    grows from s=30, so the largest face changes from red to green half-way."""
    return np.stack([draw_faces([(85, 120, 44 - 3 * j, RED_SKIN), (235, 125, 30 + 3 * j, GREEN_SKIN)])
                     for j in range(k)])


def test_first_pick_is_the_largest_then_the_most_central():
    two_sizes = draw_faces([(90, 120, 46, RED_SKIN), (160, 120, 30, GREEN_SKIN)])
    assert first_face(detect_faces(two_sizes), 240, 320)[0] < 90  # the large left one, though off-centre
    alike = draw_faces([(80, 120, 40, RED_SKIN), (190, 120, 40, GREEN_SKIN)])
    boxes = detect_faces(alike)
    assert len(boxes) == 2
    box = first_face(boxes, 240, 320)
    assert abs(box[0] + box[2] / 2 - 190) < 10  # equal sizes: the one nearer the centre (x = 160)


def test_the_followed_face_is_kept_when_another_becomes_larger():
    frames = _crossing()
    sizes = [sorted(detect_faces(f), key=lambda b: b[0]) for f in frames]
    assert sizes[0][0][2] > sizes[0][1][2] and sizes[-1][0][2] < sizes[-1][1][2]  # the largest changes
    boxes, detected = track_face(frames)
    assert all(detected) and all(b[0] + b[2] / 2 < 160 for b in boxes)  # always the left (red) face


def test_follow_rules():
    prev = (100, 100, 50, 50)
    assert follow_face(prev, [(300, 100, 60, 60), (110, 105, 50, 50)]) == (110, 105, 50, 50)  # IoU
    assert follow_face(prev, [(300, 100, 60, 60), (152, 110, 40, 40)]) == (152, 110, 40, 40)  # near, no overlap
    assert follow_face(prev, [(300, 100, 60, 60)]) is None  # too far: not the same face
    assert follow_face(prev, []) is None


def test_a_missed_detection_reuses_the_followed_box():
    frames = _crossing(4)
    frames[2] = draw_faces([])  # nobody in frame 2
    boxes, detected = track_face(frames)
    assert detected == [True, True, False, True] and boxes[2] == boxes[1]


def test_real_clip_with_two_faces_gives_crops_of_one_face(tmp_path: Path):
    frames = _crossing(6)
    with av.open(str(tmp_path / "two.mp4"), "w") as out:
        vs = out.add_stream("libx264", rate=6)
        vs.height, vs.width, vs.pix_fmt = 240, 320, "yuv420p"
        a = out.add_stream("aac", rate=16000, layout="mono")
        t = np.arange(16000) / 16000
        wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, 16000, 1024):
            af = av.AudioFrame.from_ndarray(wave[None, start:start + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, start
            for pkt in a.encode(af):
                out.mux(pkt)
        for pkt in a.encode(None):
            out.mux(pkt)
        for f in frames:
            for pkt in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    utt = Utterance("meld", "u", "s", "joy", "happiness", "train", -1, "", "two.mp4")
    ex = extract_utterance(tmp_path, utt, CFG)
    assert ex.face_mask.all() and ex.n_fallback == 0
    assert _skin(ex.faces) == ["red"] * 6
