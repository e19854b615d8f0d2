"""Read a prepared feature cache directory: manifest + memory-mapped arrays, and a torch Dataset over it.

Nothing here decodes media: training reads float16 log-Mels and uint8 face crops straight from the
.npy files (mmap), so a DataLoader worker costs a page-cache read per item. The masks (mel_len.npy,
face_mask.npy: a few bytes per row) are read into memory.

A cache written before the masks existed (feature version 1, no mel_len.npy / face_mask.npy) still
opens, with a warning: mel_len is recovered from the log-Mel itself (trailing frames at the log
floor in every bin are end padding) and every face frame counts as real (version 1 repeated frames
instead of padding). `fdan-bench prepare` rebuilds such a cache, since its key changed.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

_STR_COLUMNS = ["corpus", "utterance_id", "speaker", "corpus_label", "label", "split", "audio_path", "video_path"]


def _load_arrays(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    return (np.load(directory / "mel.npy", mmap_mode="r"), np.load(directory / "faces.npy", mmap_mode="r"))


def _padding_free_frames(mel: np.ndarray, chunk: int = 256) -> np.ndarray:
    """(N,) int32: per row, 1 + the last Mel frame with any bin above the log floor (old caches)."""
    from fdan.features.mel import LOG_FLOOR  # lazy: mel imports torchaudio; old caches only

    floor = np.log(LOG_FLOOR) + 1e-2
    out = np.empty(mel.shape[0], dtype=np.int32)
    for i in range(0, mel.shape[0], chunk):
        above = (np.asarray(mel[i:i + chunk], dtype=np.float32) > floor).any(axis=(1, 2))  # (n, T)
        last = mel.shape[-1] - np.argmax(above[:, ::-1], axis=1)
        out[i:i + chunk] = np.where(above.any(axis=1), last, 1)
    return out


def _load_masks(directory: Path, mel: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mel_len int32 (N,), face_mask bool (N, K)), synthesised for a cache without the files."""
    if (directory / "mel_len.npy").is_file() and (directory / "face_mask.npy").is_file():
        return np.load(directory / "mel_len.npy"), np.load(directory / "face_mask.npy")
    warnings.warn(f"{directory} predates mel_len.npy / face_mask.npy (feature version 1): mel_len recovered "
                  "from the log-Mel, every face frame taken as real; run `fdan-bench prepare` again to rebuild it",
                  stacklevel=3)
    return _padding_free_frames(mel), np.ones(faces.shape[:2], dtype=bool)


class FeatureSet:
    """A prepared cache directory. `.manifest` DataFrame (row i <-> array row i), `.mel` float16
    (N, 1, n_mels, T) and `.faces` uint8 (N, K, 3, S, S) memory maps, `.mel_len` int32 (N,) valid Mel
    frames, `.face_mask` bool (N, K) real face frames, `.meta` dict (meta.json)."""

    def __init__(self, directory: Path, manifest: pd.DataFrame, mel: np.ndarray, faces: np.ndarray,
                 meta: dict[str, Any], mel_len: np.ndarray, face_mask: np.ndarray) -> None:
        self.directory = directory
        self.manifest = manifest
        self.mel = mel
        self.faces = faces
        self.meta = meta
        self.mel_len = mel_len
        self.face_mask = face_mask

    @classmethod
    def open(cls, directory: str | Path) -> "FeatureSet":
        directory = Path(directory)
        for name in ("manifest.csv", "mel.npy", "faces.npy", "meta.json"):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"{directory} is not a feature cache directory (no {name}); run `fdan-bench prepare`")
        manifest = pd.read_csv(directory / "manifest.csv", dtype={c: str for c in _STR_COLUMNS} | {"fold": "int64"},
                               keep_default_na=False, na_values={"start": [""], "end": [""]})
        for col in ("start", "end"):  # segment seconds (NaN = whole file); absent in older caches
            manifest[col] = manifest[col].astype("float64") if col in manifest else np.nan
        mel, faces = _load_arrays(directory)
        meta = json.loads((directory / "meta.json").read_text())
        if not len(manifest) == mel.shape[0] == faces.shape[0]:
            raise ValueError(f"{directory}: manifest has {len(manifest)} rows but mel.npy {mel.shape[0]} "
                             f"and faces.npy {faces.shape[0]}; the cache is damaged, prepare it again")
        mel_len, face_mask = _load_masks(directory, mel, faces)
        if mel_len.shape != (len(manifest),) or face_mask.shape != faces.shape[:2]:
            raise ValueError(f"{directory}: mel_len.npy {mel_len.shape} / face_mask.npy {face_mask.shape} do not "
                             f"match {len(manifest)} rows of {faces.shape[1]} faces; the cache is damaged, prepare it again")
        return cls(directory, manifest, mel, faces, meta, mel_len, face_mask)

    def __len__(self) -> int:
        return len(self.manifest)

    def dataset(self, rows: Sequence[int] | np.ndarray | pd.DataFrame | None = None,
                label_to_index: Mapping[str, int] | None = None) -> "FeatureDataset":
        """A Dataset over manifest `rows` (positions, or a filtered manifest DataFrame; None = all).

        `label_to_index` maps canonical labels to class indices; every selected row's label must be in
        it (filter rows first; a missing label raises KeyError). None: unlabelled, every label is -1.
        """
        idx, targets = rows_and_labels(self.manifest, rows, label_to_index)
        return FeatureDataset(self.directory, idx, targets, self.mel_len[idx].astype(np.int64),
                              np.asarray(self.face_mask[idx], dtype=bool))


