"""Speech-like audio: a harmonic glottal source with a pitch contour, shaped by moving formants.

Signal model (per sample n, sample rate sr):

    x[n] = g * e[n] * sum_k a_k[n] * sin(k * phi[n]) + breath noise + consonant bursts
    phi[n] = 2*pi * cumsum(f0[n]) / sr

- `f0[n]` (Hz): speaker base F0 * 2^(st[n]/12), where the semitone contour st[n] holds the emotion's
  F0 shift, per-syllable accents of spread `f0_range`, a declination, a final rise/fall `final_st`
  over the last 0.4 s and a `tremor` at ~6.5 Hz.
- `e[n]`: syllable-rate amplitude envelope (raised-cosine syllables at `tempo` syllables/s, with
  word pauses) — the tempo cue; it also drives the face's mouth ("talk").
- `a_k[n]` = k^(tilt/6.02) * formant_gain(k*f0[n]): spectral tilt `tilt_db` in dB/octave times
  a three-formant resonance envelope whose vowel changes every syllable (formants scaled by the
  speaker's vocal-tract factor).
- `g` = 10^(energy_db/20): the energy cue. The level is not normalised per clip on purpose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from fdan.corpora.synth.profiles import Speaker

# (F1, F2, F3) Hz of an adult male vowel set a, e, i, o, u; bandwidths per formant.
_VOWELS = np.array([[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240]],
                   dtype=np.float32)
_BANDWIDTHS = np.array([110.0, 150.0, 220.0], dtype=np.float32)
_FORMANT_AMPS = np.array([1.0, 0.7, 0.35], dtype=np.float32)
_CONTROL = 64  # samples per control-rate step for amplitudes and formants
_MAX_HARMONIC_HZ = 6000.0  # above this the tilted source is negligible; the cap bounds the cost
REF_LEVEL = 0.08  # RMS of a 0 dB (neutral-energy) voice before recording conditions


@dataclass(frozen=True)
class Voice:
    """A synthesized clip: `audio` float32 (N,) at `sr`, and `talk` (N,) syllable envelope in [0, 1]."""

    audio: np.ndarray
    talk: np.ndarray
    sr: int


def _syllables(duration: float, tempo: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """(start, length) in seconds of each syllable, with word pauses; speech fills the clip minus margins."""
    t = rng.uniform(0.12, 0.3)
    end = duration - rng.uniform(0.1, 0.25)
    out = []
    while True:
        length = rng.uniform(0.7, 1.3) / tempo
        if t + length > end:
            break
        out.append((t, length))
        t += length
        if rng.random() < 0.2:
            t += rng.uniform(0.08, 0.22)
    return out or [(0.1, min(0.3, duration - 0.2))]


def _semitone_contour(n: int, sr: int, sylls: list[tuple[float, float]], cues: dict[str, float],
                      rng: np.random.Generator) -> np.ndarray:
    """Semitone offset per sample: shift + smoothed syllable accents + declination + final + tremor."""
    t = np.arange(n, dtype=np.float32) / sr
    centres = np.array([s + 0.5 * d for s, d in sylls])
    accents = rng.normal(0.0, cues["f0_range"], len(sylls))
    st = np.interp(t, centres, accents).astype(np.float32) if len(sylls) > 1 else np.full(n, accents[0], np.float32)
    speech_end = sylls[-1][0] + sylls[-1][1]
    st += cues["f0_shift"] - 2.0 * t / max(speech_end, 1e-3)
    ramp = np.clip((t - (speech_end - 0.4)) / 0.4, 0.0, 1.0)
    st += cues["final_st"] * ramp
    st += cues["tremor"] * np.sin(2 * np.pi * rng.uniform(5.5, 7.5) * t)
    return st


def synth_voice(spk: Speaker, cues: dict[str, float], duration: float, sr: int, rng: np.random.Generator) -> Voice:
    """Synthesize `duration` seconds of speech-like audio for one clip (see the module docstring)."""
    n = int(round(duration * sr))
    sylls = _syllables(duration, cues["tempo"] * spk.rate_scale, rng)
    f0 = spk.base_f0 * 2.0 ** (_semitone_contour(n, sr, sylls, cues, rng) / 12.0)
    f0 *= 1.0 + 0.004 * rng.standard_normal(n).astype(np.float32)  # jitter
    phase = np.mod(2 * np.pi * np.cumsum(f0, dtype=np.float64) / sr, 2 * np.pi).astype(np.float32)

    # amplitude envelope and per-syllable vowel formants at sample rate / control rate
    env = np.zeros(n, np.float32)
    m = n // _CONTROL + 1
    formants = np.tile(_VOWELS[0], (m, 1))
    tc = np.arange(m) * _CONTROL / sr
    for i, (s, d) in enumerate(sylls):
        a, b = int(s * sr), min(n, int((s + d) * sr))
        if b <= a:
            continue
        x = np.linspace(0, 1, b - a, dtype=np.float32)
        env[a:b] = np.clip(np.sin(np.pi * x), 0, 1) ** 0.7 * rng.uniform(0.7, 1.0)
        formants[(tc >= s) & (tc < s + d)] = _VOWELS[int(rng.integers(len(_VOWELS)))] * rng.uniform(0.95, 1.05)
    kernel = np.ones(5) / 5  # ~20 ms formant transitions
    formants = np.stack([np.convolve(formants[:, j], kernel, mode="same") for j in range(3)], 1)
    formants *= spk.formant_scale

    nyq = 0.45 * sr
    k_max = int(min(nyq, _MAX_HARMONIC_HZ) / f0.min())
    ks = np.arange(1, k_max + 1, dtype=np.float32)
    f0c = f0[:: _CONTROL][:m]
    if len(f0c) < m:
        f0c = np.pad(f0c, (0, m - len(f0c)), mode="edge")
    fk = ks[:, None] * f0c[None, :]  # (K, m) harmonic frequencies
    gain = np.zeros_like(fk)
    for j in range(3):
        gain += _FORMANT_AMPS[j] / (1.0 + ((fk - formants[None, :, j]) / (0.5 * _BANDWIDTHS[j])) ** 2)
    gain += 0.02
    gain *= ks[:, None] ** (cues["tilt_db"] / 6.02)
    gain *= fk < nyq
    amps = np.repeat(gain.astype(np.float32), _CONTROL, axis=1)[:, :n]
    voiced = np.einsum("kn,kn->n", amps, np.sin(ks[:, None] * phase[None, :]))

    noise = rng.standard_normal(n).astype(np.float32)
    band = sosfilt(butter(2, [400 / (sr / 2), min(4000, nyq) / (sr / 2)], "bandpass", output="sos"), noise)
    hiss = sosfilt(butter(2, min(3000, nyq) / (sr / 2), "highpass", output="sos"), noise)
    bursts = np.zeros(n, np.float32)
    for s, _ in sylls:
        if rng.random() < 0.6:
            a, b = int(s * sr), min(n, int((s + rng.uniform(0.02, 0.05)) * sr))
            bursts[a:b] = np.hanning(b - a) if b > a else 0
    voiced /= np.sqrt(np.mean(voiced**2) + 1e-12)
    band = band / (np.std(band) + 1e-12)
    hiss = hiss / (np.std(hiss) + 1e-12)
    x = env * (voiced + cues["breath"] * 1.5 * band) + 0.35 * bursts * hiss
    g = REF_LEVEL * 10.0 ** (cues["energy_db"] / 20.0)
    x = g * x / (np.sqrt(np.mean(x[env > 0.05] ** 2)) + 1e-9)
    return Voice(audio=x.astype(np.float32), talk=env, sr=sr)
