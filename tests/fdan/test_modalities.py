"""Single-modality models ignore the other input and train only their own branch."""
from __future__ import annotations

import pytest
import torch

from fdan.model import create_model
from fdan.model.modalities import restrict_modalities

TINY = dict(backbone="resnet18", attn_dim=32, attn_heads=2, adapt_dim=16, num_classes=4, dropout=0.0,
            attn_dropout=0.0, weights="none")


@pytest.mark.parametrize("keep", ["audio", "face"])
def test_a_single_modality_model_ignores_the_other_input(keep, tiny_batch):
    torch.manual_seed(0)
    model = restrict_modalities(create_model(**TINY, modalities=[keep]), [keep]).eval()
    mel, faces = tiny_batch["mel"].float(), tiny_batch["faces"]
    other = {"mel": torch.randn_like(mel), "faces": torch.randint_like(faces, 0, 256)}
    with torch.no_grad():
        a = model(mel, faces)
        b = model(other["mel"] if keep == "face" else mel, other["faces"] if keep == "audio" else faces)
        c = model(mel=mel if keep == "audio" else None, faces=faces if keep == "face" else None)
    logits = f"{keep}_logits"
    assert a.fused_logits is None and getattr(a, f"{'face' if keep == 'audio' else 'audio'}_logits") is None
    assert torch.equal(getattr(a, logits), getattr(b, logits)) and torch.equal(getattr(a, logits), getattr(c, logits))
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{keep}_tokens", f"{keep}_adapt", f"{keep}_head"}


def test_a_shared_trunk_keeps_training_for_the_audio_branch():
    model = restrict_modalities(create_model(**TINY, share_backbone=True), ["audio"])
    assert all(p.requires_grad for p in model.audio_trunk.parameters())
    assert not any(p.requires_grad for p in model.cross.parameters())
    assert restrict_modalities(create_model(**TINY), ["audio", "face"]).fused_head.weight.requires_grad


def test_bad_modalities_are_refused():
    with pytest.raises(ValueError, match="modalities"):
        restrict_modalities(create_model(**TINY), ["audio", "audio"])
    with pytest.raises(ValueError):
        create_model(**TINY, modalities=[])


def test_restriction_applies_to_a_model_on_cached_trunk_outputs():
    from fdan.model.frozen import FromTrunkOutputs, freeze_trunks

    torch.manual_seed(0)
    model = restrict_modalities(FromTrunkOutputs(freeze_trunks(create_model(**TINY))), ["face"]).eval()
    g = torch.Generator().manual_seed(1)
    audio, face = torch.randn(3, 5, 512, generator=g), torch.randn(3, 2, 512, generator=g)
    masks = {"audio_mask": torch.ones(3, 5, dtype=torch.bool), "face_mask": torch.ones(3, 2, dtype=torch.bool)}
    with torch.no_grad():
        a = model(audio_feat=audio, face_feat=face, **masks)
        b = model(audio_feat=torch.zeros_like(audio), face_feat=face, **masks)
    assert a.audio_logits is None and a.fused_logits is None and torch.equal(a.face_logits, b.face_logits)
