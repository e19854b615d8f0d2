"""FDAN semantics: modality-pure heads, single-modality prediction, masks, positions, the aligned pair."""
import pytest
import torch

from fdan.model import create_model
from tests.fdan.model_helpers import TINY


def _inputs(b=4, t=64, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mel = torch.randn(b, 1, 32, t, generator=g)
    faces = torch.randint(0, 256, (b, k, 3, 32, 32), generator=g, dtype=torch.uint8)
    return mel, faces


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("fdan", **TINY).eval()


def test_audio_head_ignores_faces_and_face_head_ignores_audio(model):
    mel, faces = _inputs()
    other_mel, other_faces = _inputs(seed=1)
    with torch.no_grad():
        base = model(mel, faces)
        new_faces = model(mel, other_faces)
        blank_faces = model(mel, torch.zeros_like(faces))
        new_mel = model(other_mel, faces)
    for out in (new_faces, blank_faces):
        assert torch.equal(out.audio_logits, base.audio_logits) and torch.equal(out.audio_feat, base.audio_feat)
    assert torch.equal(new_mel.face_logits, base.face_logits) and torch.equal(new_mel.face_feat, base.face_feat)
    # the fused head sees both modalities (through the cross-attention)
    assert not torch.allclose(new_faces.fused_logits, base.fused_logits)
    assert not torch.allclose(new_mel.fused_logits, base.fused_logits)


def test_audio_head_is_pure_in_training_mode_too():
    torch.manual_seed(0)
    m = create_model("fdan", **TINY).train()
    mel, faces = _inputs()
    a = m(mel, faces).audio_logits
    b = m(mel, torch.zeros_like(faces)).audio_logits
    assert torch.equal(a, b)


def test_single_modality_prediction(model):
    mel, faces = _inputs()
    with torch.no_grad():
        both = model(mel, faces)
        audio_only = model(mel, None)
        face_only = model(None, faces)
    assert torch.equal(audio_only.audio_logits, both.audio_logits)
    assert audio_only.face_logits is None and audio_only.fused_logits is None and audio_only.fused_feat is None
    assert torch.equal(face_only.face_logits, both.face_logits)
    assert face_only.audio_logits is None and face_only.fused_logits is None
    with pytest.raises(ValueError, match="at least one modality"):
        model(None, None)


@pytest.mark.parametrize("align", ["unimodal", "attended"])
def test_align_choice_selects_the_lmmd_pair(align):
    torch.manual_seed(0)
    m = create_model("fdan", **TINY, align=align, align_grad="encoder").eval()
    mel, faces = _inputs()
    out = m(mel, faces)
    if align == "unimodal":
        assert out.audio_align_feat is out.audio_feat and out.face_align_feat is out.face_feat
    else:
        assert out.audio_align_feat is out.audio_attended_feat and out.face_align_feat is out.face_attended_feat
        assert not torch.allclose(out.audio_attended_feat, out.audio_feat)
    with pytest.raises(ValueError):
        create_model("fdan", **TINY, align="fused")


@pytest.mark.parametrize("align", ["unimodal", "attended"])
def test_lmmd_gradient_trains_only_the_adaptation_networks_by_default(align):
    """align_grad: adaptation (default) — the aligned pair has the same values, but a loss on it reaches
    the adaptation networks only; `encoder` lets it reach trunks, tokenizers and attention too."""
    mel, faces = _inputs()
    grads = {}
    for mode in ("adaptation", "encoder"):
        torch.manual_seed(0)
        m = create_model("fdan", **TINY, align=align, align_grad=mode).train()
        out = m(mel, faces)
        (out.audio_align_feat.pow(2).sum() + out.face_align_feat.pow(2).sum()).backward()
        grads[mode] = {n: p.grad for n, p in m.named_parameters()}
        grads[mode + "_values"] = (out.audio_align_feat.detach(), out.face_align_feat.detach())
    torch.testing.assert_close(grads["adaptation_values"], grads["encoder_values"], rtol=0, atol=0)
    for mode, reach_encoder in (("adaptation", False), ("encoder", True)):
        g = grads[mode]
        assert any(v is not None and v.abs().sum() > 0 for n, v in g.items() if "_adapt." in n)
        encoder = [n for n in g if n.startswith(("audio_tokens.", "face_tokens.", "cross."))]
        touched = [n for n in encoder if g[n] is not None and g[n].abs().sum() > 0]
        assert bool(touched) == reach_encoder, (mode, touched[:3])
        if align == "attended" and reach_encoder:
            assert any(n.startswith("cross.") for n in touched)


def _pad(mel, t, value):
    extra = t - mel.shape[-1]
    return torch.cat([mel, torch.full((*mel.shape[:-1], extra), value)], dim=-1)


def _close(a, b):
    for name in ("fused_logits", "audio_logits", "face_logits", "fused_feat", "audio_feat", "face_feat"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=1e-5, atol=1e-5, msg=name)


def test_same_clip_padded_to_two_lengths_gives_the_same_outputs(model):
    mel, faces = _inputs(b=3, t=70)
    lengths = torch.tensor([70, 45, 9])
    mel = torch.where(torch.arange(70) < lengths.view(3, 1, 1, 1), mel, torch.tensor(-11.5))  # log floor
    with torch.no_grad():
        short = model(mel, faces, lengths)
        long = model(_pad(mel, 150, -11.5), faces, lengths)
        garbage = model(_pad(mel, 150, 7.0), faces, lengths)  # whatever the padding holds
        # the 45-frame clip alone, cropped to its valid length: batch company does not matter either
        alone = model(mel[1:2, :, :, :45], faces[1:2], lengths[1:2])
    _close(short, long)
    _close(short, garbage)
    torch.testing.assert_close(alone.fused_logits, short.fused_logits[1:2], rtol=1e-5, atol=1e-5)
    # without the lengths, padding does change the clip (the mask is what makes it invariant)
    assert not torch.allclose(model(_pad(mel, 150, -11.5), faces).audio_logits, short.audio_logits, atol=1e-4)


def test_missing_face_frames_are_masked(model):
    mel, faces = _inputs(b=2, k=3)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    noisy = faces.clone()
    noisy[~mask] = 255 - noisy[~mask]
    with torch.no_grad():
        a = model(mel, faces, face_mask=mask)
        b = model(mel, noisy, face_mask=mask)
        # more missing frames padded at the end (K = 5) changes nothing either
        wide = torch.cat([faces, torch.zeros(2, 2, 3, 32, 32, dtype=torch.uint8)], dim=1)
        c = model(mel, wide, face_mask=torch.cat([mask, torch.zeros(2, 2, dtype=torch.bool)], dim=1))
    _close(a, b)
    _close(a, c)
    none = model(mel, faces, face_mask=torch.zeros(2, 3, dtype=torch.bool))
    assert torch.isfinite(none.fused_logits).all() and torch.isfinite(none.face_logits).all()


def test_positions_make_order_matter(model):
    mel, faces = _inputs(k=3)
    with torch.no_grad():
        a = model(mel, faces)
        b = model(mel, faces.flip(1))  # face frames in reverse order
        c = model(mel.flip(-1), faces)  # spectrogram reversed in time
    assert not torch.allclose(a.face_logits, b.face_logits, atol=1e-6)
    assert not torch.allclose(a.fused_logits, c.fused_logits, atol=1e-6)


def test_mask_inputs_are_checked(model):
    mel, faces = _inputs(b=2, t=64)
    with pytest.raises(ValueError, match="mel_len"):
        model(mel, faces, torch.tensor([64, 0]))
    with pytest.raises(ValueError, match="mel_len"):
        model(mel, faces, torch.tensor([65, 3]))
    with pytest.raises(ValueError, match="mel_len"):
        model(mel, faces, torch.tensor([3.0, 4.0]))
    with pytest.raises(ValueError, match="face_mask"):
        model(mel, faces, face_mask=torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="rows"):
        model(mel, faces[:1])


@pytest.mark.parametrize("train_mode", [False, True])
def test_standardised_tokens_of_a_two_stage_trunk_ignore_padding(train_mode):
    """trunk_stages=2 (stride 8) with token standardisation: padding changes nothing, in eval (running
    statistics) and in training mode (batch statistics over the valid tokens only)."""
    torch.manual_seed(0)
    net = create_model("fdan", **{**TINY, "trunk_stages": 2, "token_standardise": "on", "dropout": 0.0,
                                  "attn_dropout": 0.0}).train(train_mode)
    assert net.audio_tokens.stride == 8 and net.audio_tokens.embed.standardise is not None
    mel, faces = _inputs(b=3, t=70)
    lengths = torch.tensor([70, 45, 9])
    mel = torch.where(torch.arange(70) < lengths.view(3, 1, 1, 1), mel, torch.tensor(-11.5))
    with torch.no_grad():
        short = net(mel, faces, lengths)
        long = net(_pad(mel, 150, 7.0), faces, lengths)
    _close(short, long)


def test_token_standardisation_statistics_come_from_valid_tokens_only():
    from fdan.model.tokenizers import TokenEmbedding

    embed = TokenEmbedding(4, 8, standardise=True).train()
    feat = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [True, True, False, False, False]])
    padded = torch.where(mask[..., None], feat, torch.tensor(1e3))  # whatever the padding holds
    ref = torch.nn.BatchNorm1d(4, affine=False).train()  # torch's BatchNorm on the valid tokens alone
    torch.testing.assert_close(embed._standardised(padded, mask)[mask], ref(feat[mask]))  # training: batch stats
    torch.testing.assert_close(embed.standardise.running_mean, 0.1 * feat[mask].mean(0))
    torch.testing.assert_close(embed.standardise.running_var, ref.running_var)
    with torch.no_grad():
        got = embed.eval()._standardised(padded, mask)  # eval: running statistics; padding stays 0
        torch.testing.assert_close(got[mask], ref.eval()(feat[mask]))
        assert (got[~mask] == 0).all()
    assert "auto" == create_model("fdan", **TINY).cfg.token_standardise
    assert create_model("fdan", **TINY).audio_tokens.embed.standardise is None  # trained trunks: off by default


def test_token_standardisation_of_one_valid_token_and_of_target_rows():
    """One valid token in training mode uses the running statistics (BatchNorm cannot take batch ones);
    target rows (`source_standardisation`) neither use nor move them."""
    from fdan.model.tokenizers import TokenEmbedding, source_standardisation

    embed = TokenEmbedding(4, 8, standardise=True).train()
    feat = torch.randn(2, 3, 4)
    one = torch.tensor([[True, False, False], [False, False, False]])
    assert torch.isfinite(embed(feat, one)).all()
    embed(feat, torch.ones(2, 3, dtype=torch.bool))  # a source batch moves the statistics
    before = embed.standardise.running_mean.clone()
    with source_standardisation(embed):
        target = embed(feat * 10 + 5)
    torch.testing.assert_close(embed.standardise.running_mean, before)
    assert embed.standardise.training
    with torch.no_grad():
        embed.eval()
        torch.testing.assert_close(target, embed(feat * 10 + 5))  # = the running-statistics result
