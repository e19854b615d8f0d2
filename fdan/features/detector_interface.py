"""What a face detector is: the `FaceDetector` protocol, the `Box` it returns, the error it raises.

The registry (`fdan.features.face_detector`) re-exports these; detectors such as `fdan.features.haar`
import them from here, so the registry can import its built-in detectors without a cycle.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in pixels


class FaceDetector(Protocol):
    grey: bool  # True: `detect` takes grey (H, W) images (the follower converts before scaling: cheaper)

    def detect(self, image: np.ndarray, min_side: int, max_side: int | None) -> list[Box]:
        """Frontal faces in a uint8 image, RGB (H, W, 3) or, for a `grey` detector, (H, W), whose box
        side is in [min_side, max_side] pixels (max_side None: no upper bound), as (x, y, w, h) in the
        image's pixels."""
        ...


class FaceDetectorError(RuntimeError):
    """A detector that cannot be built (unknown name, missing model file): one message naming the fix."""
