"""Real media written with PyAV / soundfile for the feature tests: drawn faces, tones, broken files."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import pytest
import soundfile as sf

# container suffix -> (video codec, audio codec)
CODECS = {".mp4": ("libx264", "aac"), ".avi": ("mpeg4", "mp3"), ".flv": ("flv", "mp3"), ".mkv": ("libx264", "aac")}


def draw_face(h: int = 120, w: int = 160, cx: int | None = None, cy: int | None = None, s: int = 36,
              face: bool = True, shade: int = 0) -> np.ndarray:
    """RGB uint8 (h, w, 3): a cartoon frontal face (skin oval, brows, eyes, nose, mouth) on a dark
    background, of a kind OpenCV's Haar frontal-face cascade detects; `shade` tags the frame."""
    cx = w // 2 if cx is None else cx
    cy = h // 2 if cy is None else cy
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (90, 60, 40 + shade)
    if face:
        cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, (230, 200, 180), -1)
        for dx in (-1, 1):
            ex, ey = cx + dx * int(s * 0.35), cy - int(s * 0.2)
            cv2.ellipse(img, (ex, ey - int(s * 0.2)), (int(s * 0.22), int(s * 0.06)), 0, 180, 360, (40, 30, 30), -1)
            cv2.ellipse(img, (ex, ey), (int(s * 0.16), int(s * 0.09)), 0, 0, 360, (255, 255, 255), -1)
            cv2.circle(img, (ex, ey), int(s * 0.07), (20, 20, 20), -1)
        cv2.line(img, (cx, cy - int(s * 0.1)), (cx - int(s * 0.08), cy + int(s * 0.25)), (170, 140, 120), 2)
        cv2.ellipse(img, (cx, cy + int(s * 0.5)), (int(s * 0.3), int(s * 0.1)), 0, 0, 360, (150, 60, 60), -1)
    return cv2.GaussianBlur(img, (5, 5), 0)


def tone(seconds: float, sr: int, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_clip(path: Path, seconds: float = 1.0, fps: int = 10, sr: int = 22050, video: bool = True,
               audio: str | None = "tone", face: bool = True, size: tuple[int, int] = (120, 160),
               faststart: bool = False, gop: int | None = None, vcodec: str | None = None) -> Path:
    """Write a real clip: frames with a drawn face whose background red channel encodes the frame
    number (frame i has blue 40 + 10*i), plus a 440 Hz tone ("tone"), digital silence ("silent") or no
    audio stream (None)."""
    default_vcodec, acodec = CODECS[path.suffix]
    vcodec = vcodec or default_vcodec
    n = int(round(seconds * fps))
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as out:
        if video:
            vs = out.add_stream(vcodec, rate=fps)
            vs.height, vs.width = size
            vs.pix_fmt = "yuv420p"
            if gop is not None:
                vs.codec_context.gop_size = gop
        if audio is not None:
            a = out.add_stream(acodec, rate=sr, layout="mono")
            wave = tone(seconds, sr) if audio == "tone" else np.zeros(int(seconds * sr), np.float32)
            fmt = a.codec_context.format.name
            frame_len = a.codec_context.frame_size or 1024
            for i, start in enumerate(range(0, len(wave), frame_len)):
                chunk = wave[start:start + frame_len]
                if fmt.startswith("s16"):
                    chunk = (chunk * 32767).astype(np.int16)
                elif fmt.startswith("s32"):
                    chunk = (chunk * 2147483647).astype(np.int32)
                af = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format=fmt, layout="mono")
                af.sample_rate, af.pts, af.time_base = sr, start, Fraction(1, sr)
                for pkt in a.encode(af):
                    out.mux(pkt)
            for pkt in a.encode(None):
                out.mux(pkt)
        if video:
            for i in range(n):
                vf = av.VideoFrame.from_ndarray(draw_face(*size, face=face, shade=min(10 * i, 200)), format="rgb24")
                for pkt in vs.encode(vf):
                    out.mux(pkt)
            for pkt in vs.encode(None):
                out.mux(pkt)
    return path


@pytest.fixture
def draw() -> Callable[..., np.ndarray]:
    """draw(**draw_face kwargs) -> RGB frame with a drawn face."""
    return draw_face


@pytest.fixture
def clip(tmp_path: Path) -> Callable[..., Path]:
    """clip(name, **write_clip kwargs) -> path of a freshly written clip under tmp_path."""
    return lambda name, **kw: write_clip(tmp_path / name, **kw)


