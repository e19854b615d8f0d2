"""Decode audio (and, re-exported from `video`, sampled frames) from mp4 / avi / flv / wav files.

Audio: wav/flac/ogg through soundfile (PyAV as fallback), containers through PyAV (bundled FFmpeg).
Every failure a corpus file can cause (missing, zero-length, unreadable, corrupt, truncated, no such
stream, nothing decodable) is raised as `MediaError(reason)` so callers can skip the file and record why.
"""
from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from fdan.features.mediafile import MediaError, check_file, open_container, short_error
from fdan.features.truncation import check_duration
from fdan.features.video import decode_video_frames, uniform_indices

__all__ = ["MediaError", "decode_audio", "decode_video_frames", "uniform_indices"]

_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg"}


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


def _decode_audio_soundfile(path: Path, start: float | None, end: float | None) -> tuple[np.ndarray, int]:
    if path.suffix.lower() == ".wav":
        _check_wav_complete(path)
    if start is None and end is None:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return _to_mono(data), int(sr)
    sr = int(sf.info(str(path)).samplerate)
    first = int(round((start or 0.0) * sr))
    stop = None if end is None else int(round(end * sr))
    data, sr = sf.read(str(path), start=first, stop=stop, dtype="float32", always_2d=True)
    return _to_mono(data), int(sr)


def _mono(frame: av.AudioFrame, resampler: av.AudioResampler) -> tuple[list[np.ndarray], bool]:
    """(a decoded frame as mono float32 sample runs, whether `resampler` was used): as is when it
    already is mono float, else through `resampler` (format conversion, downmix)."""
    if frame.format.name in ("flt", "fltp") and len(frame.layout.channels) == 1:
        return [frame.to_ndarray().reshape(-1)], False
    return [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)], True


def _decode_audio_av(path: Path, start: float | None, end: float | None) -> tuple[np.ndarray, int]:
    """Mono float32 at the native rate; with a segment, seek to `start` and keep [start, end) only.

    Sample k of the decoded run is at time t_first + k / sr, t_first being the first decoded frame's
    pts (seconds from the stream start); a stream without audio pts is decoded from 0 instead."""
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError("no audio stream")
        stream = container.streams.audio[0]
        sr = stream.codec_context.sample_rate or stream.rate
        if not sr:
            raise MediaError("audio stream without a sample rate")
        tb = float(stream.time_base) if stream.time_base else 1.0 / sr
        origin = stream.start_time or 0
        if start:
            container.seek(origin + int(start / tb), stream=stream, backward=True, any_frame=False)
        # Packed float mono at the native rate; resampling to the feature rate happens in fdan.features.mel.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks: list[np.ndarray] = []
        t_first: float | None = None
        n_samples = 0
        resampled = False
        try:
            for frame in container.decode(stream):
                if t_first is None:
                    t_first = (frame.pts - origin) * tb if frame.pts is not None and start else 0.0
                runs, via_resampler = _mono(frame, resampler)
                resampled = resampled or via_resampler
                chunks.extend(runs)
                n_samples += sum(r.size for r in runs)
                if end is not None and t_first + n_samples / sr >= end:
                    break
            if resampled:
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
        except av.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"corrupt audio stream: {short_error(exc)}") from None
            raise MediaError(f"truncated or corrupt audio stream: {short_error(exc)}") from None
        if start is None and end is None and chunks:
            declared = float(stream.duration * tb) if stream.duration else (container.duration or 0) / 1e6
            check_duration("audio", sum(c.size for c in chunks) / sr, declared or None)
    if not chunks:
        raise MediaError("no audio samples decoded")
    wave = np.concatenate(chunks).astype(np.float32, copy=False)
    if start is not None or end is not None:
        t_first = t_first or 0.0
        first = max(0, int(round(((start or 0.0) - t_first) * sr)))
        stop = wave.size if end is None else max(first, int(round((end - t_first) * sr)))
        wave = wave[first:stop]
    return wave, int(sr)


def decode_audio(path: str | Path, start: float | None = None, end: float | None = None,
                 ) -> tuple[np.ndarray, int]:
    """Decode the first audio stream of `path` to mono float32; only [start, end) seconds if given.

    None = from the beginning / to the end. Containers seek to `start` (a dialog-long file is not
    decoded from 0); wav/flac/ogg read just those samples.
    Returns (wave (samples,) float32 in [-1, 1], native sample rate). wav/flac/ogg go through
    soundfile first (PyAV as fallback); containers (mp4, avi, flv, ...) through PyAV. Raises MediaError.
    """
    path = Path(path)
    check_file(path)
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            wave, sr = _decode_audio_soundfile(path, start, end)
        except MediaError:
            raise
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            try:
                wave, sr = _decode_audio_av(path, start, end)
            except MediaError:
                raise MediaError(f"corrupt audio file: {str(exc)[:80]}") from None
    else:
        wave, sr = _decode_audio_av(path, start, end)
    if wave.size == 0:
        where = "" if start is None and end is None else f" in segment [{start or 0:.3f}, {end if end is not None else 'end'}] s"
        raise MediaError(f"no audio samples decoded{where}")
    if not np.isfinite(wave).all():
        raise MediaError("audio contains NaN/inf samples")
    return wave, sr
