"""Real media in the codecs the released corpora use, for the native-layout importer tests.

Every helper writes a real file with PyAV / soundfile (nothing is mocked), small and short so a
fixture tree of a dozen clips is written in about a second:

- `write_wav(path, rate, seconds)`: 16-bit PCM wav (SAVEE 44.1 kHz, CREMA-D 16 kHz, RAVDESS 48 kHz);
- `write_video(path, codec=..., fps=..., size=(w, h), seconds=..., audio_rate=..., audio_codec=...)`:
  a clip with a drawn frontal face and, optionally, a tone in an audio stream; the container is
  chosen by the suffix (or `container=`). `PRESETS` holds the corpus codecs: RAVDESS H.264 + AAC
  48 kHz mp4, SAVEE MPEG-4 part 2 (DivX-style `DX50` tag) avi, CREMA-D Sorenson FLV1 + MP3 flv,
  eNTERFACE MPEG-4 avi with PCM audio, MELD H.264 + AAC mp4;
- `write_corrupt(path, kind)`: garbage bytes, an empty file, or a real clip cut to a fraction;
- `probe(path)`: the codecs, rate and size actually in a file (to assert a fixture is what it claims).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
import soundfile as sf

# OpenCV's worker pool, once started in this (pytest) process, deadlocks a fork()ed child that calls
# cv2.setNumThreads, which fdan.corpora.synth.generate's fork workers do: with the pool started by
# these tests' drawing and face detection, the synth tests later in the same session hung forever.
# One cv2 thread here keeps the pool from ever starting in the test process (reported upstream).
cv2.setNumThreads(1)

# preset name -> write_video keywords (codec names as PyAV/FFmpeg spell them)
PRESETS: dict[str, dict[str, Any]] = {
    "ravdess": {"codec": "libx264", "audio_codec": "aac", "audio_rate": 48000, "fps": 15},
    "ravdess_video_only": {"codec": "libx264", "audio_codec": None, "audio_rate": None, "fps": 15},
    "meld": {"codec": "libx264", "audio_codec": "aac", "audio_rate": 48000, "fps": 12},
    "savee": {"codec": "mpeg4", "codec_tag": "DX50", "audio_codec": "mp3", "audio_rate": 44100, "fps": 15},
    "cremad": {"codec": "flv", "audio_codec": "mp3", "audio_rate": 44100, "fps": 15},
    "enterface": {"codec": "mpeg4", "codec_tag": "DX50", "audio_codec": "pcm_s16le", "audio_rate": 48000, "fps": 12},
    "iemocap": {"codec": "mpeg4", "codec_tag": "DIVX", "audio_codec": "pcm_s16le", "audio_rate": 16000, "fps": 10},
}

_CONTAINER_OF_SUFFIX = {".mp4": "mp4", ".m4v": "mp4", ".avi": "avi", ".flv": "flv", ".mkv": "matroska", ".mov": "mov"}


def tone(seconds: float, rate: int, freq: float = 220.0, amp: float = 0.3) -> np.ndarray:
    """(samples,) float32 sine with a slow amplitude wobble (so the log-Mel is not constant)."""
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: str | Path, rate: int, seconds: float, freq: float = 220.0, silent: bool = False) -> Path:
    """16-bit PCM mono wav of `seconds` at `rate` Hz (a tone, or digital silence)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = np.zeros(int(round(seconds * rate)), np.float32) if silent else tone(seconds, rate, freq)
    sf.write(str(path), wave, rate, subtype="PCM_16")
    return path