def rows_and_labels(manifest: pd.DataFrame, rows: Sequence[int] | np.ndarray | pd.DataFrame | None,
                    label_to_index: Mapping[str, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """(manifest positions ``(n,)`` int64, class indices ``(n,)`` int64) of the selected rows, the selection
    every dataset over a cache makes (media features here, trunk outputs in ``fdan.features.token_cache``).

    ``rows``: positions, a filtered manifest DataFrame, or None (all). ``label_to_index`` None: unlabelled
    (every label -1); else every selected row's label must be in it (KeyError otherwise).
    """
    if rows is None:
        idx = np.arange(len(manifest))
    elif isinstance(rows, pd.DataFrame):
        idx = manifest.index.get_indexer(rows.index)
        if (idx < 0).any():
            raise KeyError("rows DataFrame has index values that are not rows of this manifest")
    else:
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= len(manifest)):
        raise IndexError(f"row indices must be in [0, {len(manifest)})")
    labels = manifest["label"].to_numpy()[idx]
    if label_to_index is None:
        return idx, np.full(len(idx), -1, dtype=np.int64)
    missing = sorted(set(labels) - set(label_to_index))
    if missing:
        raise KeyError(f"labels {missing} are not in label_to_index {dict(label_to_index)}; "
                       "filter the rows to the run's label space first")
    return idx, np.array([label_to_index[lab] for lab in labels], dtype=np.int64)


class FeatureDataset(Dataset):
    """Items {"mel": float16 (1, M, T), "mel_len": int64 (), "faces": uint8 (K, 3, S, S),
    "face_mask": bool (K,), "label": int64 (), "index": int64 ()}.

    `mel_len`: valid Mel frames (frames mel_len.. are end padding); `face_mask`: True for real face
    frames (False: zero padding). Default collate -> batch {"mel": (B, 1, M, T) float16, "mel_len": (B,)
    int64, "faces": (B, K, 3, S, S) uint8, "face_mask": (B, K) bool, "label": (B,), "index": (B,)},
    the contract of docs/ARCHITECTURE.md (`FDAN(cfg)(mel, faces, mel_len=..., face_mask=...)`).
    `index` is the manifest row. The memory maps are opened lazily per process, so pickling the
    dataset (spawned workers) is cheap; the selected rows' masks travel with it.
    """

    def __init__(self, directory: Path, rows: np.ndarray, labels: np.ndarray, mel_len: np.ndarray,
                 face_mask: np.ndarray) -> None:
        self.directory = Path(directory)
        self.rows = rows
        self.labels = labels
        self.mel_len = mel_len
        self.face_mask = face_mask
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self._arrays is None:
            self._arrays = _load_arrays(self.directory)
        mel, faces = self._arrays
        row = int(self.rows[i])
        return {
            "mel": torch.from_numpy(np.array(mel[row])),
            "mel_len": torch.tensor(int(self.mel_len[i]), dtype=torch.int64),
            "faces": torch.from_numpy(np.array(faces[row])),
            "face_mask": torch.from_numpy(np.array(self.face_mask[i], dtype=bool)),
            "label": torch.tensor(self.labels[i], dtype=torch.int64),
            "index": torch.tensor(row, dtype=torch.int64),
        }

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_arrays"] = None
        return state
