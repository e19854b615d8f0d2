"""Is a stream shorter than its container or its labels claim? One rule per kind of claim.

A demuxer stops quietly at the end of a cut-off file, so a truncated clip decodes "fine" unless what
was found is compared with what was promised:

- frame count: avi and mp4 headers declare the video's frames; fewer demuxed than declared (beyond
  max(2, 2 %) of slack for sloppy avi indexes) is truncation;
- duration: flv declares no frame count, only a duration (its onMetaData); video packets (last pts
  + one frame) or decoded audio ending more than max(2 frames, 0.1 s, 3 %) before the declared
  duration is truncation;
- labels: a segment (IEMOCAP's label times) ending more than two frames after the last video frame.
"""
from __future__ import annotations

from fdan.features.mediafile import MediaError


def check_frame_count(n_frames: int, declared: int) -> None:
    """MediaError when fewer than the declared frames were demuxed (declared 0: not declared)."""
    if declared and declared - n_frames > max(2, declared // 50):
        raise MediaError(f"truncated video stream ({n_frames} of {declared} frames)")


def _slack(declared_s: float, frame_s: float) -> float:
    return max(2 * frame_s, 0.1, 0.03 * declared_s)


def check_duration(kind: str, found_s: float, declared_s: float | None, frame_s: float = 0.0) -> None:
    """MediaError when a `kind` ("video" / "audio") stream ends at `found_s`, well before the
    container's declared duration `declared_s` (None: not declared)."""
    if declared_s and declared_s - found_s > _slack(declared_s, frame_s):
        raise MediaError(f"truncated {kind} stream (ends at {found_s:.2f} s of {declared_s:.2f} s declared)")


def check_segment_end(last_frame_s: float, end_s: float, frame_s: float) -> None:
    """MediaError when the labelled segment ends more than two frames after the video's last frame."""
    if end_s - last_frame_s > 2 * frame_s + 1e-6:
        raise MediaError(f"video ends at {last_frame_s:.2f} s, before its label segment's end {end_s:.2f} s "
                         "(truncated video or wrong label times)")
