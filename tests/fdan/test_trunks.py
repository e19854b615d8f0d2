"""VGG-16/19 trunks (the paper's baseline table) beside the ResNets: token maps, weights, errors."""
from __future__ import annotations

import pytest
import torch
from torchvision import models

from fdan.config import ModelConfig
from fdan.model.encoders import BACKBONES, ResNetTrunk, VGGTrunk, WeightsError, build_trunk, imagenet_weights_path


@pytest.mark.parametrize("backbone, convs", [("vgg16", 13), ("vgg19", 16)])
def test_vgg_trunk_gives_a_stride_32_token_map(backbone: str, convs: int) -> None:
    torch.manual_seed(0)
    trunk = build_trunk(backbone, in_channels=1)
    assert isinstance(trunk, VGGTrunk) and trunk.out_channels == 512
    assert sum(isinstance(m, torch.nn.Conv2d) for m in trunk.modules()) == convs  # + 3 dense layers = 16 / 19
    with torch.no_grad():
        out = trunk(torch.randn(2, 1, 64, 96))
    assert out.shape == (2, 512, 2, 3) and torch.isfinite(out).all() and out.abs().sum() > 0


def _torchvision_vgg_state(cfg: str) -> tuple[torch.nn.Sequential, dict[str, torch.Tensor]]:
    """torchvision's VGG ``features`` (built by torchvision itself) and a whole-model state dict around it.

    (``models.vgg16()`` would also build its 120M-parameter classifier: seconds on a small CPU.)
    """
    features = models.vgg.make_layers(models.vgg.cfgs[cfg])
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)
    return features.eval(), state


def test_vgg_trunk_loads_a_whole_torchvision_state_dict(tmp_path) -> None:
    torch.manual_seed(1)
    ref, state = _torchvision_vgg_state("D")
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    trunk = VGGTrunk("vgg16", in_channels=3, weights=str(path))
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(trunk(x), ref(x))
        grey = VGGTrunk("vgg16", in_channels=1, weights=str(path))
        torch.testing.assert_close(grey(x[:, :1]), ref(x[:, :1].expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-5)
    torch.save(_torchvision_vgg_state("E")[1], path)
    with pytest.raises(WeightsError, match="do not fit vgg16"):
        VGGTrunk("vgg16", weights=str(path))


def test_backbone_names_and_errors() -> None:
    assert BACKBONES == ("resnet18", "resnet34", "resnet50", "vgg16", "vgg19")
    assert ModelConfig(backbone="vgg19").backbone == "vgg19"
    assert isinstance(build_trunk("resnet18"), ResNetTrunk)
    assert imagenet_weights_path("vgg16").name == "vgg16-397923af.pth"
    with pytest.raises(ValueError, match="unknown backbone 'vgg11'"):
        build_trunk("vgg11")
    with pytest.raises(ValueError, match="VGGTrunk or build_trunk"):
        ResNetTrunk("vgg16")


def test_missing_imagenet_vgg_file_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="vgg19-dcbb9e9d.pth.*never downloads"):
        build_trunk("vgg19", weights="imagenet")


@pytest.mark.parametrize("backbone, widths", [("resnet18", (64, 128, 256, 512)), ("resnet50", (256, 512, 1024, 2048)),
                                              ("vgg16", (128, 256, 512, 512))])
def test_trunk_stages_set_width_and_stride(backbone: str, widths: tuple[int, ...]) -> None:
    x = torch.randn(1, 1, 32, 64)
    for stages, width in enumerate(widths, 1):
        trunk = build_trunk(backbone, 1, "none", stages)
        assert (trunk.out_channels, trunk.stride) == (width, 2 ** (stages + 1))
        with torch.no_grad():
            assert trunk(x).shape == (1, width, 32 // trunk.stride, 64 // trunk.stride)
    with pytest.raises(ValueError, match="stages must be 1, 2, 3 or 4"):
        build_trunk(backbone, 1, "none", 5)


def test_a_truncated_trunk_is_the_prefix_of_the_whole_one(tmp_path) -> None:
    """Pretrained weights load into fewer stages too: the truncated trunk computes the whole network's prefix."""
    torch.manual_seed(2)
    net = models.resnet18().eval()
    path = tmp_path / "r18.pth"
    torch.save(net.state_dict(), path)
    ref, state = _torchvision_vgg_state("D")
    vgg_path = tmp_path / "vgg16.pth"
    torch.save(state, vgg_path)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for stages in (1, 2, 3):
            torch.testing.assert_close(VGGTrunk("vgg16", 3, str(vgg_path), stages)(x), ref[: [9, 16, 23][stages - 1] + 1](x))
        prefix = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2)
        torch.testing.assert_close(ResNetTrunk("resnet18", 3, str(path), 2).eval()(x), prefix(x))
    assert ModelConfig(trunk_stages=2).trunk_stages == 2
    with pytest.raises(ValueError):
        ModelConfig(trunk_stages=0)
