"""Recording conditions of the named synthetic corpora (what makes cross-corpus shift real).

Each corpus fixes the camera (frame size, frame rate, framing, lighting, background, sensor noise,
blur, compression), the microphone chain (sample rate, storage, noise and SNR, band-limiting
channel, reverberation) and the speaker population (skin tones, F0 scale, expressiveness).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from fdan.corpora.synth.pixels import gaussian_blur
from fdan.corpora.synth.profiles import Difficulty

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class Conditions:
    """One named corpus' recording conditions and population (README.md, "Synthetic corpora")."""

    name: str
    description: str
    speaker_prefix: str
    # camera
    width: int
    height: int
    fps: int
    face_half_width: float  # head half-width as a fraction of the frame height
    face_centre: tuple[float, float]  # (x, y) as fractions of (width, height)
    framing_jitter: float  # per-clip random offset of the head, fraction of the frame height
    background: Literal["plain", "street"]
    bg_colors: tuple[BGR, ...]
    light_gain: tuple[float, float]  # per-clip brightness multiplier range
    light_gradient: float  # strength of side lighting (0 = even)
    color_cast: tuple[float, float, float]  # B, G, R multipliers
    blur_sigma: float
    camera_noise: float  # std of per-pixel sensor noise, grey levels
    crf: int  # libx264 constant rate factor
    # microphone chain
    sample_rate: int
    audio_store: Literal["wav", "aac"]  # separate 16-bit wav next to the mp4, or AAC inside it
    snr_db: tuple[float, float]
    noise_kind: Literal["white", "street"]
    band_hz: tuple[float, float] | None  # band-pass channel, None = full band
    reverb_s: float  # RT60 of an exponential-decay room response, 0 = dry
    # population
    skin_tones: tuple[BGR, ...]
    female_rate: float
    f0_scale: float
    duration_s: tuple[float, float] = (2.0, 3.0)
    difficulty: Difficulty = field(default_factory=Difficulty)

    def with_overrides(self, **kw: object) -> "Conditions":
        """A copy with some fields replaced (`difficulty` may be given as a dict of its fields)."""
        diff = kw.pop("difficulty", None)
        unknown = set(kw) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown condition field(s) {sorted(unknown)}; known: {sorted(self.__dataclass_fields__)}")
        out = replace(self, **kw)  # type: ignore[arg-type]
        if isinstance(diff, dict):
            out = replace(out, difficulty=replace(out.difficulty, **diff))
        elif isinstance(diff, Difficulty):
            out = replace(out, difficulty=diff)
        return out


CORPORA: dict[str, Conditions] = {
    "synth-studio": Conditions(
        name="synth-studio", speaker_prefix="stu",
        description="acted, studio: even front light, plain backdrop, centred close-up, 16 kHz wav, quiet dry room",
        width=128, height=128, fps=15, face_half_width=0.26, face_centre=(0.5, 0.45), framing_jitter=0.02,
        background="plain", bg_colors=((150, 140, 130), (170, 160, 150), (140, 150, 160)),
        light_gain=(0.95, 1.05), light_gradient=0.0, color_cast=(1.0, 1.0, 1.0), blur_sigma=0.0,
        camera_noise=1.5, crf=23,
        sample_rate=16000, audio_store="wav", snr_db=(35.0, 45.0), noise_kind="white", band_hz=None, reverb_s=0.0,
        skin_tones=((90, 130, 190), (120, 160, 215), (150, 185, 230), (70, 105, 160)),
        female_rate=0.5, f0_scale=1.0,
        difficulty=Difficulty(expressiveness=1.0),
    ),
    "synth-street": Conditions(
        name="synth-street", speaker_prefix="str",
        description="spontaneous, outdoor handheld: side light and colour cast, cluttered moving background, "
                    "smaller off-centre face, sensor noise and blur, AAC 22.05 kHz in the mp4, traffic noise, "
                    "band-limited channel, reverberant",
        width=160, height=120, fps=12, face_half_width=0.24, face_centre=(0.45, 0.48), framing_jitter=0.07,
        background="street", bg_colors=((60, 80, 90), (110, 120, 120), (40, 60, 120), (130, 110, 80)),
        light_gain=(0.6, 1.25), light_gradient=0.45, color_cast=(0.85, 1.0, 1.15), blur_sigma=0.8,
        camera_noise=6.0, crf=30,
        sample_rate=22050, audio_store="aac", snr_db=(8.0, 18.0), noise_kind="street", band_hz=(300.0, 3400.0),
        reverb_s=0.35,
        skin_tones=((60, 90, 140), (80, 120, 175), (110, 150, 200), (50, 75, 115)),
        female_rate=0.5, f0_scale=0.93,
        difficulty=Difficulty(expressiveness=0.9),
    ),
}


