"""Decode K frames sampled uniformly over a video clip (PyAV, bundled FFmpeg)."""
from __future__ import annotations

import bisect
from pathlib import Path

import av
import numpy as np

from fdan.features.mediafile import MediaError, check_file, open_container, short_error

# Seek instead of decoding through a gap longer than this (seconds): short clips are decoded in one pass.
_SEEK_GAP_SECONDS = 4.0
# Containers whose packets carry real presentation timestamps (avi only has decode order).
_PTS_FORMATS = ("mp4", "matroska", "flv")


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


def decode_video_frames(path: str | Path, n: int) -> np.ndarray:
    """Decode `n` RGB frames sampled uniformly over the whole clip.

    Frame i is frame floor((i + 1/2) * N / n) of the clip's N frames in presentation order (a clip with
    fewer than n frames repeats frames). N comes from demuxing; the frames are then decoded in one
    forward pass and picked by their position in the decoder's output, which is right for every
    container (avi stores no presentation timestamps). Long clips in containers with real timestamps
    (mp4/mov, mkv/webm, flv) seek to keyframes across gaps of more than 4 s instead.
    Returns uint8 (n, H, W, 3). Raises MediaError (no video stream, no frames, corrupt or truncated).
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    path = Path(path)
    check_file(path)
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        n_frames, pts, keyframes = _demux_index(container, stream)
        declared = stream.frames  # 0 where the container does not say (flv)
        fmt = container.format.name
    if not n_frames:
        raise MediaError("no video frames")
    # The demuxer stops quietly at a cut-off file; a few frames of slack for sloppy avi indexes.
    if declared and declared - n_frames > max(2, declared // 50):
        raise MediaError(f"truncated video stream ({n_frames} of {declared} frames)")
    indices = uniform_indices(n_frames, n)

    with open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base) if stream.time_base else 0.0
        seek_gap = int(_SEEK_GAP_SECONDS / tb) if tb > 0 else 0
        real_pts = bool(pts) and any(name in fmt for name in _PTS_FORMATS)
        long_gaps = real_pts and len(keyframes) > 1 and (pts[-1] - pts[0]) / n > seek_gap > 0
        try:
            if long_gaps:
                frames = _decode_at(container, stream, [pts[i] for i in indices], keyframes, seek_gap)
            else:
                frames = _decode_by_index(container, stream, indices, n_frames)
        except av.FFmpegError as exc:
            raise MediaError(f"truncated or corrupt video stream: {short_error(exc)}") from None
    if len(frames) < n:
        raise MediaError(f"decoded only {len(frames)} of {n} sampled video frames (truncated?)")
    return np.stack(frames)


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
