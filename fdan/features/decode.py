"""Decode audio and sampled video frames from mp4 / avi / flv / wav with PyAV (bundled FFmpeg) or soundfile.

Every failure a corpus file can cause (missing, zero-length, unreadable, corrupt, truncated, no such
stream, nothing decodable) is raised as `MediaError(reason)` so callers can skip the file and record why.
"""
from __future__ import annotations

import bisect
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import av
import numpy as np
import soundfile as sf

_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg"}
# Seek instead of decoding through a gap longer than this (seconds): short clips are decoded in one pass.
_SEEK_GAP_SECONDS = 4.0


class MediaError(Exception):
    """A media file that cannot give the stream we need; `reason` is a short phrase for skipped.csv."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def _check_file(path: Path) -> None:
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise MediaError("file not found") from None
    except OSError as exc:
        raise MediaError(f"unreadable: {exc.strerror or exc}") from None
    if not path.is_file():
        raise MediaError("unreadable: not a regular file")
    if size == 0:
        raise MediaError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise MediaError("unreadable: permission denied")


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    try:
        container = av.open(str(path), mode="r")
    except PermissionError:
        raise MediaError("unreadable: permission denied") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"corrupt or unsupported container: {_short(exc)}") from None
    try:
        yield container
    finally:
        container.close()


def _short(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[0].strip()[:80] if isinstance(exc, av.FFmpegError) else text[:80]


def _to_mono(data: np.ndarray) -> np.ndarray:
    """(samples, channels) or (samples,) -> (samples,) float32."""
    if data.ndim == 2:
        data = data.mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32)


def _check_wav_complete(path: Path) -> None:
    """libsndfile silently reads a truncated wav; compare the RIFF data chunk's declared size instead."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_len = f.read(4), int.from_bytes(f.read(4), "little")
            if chunk_id == b"data":
                available = size - offset - 8
                if chunk_len not in (0, 0xFFFFFFFF) and available < chunk_len:  # 0 / -1: streamed, size unknown
                    raise MediaError(f"truncated wav ({available} of {chunk_len} data bytes)")
                return
            offset += 8 + chunk_len + (chunk_len & 1)


def _decode_audio_soundfile(path: Path) -> tuple[np.ndarray, int]:
    if path.suffix.lower() == ".wav":
        _check_wav_complete(path)
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return _to_mono(data), int(sr)


def _decode_audio_av(path: Path) -> tuple[np.ndarray, int]:
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError("no audio stream")
        stream = container.streams.audio[0]
        sr = stream.codec_context.sample_rate or stream.rate
        if not sr:
            raise MediaError("audio stream without a sample rate")
        # Packed float mono at the native rate; resampling to the feature rate happens in fdan.features.mel.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"corrupt audio stream: {_short(exc)}") from None
            raise MediaError(f"truncated or corrupt audio stream: {_short(exc)}") from None
    if not chunks:
        raise MediaError("no audio samples decoded")
    return np.concatenate(chunks).astype(np.float32, copy=False), int(sr)


def decode_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode the first audio stream of `path` to mono float32.

    Returns (wave (samples,) float32 in [-1, 1], native sample rate). wav/flac/ogg go through soundfile
    first (PyAV as fallback); containers (mp4, avi, flv, ...) through PyAV. Raises MediaError.
    """
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            wave, sr = _decode_audio_soundfile(path)
        except MediaError:
            raise
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            try:
                wave, sr = _decode_audio_av(path)
            except MediaError:
                raise MediaError(f"corrupt audio file: {str(exc)[:80]}") from None
    else:
        wave, sr = _decode_audio_av(path)
    if wave.size == 0:
        raise MediaError("no audio samples decoded")
    if not np.isfinite(wave).all():
        raise MediaError("audio contains NaN/inf samples")
    return wave, sr


def _frame_pts(container: av.container.InputContainer,
               stream: av.video.stream.VideoStream) -> tuple[list[int], list[int]]:
    """(all frame pts, keyframe pts) of a video stream, sorted, read by demuxing only (no decoding)."""
    pts: list[int] = []
    keys: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size > 0:
                pts.append(packet.pts)
                if packet.is_keyframe:
                    keys.append(packet.pts)
    except av.FFmpegError as exc:
        if not pts:
            raise MediaError(f"corrupt video stream: {_short(exc)}") from None
        raise MediaError(f"truncated or corrupt video stream: {_short(exc)}") from None
    return sorted(pts), sorted(keys)


def uniform_indices(n_total: int, n: int) -> list[int]:
    """n indices spread uniformly over range(n_total): the centre of each of n equal segments."""
    return [min(n_total - 1, int((i + 0.5) * n_total / n)) for i in range(n)]


def decode_video_frames(path: str | Path, n: int) -> np.ndarray:
    """Decode `n` RGB frames sampled uniformly over the whole clip.

    Frame i is the frame at the centre of the i-th of n equal segments of the clip's frames (a clip
    with fewer than n frames repeats frames). Timestamps come from demuxing; frames are then decoded
    in one forward pass, seeking only across long gaps (long files). Returns uint8 (n, H, W, 3).
    Raises MediaError (no video stream, no frames, corrupt or truncated stream).
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    path = Path(path)
    _check_file(path)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        pts, keyframes = _frame_pts(container, stream)
        declared = stream.frames  # 0 where the container does not say (flv)
    if not pts:
        raise MediaError("no video frames")
    # The demuxer stops quietly at a cut-off file; a few frames of slack for sloppy avi indexes.
    if declared and declared - len(pts) > max(2, declared // 50):
        raise MediaError(f"truncated video stream ({len(pts)} of {declared} frames)")
    targets = [pts[i] for i in uniform_indices(len(pts), n)]

    frames: list[np.ndarray] = []
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base) if stream.time_base else 0.0
        seek_gap = int(_SEEK_GAP_SECONDS / tb) if tb > 0 else None
        try:
            frames = _decode_at(container, stream, targets, keyframes, seek_gap)
        except av.FFmpegError as exc:
            raise MediaError(f"truncated or corrupt video stream: {_short(exc)}") from None
    if len(frames) < n:
        raise MediaError(f"decoded only {len(frames)} of {n} sampled video frames (truncated?)")
    return np.stack(frames)


def _decode_at(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
               targets: list[int], keyframes: list[int], seek_gap: int | None) -> list[np.ndarray]:
    """Decode the frames whose pts are `targets` (sorted; repeats allowed) as RGB arrays.

    Decodes forward; jumps to the last keyframe before the next target when that keyframe lies ahead
    of the decoding position and the target is more than `seek_gap` ticks away (so every seek moves
    forward, and a clip with one keyframe is decoded in a single pass).
    """
    out: list[np.ndarray] = []
    ti, pos = 0, None  # pos: pts of the last decoded frame

    def seek_target() -> int | None:
        key_i = bisect.bisect_right(keyframes, targets[ti]) - 1
        if seek_gap is None or key_i < 0:
            return None
        key = keyframes[key_i]
        ahead = pos is None or key > pos
        far = pos is None or targets[ti] - pos > seek_gap
        return key if ahead and far and (pos is not None or key > 0) else None

    while ti < len(targets):
        key = seek_target()
        if key is not None:
            container.seek(key, stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            pos = frame.pts
            while ti < len(targets) and frame.pts >= targets[ti]:
                out.append(frame.to_ndarray(format="rgb24"))
                ti += 1
            if ti == len(targets):
                return out
            if seek_target() is not None:
                break
        else:
            return out  # end of stream
    return out
