"""The face-detector interface: another detector plugs in without touching importers; a missing Haar
cascade (an OpenCV 5 install) stops with a message naming the fix."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import extract_utterance, prepare_corpus
from fdan.features import face_detector as registry
from fdan.features.face_detector import FaceDetectorError, get_detector, register_detector
from fdan.features.faces import crop_faces
from fdan.features.haar import CASCADE_ENV, HaarDetector

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=3, clip_seconds=1.0)


class CornerDetector:
    """Finds one 'face': the top-left quarter of whatever image it is shown (RGB, as asked)."""

    grey = False

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray, min_side: int, max_side: int | None) -> list[tuple[int, int, int, int]]:
        self.shapes.append(image.shape)
        side = min(image.shape[:2]) // 2
        return [(0, 0, side, side)] if side >= min_side and (max_side is None or side <= max_side) else []


@pytest.fixture
def corner(monkeypatch):
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    det = CornerDetector()
    register_detector("corner", lambda: det)
    yield det
    get_detector.cache_clear()


def test_a_registered_detector_is_used_by_name(corner, tmp_path: Path):
    from tests.fdan.features.conftest import write_clip

    write_clip(tmp_path / "c.mp4", seconds=1.0, fps=10, size=(120, 160))
    utt = Utterance("x", "u", "s", "a", "anger", "all", 0, "", "c.mp4")
    ex = extract_utterance(tmp_path, utt, CFG.model_copy(update={"face_detector": "corner"}))
    assert corner.shapes and all(len(s) == 3 for s in corner.shapes)  # RGB images, as it asked
    assert ex.face_choice == "largest" and ex.n_fallback == 0
    frames = np.zeros((3, 120, 160, 3), np.uint8)
    frames[:, :60, :60] = 200  # the corner "face" region is bright
    res = crop_faces(frames, CFG.model_copy(update={"face_detector": "corner"}))
    # cropped around the corner box (60 px + margins: half bright), not the centre square (17 % bright)
    assert res.crops.mean() > 80 and (res.crops[:, :, 0, 0] == 200).all()


def test_unknown_detector_names_the_known_ones():
    with pytest.raises(FaceDetectorError, match="unknown face detector 'nope'; known: center, haar"):
        get_detector("nope")


def test_missing_cascade_names_the_fix(monkeypatch, tmp_path: Path):
    with pytest.raises(FaceDetectorError, match="OpenCV 5 no longer ships it.*opencv-python-headless 4.x.*"
                                                f"{CASCADE_ENV}=.*face_detector: center"):
        HaarDetector(tmp_path / "absent.xml")
    # opencv without its bundled data folder (cv2.data), as in OpenCV 5: the same message, up front
    import cv2

    monkeypatch.delattr(cv2, "data", raising=False)
    monkeypatch.delenv(CASCADE_ENV, raising=False)
    get_detector.cache_clear()
    try:
        with pytest.raises(FaceDetectorError, match="no bundled cascade data"):
            prepare_corpus("csv", tmp_path, tmp_path / "out", CFG)  # before the corpus is even read
    finally:
        get_detector.cache_clear()


def test_cascade_from_the_environment_variable(monkeypatch, tmp_path: Path):
    import cv2

    monkeypatch.setenv(CASCADE_ENV, str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    assert HaarDetector().grey
    monkeypatch.setenv(CASCADE_ENV, str(tmp_path / "missing.xml"))
    with pytest.raises(FaceDetectorError, match="missing.xml is missing or unreadable"):
        HaarDetector()
