"""Media files given to `predict`, grouped into the inputs of one prediction each.

Rule (the corpora's own layout: a clip's video with its audio in a separate wav of the same name):

- ``x.mp4`` / ``x.avi`` / ``x.flv`` with a ``x.wav`` beside it: faces from the video, audio from the wav;
- a video alone: faces and audio from the video (its first audio stream);
- a wav alone: audio only (the model's audio head only; no fused or face prediction).

Files with other suffixes inside a folder are ignored; a file named explicitly with another suffix is
a reported skip. Nothing here decodes media.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

VIDEO_SUFFIXES = (".mp4", ".avi", ".flv")
AUDIO_SUFFIXES = (".wav",)
MEDIA_SUFFIXES = VIDEO_SUFFIXES + AUDIO_SUFFIXES


@dataclass(frozen=True)
class MediaItem:
    """One prediction's inputs: ``name`` (the video or wav as given), ``video`` / ``audio`` paths
    (None: absent; audio None with a video = the video's own audio stream)."""

    name: str
    video: Path | None
    audio: Path | None

    @property
    def audio_only(self) -> bool:
        return self.video is None


@dataclass(frozen=True)
class MediaSkip:
    path: str
    reason: str


def find_media(paths: Iterable[str | Path]) -> tuple[list[MediaItem], list[MediaSkip]]:
    """Media items of the given files and folders (folders searched recursively, sorted), and skips."""
    files: list[Path] = []
    skips: list[MediaSkip] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES))
        elif not path.exists():
            skips.append(MediaSkip(str(path), "file not found"))
        elif path.suffix.lower() not in MEDIA_SUFFIXES:
            skips.append(MediaSkip(str(path), f"not a media file this reads ({', '.join(MEDIA_SUFFIXES)})"))
        else:
            files.append(path)
    unique = list(dict.fromkeys(files))
    videos = {p.with_suffix(""): p for p in unique if p.suffix.lower() in VIDEO_SUFFIXES}
    items = []
    for path in unique:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            wav = next((w for w in (path.with_suffix(s) for s in (".wav", ".WAV")) if w.is_file()), None)
            items.append(MediaItem(str(path), path, wav))
        elif path.with_suffix("") not in videos:  # a wav beside its video belongs to that video
            items.append(MediaItem(str(path), None, path))
    return items, skips
