"""The model file: a sweep checkpoint's trainable state -> a full, safely loadable media model that computes
what the trained model computed (frozen trunks rebuilt and stored; trained trunks as they were)."""
from __future__ import annotations

import pytest
import torch

from fdan.config import FeatureConfig, ModelConfig
from fdan.inference.export import export_checkpoint
from fdan.inference.model_file import ModelFileError, load_model
from fdan.model import create_model
from fdan.model.frozen import FromTrunkOutputs, trainable_state, trunk_outputs

from ..model_helpers import TINY

LABELS = ["anger", "happiness", "sadness", "neutral"]
FEATURES = FeatureConfig(n_mels=16, n_fft=256, win_length=200, clip_seconds=0.5, n_frames=2, face_size=32)


def batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    mel = torch.randn(3, 1, 16, 51, generator=g)
    faces = torch.randint(0, 255, (3, 2, 3, 32, 32), generator=g, dtype=torch.uint8)
    return mel, faces, torch.tensor([51, 40, 30]), torch.tensor([[True, True], [True, False], [True, True]])


def perturb(model: torch.nn.Module) -> None:
    """Trained-looking weights: every trainable parameter moved (so a mix-up with fresh init shows)."""
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))


def save_trial_checkpoint(path, model_cfg: dict, state: dict) -> None:
    torch.save({"model": state, "optimizer": {}, "scheduler": {}, "epoch": 3, "step": 9, "labels": LABELS,
                "model_config": model_cfg, "feature_config": FEATURES.model_dump(mode="json")}, str(path))


def test_frozen_trunk_checkpoint_exports_the_model_it_trained(tmp_path):
    """As the sweep trains it: FDAN above cached trunk outputs (no trunks in the state), `net.` keys."""
    model_cfg = {**TINY, "freeze_backbone": True, "trunk_stages": 2, "trunk_seed": 5}
    cfg = ModelConfig.model_validate({**model_cfg, "num_classes": len(LABELS)})
    torch.manual_seed(1)
    net = create_model(**{**cfg.model_dump(), "freeze_backbone": False, "token_standardise": "on"})
    net.cfg = cfg  # as harness.trial.loop.build_model builds it
    trained = FromTrunkOutputs(net)
    perturb(trained)
    state = trainable_state(trained)
    assert not any(".trunk." in k for k in state)
    save_trial_checkpoint(tmp_path / "model.pt", model_cfg, state)
    path = export_checkpoint(tmp_path / "model.pt", tmp_path / "out.fdan.pt", provenance={"trial_id": "t1"})
    loaded = load_model(path)
    assert loaded.labels == LABELS and loaded.feature_config == FEATURES and loaded.provenance["trial_id"] == "t1"
    # the sweep's view: trunk outputs of the frozen model (from trunk_seed), then the trained layers above
    frozen = create_model(**cfg.model_dump()).eval()
    mel, faces, mel_len, face_mask = batch()
    tokens = trunk_outputs(frozen, mel, faces, mel_len, face_mask)
    want = trained.eval()(tokens.audio_feat, tokens.audio_mask, tokens.face_feat, tokens.face_mask)
    got = loaded.model(mel, faces, mel_len, face_mask)
    for head in ("fused_logits", "audio_logits", "face_logits"):
        torch.testing.assert_close(getattr(got, head), getattr(want, head), atol=1e-5, rtol=1e-5)


def test_trained_trunk_checkpoint_round_trips(tmp_path):
    model_cfg = {**TINY, "modalities": ["audio"]}
    torch.manual_seed(2)
    trained = create_model(**{**model_cfg, "num_classes": len(LABELS)})
    perturb(trained)
    save_trial_checkpoint(tmp_path / "model.pt", model_cfg, trainable_state(trained))
    loaded = load_model(export_checkpoint(tmp_path / "model.pt", tmp_path / "m.pt", provenance={}))
    assert loaded.modalities == ("audio",)
    mel, _, mel_len, _ = batch(1)
    torch.testing.assert_close(loaded.model(mel, None, mel_len).audio_logits, trained.eval()(mel, None, mel_len).audio_logits)
    # a single-modality model ignores the faces it is given (no fused / face head)
    out = loaded.model(mel, batch(1)[1], mel_len)
    assert out.fused_logits is None and out.face_logits is None


def test_model_file_holds_only_tensors_and_plain_data(tmp_path):
    model_cfg = dict(TINY)
    save_trial_checkpoint(tmp_path / "model.pt", model_cfg,
                          trainable_state(create_model(**{**model_cfg, "num_classes": len(LABELS)})))
    path = export_checkpoint(tmp_path / "model.pt", tmp_path / "m.pt", provenance={"metrics": {"x": 0.5}})
    data = torch.load(str(path), weights_only=True)
    assert data["format"] == "fdan-model" and data["model_config"]["num_classes"] == len(LABELS)


def test_bad_files_are_one_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ModelFileError, match="cannot be loaded safely"):
        load_model(tmp_path / "junk.pt")
    torch.save({"model": {}}, str(tmp_path / "other.pt"))
    with pytest.raises(ModelFileError, match="not an fdan model file"):
        load_model(tmp_path / "other.pt")
    torch.save({"model": {}, "labels": LABELS, "model_config": dict(TINY), "optimizer": {}}, str(tmp_path / "old.pt"))
    with pytest.raises(ModelFileError, match="no feature config"):
        export_checkpoint(tmp_path / "old.pt", tmp_path / "x.pt", provenance={})
    assert not (tmp_path / "x.pt").exists()