def get_conditions(name: str) -> Conditions:
    """The named corpus' conditions; unknown name → ValueError listing the known ones."""
    if name not in CORPORA:
        raise ValueError(f"unknown synthetic corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    return CORPORA[name]


class Camera:
    """Per-clip camera state: background plate, lighting field and the per-frame degradation."""

    def __init__(self, cond: Conditions, rng: np.random.Generator) -> None:
        self.cond, self.rng = cond, rng
        h, w = cond.height, cond.width
        base = np.array(cond.bg_colors[int(rng.integers(len(cond.bg_colors)))], np.float32)
        plate = np.empty((h, w, 3), np.float32)
        plate[:] = base + rng.normal(0, 6, 3)
        if cond.background == "street":
            for _ in range(int(rng.integers(5, 10))):  # buildings, windows, signs
                x0, y0 = int(rng.integers(-20, w)), int(rng.integers(-10, h))
                x1, y1 = x0 + int(rng.integers(10, 60)), y0 + int(rng.integers(10, 80))
                cv2.rectangle(plate, (x0, y0), (x1, y1), tuple(float(v) for v in rng.integers(20, 230, 3)), -1)
            self.mover = (int(rng.integers(0, h - 20)), float(rng.uniform(-40, 40)), float(rng.uniform(0, w)),
                          tuple(float(v) for v in rng.integers(20, 230, 3)))
        else:
            plate *= np.linspace(1.05, 0.95, h, dtype=np.float32)[:, None, None]  # soft backdrop falloff
            self.mover = None
        self.plate = np.clip(plate, 0, 255).astype(np.uint8)
        gain = rng.uniform(*cond.light_gain)
        side = rng.choice([-1.0, 1.0])
        ramp = 1.0 + cond.light_gradient * side * np.linspace(-1, 1, w, dtype=np.float32)
        self.light = (gain * ramp[None, :, None] * np.array(cond.color_cast, np.float32)[None, None, :]).astype(np.float32)
        j = cond.framing_jitter * h
        self.centre = (cond.face_centre[0] * w + rng.normal(0, j), cond.face_centre[1] * h + rng.normal(0, j * 0.5))

    def background(self, t: float) -> np.ndarray:
        """Background plate at time `t` (a passing object moves across the street background)."""
        img = self.plate.copy()
        if self.mover is not None:
            y, speed, x0, color = self.mover
            x = int((x0 + speed * t) % (self.cond.width + 40)) - 40
            cv2.rectangle(img, (x, y), (x + 40, y + 18), color, -1)
        return img

    def expose(self, img: np.ndarray) -> np.ndarray:
        """Apply lighting, blur and sensor noise to a rendered BGR frame."""
        out = img.astype(np.float32) * self.light
        if self.cond.blur_sigma > 0:
            out = gaussian_blur(out, self.cond.blur_sigma)
        if self.cond.camera_noise > 0:
            out += self.cond.camera_noise * self.rng.standard_normal(out.shape, dtype=np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)


def record_audio(x: np.ndarray, cond: Conditions, rng: np.random.Generator) -> np.ndarray:
    """Microphone chain: room reverberation, additive noise at a random SNR, channel band-pass, soft limiter."""
    sr = cond.sample_rate
    y = x.astype(np.float64)
    if cond.reverb_s > 0:
        n = int(cond.reverb_s * sr)
        ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at RT60
        ir[0] = 1.0 / 0.3
        ir *= 0.3
        y = fftconvolve(y, ir)[: len(y)]
        y *= np.sqrt(np.mean(x**2) / (np.mean(y**2) + 1e-12))
    noise = rng.standard_normal(len(y))
    if cond.noise_kind == "street":  # rumble + pink-ish hiss with slow level swings
        rumble = sosfilt(butter(2, 150 / (sr / 2), output="sos"), noise)
        pink = sosfilt(butter(1, 1000 / (sr / 2), output="sos"), rng.standard_normal(len(y)))
        swing = 1.0 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * np.arange(len(y)) / sr)
        noise = (rumble / (rumble.std() + 1e-12) + pink / (pink.std() + 1e-12)) * swing
    snr = rng.uniform(*cond.snr_db)
    sig_p = np.mean(y[np.abs(y) > 1e-4] ** 2) if np.any(np.abs(y) > 1e-4) else 1e-6
    y = y + noise / (noise.std() + 1e-12) * np.sqrt(sig_p / 10 ** (snr / 10))
    if cond.band_hz is not None:
        lo, hi = cond.band_hz
        y = sosfilt(butter(4, [lo / (sr / 2), min(hi, 0.45 * sr) / (sr / 2)], "bandpass", output="sos"), y)
    return np.tanh(y * 1.5).astype(np.float32) / 1.5 * 1.2
