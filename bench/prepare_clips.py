"""The RAVDESS-like 720p clips `bench_prepare.py` writes, and the true face centre in their frames.

1280x720 H.264 (yuv420p, 29.97 fps, a keyframe every 2 s, B-frames) + AAC 48 kHz mono mp4, each
showing a large moving cartoon face on a textured, slowly panning background with sensor-like noise,
and a speech-like tone. The face's skin colour (SKIN) appears nowhere else, so its centroid in a
decoded frame is the face's true centre (`true_centre`), against which crops are compared.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

SKIN = (225, 190, 170)

W, H, FPS, SR = 1280, 720, Fraction(30000, 1001), 48000


def _frame(i: int, noise: list[np.ndarray], texture: np.ndarray) -> np.ndarray:
    import cv2

    t = i / float(FPS)
    img = np.roll(texture, int(4 * t * 30), axis=1).copy()  # slow pan: real inter-frame motion
    cx, cy, s = int(W / 2 + 60 * np.sin(1.3 * t)), int(H / 2 + 20 * np.sin(0.7 * t)), 150
    cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, SKIN, -1)
    for dx in (-1, 1):
        ex, ey = cx + dx * int(s * 0.35), cy - int(s * 0.2)
        cv2.ellipse(img, (ex, ey - int(s * 0.2)), (int(s * 0.22), int(s * 0.06)), 0, 180, 360, (40, 30, 30), -1)
        cv2.ellipse(img, (ex, ey), (int(s * 0.16), int(s * 0.09)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (ex, ey), int(s * 0.07), (20, 20, 20), -1)
    cv2.line(img, (cx, cy - int(s * 0.1)), (cx - int(s * 0.08), cy + int(s * 0.25)), (170, 140, 120), 4)
    mouth = int(s * (0.08 + 0.06 * abs(np.sin(9 * t))))
    cv2.ellipse(img, (cx, cy + int(s * 0.5)), (int(s * 0.3), mouth), 0, 0, 360, (150, 60, 60), -1)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    return np.clip(img.astype(np.int16) + noise[i % len(noise)], 0, 255).astype(np.uint8)


def write_clip(path: Path, seconds: float, seed: int) -> None:
    """One RAVDESS-like clip (see module docstring)."""
    import av

    rng = np.random.default_rng(seed)
    texture = np.repeat(np.repeat(rng.integers(40, 140, (H // 8, W // 8, 3), dtype=np.uint8), 8, 0), 8, 1)
    noise = [rng.normal(0, 3, (H, W, 3)).astype(np.int16) for _ in range(3)]  # sensor-like, cycled
    n = int(round(seconds * float(FPS)))
    t = np.arange(int(seconds * SR)) / SR
    wave = (0.2 * np.sin(2 * np.pi * (180 + 40 * np.sin(3 * t)) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)))
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "23", "bf": "2"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.codec_context.gop_size = 60
        a = out.add_stream("aac", rate=SR, layout="mono")
        for start in range(0, wave.size, 1024):
            af = av.AudioFrame.from_ndarray(wave[None, start:start + 1024].astype(np.float32), format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = SR, start, Fraction(1, SR)
            for pkt in a.encode(af):
                out.mux(pkt)
        for pkt in a.encode(None):
            out.mux(pkt)
        for i in range(n):
            for pkt in vs.encode(av.VideoFrame.from_ndarray(_frame(i, noise, texture), format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)



def true_centre(frame: np.ndarray) -> tuple[float, float, float]:
    """(x, y, height) of the drawn face in a decoded RGB frame: its skin-coloured pixels' centroid
    and vertical extent (eyes, nose and mouth inside the oval are symmetric about the centre)."""
    ys, xs = np.nonzero(np.abs(frame.astype(np.int16) - SKIN).max(-1) < 30)
    return float(xs.mean()), float(ys.mean()), float(ys.max() - ys.min())
