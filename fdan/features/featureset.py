"""Read a prepared feature cache directory: manifest + memory-mapped arrays, and a torch Dataset over it.

Nothing here decodes media: training reads float16 log-Mels and uint8 face crops straight from the
.npy files (mmap), so a DataLoader worker costs a page-cache read per item.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

_STR_COLUMNS = ["corpus", "utterance_id", "speaker", "corpus_label", "label", "split", "audio_path", "video_path"]


def _load_arrays(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    return (np.load(directory / "mel.npy", mmap_mode="r"), np.load(directory / "faces.npy", mmap_mode="r"))


class FeatureSet:
    """A prepared cache directory. `.manifest` DataFrame (row i <-> array row i), `.mel` float16
    (N, 1, n_mels, T) and `.faces` uint8 (N, K, 3, S, S) memory maps, `.meta` dict (meta.json)."""

    def __init__(self, directory: Path, manifest: pd.DataFrame, mel: np.ndarray, faces: np.ndarray,
                 meta: dict[str, Any]) -> None:
        self.directory = directory
        self.manifest = manifest
        self.mel = mel
        self.faces = faces
        self.meta = meta

    @classmethod
    def open(cls, directory: str | Path) -> "FeatureSet":
        directory = Path(directory)
        for name in ("manifest.csv", "mel.npy", "faces.npy", "meta.json"):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"{directory} is not a feature cache directory (no {name}); run `fdan-bench prepare`")
        manifest = pd.read_csv(directory / "manifest.csv", dtype={c: str for c in _STR_COLUMNS} | {"fold": "int64"},
                               keep_default_na=False)
        mel, faces = _load_arrays(directory)
        meta = json.loads((directory / "meta.json").read_text())
        if not len(manifest) == mel.shape[0] == faces.shape[0]:
            raise ValueError(f"{directory}: manifest has {len(manifest)} rows but mel.npy {mel.shape[0]} "
                             f"and faces.npy {faces.shape[0]}; the cache is damaged, prepare it again")
        return cls(directory, manifest, mel, faces, meta)

    def __len__(self) -> int:
        return len(self.manifest)

    def dataset(self, rows: Sequence[int] | np.ndarray | pd.DataFrame | None = None,
                label_to_index: Mapping[str, int] | None = None) -> "FeatureDataset":
        """A Dataset over manifest `rows` (positions, or a filtered manifest DataFrame; None = all).

        `label_to_index` maps canonical labels to class indices; every selected row's label must be in
        it (filter rows first; a missing label raises KeyError). None: unlabelled, every label is -1.
        """
        if rows is None:
            idx = np.arange(len(self.manifest))
        elif isinstance(rows, pd.DataFrame):
            idx = self.manifest.index.get_indexer(rows.index)
            if (idx < 0).any():
                raise KeyError("rows DataFrame has index values that are not rows of this manifest")
        else:
            idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.manifest)):
            raise IndexError(f"row indices must be in [0, {len(self.manifest)})")
        labels = self.manifest["label"].to_numpy()[idx]
        if label_to_index is None:
            targets = np.full(len(idx), -1, dtype=np.int64)
        else:
            missing = sorted(set(labels) - set(label_to_index))
            if missing:
                raise KeyError(f"labels {missing} are not in label_to_index {dict(label_to_index)}; "
                               "filter the rows to the run's label space first")
            targets = np.array([label_to_index[lab] for lab in labels], dtype=np.int64)
        return FeatureDataset(self.directory, idx, targets)


class FeatureDataset(Dataset):
    """Items {"mel": float16 (1, M, T), "faces": uint8 (K, 3, S, S), "label": int64 (), "index": int64 ()}.

    `index` is the manifest row. The default collate gives the batch contract of docs/ARCHITECTURE.md.
    The memory maps are opened lazily per process, so pickling the dataset (spawned workers) is cheap.
    """

    def __init__(self, directory: Path, rows: np.ndarray, labels: np.ndarray) -> None:
        self.directory = Path(directory)
        self.rows = rows
        self.labels = labels
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
            "faces": torch.from_numpy(np.array(faces[row])),
            "label": torch.tensor(self.labels[i], dtype=torch.int64),
            "index": torch.tensor(row, dtype=torch.int64),
        }

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_arrays"] = None
        return state
