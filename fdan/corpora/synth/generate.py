"""Generate a synthetic emotion corpus: speakers × emotions × clips of real mp4 (+ wav) media.

Every clip draws from its own random stream, seeded from (seed, corpus name, speaker, emotion, clip),
so the output does not depend on the worker count or on scheduling order. Clips are always rendered
in worker processes (one for `workers=1`) whose OpenCV state is pinned by `_pin_worker_state`, and
the renderer avoids library code whose rounding depends on the CPU or the thread count
(`pixels.py`, `writer.py`): the same seed gives the same bytes for any worker count.
"""
from __future__ import annotations

import csv
import json
import math
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Callable

import numpy as np

from fdan.corpora.synth import layout
from fdan.corpora.synth.conditions import Camera, Conditions, get_conditions, record_audio
from fdan.corpora.synth.face import draw_face, head_pose
from fdan.corpora.synth.profiles import EMOTIONS, ClipCues, Speaker, make_speaker, sample_cues
from fdan.corpora.synth.record import corpus_record, differences
from fdan.corpora.synth.shift import CueShift, clip_counts
from fdan.corpora.synth.voice import synth_voice
from fdan.corpora.synth.writer import write_mp4, write_wav

BLINK_RATE = 0.04  # probability that a frame shows closed eyes


@dataclass(frozen=True)
class ClipJob:
    """One clip to draw: its speaker, emotion and index, the seed words of its random stream, where it is written."""

    cond: Conditions
    speaker: Speaker
    emotion: str
    clip: int
    entropy: tuple[int, ...]
    root: str
    shift: CueShift | None = None


def _seed_words(seed: int, corpus: str, *rest: int) -> tuple[int, ...]:
    return (int(seed), zlib.crc32(corpus.encode()), *rest)


def make_speakers(cond: Conditions, seed: int, n: int, seed_name: str | None = None) -> list[Speaker]:
    """The corpus' speaker population (depends only on seed, `seed_name` (default: the corpus name) and index)."""
    out = []
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence(_seed_words(seed, seed_name or cond.name, 0, i)))
        out.append(make_speaker(f"{cond.speaker_prefix}{i + 1:02d}", i, rng, female_rate=cond.female_rate,
                                skin_tones=cond.skin_tones, f0_scale=cond.f0_scale,
                                bias=cond.difficulty.speaker_bias))
    return out


def _pin_worker_state() -> None:
    """Process-wide library state that could change the rendered pixels, set the same way in every worker."""
    import cv2

    cv2.setNumThreads(1)
    cv2.ipp.setUseIPP(False)
    cv2.ocl.setUseOpenCL(False)
    np.seterr(all="ignore")


def draw_cues(job: ClipJob) -> tuple[np.random.Generator, ClipCues]:
    """The clip's random stream and its cues: the first draws of that stream (the rest renders the clip)."""
    rng = np.random.default_rng(np.random.SeedSequence(job.entropy))
    shift = job.shift
    cues = sample_cues(job.emotion, job.speaker, rng, job.cond.difficulty, face_offset=shift.face() if shift else None,
                       voice_offset=shift.voice() if shift else None)
    return rng, cues


def render_clip(job: ClipJob) -> dict[str, object]:
    """Synthesize, record and write one clip; returns its labels.csv row."""
    cond, spk = job.cond, job.speaker
    rng, cues = draw_cues(job)
    n_frames = int(round(rng.uniform(*cond.duration_s) * cond.fps))
    duration = n_frames / cond.fps
    voice = synth_voice(spk, cues.voice, duration, cond.sample_rate, rng)
    audio = record_audio(voice.audio, cond, rng)
    cam = Camera(cond, rng)
    half = cond.face_half_width * cond.height * spk.face_scale
    phase = float(rng.uniform(0, 2 * math.pi))
    blinks = rng.random(n_frames) < BLINK_RATE
    frames = []
    for i in range(n_frames):
        t = i / cond.fps
        a = min(int(t * cond.sample_rate), len(voice.talk) - 1)
        talk = float(voice.talk[a: a + int(cond.sample_rate / cond.fps)].mean()) if a < len(voice.talk) - 1 else 0.0
        pose = head_pose(t, cues.face, cam.centre, half, phase)
        frames.append(cam.expose(draw_face(cam.background(t), spk, cues.face, pose, talk, bool(blinks[i]))))

    uid = layout.utterance_id(spk.speaker_id, job.emotion, job.clip)
    video_rel = f"{spk.speaker_id}/{uid}.mp4"
    audio_rel = "" if cond.audio_store == "aac" else f"{spk.speaker_id}/{uid}.wav"
    root = Path(job.root)
    write_mp4(root / video_rel, frames, cond.fps, audio=audio if cond.audio_store == "aac" else None,
              sample_rate=cond.sample_rate, crf=cond.crf)
    if audio_rel:
        write_wav(root / audio_rel, audio, cond.sample_rate)
    return {
        "utterance_id": uid, "speaker": spk.speaker_id, "speaker_index": spk.index, "emotion": job.emotion,
        "video_path": video_rel, "audio_path": audio_rel, "duration_s": f"{duration:.4f}", "n_frames": n_frames,
        "fps": cond.fps, "width": cond.width, "height": cond.height, "sample_rate": cond.sample_rate,
        "audio_store": cond.audio_store, "face_intensity": f"{cues.face_intensity:.4f}",
        "voice_intensity": f"{cues.voice_intensity:.4f}",
    }


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not (out / layout.CORPUS_JSON).exists():
        raise ValueError(f"output directory {out} is not empty and holds no {layout.CORPUS_JSON}; "
                         "refusing to write a synthetic corpus into it")


