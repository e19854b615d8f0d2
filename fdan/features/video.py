"""Decode K frames sampled uniformly over a window of a video clip (PyAV, bundled FFmpeg)."""
from __future__ import annotations

import bisect
from pathlib import Path
from typing import Callable, Iterator, Sequence

import av
import numpy as np

from fdan.features.mediafile import MediaError, check_file, decoder_threads, open_container, short_error
from fdan.features.truncation import check_duration, check_frame_count, check_segment_end
from fdan.features.video_seek import PTS_FORMATS, decode_window

# Files longer than this (s) are not demuxed whole for a window: decoding seeks to it instead.
SEEK_FILE_SECONDS = 30.0

# Seek instead of decoding through a gap longer than this (seconds): short clips are decoded in one pass.
_SEEK_GAP_SECONDS = 4.0


def _demux_index(container: av.container.InputContainer,
                 stream: av.video.stream.VideoStream) -> tuple[int, list[int], list[int]]:
    """(number of frames, sorted frame pts, sorted keyframe pts) by demuxing only (no decoding).

    pts lists are empty when some packet has no pts (then frames are addressed by index only)."""
    count = 0
    pts: list[int] = []
    keys: list[int] = []
    complete = True
    try:
        for packet in container.demux(stream):
            if packet.size <= 0:
                continue
            count += 1
            if packet.pts is None:
                complete = False
            elif complete:
                pts.append(packet.pts)
                if packet.is_keyframe:
                    keys.append(packet.pts)
    except av.FFmpegError as exc:
        if not count:
            raise MediaError(f"corrupt video stream: {short_error(exc)}") from None
        raise MediaError(f"truncated or corrupt video stream: {short_error(exc)}") from None
    return count, (sorted(pts) if complete else []), (sorted(keys) if complete else [])


def uniform_indices(n_total: int, n: int) -> list[int]:
    """n indices spread uniformly over range(n_total): the centre of each of n equal segments."""
    return [min(n_total - 1, int((i + 0.5) * n_total / n)) for i in range(n)]


def window_indices(times: Sequence[float], n: int, start: float | None, end: float | None) -> list[int]:
    """Up to `n` frame indices sampled uniformly over the frames shown in [start, end) seconds.

    `times` (sorted) are the frames' presentation times from the first frame. The window's frames are
    the one on screen at `start` through the last one starting before `end` (at least one frame);
    with m >= n of them, index lo + floor((i + 1/2) * m / n) for i < n, else all m (no repeats).
    """
    lo = 0 if start is None else max(0, bisect.bisect_right(times, start + 1e-6) - 1)
    hi = len(times) if end is None else bisect.bisect_left(times, end - 1e-6)
    m = max(1, min(hi, len(times)) - lo)
    return [lo + i for i in (uniform_indices(m, n) if m >= n else range(m))]


def decode_video_frames(path: str | Path, n: int, start: float | None = None,
                        end: float | None = None, label_end: float | None = None) -> np.ndarray:
    """Decode up to `n` RGB frames sampled uniformly over the seconds [start, end) of the clip.

    None = from the first frame / to the last. Times count from the first video frame. The result has
    m = n frames unless the window holds fewer than n frames (then all of them, m < n, no repeats:
    the caller pads and masks). Files longer than `SEEK_FILE_SECONDS` with a window are read by
    seeking to it (`video_seek.decode_window`: a dialog-long IEMOCAP AVI is not decoded from 0);
    shorter ones are demuxed whole and the frames picked by position: frame i of the window's N
    frames in presentation order, index lo + floor((i + 1/2) * N / n). N comes from demuxing; the
    frames are decoded in one forward pass and picked by their position in the decoder's output,
    which is right for every container (avi stores no presentation timestamps). Long windows in
    containers with real timestamps (mp4/mov, mkv/webm, flv) seek to keyframes across gaps > 4 s.
    `label_end` (s): where the utterance's labels say its segment ends; a video ending more than two
    frames before it is a MediaError (`truncation.check_segment_end`).
    Returns uint8 (m, H, W, 3). Raises MediaError (no video stream, no frames, corrupt or truncated).
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if start is not None and end is not None and end <= start:
        raise MediaError(f"empty video segment [{start:.3f}, {end:.3f}) s")
    path = Path(path)
    check_file(path)
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        duration = container.duration / 1e6 if container.duration else None
        rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        if (start or end is not None) and duration is not None and duration > SEEK_FILE_SECONDS:
            if label_end is not None:
                check_segment_end(duration, label_end, 1.0 / rate)
            return decode_window(container, stream, n, start or 0.0, end)
        n_frames, pts, keyframes = _demux_index(container, stream)
        if not n_frames:
            raise MediaError("no video frames")
        tb = float(stream.time_base) if stream.time_base else 0.0
        real_pts = bool(pts) and any(name in container.format.name for name in PTS_FORMATS)
        _check_complete(container, stream, n_frames, pts, tb, real_pts)
        times = frame_times(n_frames, pts, tb, stream, real_pts)
        if label_end is not None:
            check_segment_end(times[-1] + 1.0 / rate, label_end, 1.0 / rate)
        indices = window_indices(times, n, start, end)
        seek_gap = int(_SEEK_GAP_SECONDS / tb) if tb > 0 else 0
        long_gaps = (real_pts and len(keyframes) > 1 and len(indices) > 1
                     and (pts[indices[-1]] - pts[indices[0]]) / len(indices) > seek_gap > 0)
        by_pts = long_gaps or (real_pts and indices[0] > 0 and len(keyframes) > 1)
        if by_pts:  # the demuxed container is reused: _decode_at seeks back to the first target's keyframe
            frames = _decode(container, stream, lambda: _decode_at(container, stream, [pts[i] for i in indices],
                                                                  keyframes, seek_gap, at_start=False))
    if not by_pts:  # avi: frames by position in the decoder's output, from a freshly opened file
        with open_container(path) as container:
            stream = container.streams.video[0]
            frames = _decode(container, stream, lambda: _decode_by_index(container, stream, indices, n_frames))
    if len(frames) < len(indices):
        raise MediaError(f"decoded only {len(frames)} of {len(indices)} sampled video frames (truncated?)")
    return np.stack(frames)


def _decode(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
            run: Callable[[], list[np.ndarray]]) -> list[np.ndarray]:
    """run() with the decoder's threads set and FFmpeg errors as MediaError."""
    stream.thread_type = "AUTO"
    stream.thread_count = decoder_threads()
    try:
        return run()
    except av.FFmpegError as exc:
        raise MediaError(f"truncated or corrupt video stream: {short_error(exc)}") from None


