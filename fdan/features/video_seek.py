"""Frames of a window of a long video file (a dialog-long IEMOCAP AVI) by seeking, not decoding from 0.

The container is asked to seek to the last keyframe at or before the window start; decoding then
runs forward only until the window is covered. A frame's time (seconds from the stream start) is
its pts where the container has real timestamps (mp4/mov, mkv/webm, flv); in avi, which stores
decode order only, it is the first packet's dts after the seek plus (output position) / frame rate,
so it is exact up to a frame wherever the avi holds dropped-frame placeholders.
"""
from __future__ import annotations

import av
import numpy as np

from fdan.features.mediafile import MediaError, decoder_threads, short_error
from fdan.features.truncation import check_segment_end

# Containers whose packets carry real presentation timestamps (avi only has decode order).
PTS_FORMATS = ("mp4", "matroska", "flv")


def window_targets(n: int, start: float, end: float, rate: float) -> list[float]:
    """Sample times for up to n frames of [start, end): t_j = start + (j + 1/2)(end - start)/m with
    m = min(n, number of frames in the window at `rate` fps, at least 1)."""
    m = max(1, min(n, int(round((end - start) * rate))))
    return [start + (j + 0.5) * (end - start) / m for j in range(m)]


def decode_window(container: av.container.InputContainer, stream: av.video.stream.VideoStream, n: int,
                  start: float, end: float | None) -> np.ndarray:
    """Up to `n` RGB frames sampled uniformly over [start, end) s of an opened file: uint8 (m, H, W, 3).

    `end` None = the container's duration. The frame for sample time t is the one on screen at t (the
    last frame starting at or before t); sample times past the last frame get the last frame, unless
    the segment ends more than two frames after the video does (MediaError: truncated video or label
    times past its end, `truncation.check_segment_end`).
    """
    rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
    tb = float(stream.time_base) if stream.time_base else 1.0 / rate
    end_given = end is not None
    if end is None:
        end = container.duration / 1e6 if container.duration else start + 1.0 / rate
    if end <= start:
        raise MediaError(f"empty video segment [{start:.3f}, {end:.3f}) s")
    targets = window_targets(n, start, end, rate)
    origin = stream.start_time or 0
    real_pts = any(name in container.format.name for name in PTS_FORMATS)
    stream.thread_type = "AUTO"
    stream.thread_count = decoder_threads()
    container.seek(origin + int(targets[0] / tb), stream=stream, backward=True, any_frame=False)
    out: list[np.ndarray] = []
    prev: av.VideoFrame | None = None
    t0: float | None = None  # avi: time of the first packet after the seek
    n_out = 0
    try:
        for packet in container.demux(stream):
            if t0 is None and packet.size > 0 and packet.dts is not None:
                t0 = (packet.dts - origin) * tb
            for frame in packet.decode():
                if real_pts and frame.pts is not None:
                    t = (frame.pts - origin) * tb
                else:
                    t = (t0 or 0.0) + n_out / rate
                n_out += 1
                while len(out) < len(targets) and t > targets[len(out)] + 1e-6:
                    out.append((prev or frame).to_ndarray(format="rgb24"))
                if len(out) == len(targets):
                    return np.stack(out)
                prev = frame
    except av.FFmpegError as exc:
        if prev is None:
            raise MediaError(f"corrupt video stream: {short_error(exc)}") from None
        raise MediaError(f"truncated or corrupt video stream: {short_error(exc)}") from None
    if prev is None:
        raise MediaError(f"no video frames in segment [{start:.3f}, {end:.3f}) s")
    last_t = (prev.pts - origin) * tb if real_pts and prev.pts is not None else (t0 or 0.0) + (n_out - 1) / rate
    if end_given and len(out) < len(targets):
        check_segment_end(last_t + 1.0 / rate, end, 1.0 / rate)
    last = prev.to_ndarray(format="rgb24")
    out.extend(last for _ in range(len(targets) - len(out)))
    return np.stack(out)
