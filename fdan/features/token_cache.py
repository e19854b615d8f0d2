"""Cached trunk outputs of a feature cache: frozen trunks run once per corpus, then every trial reads them.

With ``model.freeze_backbone`` the trunks are a fixed function of their input (fdan.model.frozen),
so their outputs on a corpus are computed once and stored next to the features, content-addressed:

    <feature cache dir>/tokens/<sha256(features' cache_key, backbone, share_backbone, weights identity,
                                       trunk_stages (when not 4), TOKEN_VERSION)[:16]>/
        audio_feat.npy  float32 (N, Ta, W)  frequency-averaged audio trunk maps, zero beyond the mask
        audio_mask.npy  bool    (N, Ta)     valid audio tokens (⌈mel_len / s⌉ per row, s = trunk stride)
        audio_len.npy   int64   (N,)        length of the row's own trunk map (its length bucket / s)
        face_feat.npy   float32 (N, K, W)   pooled face trunk maps, zero for missing frames
        face_mask.npy   bool    (N, K)      real face frames
        meta.json       token_key, identity, shapes, created

Weights identity: ``none:<trunk_seed>`` plus the torch / torchvision versions (their random init
defines the weights), or the sha256 of the weights file (``imagenet`` = torchvision's file in the
torch hub cache). Row i is manifest row i of the feature cache. A directory is written under a
temporary name and renamed into place: complete or absent, and concurrent writers agree.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fdan.config import ModelConfig
from fdan.features.featureset import FeatureSet, rows_and_labels

TOKEN_VERSION = 1  # bump when the trunk stage (fdan.model.tokenizers, fdan.model.frozen) changes its outputs
TOKEN_FILES = ("audio_feat.npy", "audio_mask.npy", "audio_len.npy", "face_feat.npy", "face_mask.npy", "meta.json")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def weights_identity(cfg: ModelConfig) -> str:
    """What defines the frozen trunks' weights (see the module doc)."""
    if cfg.weights == "none":
        import torchvision

        return f"none:{cfg.trunk_seed}:torch={torch.__version__}:torchvision={torchvision.__version__}"
    from fdan.model.encoders import WeightsError, imagenet_weights_path  # lazy: torchvision

    path = imagenet_weights_path(cfg.backbone) if cfg.weights == "imagenet" else Path(cfg.weights).expanduser()
    if not path.is_file():
        raise WeightsError(f"{cfg.backbone} weights file not found: expected {path}")
    return f"sha256:{_file_sha256(path)}"


def token_identity(featureset_dir: str | Path, cfg: ModelConfig) -> dict[str, Any]:
    meta = json.loads((Path(featureset_dir) / "meta.json").read_text())
    ident = {"features": meta["cache_key"], "backbone": cfg.backbone, "share_backbone": cfg.share_backbone,
             "weights": weights_identity(cfg), "token_version": TOKEN_VERSION}
    if cfg.trunk_stages != 4:  # the whole trunk keeps the keys (and caches) it had before stages existed
        ident["trunk_stages"] = cfg.trunk_stages
    return ident


def token_dir(featureset_dir: str | Path, cfg: ModelConfig) -> Path:
    """The token cache directory of ``featureset_dir`` for the trunks of ``cfg`` (may not exist yet)."""
    ident = token_identity(featureset_dir, cfg)
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
    return Path(featureset_dir) / "tokens" / digest[:16]


def _is_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in TOKEN_FILES)


