import pytest
import torch
import torch.nn.functional as F
from torchvision import models

from fdan.model import FDAN, WeightsError, create_model, imagenet_weights_path, list_models
from tests.fdan.model_helpers import SMALL


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_output_shapes_for_head_counts(heads, tiny_batch):
    model = create_model("fdan", **{**SMALL, "attn_heads": heads, "attn_layers": 2})
    out = model(tiny_batch["mel"], tiny_batch["faces"])
    assert out.fused_logits.shape == out.audio_logits.shape == out.face_logits.shape == (8, 4)
    assert out.audio_feat.shape == out.face_feat.shape == out.fused_feat.shape == (8, 32)


def test_real_resnet34_trunks_and_shared_option():
    separate = create_model("fdan", **SMALL)
    shared = create_model("fdan", **SMALL, share_backbone=True)
    blocks = [len(getattr(models.resnet34(), f"layer{i}")) for i in range(1, 5)]
    assert blocks == [3, 4, 6, 3]
    assert [len(separate.face_trunk.body[i]) for i in range(4, 8)] == blocks
    assert separate.audio_trunk is not separate.face_trunk
    assert separate.audio_trunk.body[0].in_channels == 1
    assert shared.audio_trunk is shared.face_trunk
    n_sep = sum(p.numel() for p in separate.parameters())
    n_shared = sum(p.numel() for p in shared.parameters())
    assert n_sep - n_shared > 20_000_000  # one ResNet-34 trunk (~21M) fewer


@pytest.mark.parametrize("share", [False, True])
def test_every_trainable_parameter_gets_a_gradient(share, tiny_batch):
    torch.manual_seed(0)
    model = create_model("fdan", **SMALL, share_backbone=share)
    model.train()
    out = model(tiny_batch["mel"], tiny_batch["faces"])
    y = tiny_batch["label"]
    loss = sum(F.cross_entropy(getattr(out, f"{h}_logits"), y) for h in ("fused", "audio", "face"))
    loss.backward()
    silent = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert silent == []
    assert any("cross.audio_to_face" in n for n, _ in model.named_parameters())


def test_param_groups_put_trunks_at_reduced_lr():
    model = create_model("fdan", **SMALL)
    groups = model.param_groups(lr=1e-3, backbone_lr_mult=0.1)
    assert [g["lr"] for g in groups] == pytest.approx([1e-4, 1e-3])
    n_total = sum(1 for _ in model.parameters())
    assert sum(len(g["params"]) for g in groups) == n_total


def test_missing_weights_file_is_one_clear_error(tmp_path):
    missing = tmp_path / "resnet34.pth"
    with pytest.raises(WeightsError, match=str(missing)):
        create_model("fdan", **SMALL, weights=str(missing))


def test_imagenet_weights_are_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = imagenet_weights_path("resnet34")
    assert str(expected).startswith(str(tmp_path))
    with pytest.raises(WeightsError, match="never downloads"):
        create_model("fdan", **SMALL, weights="imagenet")
    assert not expected.exists()


def test_local_state_dict_is_loaded(tmp_path):
    torch.manual_seed(1)
    ref = models.resnet34(weights=None)
    path = tmp_path / "r34.pth"
    torch.save(ref.state_dict(), path)
    model = create_model("fdan", **SMALL, weights=str(path))
    assert torch.equal(model.face_trunk.body[4][0].conv1.weight, ref.layer1[0].conv1.weight)
    # the 1-channel audio stem sums the RGB filters (scaled): a grey image sees the same filter
    assert torch.allclose(model.audio_trunk.body[0].weight[:, 0], ref.conv1.weight.sum(dim=1))


def test_wrong_weights_file_is_a_clear_error(tmp_path):
    path = tmp_path / "r18.pth"
    torch.save(models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(WeightsError, match="do not fit resnet34"):
        create_model("fdan", **SMALL, weights=str(path))


def test_registry_and_config_errors():
    assert "fdan" in list_models()
    with pytest.raises(ValueError, match="unknown model"):
        create_model("nope")
    with pytest.raises(ValueError, match="divisible"):
        create_model("fdan", **{**SMALL, "attn_heads": 3})
    with pytest.raises(ValueError, match="attn_head"):
        create_model("fdan", attn_head=4)
    assert isinstance(create_model("fdan", **SMALL), FDAN)


def test_bad_input_shapes_are_clear(tiny_batch):
    model = create_model("fdan", **SMALL)
    with pytest.raises(ValueError, match="mel must be"):
        model(tiny_batch["mel"][:, 0], tiny_batch["faces"])
    with pytest.raises(ValueError, match="faces must be"):
        model(tiny_batch["mel"], tiny_batch["faces"][:, 0])
