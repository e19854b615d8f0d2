"""Write clips as real media: H.264 mp4 (optionally with an AAC track) via PyAV, and 16-bit wav.

libx264 runs single-threaded with CPU-independent algorithms and fixed options, and the mp4 carries no
creation time, so the same frames give the same bytes with the same FFmpeg/x264 build.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.codec.context import Flags
import numpy as np
import soundfile as sf

# cpu-independent: x264's macroblock-tree rate control otherwise uses float SIMD whose rounding depends
# on the CPU's instruction set, so the same frames would encode to other bytes on another machine.
_X264_PARAMS = "threads=1:lookahead-threads=1:cpu-independent=1"


def write_mp4(path: Path, frames: list[np.ndarray], fps: int, *, audio: np.ndarray | None = None,
              sample_rate: int = 16000, crf: int = 23) -> None:
    """Encode BGR uint8 frames (H, W, 3) as H.264 yuv420p at `fps`; `audio` float32 (N,) in [-1, 1] → mono AAC."""
    if not frames:
        raise ValueError(f"{path}: no frames to write")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"{path}: frame size {w}x{h} must be even for yuv420p")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4", options={"fflags": "+bitexact"}) as box:
        vs = box.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "veryfast", "threads": "1",
                                                            "x264-params": _X264_PARAMS})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.thread_count = 1
        vs.codec_context.flags |= Flags.bitexact
        aus = None
        if audio is not None:
            aus = box.add_stream("aac", rate=sample_rate)
            aus.layout = "mono"
            aus.codec_context.flags |= Flags.bitexact
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            box.mux(vs.encode(frame))
        box.mux(vs.encode(None))
        if aus is not None:
            pcm = np.clip(audio, -1.0, 1.0).astype(np.float32)
            step = 1024
            for start in range(0, len(pcm), step):
                chunk = pcm[start:start + step][None, :]
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = sample_rate, start, Fraction(1, sample_rate)
                box.mux(aus.encode(af))
            box.mux(aus.encode(None))


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write mono float audio as 16-bit PCM wav."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