def face_frame(width: int, height: int, shade: int = 0) -> np.ndarray:
    """RGB uint8 (height, width, 3): a frontal cartoon face (skin oval, eyes, brows, mouth) on a dark
    background of RGB (70, 50, 40 + shade mod 180); `write_video` passes shade = 9 * frame index, so
    a decoded frame's background blue tells which frame it is (tests of segment cutting rely on it)."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:] = (70, 50, 40 + shade % 180)
    cx, cy, s = width // 2, height // 2, max(4, int(min(width, height) * 0.38))
    cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, (230, 200, 180), -1)
    for dx in (-1, 1):
        ex, ey = cx + dx * int(s * 0.35), cy - int(s * 0.2)
        cv2.circle(img, (ex, ey), max(1, int(s * 0.12)), (20, 20, 20), -1)
        cv2.line(img, (ex - int(s * 0.2), ey - int(s * 0.25)), (ex + int(s * 0.2), ey - int(s * 0.25)), (40, 30, 30), 1)
    cv2.ellipse(img, (cx, cy + int(s * 0.5)), (int(s * 0.3), max(1, int(s * 0.1))), 0, 0, 360, (150, 60, 60), -1)
    return img


def _audio_frames(stream: Any, wave: np.ndarray, rate: int) -> list[av.AudioFrame]:
    """Cut `wave` into encoder-sized frames in the encoder's sample format."""
    fmt = stream.codec_context.format.name
    step = stream.codec_context.frame_size or 1024
    frames = []
    for start in range(0, len(wave), step):
        chunk = wave[start:start + step]
        if fmt.startswith("s16"):
            chunk = (chunk * 32767).astype(np.int16)
        elif fmt.startswith("s32"):
            chunk = (chunk * 2147483647).astype(np.int32)
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format=fmt, layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        frames.append(frame)
    return frames


def write_video(path: str | Path, *, codec: str, container: str | None = None, fps: int = 15,
                size: tuple[int, int] = (64, 36), seconds: float = 1.0, audio_rate: int | None = None,
                audio_codec: str | None = None, codec_tag: str | None = None) -> Path:
    """Write a real clip: `fps` * `seconds` frames of `size` = (width, height) with a drawn face, in
    video `codec`; plus a mono tone at `audio_rate` in `audio_codec` when both are given. The
    container comes from `container` or the end of the file name (mp4, avi, flv, mkv, mov)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = container or _CONTAINER_OF_SUFFIX.get(path.suffix.lower()) or next(
        (f for ext, f in _CONTAINER_OF_SUFFIX.items() if path.name.lower().endswith(ext[1:])), None)  # "s16_su_3avi"
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the container from the suffix; pass container=")
    width, height = size
    with av.open(str(path), mode="w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        if codec_tag:
            vs.codec_context.codec_tag = codec_tag
        if audio_codec and audio_rate:
            a = out.add_stream(audio_codec, rate=audio_rate, layout="mono")
            for frame in _audio_frames(a, tone(seconds, audio_rate), audio_rate):
                for pkt in a.encode(frame):
                    out.mux(pkt)
            for pkt in a.encode(None):
                out.mux(pkt)
        for i in range(max(1, int(round(seconds * fps)))):
            frame = av.VideoFrame.from_ndarray(face_frame(width, height, shade=9 * i), format="rgb24")
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    return path


def write_preset(path: str | Path, preset: str, seconds: float = 1.0, size: tuple[int, int] = (64, 36)) -> Path:
    """`write_video` with the codecs of corpus `preset` (a key of PRESETS)."""
    return write_video(path, seconds=seconds, size=size, **PRESETS[preset])


def write_corrupt(path: str | Path, kind: Literal["garbage", "empty", "truncated"] = "garbage",
                  preset: str = "ravdess", keep: float = 0.3) -> Path:
    """A broken media file under a valid name: random bytes, zero bytes, or a real `preset` clip
    (or, for .wav, a real wav) cut to its first `keep` fraction."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(np.random.default_rng(len(path.name)).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        if path.suffix.lower() == ".wav":
            write_wav(path, 16000, 1.0)
        else:
            write_preset(path, preset)
        data = path.read_bytes()
        path.write_bytes(data[: max(64, int(len(data) * keep))])
    return path


def probe(path: str | Path) -> dict[str, Any]:
    """What is really in a media file: container, video codec/tag/size, audio codec/rate (None if absent)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        return {
            "container": c.format.name,
            "video_codec": v.codec_context.name if v else None,
            "video_tag": v.codec_context.codec_tag if v else None,
            "size": (v.codec_context.width, v.codec_context.height) if v else None,
            "audio_codec": a.codec_context.name if a else None,
            "audio_rate": a.codec_context.sample_rate if a else None,
        }
