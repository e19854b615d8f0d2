"""Pixel operations of the renderer, written so their result is fixed by the inputs alone.

OpenCV's resize and GaussianBlur pick an implementation at run time (IPP on Intel CPUs, SIMD widths,
thread stripes), and those implementations round differently; one flipped level then changes every
x264 decision downstream. These replacements use only integer arithmetic or element-wise float32
numpy operations in a fixed order (each IEEE-rounded once, no fused multiply-add, no reductions
whose order depends on the code path), so the same input gives the same bytes on any machine.
"""
from __future__ import annotations

import math

import numpy as np


def upsample_nearest(img: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, C) → (H·f, W·f, C), each pixel repeated f×f times."""
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def downsample_area(img: np.ndarray, factor: int) -> np.ndarray:
    """uint8 (H·f, W·f, C) → (H, W, C): the exact mean of each f×f block, rounded half up."""
    h, w = img.shape[0] // factor, img.shape[1] // factor
    blocks = img[: h * factor, : w * factor].reshape(h, factor, w, factor, -1).astype(np.int32)
    n = factor * factor
    return ((blocks.sum(axis=(1, 3)) + n // 2) // n).astype(np.uint8)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """1-D Gaussian weights (float32, sum 1) of OpenCV's float size rule: 2·round(4σ)+1 taps."""
    radius = max(1, int(round(4 * sigma)))
    taps = [math.exp(-0.5 * (i / sigma) ** 2) for i in range(-radius, radius + 1)]
    total = math.fsum(taps)
    return np.array([t / total for t in taps], np.float32)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of float32 (H, W, C) with mirrored borders (OpenCV's BORDER_REFLECT_101).

    out = Σ_i k_i · x[· + i − r], accumulated tap by tap in index order, rows first, then columns.
    """
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    out = img.astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        src = np.pad(out, pad, mode="reflect")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, weight in enumerate(k):
            acc += weight * np.take(src, np.arange(i, i + n), axis=axis)
        out = acc
    return out
