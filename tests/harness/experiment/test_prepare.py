"""`fdan-bench prepare` end to end: Ray tasks on a tiny synthetic corpus, the cache hit, clear errors."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fdan.config import FeatureConfig
from fdan.corpora.base import Skip
from fdan.features import FeatureSet, prepare_corpus
import fdan.features.cache as cache_mod
from harness.cli import app
import harness.experiment.prepare as prep

SMALL = ["--n-mels", "32", "--n-fft", "512", "--face-size", "32", "--n-frames", "2", "--clip-seconds", "1.0"]
CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=2, clip_seconds=1.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7 synthetic clips (1 speaker x 7 emotions, ~1 s) plus a planted random-bytes 'mp4' row."""
    from fdan.corpora.synth import generate

    root = generate(tmp_path_factory.mktemp("prep") / "studio", speakers=1, clips_per_emotion=1, workers=1,
                    duration_s=(1.0, 1.2))
    (root / "stu01" / "garbage.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    with open(root / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.append({**rows[0], "utterance_id": "stu01_ang_99", "video_path": "stu01/garbage.mp4", "audio_path": ""})
    with open(root / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def ray_session():
    """One fresh local Ray on 127.0.0.1 for this module (never a cluster another test left running)."""
    from harness.cluster.local import local_ray

    with local_ray(2):
        yield


@pytest.mark.slow
def test_prepare_with_ray_tasks_then_cache_hit(corpus: Path, tmp_path: Path, ray_session, monkeypatch):
    runner = CliRunner()
    out = tmp_path / "feat"
    res = runner.invoke(app, ["prepare", "synth", str(corpus), "--out", str(out), "--workers", "2",
                              "--files-per-task", "2", *SMALL])
    assert res.exit_code == 0, res.output
    assert "usable" in res.output and "miss" in res.output and "1× corrupt or unsupported container" in res.output
    fs = FeatureSet.open(out)
    assert fs.mel.shape == (7, 1, 32, 101) and fs.faces.shape == (7, 2, 3, 32, 32)
    assert fs.meta["counts"]["skipped"] == 1

    # Ray tasks return rows in the manifest's order: identical to the in-process path
    plain = prepare_corpus("synth", corpus, out=tmp_path / "plain", cfg=CFG)
    assert not plain.cache_hit
    ref = FeatureSet.open(plain.out_dir)
    assert ref.manifest.equals(fs.manifest)
    np.testing.assert_array_equal(ref.mel, fs.mel)
    np.testing.assert_array_equal(ref.faces, fs.faces)

    def boom(*a, **k):
        raise AssertionError("decoded or started Ray on a cache hit")

    monkeypatch.setattr(cache_mod, "extract_utterance", boom)
    monkeypatch.setattr(prep, "ray_map", boom)
    again = runner.invoke(app, ["prepare", "synth", str(corpus), "--out", str(out), "--workers", "2", *SMALL])
    assert again.exit_code == 0, again.output
    assert "hit" in again.output


@pytest.mark.slow
def test_ray_map_keeps_order_and_turns_failures_into_on_error(ray_session):
    items = [str(i) for i in range(7)] + ["x"] + ["8"]
    out = list(prep.ray_map(workers=2, files_per_task=3, on_error=lambda item, exc: Skip(item, "failed"))(int, items))
    assert out[:7] == list(range(7)) and out[7] == Skip("x", "failed") and out[8] == 8


def test_bad_root_is_one_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(prep, "local_ray", lambda *a: pytest.fail("Ray started for a bad root"))
    runner = CliRunner()
    res = runner.invoke(app, ["prepare", "synth", str(tmp_path / "missing"), "--workers", "2"])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["prepare", "synth", str(tmp_path), "--workers", "2"])
    assert res.exit_code == 2 and "not a synthetic corpus" in res.output
    res = runner.invoke(app, ["prepare", "nosuch", str(tmp_path)])
    assert res.exit_code == 2 and "unknown corpus importer" in res.output
    res = runner.invoke(app, ["prepare", "synth", str(tmp_path), "--n-mels", "4000"])
    assert res.exit_code == 2 and "n_mels" in res.output


def test_missing_haar_cascade_is_one_clear_error(tmp_path: Path, monkeypatch):
    """An OpenCV without the cascade file (OpenCV 5): exit 2 naming the fix, before Ray or any decoding."""
    from fdan.features.face_detector import get_detector

    monkeypatch.setattr(prep, "local_ray", lambda *a: pytest.fail("Ray started without a face detector"))
    monkeypatch.setenv("FDAN_HAAR_CASCADE", str(tmp_path / "gone.xml"))
    get_detector.cache_clear()
    try:
        res = CliRunner().invoke(app, ["prepare", "synth", str(tmp_path), "--workers", "2"])
    finally:
        get_detector.cache_clear()
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "gone.xml is missing" in res.output and "face_detector: center" in res.output
