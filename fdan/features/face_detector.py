"""The face-detector interface: what the face follower (`faces`) needs from a detector, and a registry.

A detector answers one question: where are the frontal faces whose side lies in [min_side, max_side]
pixels in this RGB image? The follower decides which image it asks about (a whole, down-scaled
frame, or a small region around a followed face) and which sizes, so a detector knows nothing of
clips, tracking or corpora. Plugging another detector in:

    from fdan.features.face_detector import register_detector

    class MyDetector:
        grey = False                                   # wants RGB images
        def detect(self, image, min_side, max_side):   # RGB uint8 (H, W, 3) -> [(x, y, w, h), ...]
            ...

    register_detector("mine", MyDetector)              # then FeatureConfig(face_detector="mine")

The registry maps `FeatureConfig.face_detector` to a factory; "haar" (OpenCV's bundled cascade,
`fdan.features.haar`) is built in, "center" means no detector (centre crops). Importers never see
the detector. The interface's types live in `fdan.features.detector_interface` (so that `haar` can
use them without importing this registry) and are re-exported here.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from fdan.features.detector_interface import Box, FaceDetector, FaceDetectorError
from fdan.features.haar import HaarDetector

__all__ = ["Box", "FaceDetector", "FaceDetectorError", "NO_DETECTOR", "get_detector", "known_detectors",
           "register_detector"]

NO_DETECTOR = "center"  # FeatureConfig.face_detector value meaning: no detection, centre crops
_FACTORIES: dict[str, Callable[[], FaceDetector]] = {"haar": HaarDetector}


def register_detector(name: str, factory: Callable[[], FaceDetector]) -> None:
    """Make `factory()` the detector used for `FeatureConfig(face_detector=name)`."""
    if name == NO_DETECTOR:
        raise ValueError(f"{NO_DETECTOR!r} is reserved (no detection, centre crops)")
    _FACTORIES[name] = factory
    get_detector.cache_clear()


def known_detectors() -> list[str]:
    return sorted([*_FACTORIES, NO_DETECTOR])


@lru_cache(maxsize=8)
def get_detector(name: str) -> FaceDetector | None:
    """The detector registered as `name`, built once per process; None for "center".

    Raises FaceDetectorError for an unknown name or a detector that cannot load its model."""
    if name == NO_DETECTOR:
        return None
    if name not in _FACTORIES:
        raise FaceDetectorError(f"unknown face detector {name!r}; known: {', '.join(known_detectors())} "
                                "(register another with fdan.features.face_detector.register_detector)")
    return _FACTORIES[name]()
