"""The renderer's pixel operations: exact integer area means, a Gaussian equal to OpenCV's up to rounding."""
from __future__ import annotations

import cv2
import numpy as np

from fdan.corpora.synth.pixels import downsample_area, gaussian_blur, gaussian_kernel, upsample_nearest


def test_area_downsample_is_the_exact_rounded_block_mean() -> None:
    img = np.array([[[0], [1]], [[1], [1]]], np.uint8)  # mean 0.75 → 1
    assert downsample_area(img, 2)[0, 0, 0] == 1
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    want = np.floor(big.reshape(32, 2, 48, 2, 3).astype(np.float64).mean(axis=(1, 3)) + 0.5).astype(np.uint8)
    assert np.array_equal(downsample_area(big, 2), want)
    assert np.abs(downsample_area(big, 2).astype(int) - cv2.resize(big, (48, 32), interpolation=cv2.INTER_AREA)).max() <= 1


def test_nearest_upsample_repeats_pixels() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    up = upsample_nearest(img, 2)
    assert up.shape == (4, 4, 3) and np.array_equal(up[::2, ::2], img) and np.array_equal(up[1::2, 1::2], img)


def test_gaussian_blur_matches_opencv_and_ignores_memory_layout() -> None:
    k = gaussian_kernel(0.8)
    assert len(k) == 7 and abs(float(k.sum()) - 1) < 1e-6 and np.allclose(k, k[::-1])
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 255, (40, 52, 3)).astype(np.float32)
    ours = gaussian_blur(img, 0.8)
    assert np.abs(ours - cv2.GaussianBlur(img, (0, 0), 0.8)).max() < 1e-3  # same filter and border rule
    buf = np.empty(img.size + 7, np.float32)
    shifted = buf[3:3 + img.size].reshape(img.shape)  # another alignment in memory
    shifted[...] = img
    assert np.array_equal(gaussian_blur(shifted, 0.8), ours)