def resolve(corpus: str = "synth-studio", *, name: str | None = None, shift: CueShift | dict | None = None,
            **overrides: object) -> tuple[Conditions, CueShift | None]:
    """The conditions (named `name`, default `corpus`) and the cue shift a `generate` call would use."""
    cond = get_conditions(corpus).with_overrides(**overrides)
    if name is not None:
        if not name or "/" in name:
            raise ValueError(f"corpus name {name!r} must be non-empty and contain no '/'")
        cond = replace(cond, name=name)
    if isinstance(shift, dict):
        shift = CueShift(**shift)
    return cond, shift


def clip_jobs(out_dir: Path | str = ".", corpus: str = "synth-studio", seed: int = 0, speakers: int = 4,
              clips_per_emotion: int = 3, *, name: str | None = None, shift: CueShift | dict | None = None,
              emotion_clips: dict[str, int] | None = None, **overrides: object
              ) -> tuple[Conditions, CueShift | None, list[Speaker], list[ClipJob]]:
    """What `generate` (same arguments) would draw: conditions, cue shift, speakers and one job per clip."""
    if speakers < 1 or clips_per_emotion < 1:
        raise ValueError(f"speakers ({speakers}) and clips_per_emotion ({clips_per_emotion}) must be >= 1")
    cond, cue_shift = resolve(corpus, name=name, shift=shift, **overrides)
    counts = clip_counts(clips_per_emotion, emotion_clips)
    spks = make_speakers(cond, seed, speakers, seed_name=corpus)
    jobs = [
        ClipJob(cond, s, e, c, _seed_words(seed, corpus, 1, s.index, ei, c), str(Path(out_dir).expanduser()), cue_shift)
        for s in spks for ei, e in enumerate(EMOTIONS) for c in range(counts[e])
    ]
    return cond, cue_shift, spks, jobs


def generate(out_dir: Path | str, corpus: str = "synth-studio", seed: int = 0, speakers: int = 4,
             clips_per_emotion: int = 3, *, name: str | None = None, shift: CueShift | dict | None = None,
             emotion_clips: dict[str, int] | None = None, workers: int | None = None,
             progress: Callable[[int, int], None] | None = None, **overrides: object) -> Path:
    """Write a corpus with the conditions `corpus` (a name in `conditions.CORPORA`) under `out_dir`.

    `name` names the written corpus (default `corpus`); the random draws depend on (seed, `corpus`),
    not on `name`, so variants of one base corpus and seed share speakers and clips. `shift` plants a
    cue shift (`shift.CueShift` or its fields as a dict), `emotion_clips` per-emotion clip counts
    (label shift; others get `clips_per_emotion`). `overrides` replace fields of the corpus'
    `Conditions` (e.g. `snr_db=(0, 5)`, or `difficulty={"clip_noise": 1.0}`). `workers` processes
    render clips (default: CPU count, 1 for tiny corpora); `progress(done, total)` is called after
    every clip. Returns the directory.
    """
    cond, cue_shift, spks, jobs = clip_jobs(out_dir, corpus, seed, speakers, clips_per_emotion, name=name, shift=shift,
                                            emotion_clips=emotion_clips, **overrides)
    out = Path(out_dir).expanduser()
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = min(os.cpu_count() or 1, max(1, len(jobs) // 12))
    rows: list[dict[str, object]] = []
    # fork: workers inherit the imported modules (spawn re-imports numpy/scipy/cv2/av, seconds each)
    # and a caller's script without a __main__ guard is not re-run. One worker takes the same path.
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    import cv2

    # A forked child that resizes a thread pool its parent had started hangs in OpenCV: shrink it here
    # before forking (restored afterwards), so the children's setNumThreads(1) is a no-op.
    parent_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with ProcessPoolExecutor(max(1, workers), mp_context=get_context(method), initializer=_pin_worker_state) as pool:
            for row in pool.map(render_clip, jobs, chunksize=4):
                rows.append(row)
                if progress:
                    progress(len(rows), len(jobs))
    finally:
        cv2.setNumThreads(parent_threads)

    rows.sort(key=lambda r: str(r["utterance_id"]))
    with open(out / layout.LABELS_CSV, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(layout.LABEL_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    meta = corpus_record(cond, seed, speakers, clips_per_emotion, base=corpus, shift=cue_shift,
                         emotion_clips=emotion_clips, n_clips=len(rows), speaker_profiles=[asdict(s) for s in spks])
    (out / layout.CORPUS_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def mismatches(root: Path | str, corpus: str = "synth-studio", seed: int = 0, speakers: int = 4,
               clips_per_emotion: int = 3, *, name: str | None = None, shift: CueShift | dict | None = None,
               emotion_clips: dict[str, int] | None = None, **overrides: object) -> list[str]:
    """Fields in which the corpus under `root` differs from what `generate(root, <same arguments>)`
    would write, one 'field: on disk X, asked Y' line each ([] = made from this recipe)."""
    cond, cue_shift = resolve(corpus, name=name, shift=shift, **overrides)
    expected = corpus_record(cond, seed, speakers, clips_per_emotion, base=corpus, shift=cue_shift,
                             emotion_clips=emotion_clips)
    return differences(root, expected)