@pytest.fixture
def broken(tmp_path: Path, clip: Callable[..., Path]) -> dict[str, Path]:
    """Bad files keyed by kind: random bytes, zero-length, silent / corrupt / truncated wav, and mp4s cut
    at 60 % (index at the end: unopenable; index first ("faststart"): opens, frames missing)."""
    rng = np.random.default_rng(0)
    files = {"random": tmp_path / "random.mp4", "empty": tmp_path / "empty.mp4",
             "silent_wav": tmp_path / "silent.wav", "corrupt_wav": tmp_path / "corrupt.wav"}
    files["random"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    files["empty"].write_bytes(b"")
    sf.write(files["silent_wav"], np.zeros(16000, np.float32), 16000)
    files["corrupt_wav"].write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + rng.integers(0, 256, 64, dtype=np.uint8).tobytes())
    for name, faststart in (("truncated", False), ("truncated_faststart", True)):
        data = clip(f"good_{name}.mp4", seconds=1.0, faststart=faststart).read_bytes()
        files[name] = tmp_path / f"{name}.mp4"
        files[name].write_bytes(data[: len(data) * 6 // 10])
    wav = tmp_path / "full.wav"
    sf.write(wav, tone(1.0, 16000), 16000, subtype="PCM_16")
    files["truncated_wav"] = tmp_path / "truncated.wav"
    files["truncated_wav"].write_bytes(wav.read_bytes()[:16000])
    return files


@pytest.fixture(scope="session")
def synth_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic corpus (2 speakers x 7 emotions x 1 clip of ~1 s, mp4 + wav), written once."""
    from fdan.corpora.synth import generate

    return generate(tmp_path_factory.mktemp("synth") / "studio", corpus="synth-studio", seed=0, speakers=2,
                    clips_per_emotion=1, workers=1, duration_s=(1.0, 1.2))


# planted rows: (utterance_id, video file, audio file, expected skip path, reason fragment)
PLANTED = [
    ("bad_random", "bad/random.mp4", "", "bad/random.mp4", "corrupt"),
    ("bad_empty", "bad/empty.mp4", "", "bad/empty.mp4", "empty file"),
    ("bad_truncated", "bad/truncated.mp4", "", "bad/truncated.mp4", "corrupt"),
    ("bad_mute", "bad/mute.mp4", "", "bad/mute.mp4", "no audio stream"),
    ("bad_silent", "bad/face.mp4", "bad/silent.wav", "bad/silent.wav", "silent audio"),
]


@pytest.fixture
def planted_corpus(synth_corpus: Path, tmp_path: Path) -> Path:
    """A copy of `synth_corpus` whose labels.csv also lists the PLANTED bad files, one clip without a
    face (`bad/noface.mp4`, usable, 100 % centre-crop fallback) and a row with an unknown emotion."""
    import csv
    import shutil

    root = Path(shutil.copytree(synth_corpus, tmp_path / "corpus"))
    bad = root / "bad"
    bad.mkdir()
    rng = np.random.default_rng(1)
    (bad / "random.mp4").write_bytes(rng.integers(0, 256, 8192, dtype=np.uint8).tobytes())
    (bad / "empty.mp4").write_bytes(b"")
    good = (root / "stu01" / "stu01_ang_00.mp4").read_bytes()
    (bad / "truncated.mp4").write_bytes(good[: len(good) // 2])
    write_clip(bad / "mute.mp4", audio=None)
    write_clip(bad / "face.mp4", audio=None)
    sf.write(bad / "silent.wav", np.zeros(16000, np.float32), 16000)
    write_clip(bad / "noface.mp4", face=False, sr=16000)

    with open(root / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    template = rows[0]
    extra = [(uid, video, audio, "anger") for uid, video, audio, *_ in PLANTED]
    extra += [("ok_noface", "bad/noface.mp4", "", "sadness"), ("bad_label", "bad/face.mp4", "", "boredom")]
    for uid, video, audio, emotion in extra:
        rows.append({**template, "utterance_id": uid, "speaker": "stu09", "emotion": emotion,
                     "video_path": video, "audio_path": audio})
    with open(root / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(template))
        writer.writeheader()
        writer.writerows(rows)
    return root


# --- clips with a known timeline (segments, windows) and frames with several faces ---

CODE_BITS = 8  # frame index written as 8 black/white blocks along the top of each frame


def read_frame_code(frame: np.ndarray) -> int:
    """The frame index drawn by `timeline_frame` (exact after lossy coding: blocks are 0 or 255)."""
    w = frame.shape[1] // CODE_BITS
    return sum(1 << b for b in range(CODE_BITS) if frame[2:12, b * w + 3:(b + 1) * w - 3].mean() > 128)


def timeline_frame(i: int, t: float, change_at: float, h: int = 120, w: int = 160) -> np.ndarray:
    """RGB frame i at time t: red background before `change_at`, green from it, a drawn face, and the
    frame index as a binary code of white blocks in the top 14 rows."""
    img = draw_face(h, w, cy=h // 2 + 10, s=30)
    phase = (200, 40, 40) if t < change_at else (40, 200, 40)
    img[(np.abs(img.astype(int) - (90, 60, 40)).max(-1) < 12)] = phase  # the background takes the phase colour
    img[:14] = 0
    bw = w // CODE_BITS
    for b in range(CODE_BITS):
        if (i >> b) & 1:
            img[:14, b * bw:(b + 1) * bw] = 255
    return img


def write_timeline_clip(path: Path, seconds: float, change_at: float, fps: int = 10, sr: int = 16000,
                        gop: int = 10, vcodec: str | None = None) -> Path:
    """A real clip whose picture and sound change at `change_at` s: a red background and a 440 Hz tone
    before, a green one and a 1760 Hz tone from then on; every frame carries its index (`read_frame_code`)."""
    default_vcodec, acodec = CODECS[path.suffix]
    t = np.arange(int(round(seconds * sr))) / sr
    wave = (0.3 * np.sin(2 * np.pi * np.where(t < change_at, 440.0, 1760.0) * t)).astype(np.float32)
    with av.open(str(path), mode="w") as out:
        vs = out.add_stream(vcodec or default_vcodec, rate=fps)
        vs.height, vs.width, vs.pix_fmt = 120, 160, "yuv420p"
        vs.codec_context.gop_size = gop
        a = out.add_stream(acodec, rate=sr, layout="mono")
        fmt, frame_len = a.codec_context.format.name, a.codec_context.frame_size or 1024
        for start in range(0, len(wave), frame_len):
            chunk = wave[start:start + frame_len]
            if fmt.startswith("s16"):
                chunk = (chunk * 32767).astype(np.int16)
            elif fmt.startswith("s32"):
                chunk = (chunk * 2147483647).astype(np.int32)
            af = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format=fmt, layout="mono")
            af.sample_rate, af.pts, af.time_base = sr, start, Fraction(1, sr)
            for pkt in a.encode(af):
                out.mux(pkt)
        for pkt in a.encode(None):
            out.mux(pkt)
        for i in range(int(round(seconds * fps))):
            vf = av.VideoFrame.from_ndarray(timeline_frame(i, i / fps, change_at), format="rgb24")
            for pkt in vs.encode(vf):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    return path


def draw_faces(faces: list[tuple[int, int, int, tuple[int, int, int]]], h: int = 240, w: int = 320,
               mouths: list[float] | None = None) -> np.ndarray:
    """RGB frame with several cartoon faces, each (cx, cy, s, skin RGB); skins of equal grey level
    tell the faces apart in the crops while the (grey) detector sees them alike. `mouths`: each
    face's mouth opening (half-height, as a fraction of s; default 0.1)."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (90, 60, 40)
    for j, (cx, cy, s, skin) in enumerate(faces):
        mouth = 0.1 if mouths is None else mouths[j]
        cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, skin, -1)
        for dx in (-1, 1):
            ex, ey = cx + dx * int(s * 0.35), cy - int(s * 0.2)
            cv2.ellipse(img, (ex, ey - int(s * 0.2)), (int(s * 0.22), int(s * 0.06)), 0, 180, 360, (40, 30, 30), -1)
            cv2.ellipse(img, (ex, ey), (int(s * 0.16), int(s * 0.09)), 0, 0, 360, (255, 255, 255), -1)
            cv2.circle(img, (ex, ey), int(s * 0.07), (20, 20, 20), -1)
        cv2.line(img, (cx, cy - int(s * 0.1)), (cx - int(s * 0.08), cy + int(s * 0.25)), (170, 140, 120), 2)
        cv2.ellipse(img, (cx, cy + int(s * 0.5)), (int(s * 0.3), max(1, int(s * mouth))), 0, 0, 360, (150, 60, 60), -1)
    return cv2.GaussianBlur(img, (5, 5), 0)


RED_SKIN, GREEN_SKIN = (240, 190, 180), (190, 215, 180)  # same grey level (~204), told apart by R - G
