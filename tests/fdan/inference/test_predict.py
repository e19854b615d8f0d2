"""Media grouping for `predict` and prediction on real synthetic media: heads per input kind, skips."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fdan.config import FeatureConfig
from fdan.corpora.synth.generate import generate
from fdan.inference.media import find_media
from fdan.inference.model_file import LoadedModel, build_media_model
from fdan.inference.predict import predict_media

from ..model_helpers import TINY

LABELS = ["anger", "happiness", "sadness", "neutral"]


def test_find_media_pairs_video_with_its_wav_and_reports_other_files(tmp_path):
    for name in ("a.mp4", "a.wav", "b.mp4", "c.wav", "notes.txt", "sub/d.avi"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    items, skips = find_media([tmp_path, tmp_path / "notes.txt", tmp_path / "gone.mp4"])
    by_name = {Path(i.name).name: i for i in items}
    assert sorted(by_name) == ["a.mp4", "b.mp4", "c.wav", "d.avi"]  # a.wav belongs to a.mp4
    assert by_name["a.mp4"].audio == tmp_path / "a.wav" and by_name["b.mp4"].audio is None
    assert by_name["c.wav"].audio_only and not by_name["a.mp4"].audio_only
    assert sorted(s.reason.split(" (")[0] for s in skips) == ["file not found", "not a media file this reads"]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("media")
    generate(root / "studio", corpus="synth-studio", seed=0, speakers=1, clips_per_emotion=1)
    return root


def loaded_model(modalities=("audio", "face")) -> LoadedModel:
    torch.manual_seed(0)
    cfg = {**TINY, "modalities": list(modalities)}
    model = build_media_model(cfg, len(LABELS)).eval()
    features = FeatureConfig(n_mels=16, n_fft=256, win_length=200, clip_seconds=0.5, n_frames=2, face_size=32,
                             face_detector="center")
    from fdan.config import ModelConfig

    return LoadedModel(model, ModelConfig.model_validate({**cfg, "num_classes": len(LABELS)}), features, LABELS)


def test_heads_per_input_kind_and_a_broken_file_is_a_skip(media, tmp_path):
    videos = sorted((media / "studio").rglob("*.mp4"))[:2]
    wav = next((media / "studio").rglob("*.wav"))
    (tmp_path / "alone.wav").write_bytes(wav.read_bytes())
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    items, skips = find_media([*videos, tmp_path])
    rows, bad = predict_media(loaded_model(), items)
    heads = rows.groupby("file")["head"].apply(set).to_dict()
    assert heads[str(videos[0])] == {"fused", "audio", "face"}
    assert heads[str(tmp_path / "alone.wav")] == {"audio"}  # audio only: the audio head only
    assert [s.path for s in bad] == [str(tmp_path / "broken.mp4")] and bad[0].reason
    probs = rows.filter(like="prob_")
    assert list(probs.columns) == [f"prob_{label}" for label in LABELS]
    assert ((probs.sum(axis=1) - 1).abs() < 1e-5).all()
    assert (rows["predicted"] == probs.idxmax(axis=1).str.removeprefix("prob_")).all()


def test_single_modality_model_gives_its_one_head(media):
    items, _ = find_media(sorted((media / "studio").rglob("*.mp4"))[:1])
    rows, _ = predict_media(loaded_model(("face",)), items)
    assert set(rows["head"]) == {"face"}
