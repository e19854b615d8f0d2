"""Cached frozen-trunk outputs: content-addressed, reused, and training from them equals the uncached frozen path."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from fdan.config import ModelConfig, TrainConfig
from fdan.features.featureset import FeatureSet
from fdan.features.token_cache import TokenSet, prepare_tokens, token_dir
from fdan.model import create_model
from fdan.model.frozen import FromTrunkOutputs, freeze_trunks, load_trainable_state, trainable_state, trunk_outputs
from fdan.training.fit import seed_everything
from fdan.training.loss import train_step
from fdan.training.optim import build_optimizer

LABELS = ["anger", "happiness", "sadness"]
MODEL = dict(backbone="resnet18", attn_dim=16, attn_heads=2, adapt_dim=16, num_classes=3, dropout=0.2,
             attn_dropout=0.1, freeze_backbone=True)


def write_feature_cache(directory: Path, n: int = 20, n_mels: int = 16, t: int = 70, k: int = 3, size: int = 32) -> Path:
    """A feature cache directory as `prepare_corpus` writes it, filled with random (seeded) features:
    ragged mel_len (padding zeroed at the log floor) and some missing face frames."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    mel_len = rng.integers(10, t + 1, size=n).astype(np.int32)
    mel = rng.normal(size=(n, 1, n_mels, t)).astype(np.float16)
    for i, m in enumerate(mel_len):
        mel[i, :, :, m:] = -11.5
    faces = rng.integers(0, 256, size=(n, k, 3, size, size), dtype=np.uint8)
    face_mask = rng.random((n, k)) > 0.25
    face_mask[0] = False  # a row without any face
    faces[~face_mask] = 0
    for name, arr in {"mel": mel, "mel_len": mel_len, "faces": faces, "face_mask": face_mask}.items():
        np.save(directory / f"{name}.npy", arr)
    manifest = pd.DataFrame({"corpus": "toy", "utterance_id": [f"u{i}" for i in range(n)],
                             "speaker": [f"s{i % 4}" for i in range(n)], "corpus_label": "x",
                             "label": [LABELS[i % 3] for i in range(n)], "split": "", "fold": [i % 4 for i in range(n)],
                             "audio_path": "", "video_path": [f"v{i}.mp4" for i in range(n)]})
    manifest.to_csv(directory / "manifest.csv", index=False)
    pd.DataFrame(columns=["path", "reason"]).to_csv(directory / "skipped.csv", index=False)
    (directory / "meta.json").write_text(json.dumps({"cache_key": f"toy-{n}-{t}", "corpus": "toy"}))
    return directory


@pytest.fixture()
def features(tmp_path: Path) -> Path:
    return write_feature_cache(tmp_path / "toy-features")


def frozen_model(seed: int = 0) -> torch.nn.Module:
    """A fresh model with `freeze_backbone: true`, as any user gets it (FDAN freezes its own trunks)."""
    seed_everything(seed)
    return create_model(**MODEL)


def test_tokens_are_the_frozen_trunk_outputs_and_are_reused(features: Path) -> None:
    out = prepare_tokens(features, MODEL, batch_size=7)  # batches of 7: each row's values must not depend on its batch
    tokens = TokenSet(out, features)
    fs = FeatureSet.open(features)
    model = frozen_model(seed=123).train()  # train mode: frozen trunks stay on running statistics
    batch = next(iter(DataLoader(fs.dataset(), batch_size=len(fs))))
    direct = trunk_outputs(model, batch["mel"], batch["faces"], batch["mel_len"], batch["face_mask"])
    ta = direct.audio_feat.shape[1]
    torch.testing.assert_close(torch.from_numpy(tokens.arrays["audio_feat"][:, :ta]), direct.audio_feat, rtol=1e-5, atol=1e-5)
    assert not tokens.arrays["audio_mask"][:, ta:].any()
    torch.testing.assert_close(torch.from_numpy(tokens.arrays["face_feat"]), direct.face_feat, rtol=1e-5, atol=1e-5)
    assert (tokens.arrays["face_mask"] == fs.face_mask).all()
    assert (tokens.arrays["audio_mask"].sum(1) == np.ceil(fs.mel_len / 32)).all()
    stamp = (out / "audio_feat.npy").stat().st_mtime_ns
    assert prepare_tokens(features, MODEL) == out and (out / "audio_feat.npy").stat().st_mtime_ns == stamp
    # the trunks' identity is the key: another seed or backbone is another directory; the heads' settings are not
    assert token_dir(features, ModelConfig(**{**MODEL, "trunk_seed": 1})) != out
    assert token_dir(features, ModelConfig(**{**MODEL, "backbone": "resnet34"})) != out
    assert token_dir(features, ModelConfig(**{**MODEL, "attn_heads": 4, "adapt_dim": 32})) == out


