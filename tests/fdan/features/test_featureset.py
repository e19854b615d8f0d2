"""FeatureSet / FeatureDataset over a hand-written cache directory (no decoding involved)."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from fdan.features import FeatureSet
from fdan.features.npy import NpyRowWriter

N, M, T, K, S = 5, 4, 6, 2, 8


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    labels = ["anger", "sadness", "neutral", "anger", "happiness"]
    pd.DataFrame({
        "corpus": "c", "utterance_id": [f"u{i}" for i in range(N)], "speaker": ["s1", "s1", "s2", "s2", "s3"],
        "corpus_label": labels, "label": labels, "split": "all", "fold": [0, 0, 1, 1, 2],
        "audio_path": ["", "a/1.wav", "", "", "NA"], "video_path": [f"v/{i}.mp4" for i in range(N)],
        "start": [None, 1.5, None, 0.0, None], "end": [None, 3.25, None, 2.0, None],
    }).to_csv(tmp_path / "manifest.csv", index=False)
    # stream rows through the writer with spare capacity, as prepare_corpus does after skips
    mel_w = NpyRowWriter(tmp_path / "mel.npy", N + 3, (1, M, T), np.float16)
    face_w = NpyRowWriter(tmp_path / "faces.npy", N + 3, (K, 3, S, S), np.uint8)
    for i in range(N):
        mel_w.append(np.full((1, M, T), i + 0.5, np.float16))
        face_w.append(np.full((K, 3, S, S), 10 * i, np.uint8))
    mel_w.close()
    face_w.close()
    np.save(tmp_path / "mel_len.npy", np.array([T, 3, T, 1, 4], np.int32))
    np.save(tmp_path / "face_mask.npy", np.array([[1, 1], [1, 0], [1, 1], [0, 0], [1, 1]], bool))
    (tmp_path / "meta.json").write_text(json.dumps({"corpus": "c", "counts": {"usable": N}}))
    return tmp_path


def test_writer_shrinks_to_rows_written(cache_dir: Path):
    mel = np.load(cache_dir / "mel.npy")
    assert mel.shape == (N, 1, M, T) and mel.dtype == np.float16
    assert (cache_dir / "mel.npy").stat().st_size < 128 + N * M * T * 2 + 64
    np.testing.assert_array_equal(mel[:, 0, 0, 0], np.arange(N) + 0.5)


def test_open_reads_manifest_and_maps_arrays(cache_dir: Path):
    fs = FeatureSet.open(cache_dir)
    assert len(fs) == N and fs.meta["corpus"] == "c"
    assert isinstance(fs.faces, np.memmap) and fs.faces.shape == (N, K, 3, S, S)
    assert fs.manifest["audio_path"].tolist() == ["", "a/1.wav", "", "", "NA"]  # no NaN for empty / "NA"
    assert fs.manifest["fold"].dtype == np.int64
    assert fs.manifest["start"].dtype == np.float64 and fs.manifest["end"].tolist()[1::2] == [3.25, 2.0]
    assert fs.manifest["start"].isna().tolist() == [True, False, True, False, True]


def test_dataset_items_and_default_collate(cache_dir: Path):
    fs = FeatureSet.open(cache_dir)
    l2i = {"anger": 0, "sadness": 1, "neutral": 2, "happiness": 3}
    ds = fs.dataset([4, 1, 3], l2i)
    item = ds[0]
    assert item["mel"].dtype == torch.float16 and item["mel"].shape == (1, M, T)
    assert item["faces"].dtype == torch.uint8 and item["faces"].shape == (K, 3, S, S)
    assert item["label"].dtype == torch.int64 and item["label"].item() == 3 and item["index"].item() == 4
    assert float(item["mel"][0, 0, 0]) == 4.5 and int(item["faces"].max()) == 40
    assert item["mel_len"].dtype == torch.int64 and item["mel_len"].item() == 4
    assert item["face_mask"].dtype == torch.bool and item["face_mask"].tolist() == [True, True]
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["mel"].shape == (3, 1, M, T) and batch["mel"].dtype == torch.float16
    assert batch["mel_len"].dtype == torch.int64 and batch["mel_len"].tolist() == [4, 3, 1]
    assert batch["face_mask"].dtype == torch.bool and batch["face_mask"].shape == (3, K)
    assert batch["face_mask"].tolist() == [[True, True], [True, False], [False, False]]
    assert batch["faces"].shape == (3, K, 3, S, S) and batch["faces"].dtype == torch.uint8
    assert batch["label"].tolist() == [3, 1, 0] and batch["index"].tolist() == [4, 1, 3]


def test_dataset_from_filtered_manifest_and_unlabelled(cache_dir: Path):
    fs = FeatureSet.open(cache_dir)
    rows = fs.manifest[fs.manifest["speaker"] == "s2"]
    ds = fs.dataset(rows, {"neutral": 0, "anger": 1})
    assert [ds[i]["index"].item() for i in range(len(ds))] == [2, 3]
    assert [ds[i]["label"].item() for i in range(len(ds))] == [0, 1]
    target = fs.dataset(rows)  # unlabelled target-corpus rows
    assert [target[i]["label"].item() for i in range(len(target))] == [-1, -1]


def test_label_outside_the_mapping_is_a_clear_key_error(cache_dir: Path):
    fs = FeatureSet.open(cache_dir)
    with pytest.raises(KeyError, match="happiness"):
        fs.dataset(None, {"anger": 0, "sadness": 1, "neutral": 2})
    with pytest.raises(IndexError):
        fs.dataset([0, N])


def test_dataset_pickles_without_its_arrays(cache_dir: Path):
    ds = FeatureSet.open(cache_dir).dataset([0, 1])
    ds[0]
    blob = pickle.dumps(ds)
    assert len(blob) < 2000
    assert pickle.loads(blob)[1]["index"].item() == 1


def test_damaged_or_missing_cache(cache_dir: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="prepare"):
        FeatureSet.open(tmp_path / "nothing")
    np.save(cache_dir / "faces.npy", np.zeros((N - 1, K, 3, S, S), np.uint8))
    with pytest.raises(ValueError, match="damaged"):
        FeatureSet.open(cache_dir)


def test_a_cache_without_mask_files_opens_with_recovered_masks(cache_dir: Path):
    """Feature version 1 caches: mel_len from the trailing log-floor frames, every face frame real."""
    from fdan.features.mel import LOG_FLOOR

    mel = np.load(cache_dir / "mel.npy")
    mel[1, :, :, 4:] = np.log(LOG_FLOOR)  # row 1: 4 frames of audio, then end padding
    np.save(cache_dir / "mel.npy", mel)
    (cache_dir / "mel_len.npy").unlink()
    (cache_dir / "face_mask.npy").unlink()
    with pytest.warns(UserWarning, match="prepare"):
        fs = FeatureSet.open(cache_dir)
    assert fs.mel_len.tolist() == [T, 4, T, T, T] and fs.face_mask.all()
    assert fs.dataset([1])[0]["mel_len"].item() == 4


def test_mask_files_of_the_wrong_shape_are_a_damaged_cache(cache_dir: Path):
    np.save(cache_dir / "face_mask.npy", np.ones((N, K + 1), bool))
    with pytest.raises(ValueError, match="damaged"):
        FeatureSet.open(cache_dir)