def prepare_tokens(featureset_dir: str | Path, model_cfg: ModelConfig | Mapping[str, Any], *, batch_size: int = 64,
                   device: torch.device | str = "cpu") -> Path:
    """Compute (or find) the frozen trunks' outputs on every row of the feature cache; returns their directory.

    ``model_cfg``: the ModelConfig (or its fields) of the trials; only the trunk fields matter.
    A complete directory with the same key is reused without running anything.
    """
    cfg = model_cfg if isinstance(model_cfg, ModelConfig) else ModelConfig.model_validate(dict(model_cfg))
    featureset_dir = Path(featureset_dir)
    out = token_dir(featureset_dir, cfg)
    if _is_complete(out):
        return out
    from fdan.evaluation.evaluate import to_device  # lazy: the model (torchvision) only when tokens are computed
    from fdan.model import create_model
    from fdan.model.frozen import freeze_trunks, trunk_outputs

    fs = FeatureSet.open(featureset_dir)
    with torch.random.fork_rng(devices=[]):  # building the model must not move the caller's RNG
        model = freeze_trunks(create_model(**{**cfg.model_dump(), "freeze_backbone": True}))
    model = model.to(device).eval()
    stride = model.audio_tokens.stride
    n_tok = model.audio_tokens.bucket_length(fs.mel.shape[-1]) // stride
    arrays: dict[str, list[np.ndarray]] = {"audio_feat": [], "audio_mask": [], "audio_len": [], "face_feat": [], "face_mask": []}
    loader = DataLoader(fs.dataset(), batch_size=batch_size, shuffle=False)
    for batch in loader:
        batch = to_device(batch, device)
        t = trunk_outputs(model, batch["mel"], batch["faces"], batch["mel_len"], batch["face_mask"])
        pad = n_tok - t.audio_feat.shape[1]
        arrays["audio_feat"].append(torch.nn.functional.pad(t.audio_feat, (0, 0, 0, pad)).cpu().numpy())
        arrays["audio_mask"].append(torch.nn.functional.pad(t.audio_mask, (0, pad)).cpu().numpy())
        lengths = [model.audio_tokens.bucket_length(int(n)) // stride for n in batch["mel_len"].tolist()]
        arrays["audio_len"].append(np.asarray(lengths, dtype=np.int64))
        arrays["face_feat"].append(t.face_feat.cpu().numpy())
        arrays["face_mask"].append(t.face_mask.cpu().numpy())
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        shapes = {}
        for name, parts in arrays.items():
            arr = np.concatenate(parts) if parts else np.zeros((0,), dtype=np.float32)
            np.save(tmp / f"{name}.npy", arr)
            shapes[name] = list(arr.shape)
        meta = {"token_key": out.name, "identity": token_identity(featureset_dir, cfg), "shapes": shapes,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        try:
            tmp.rename(out)
        except OSError:  # a concurrent writer finished first: its directory holds the same values
            if not _is_complete(out):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


class TokenSet:
    """A token cache directory next to its feature cache: ``.manifest`` (the features'), arrays in memory."""

    def __init__(self, directory: str | Path, featureset_dir: str | Path) -> None:
        self.directory = Path(directory)
        if not _is_complete(self.directory):
            raise FileNotFoundError(f"{self.directory} is not a complete token cache; run prepare_tokens")
        self.manifest = FeatureSet.open(featureset_dir).manifest
        self.arrays = {name[:-4]: np.load(self.directory / name) for name in TOKEN_FILES if name.endswith(".npy")}
        n = {k: v.shape[0] for k, v in self.arrays.items()}
        if set(n.values()) != {len(self.manifest)}:
            raise ValueError(f"{self.directory}: arrays have {n} rows, the manifest {len(self.manifest)}; "
                             "delete the directory to rebuild it")

    @classmethod
    def open(cls, featureset_dir: str | Path, model_cfg: ModelConfig | Mapping[str, Any]) -> "TokenSet":
        """The token cache of ``featureset_dir`` for ``model_cfg``'s trunks, computed first if missing."""
        return cls(prepare_tokens(featureset_dir, model_cfg), featureset_dir)

    def __len__(self) -> int:
        return len(self.manifest)

    def dataset(self, rows: Sequence[int] | np.ndarray | None = None,
                label_to_index: Mapping[str, int] | None = None) -> "TokenDataset":
        """As ``FeatureSet.dataset``: manifest positions, labels mapped (None: unlabelled, label -1)."""
        idx, targets = rows_and_labels(self.manifest, rows, label_to_index)
        return TokenDataset({k: torch.from_numpy(v[idx]) for k, v in self.arrays.items() if k != "audio_len"},
                            torch.from_numpy(self.arrays["audio_len"][idx]), targets, idx)


class TokenDataset(Dataset):
    """Items {"audio_feat": (Ta, W) float32, "audio_mask": (Ta,) bool, "face_feat": (K, W), "face_mask": (K,),
    "audio_len": int64, "label": int64, "index": int64 (manifest row)}.

    Use :meth:`collate` as the DataLoader's ``collate_fn``: it stacks the items and cuts the audio
    tokens to the batch's longest trunk map, the length the uncached model pads that batch to, so
    every tensor (and each dropout draw) has the uncached path's shape.
    """

    def __init__(self, arrays: dict[str, torch.Tensor], audio_len: torch.Tensor, labels: np.ndarray, rows: np.ndarray) -> None:
        self.arrays = arrays
        self.audio_len = audio_len
        self.labels = torch.from_numpy(labels)
        self.rows = torch.from_numpy(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {k: v[i] for k, v in self.arrays.items()}
        item["audio_len"] = self.audio_len[i]
        item["label"] = self.labels[i]
        item["index"] = self.rows[i]
        return item

    @staticmethod
    def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Stack ``items``; ``audio_feat`` / ``audio_mask`` cut to ``max(audio_len)`` tokens -> (B, Ta_batch, W)."""
        batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
        n = int(batch["audio_len"].max())
        batch["audio_feat"], batch["audio_mask"] = batch["audio_feat"][:, :n], batch["audio_mask"][:, :n]
        return batch
