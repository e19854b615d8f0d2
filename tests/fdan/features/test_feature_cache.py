"""prepare_corpus on a tiny synthetic corpus with planted bad files (in-process map, no Ray)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fdan.features.cache as cache_mod
import fdan.features.decode as decode_mod
from fdan.config import FeatureConfig
from fdan.corpora.base import CANONICAL_LABELS, CorpusError, get_importer
from fdan.features import FeatureSet, cache_key, extract_utterance, prepare_corpus
from tests.fdan.features.conftest import PLANTED

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=2, clip_seconds=1.0)
MANIFEST_COLUMNS = ["corpus", "utterance_id", "speaker", "corpus_label", "label", "split", "fold",
                    "audio_path", "video_path", "start", "end", "face_rule", "face_choice"]


def test_prepare_then_cache_hit(planted_corpus: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FDAN_BENCH_CACHE", str(tmp_path / "cache"))
    calls: list[tuple[int, int]] = []
    mapped: list[int] = []

    def plain_map(fn, items):
        mapped.append(len(items))
        return map(fn, items)

    res = prepare_corpus("synth", planted_corpus, cfg=CFG, map_fn=plain_map, progress=lambda d, t: calls.append((d, t)))
    n_synth, n_total = 14, 14 + len(PLANTED) + 1  # + the face-less clip; the bad-label row never reaches extraction
    assert not res.cache_hit and mapped == [n_total]
    assert res.out_dir.parent == tmp_path / "cache" and res.out_dir.name.startswith("synth-studio-")
    assert calls[-1] == (n_total, n_total) and len(calls) == n_total
    assert (res.n_usable, res.n_skipped) == (n_synth + 1, len(PLANTED) + 1)

    fs = FeatureSet.open(res.out_dir)
    assert fs.mel.shape == (n_synth + 1, 1, 32, CFG.n_mel_frames) and fs.mel.dtype == np.float16
    assert fs.faces.shape == (n_synth + 1, 2, 3, 32, 32) and fs.faces.dtype == np.uint8
    assert isinstance(fs.mel, np.memmap)
    assert list(fs.manifest.columns) == MANIFEST_COLUMNS
    assert set(fs.manifest["label"]) <= set(CANONICAL_LABELS)
    assert (fs.manifest["split"] == "all").all() and set(fs.manifest["fold"]) == {0, 1, 2}
    assert all((planted_corpus / p).is_file() for p in fs.manifest["video_path"])  # relative to root
    assert fs.manifest["start"].isna().all() and fs.manifest["end"].isna().all()  # whole files
    mel32 = fs.mel.astype(np.float32)
    assert np.isfinite(mel32).all() and mel32.std() > 1

    # row i of the arrays is manifest row i
    utts = {u.utterance_id: u for u in get_importer("synth").scan(planted_corpus).utterances}
    for i in (0, len(fs) - 1):
        ex = extract_utterance(planted_corpus, utts[fs.manifest.loc[i, "utterance_id"]], CFG)
        np.testing.assert_array_equal(fs.mel[i], ex.mel)
        np.testing.assert_array_equal(fs.faces[i], ex.faces)

    skipped = pd.read_csv(res.out_dir / "skipped.csv", keep_default_na=False)
    assert list(skipped.columns) == ["path", "reason", "outcome"] and len(skipped) == res.n_skipped
    assert set(skipped["outcome"]) == {"skipped"}  # nothing here is worked around
    reasons = dict(zip(skipped["path"], skipped["reason"]))
    for _, _, _, path, fragment in PLANTED:
        assert fragment in reasons[path], (path, reasons.get(path))
    assert any("unknown emotion" in r for r in reasons.values())

    # faces: the rendered faces are found in most frames; the face-less clip is all centre crops
    meta = json.loads((res.out_dir / "meta.json").read_text())
    assert meta["counts"] == {"utterances": n_total, "usable": n_synth + 1, "skipped": len(PLANTED) + 1,
                              "kept_with_note": 0, "face_frames": 2 * (n_synth + 1), "fallbacks": res.n_fallback,
                              "face_choice": res.face_choice}
    assert sum(res.face_choice.values()) == n_synth + 1 and res.face_choice.get("none") == 1  # the face-less clip
    assert set(fs.manifest["face_rule"]) == {"largest"} and meta["split_source"] == ""
    assert meta["cache_key"] and meta["feature_config"]["n_mels"] == 32 and meta["root"] == str(planted_corpus.resolve())
    assert 2 <= res.n_fallback <= 2 + 0.2 * 2 * n_synth

    # second prepare: same directory, nothing decoded
    def boom(*a, **k):
        raise AssertionError("decoded on a cache hit")

    monkeypatch.setattr(cache_mod, "extract_utterance", boom)
    monkeypatch.setattr(decode_mod, "decode_audio", boom)
    again = prepare_corpus("synth", planted_corpus, cfg=CFG)
    assert again.cache_hit and again.out_dir == res.out_dir
    assert (again.n_usable, again.n_skipped, again.n_fallback) == (res.n_usable, res.n_skipped, res.n_fallback)


def test_cache_key_tracks_config_and_files(synth_corpus: Path, tmp_path: Path):
    import shutil

    utts = get_importer("synth").scan(synth_corpus).utterances
    key = cache_key(CFG, synth_corpus, utts)
    assert key == cache_key(CFG, synth_corpus, list(utts))
    assert key != cache_key(CFG.model_copy(update={"n_frames": 3}), synth_corpus, utts)
    assert key != cache_key(CFG, synth_corpus, utts[:-1])
    moved = Path(shutil.copytree(synth_corpus, tmp_path / "elsewhere"))  # copy2 keeps mtimes: same key
    assert cache_key(CFG, moved, utts) == key
    st = os.stat(moved / utts[0].video_path)
    os.utime(moved / utts[0].video_path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache_key(CFG, moved, utts) != key


def test_bad_roots_are_one_clear_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="does not exist"):
        prepare_corpus("synth", tmp_path / "missing", out=tmp_path / "o", cfg=CFG)
    (tmp_path / "random").mkdir()
    with pytest.raises(CorpusError, match="not a synthetic corpus"):
        prepare_corpus("synth", tmp_path / "random", out=tmp_path / "o", cfg=CFG)
    with pytest.raises(CorpusError, match="unknown corpus importer"):
        prepare_corpus("no-such-corpus", tmp_path / "random", out=tmp_path / "o", cfg=CFG)
    assert not (tmp_path / "o").exists()


def test_refuses_to_overwrite_a_foreign_directory(synth_corpus: Path, tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        prepare_corpus("synth", synth_corpus, out=out, cfg=CFG)
    assert (out / "notes.txt").read_text() == "keep me"


def test_an_unexpected_extraction_error_is_a_listed_skip(monkeypatch, tmp_path: Path):
    from fdan.corpora.base import Skip, Utterance

    def odd(*a, **k):
        raise RuntimeError("cv2 said no")

    monkeypatch.setattr(cache_mod, "extract_utterance", odd)
    u = Utterance("c", "u", "s", "a", "anger", "all", 0, "", "v/x.mp4")
    assert cache_mod._extract_job(tmp_path, CFG, u) == Skip("v/x.mp4", "unexpected error: RuntimeError: cv2 said no")
