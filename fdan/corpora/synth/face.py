"""Render a cartoon face with OpenCV drawing: identity from the `Speaker`, expression from face cues.

Geometry is expressed in face-local units (u right, v down, 1 unit = half the face width) and
mapped to pixels through the head pose (centre, size, roll). The layout (dark eye sockets and
brows above bright cheeks, shaded nose, dark mouth) is what OpenCV's frontal-face Haar cascade
responds to, so the faces are detectable like real frontal faces.

Face cues (see `profiles.FACE_CUES`): `smile` raises (+) or lowers (-) the mouth corners,
`mouth_open` opens the lips, `mouth_width` scales them, `brow_raise` lifts both brows,
`brow_inner` lifts the inner ends (sad/fear) or pulls them down (anger), `eye_open` scales the
eye opening, `mouth_asym` lifts one corner (disgust), `head_amp`/`head_rate` set head motion and
`head_down` tilts the face down.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fdan.corpora.synth.pixels import downsample_area, upsample_nearest
from fdan.corpora.synth.profiles import Speaker

_SS = 2  # supersampling factor (drawn at 2x, area-downsampled: cheap anti-aliasing)
_SHIFT = 4  # cv2 sub-pixel bits


@dataclass(frozen=True)
class HeadPose:
    """Where the head is in one frame: centre and half-width in pixels, roll in degrees."""

    cx: float
    cy: float
    half_width: float
    roll_deg: float


def head_pose(t: float, cues: dict[str, float], centre: tuple[float, float], half_width: float,
              phase: float) -> HeadPose:
    """Head pose at time `t` (s): shake, nod and roll whose amplitude/rate come from the cues."""
    amp, rate = cues["head_amp"], cues["head_rate"]
    w = 2 * math.pi * rate * t + phase
    dx = amp * 0.16 * half_width * math.sin(w)
    dy = amp * 0.10 * half_width * math.sin(1.7 * w + 1.0) + cues["head_down"] * 0.12 * half_width
    roll = amp * 7.0 * math.sin(0.8 * w + 2.0)
    return HeadPose(centre[0] + dx, centre[1] + dy, half_width, roll)


class _Pen:
    """Maps face-local (u, v) to fixed-point pixel coordinates for cv2."""

    def __init__(self, pose: HeadPose) -> None:
        s = _SS * (1 << _SHIFT)
        self.scale = pose.half_width * s
        self.cx, self.cy = pose.cx * s, pose.cy * s
        th = math.radians(pose.roll_deg)
        self.c, self.s = math.cos(th), math.sin(th)
        self.roll = pose.roll_deg

    def pt(self, u: float, v: float) -> tuple[int, int]:
        x = self.c * u - self.s * v
        y = self.s * u + self.c * v
        return int(round(self.cx + self.scale * x)), int(round(self.cy + self.scale * y))

    def ln(self, n: float) -> int:
        return max(1, int(round(n * self.scale)))

    def px(self, n: float) -> int:  # thickness (cv2 takes it unshifted, in supersampled pixels)
        return max(1, int(round(n * self.scale / (1 << _SHIFT))))

    def ellipse(self, img: np.ndarray, u: float, v: float, au: float, av: float, color, angle: float = 0.0,
                start: float = 0, end: float = 360, thickness: int = -1) -> None:
        cv2.ellipse(img, self.pt(u, v), (self.ln(au), self.ln(av)), self.roll + angle, start, end, color,
                    thickness, cv2.LINE_AA, _SHIFT)

    def poly(self, img: np.ndarray, pts: list[tuple[float, float]], color, closed: bool = False,
             thickness: float | None = None) -> None:
        arr = np.array([self.pt(u, v) for u, v in pts], np.int32).reshape(-1, 1, 2)
        if thickness is None:
            cv2.fillPoly(img, [arr], color, cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(img, [arr], closed, color, self.px(thickness), cv2.LINE_AA, _SHIFT)


def _shade(color: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * f, 0, 255)) for c in color)


def _curve(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], n: int = 9):
    """Quadratic Bezier through control points (end points p0, p2)."""
    out = []
    for i in range(n):
        s = i / (n - 1)
        out.append(((1 - s) ** 2 * p0[0] + 2 * s * (1 - s) * p1[0] + s * s * p2[0],
                    (1 - s) ** 2 * p0[1] + 2 * s * (1 - s) * p1[1] + s * s * p2[1]))
    return out


def draw_face(img: np.ndarray, spk: Speaker, cues: dict[str, float], pose: HeadPose, talk: float = 0.0,
              blink: bool = False) -> np.ndarray:
    """Draw head, shoulders and face on BGR `img` (H, W, 3) uint8; returns a new image of the same size.

    `talk` in [0, 1] is the current syllable envelope (opens the mouth with the speech);
    `blink` closes the eyes for this frame.
    """
    big = np.ascontiguousarray(upsample_nearest(img, _SS))
    p = _Pen(pose)
    asp = spk.face_aspect
    skin = spk.skin_bgr
    down = 0.1 * cues["head_down"]  # features slide down when the head tilts forward

    p.ellipse(big, 0, 2.0 * asp, 1.9, 0.9 * asp, spk.shirt_bgr)  # shoulders
    p.poly(big, [(-0.42, 0.6 * asp), (0.42, 0.6 * asp), (0.5, 1.5 * asp), (-0.5, 1.5 * asp)], _shade(skin, 0.8))
    p.ellipse(big, 0, -0.2 * asp, 1.12, 0.98 * asp, spk.hair_bgr)  # hair behind the head
    p.ellipse(big, 0, 0, 1.0, asp, skin)
    p.ellipse(big, 0, -0.55 * asp, 1.0, 0.5 * asp, spk.hair_bgr, start=180, end=360)  # fringe

    es = spk.eye_spacing * 1.1
    ey = -0.28 + down
    eo = 0.1 if blink else cues["eye_open"]
    for side in (-1, 1):
        u = side * es
        p.ellipse(big, u, ey - 0.03, 0.29, 0.2, _shade(skin, 0.6))  # socket shadow
        p.ellipse(big, u, ey, 0.19, 0.11 * eo, _shade((200, 202, 206), 0.55 + 0.45 * skin[2] / 255))  # sclera
        r = min(0.1, 0.11 * eo)
        p.ellipse(big, u, ey, r, r, (40, 45, 70))  # iris
        p.ellipse(big, u, ey, 0.2, 0.115 * eo, (30, 30, 40), start=180, end=360, thickness=p.px(0.035))  # lid
        by = ey - 0.2 - 0.15 * cues["brow_raise"]
        inner, outer = (u - side * 0.2, by - 0.16 * cues["brow_inner"]), (u + side * 0.24, by + 0.02)
        mid = (u + side * 0.02, by - 0.05 + 0.5 * (inner[1] - by) * 0.3)
        p.poly(big, _curve(inner, mid, outer), _shade(spk.hair_bgr, 0.8), thickness=0.075 * spk.brow_thick)

    # nose: side shading, a brighter bridge, nostrils
    p.poly(big, [(-0.07, -0.2 + down), (-0.15, 0.2 + down)], _shade(skin, 0.75), thickness=0.05)
    p.poly(big, [(0.07, -0.2 + down), (0.15, 0.2 + down)], _shade(skin, 0.75), thickness=0.05)
    p.ellipse(big, 0, 0.0 + down, 0.05, 0.2, _shade(skin, 1.12))
    for side in (-1, 1):
        p.ellipse(big, side * 0.07, 0.24 + down, 0.045, 0.025, _shade(skin, 0.45))

    my = spk.mouth_y * asp + down
    mw = 0.32 * cues["mouth_width"]
    lift = 0.2 * cues["smile"]
    asym = 0.14 * cues["mouth_asym"]
    left, right = (-mw, my - lift - asym), (mw, my - lift + 0.3 * asym)
    opening = max(0.0, cues["mouth_open"]) * 0.3 + 0.06 * talk
    upper_mid = (0, my - 0.03 - 0.5 * opening - 0.6 * asym * (asym > 0) + 0.6 * lift)
    lower_mid = (0, my + 0.03 + opening + 0.6 * lift)
    upper, lower = _curve(left, upper_mid, right), _curve(right, lower_mid, left)
    lip = _shade((90, 90, 170), 0.5 + 0.4 * (skin[2] / 255))
    p.poly(big, upper + lower, (35, 25, 45) if opening > 0.04 else lip)
    p.poly(big, upper + lower, lip, closed=True, thickness=0.045)
    p.poly(big, [left, (0, 0.5 * (upper_mid[1] + lower_mid[1])), right], (30, 20, 40), thickness=0.02)

    return downsample_area(big, _SS)