def test_frozen_trunks_do_not_depend_on_the_training_seed() -> None:
    a, b = frozen_model(seed=0), frozen_model(seed=1)
    sa, sb = a.state_dict(), b.state_dict()
    trunk = [k for k in sa if ".trunk." in k]
    assert trunk and all(torch.equal(sa[k], sb[k]) for k in trunk)
    assert not torch.equal(sa["fused_head.weight"], sb["fused_head.weight"])
    assert not any(p.requires_grad for p in a.audio_tokens.trunk.parameters())
    assert freeze_trunks(a) is a and a.state_dict().keys() == sa.keys()  # idempotent


def _losses(model: torch.nn.Module, ds, target_ds, steps_cfg: TrainConfig) -> list[dict[str, float]]:
    gen = torch.Generator().manual_seed(0)
    collate = getattr(ds, "collate", None)
    loader = DataLoader(ds, batch_size=6, shuffle=True, drop_last=True, generator=gen, collate_fn=collate)
    target = DataLoader(target_ds, batch_size=6, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(1),
                        collate_fn=collate)
    opt = build_optimizer(model, steps_cfg)
    out = []
    torch.manual_seed(7)  # dropout draws
    for epoch in range(2):
        for step, (batch, tgt) in enumerate(zip(loader, target)):
            parts = train_step(model, batch, opt, None, steps_cfg, progress=0.5, target_batch=tgt)
            out.append({k: float(v) for k, v in parts.items()})
    return out


def test_training_from_cached_tokens_equals_the_uncached_frozen_path(features: Path) -> None:
    cfg = TrainConfig(optimizer="adamw", lr=1e-2, lmmd_weight=1.0, lmmd_warmup=0.0, cross_corpus_lmmd_weight=1.0)
    l2i = {lab: i for i, lab in enumerate(LABELS)}
    fs = FeatureSet.open(features)
    tokens = TokenSet.open(features, MODEL)
    train_rows, target_rows = list(range(0, 14)), list(range(8, 20))
    uncached = _losses(frozen_model(), fs.dataset(train_rows, l2i), fs.dataset(target_rows), cfg)
    cached = _losses(FromTrunkOutputs(frozen_model()), tokens.dataset(train_rows, l2i), tokens.dataset(target_rows), cfg)
    assert len(uncached) == len(cached) == 4
    for u, c in zip(uncached, cached):
        assert u.keys() == c.keys() and "lmmd_corpus" in u
        np.testing.assert_allclose([c[k] for k in u], [u[k] for k in u], rtol=1e-4, atol=1e-5)
    assert uncached[0]["loss"] != uncached[-1]["loss"]  # it trained


def test_checkpoints_of_frozen_models_leave_the_trunks_out() -> None:
    model = frozen_model()
    state = trainable_state(model)
    assert state and not any(".trunk." in k for k in state)
    fresh = frozen_model(seed=5)
    load_trainable_state(fresh, state)
    full_a, full_b = model.state_dict(), fresh.state_dict()
    assert all(torch.equal(full_a[k], full_b[k]) for k in full_a)
    with pytest.raises(RuntimeError, match="does not fit"):
        load_trainable_state(fresh, {k: v for k, v in state.items() if not k.startswith("fused_head")})


def test_unfrozen_models_are_refused() -> None:
    seed_everything(0)
    model = create_model(**{**MODEL, "freeze_backbone": False})
    with pytest.raises(ValueError, match="frozen"):
        FromTrunkOutputs(model)


def test_trunk_stages_are_part_of_the_token_key_and_standardise_the_cached_path(features: Path) -> None:
    two = {**MODEL, "trunk_stages": 2}
    assert token_dir(features, ModelConfig(**two)) != token_dir(features, ModelConfig(**MODEL))
    assert token_dir(features, ModelConfig(**{**MODEL, "trunk_stages": 4})) == token_dir(features, ModelConfig(**MODEL))
    tokens = TokenSet.open(features, two)
    assert (tokens.arrays["audio_mask"].sum(1) == np.ceil(FeatureSet.open(features).mel_len / 8)).all()
    seed_everything(0)
    cached = FromTrunkOutputs(create_model(**two))
    assert cached.net.audio_tokens.embed.standardise is not None  # frozen trunks: standardised (auto)
