"""Shared by the audio and video decoders: the MediaError exception and safe opening of a media file."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import av


class MediaError(Exception):
    """A media file that cannot give the stream we need; `reason` is a short phrase for skipped.csv."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def check_file(path: Path) -> None:
    """Raise MediaError unless `path` is a non-empty, readable regular file."""
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
def open_container(path: Path) -> Iterator[av.container.InputContainer]:
    """av.open for reading, closed on exit; an unopenable file is MediaError("corrupt or unsupported container")."""
    try:
        container = av.open(str(path), mode="r")
    except PermissionError:
        raise MediaError("unreadable: permission denied") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"corrupt or unsupported container: {short_error(exc)}") from None
    try:
        yield container
    finally:
        container.close()


def decoder_threads() -> int:
    """FFmpeg decoder threads: $OMP_NUM_THREADS when set (Ray sets it to a task's CPUs, so parallel
    extraction does not oversubscribe the cores), else 0 = FFmpeg's choice (one per core)."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


def short_error(exc: BaseException) -> str:
    """FFmpeg's message without the file name (`Invalid data found when processing input`), at most 80 chars."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[0].strip()[:80] if isinstance(exc, av.FFmpegError) else text[:80]