def _check_complete(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                    n_frames: int, pts: list[int], tb: float, real_pts: bool) -> None:
    """MediaError for a cut-off file (`truncation`): fewer frames than declared, or, where no frame
    count is declared (flv), video ending well before the declared duration."""
    check_frame_count(n_frames, stream.frames)
    if not stream.frames and real_pts and tb > 0 and container.duration:
        rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        # both from the container's start (a video stream starting after the audio is not short)
        found = pts[-1] * tb + 1.0 / rate - (container.start_time or 0) / 1e6
        check_duration("video", found, container.duration / 1e6, 1.0 / rate)


def frame_times(n_frames: int, pts: list[int], tb: float, stream: av.video.stream.VideoStream,
                real_pts: bool) -> list[float]:
    """Presentation time (s, from the first frame) of each of the n_frames frames: from the pts where
    the container has real ones, else frame index / frame rate (avi is constant-rate by design)."""
    if real_pts and tb > 0:
        return [(p - pts[0]) * tb for p in pts]
    rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
    return [i / rate for i in range(n_frames)]


def _decode_by_index(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                     indices: list[int], n_frames: int) -> list[np.ndarray]:
    """Frames at positions `indices` (sorted; repeats allowed) of the decoder's output, as RGB arrays.

    A decoder that outputs slightly fewer frames than were demuxed (undecodable leading frames of an
    open GOP) gets its last frame repeated, within the truncation slack; otherwise fewer are returned."""
    out: list[np.ndarray] = []
    ti, decoded, last = 0, 0, None
    for frame in container.decode(stream):
        last = frame
        while ti < len(indices) and indices[ti] == decoded:
            out.append(frame.to_ndarray(format="rgb24"))
            ti += 1
        decoded += 1
        if ti == len(indices):
            return out
    if last is not None and n_frames - decoded <= max(2, n_frames // 50):
        out.extend(last.to_ndarray(format="rgb24") for _ in range(len(indices) - ti))
    return out


def _needed_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                   wanted: set[int]) -> Iterator[av.VideoFrame]:
    """The decoder's frames from the current position, skipping the decoding of every non-reference
    frame (a B-frame nothing predicts from) whose packet pts is not in `wanted`: the decoder's
    `skip_frame` is set per packet, NONREF for the others, so sampled frames are decoded exactly."""
    ctx = stream.codec_context
    skipping = None
    for packet in container.demux(stream):
        skip = packet.pts is not None and packet.pts not in wanted
        if skip != skipping:
            ctx.skip_frame = "NONREF" if skip else "DEFAULT"
            skipping = skip
        yield from packet.decode()


def _decode_at(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
               targets: list[int], keyframes: list[int], seek_gap: int | None, at_start: bool = True) -> list[np.ndarray]:
    """Decode the frames whose pts are `targets` (sorted; repeats allowed) as RGB arrays.

    Decodes forward; jumps to the last keyframe before the next target when that keyframe lies ahead
    of the decoding position and the target is more than `seek_gap` ticks away (so every seek moves
    forward, and a clip with one keyframe is decoded in a single pass; `at_start` False: the container
    was read before, so the first target's keyframe is sought even when it is the first). Only what the targets need is
    decoded (`_needed_frames`): frames no other frame refers to are skipped unless sampled.
    """
    out: list[np.ndarray] = []
    wanted = set(targets)
    ti, pos = 0, None  # pos: pts of the last decoded frame

    def seek_target() -> int | None:
        key_i = bisect.bisect_right(keyframes, targets[ti]) - 1
        if seek_gap is None or key_i < 0:
            return None
        key = keyframes[key_i]
        ahead = pos is None or key > pos
        far = pos is None or targets[ti] - pos > seek_gap
        return key if ahead and far and (pos is not None or key > 0) else None

    if not at_start:
        key_i = max(0, bisect.bisect_right(keyframes, targets[0]) - 1)
        container.seek(keyframes[key_i] if keyframes else targets[0], stream=stream, backward=True)
    while ti < len(targets):
        key = seek_target()
        if key is not None:
            container.seek(key, stream=stream, backward=True)
        for frame in _needed_frames(container, stream, wanted):
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
