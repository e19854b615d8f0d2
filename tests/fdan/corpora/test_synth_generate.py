"""Synthetic corpus generation: real media, determinism, detectable faces, emotion carried by the audio."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import soundfile as sf

from fdan.corpora.synth import EMOTIONS
from fdan.corpora.synth.conditions import CORPORA
from fdan.corpora.synth.generate import generate
from fdan.corpora.synth.layout import LABEL_COLUMNS


def _rows(root: Path) -> list[dict[str, str]]:
    with open(root / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _decode_video(path: Path) -> np.ndarray:
    with av.open(str(path)) as box:
        return np.stack([f.to_ndarray(format="bgr24") for f in box.decode(video=0)])


def _shapes(root: Path) -> list[tuple]:
    out = []
    for r in _rows(root):
        out.append(_decode_video(root / r["video_path"]).shape)
        if r["audio_path"]:
            out.append(sf.info(str(root / r["audio_path"])).frames)
    return out


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("synth")
    short = {"duration_s": (0.8, 1.0)}  # the determinism copies only need to be compared, not watched
    return {
        "studio": generate(base / "studio", "synth-studio", seed=3, speakers=2, clips_per_emotion=1, workers=1),
        "street": generate(base / "street", "synth-street", seed=3, speakers=1, clips_per_emotion=1, workers=1),
        "short": generate(base / "short", "synth-street", seed=3, speakers=1, clips_per_emotion=1, workers=1, **short),
        "short_again": generate(base / "short2", "synth-street", seed=3, speakers=1, clips_per_emotion=1, workers=2,
                                **short),
        "short_other": generate(base / "short3", "synth-street", seed=4, speakers=1, clips_per_emotion=1, workers=1,
                                **short),
        "short_three": generate(base / "short4", "synth-street", seed=3, speakers=1, clips_per_emotion=1, workers=3,
                                **short),
    }


def _media_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.suffix in (".mp4", ".wav")}


def test_layout_and_label_table(corpora: dict[str, Path]) -> None:
    root = corpora["studio"]
    meta = json.loads((root / "corpus.json").read_text())
    assert (meta["family"], meta["corpus"], meta["seed"], meta["version"]) == ("synth", "synth-studio", 3, 2)
    rows = _rows(root)
    assert tuple(rows[0].keys()) == LABEL_COLUMNS
    assert len(rows) == 2 * len(EMOTIONS)
    assert {r["emotion"] for r in rows} == set(EMOTIONS)
    assert {r["speaker"] for r in rows} == {"stu01", "stu02"}
    for r in rows:
        assert r["video_path"] == f"{r['speaker']}/{r['utterance_id']}.mp4"
        assert r["audio_path"] == f"{r['speaker']}/{r['utterance_id']}.wav"
        assert 2.0 <= float(r["duration_s"]) <= 3.0


def test_same_seed_is_identical_and_other_seed_differs(corpora: dict[str, Path]) -> None:
    a, b, c = corpora["short"], corpora["short_again"], corpora["short_other"]
    assert (a / "labels.csv").read_bytes() == (b / "labels.csv").read_bytes()  # 1 vs 2 workers
    assert (a / "corpus.json").read_bytes() == (b / "corpus.json").read_bytes()
    assert _shapes(a) == _shapes(b)
    first = _rows(a)[0]["video_path"]
    assert np.array_equal(_decode_video(a / first), _decode_video(b / first))
    media = _media_bytes(a)
    assert len(media) == len(EMOTIONS)
    assert media == _media_bytes(b) == _media_bytes(corpora["short_three"])  # 1, 2 and 3 workers: same bytes
    assert (a / "labels.csv").read_bytes() != (c / "labels.csv").read_bytes()
    va, vc = _decode_video(a / first), _decode_video(c / first)
    assert va.shape != vc.shape or not np.array_equal(va, vc)


def test_clip_does_not_depend_on_what_the_process_rendered_before(tmp_path: Path) -> None:
    """A clip rendered first in a fresh process equals the same clip rendered after others in this one."""
    from fdan.corpora.synth.generate import ClipJob, _seed_words, make_speakers, render_clip
    from fdan.corpora.synth.conditions import get_conditions

    cond = get_conditions("synth-street").with_overrides(duration_s=(0.5, 0.6))
    spk = make_speakers(cond, 5, 1)[0]
    jobs = [ClipJob(cond, spk, e, 0, _seed_words(5, cond.name, 1, spk.index, i, 0), str(tmp_path / "warm"))
            for i, e in enumerate(EMOTIONS[:3])]
    for job in jobs:  # anger, disgust, fear rendered in this (warm) process
        render_clip(job)
    last = jobs[-1]
    cold = ClipJob(last.cond, last.speaker, last.emotion, last.clip, last.entropy, str(tmp_path / "cold"))
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # a process with no history
    with ctx.Pool(1) as pool:
        pool.apply(render_clip, (cold,))
    rel = f"{spk.speaker_id}/{spk.speaker_id}_fea_00.mp4"
    assert (tmp_path / "warm" / rel).read_bytes() == (tmp_path / "cold" / rel).read_bytes()


def test_studio_media_streams(corpora: dict[str, Path]) -> None:
    root, cond = corpora["studio"], CORPORA["synth-studio"]
    r = _rows(root)[0]
    with av.open(str(root / r["video_path"])) as box:
        assert [s.type for s in box.streams] == ["video"]
        assert box.streams.video[0].codec_context.name == "h264"
    frames = _decode_video(root / r["video_path"])
    assert frames.shape == (int(r["n_frames"]), cond.height, cond.width, 3)
    audio, sr = sf.read(str(root / r["audio_path"]), dtype="float32")
    assert sf.info(str(root / r["audio_path"])).subtype == "PCM_16"
    assert sr == cond.sample_rate and abs(len(audio) / sr - float(r["duration_s"])) < 0.01
    assert 0.005 < float(np.sqrt(np.mean(audio**2))) < 0.5


def test_street_media_streams(corpora: dict[str, Path]) -> None:
    root, cond = corpora["street"], CORPORA["synth-street"]
    r = _rows(root)[0]
    assert r["audio_path"] == "" and not list(root.rglob("*.wav"))
    with av.open(str(root / r["video_path"])) as box:
        kinds = {s.type: s.codec_context.name for s in box.streams}
        assert kinds == {"video": "h264", "audio": "aac"}
        assert box.streams.audio[0].sample_rate == cond.sample_rate
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in box.decode(audio=0)])
    assert abs(len(pcm) / cond.sample_rate - float(r["duration_s"])) < 0.1
    assert float(np.abs(pcm).max()) > 0.01
    assert _decode_video(root / r["video_path"]).shape[1:] == (cond.height, cond.width, 3)


@pytest.mark.parametrize("name", ["studio", "street"])
def test_faces_detected_by_haar_cascade(corpora: dict[str, Path], name: str) -> None:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    root = corpora[name]
    hits = total = 0
    for r in _rows(root):
        for img in _decode_video(root / r["video_path"])[::4]:
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            hits += len(cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))) > 0
            total += 1
    assert hits / total >= 0.8, f"{name}: face detected in {hits}/{total} frames"


def _median_f0(x: np.ndarray, sr: int) -> float:
    """Median autocorrelation F0 (60-500 Hz) over the loudest 40 ms frames."""
    n = int(0.04 * sr)
    frames = [x[i:i + n] for i in range(0, len(x) - n, n // 2)]
    loud = sorted(frames, key=lambda f: -float(np.sum(f**2)))[: len(frames) // 3]
    lo, hi = int(sr / 500), int(sr / 60)
    f0s = []
    for f in loud:
        ac = np.correlate(f - f.mean(), f - f.mean(), "full")[n - 1:]
        f0s.append(sr / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(f0s))


def test_emotion_is_carried_by_voice_energy_and_pitch(tmp_path: Path) -> None:
    clean = {"clip_noise": 0.0, "speaker_bias": 0.0, "ambiguous_rate": 0.0, "intensity_lo": 1.0,
             "modality_decouple": 0.0}
    root = generate(tmp_path, "synth-studio", seed=1, speakers=1, clips_per_emotion=1, workers=1, difficulty=clean)
    level, pitch = {}, {}
    for r in _rows(root):
        x, sr = sf.read(str(root / r["audio_path"]), dtype="float32")
        level[r["emotion"]] = float(np.sqrt(np.mean(x**2)))
        pitch[r["emotion"]] = _median_f0(x, sr)
    assert level["anger"] > 2 * level["sadness"]
    assert pitch["surprise"] > pitch["sadness"]


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown synthetic corpus"):
        generate(tmp_path / "x", "synth-moon")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        generate(tmp_path / "busy", "synth-studio", speakers=1, clips_per_emotion=1)
    with pytest.raises(ValueError, match="unknown condition field"):
        generate(tmp_path / "y", "synth-studio", speakers=1, clips_per_emotion=1, fog=1)


def test_generate_after_opencv_used_its_thread_pool(tmp_path: Path) -> None:
    """A caller that already ran OpenCV multi-threaded: the forked render workers must neither hang nor crash."""
    import subprocess
    import sys

    script = (
        "import cv2, numpy as np\n"
        "from fdan.corpora.synth.generate import generate\n"
        "cv2.setNumThreads(8)\n"
        "img = np.zeros((1500, 1500, 3), np.float32)\n"
        "for _ in range(3): cv2.GaussianBlur(img, (0, 0), 3.0)\n"
        f"generate({str(tmp_path / 'c')!r}, 'synth-studio', seed=0, speakers=1, clips_per_emotion=1, workers=2,"
        " duration_s=(0.3, 0.4))\n"
        "assert cv2.getNumThreads() == 8\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(list((tmp_path / "c").rglob("*.mp4"))) == len(EMOTIONS)
