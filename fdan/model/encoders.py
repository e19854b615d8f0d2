"""ResNet and VGG trunks for face frames and log-Mel spectrograms, with local-only weight loading.

:func:`build_trunk` builds either kind: ResNet-18/34/50 (:class:`ResNetTrunk`) or VGG-16/19
(:class:`VGGTrunk`, the plain configurations D and E of Simonyan & Zisserman 2015, as in the paper's
baseline table); both map ``(N, in_channels, H, W)`` to ``(N, out_channels, H/32, W/32)``.

Weights are never downloaded: ``weights`` is ``"none"`` (random init), ``"imagenet"`` (torchvision's file,
only if it already lies in the torch hub cache) or a path to a state dict saved with ``torch.save``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models
from torchvision.models import vgg

_BUILDERS = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1, 512),
    "resnet34": (models.resnet34, models.ResNet34_Weights.IMAGENET1K_V1, 512),
    "resnet50": (models.resnet50, models.ResNet50_Weights.IMAGENET1K_V2, 2048),
}
# torchvision layer configuration ("D" = 16 weight layers, "E" = 19) and ImageNet file; 512 channels out.
_VGG_BUILDERS = {
    "vgg16": ("D", models.VGG16_Weights.IMAGENET1K_V1),
    "vgg19": ("E", models.VGG19_Weights.IMAGENET1K_V1),
}
BACKBONES = (*_BUILDERS, *_VGG_BUILDERS)


class WeightsError(FileNotFoundError):
    """A weights file that is missing or does not fit the backbone (one clear message)."""


def imagenet_weights_path(backbone: str) -> Path:
    """Where torchvision keeps its ImageNet file for ``backbone`` in the torch hub cache."""
    url = (_BUILDERS.get(backbone) or _VGG_BUILDERS[backbone])[1].url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def _load_state_dict(backbone: str, weights: str) -> dict[str, torch.Tensor] | None:
    if weights == "none":
        return None
    path = imagenet_weights_path(backbone) if weights == "imagenet" else Path(weights).expanduser()
    if not path.is_file():
        hint = " (fdan-bench never downloads weights: place torchvision's file there)" if weights == "imagenet" else ""
        raise WeightsError(f"{backbone} weights file not found: expected {path}{hint}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or pickled-object files
        raise WeightsError(f"cannot read {backbone} weights from {path}: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    return {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}


class ResNetTrunk(nn.Module):
    """A torchvision ResNet without its pooling and classifier.

    Input ``(N, in_channels, H, W)`` float; output feature map ``(N, out_channels, H/32, W/32)``.
    For ``in_channels=1`` the first convolution takes one channel; pretrained RGB filters are summed
    over the colour axis so a grey image gives the same response as its RGB copy.
    """

    def __init__(self, backbone: str = "resnet34", in_channels: int = 3, weights: str = "none") -> None:
        super().__init__()
        if backbone not in _BUILDERS:
            hint = " (VGG trunks: VGGTrunk or build_trunk)" if backbone in _VGG_BUILDERS else ""
            raise ValueError(f"unknown ResNet backbone {backbone!r}; known: {sorted(_BUILDERS)}{hint}")
        builder, _, self.out_channels = _BUILDERS[backbone]
        net = builder(weights=None)
        state = _load_state_dict(backbone, weights)
        if state is not None:
            missing, unexpected = net.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.startswith("fc.")]
            if missing or unexpected:
                raise WeightsError(
                    f"weights {weights!r} do not fit {backbone}: missing {missing[:3]}, unexpected {unexpected[:3]}"
                )
        if in_channels != 3:
            old = net.conv1
            net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
            if state is not None:
                with torch.no_grad():
                    net.conv1.weight.copy_(old.weight.sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels)
        self.body = nn.Sequential(
            net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class VGGTrunk(nn.Module):
    """torchvision's VGG-16/19 convolutional part (``features``, no BatchNorm), without pooling and classifier.

    Input ``(N, in_channels, H, W)`` float; output ``(N, 512, H/32, W/32)`` (five 2×2 max-pools).
    Random init is torchvision's (Kaiming normal, fan-out). For ``in_channels != 3`` the first
    convolution is rebuilt; pretrained RGB filters are averaged into it as in :class:`ResNetTrunk`.
    A weights file may be a whole torchvision VGG state dict: its ``classifier.*`` entries are ignored.
    """

    out_channels = 512

    def __init__(self, backbone: str = "vgg16", in_channels: int = 3, weights: str = "none") -> None:
        super().__init__()
        if backbone not in _VGG_BUILDERS:
            raise ValueError(f"unknown VGG backbone {backbone!r}; known: {sorted(_VGG_BUILDERS)}")
        # The same Sequential as torchvision's VGG.features, so its state-dict keys ("features.N.*") match.
        self.features = vgg.make_layers(vgg.cfgs[_VGG_BUILDERS[backbone][0]], batch_norm=False)
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        state = _load_state_dict(backbone, weights)
        if state is not None:
            state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
            try:
                missing, unexpected = self.load_state_dict(state, strict=False)
            except RuntimeError as exc:  # tensor shapes differ (e.g. a VGG-19 file for VGG-16)
                raise WeightsError(f"weights {weights!r} do not fit {backbone}: {str(exc).splitlines()[-1].strip()}") from None
            if missing or unexpected:
                raise WeightsError(f"weights {weights!r} do not fit {backbone}: missing {missing[:3]}, unexpected {unexpected[:3]}")
        if in_channels != 3:
            old = self.features[0]
            self.features[0] = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1)
            if state is not None:
                with torch.no_grad():
                    self.features[0].weight.copy_(old.weight.sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels)
                    self.features[0].bias.copy_(old.bias)
            else:
                nn.init.kaiming_normal_(self.features[0].weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(self.features[0].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def build_trunk(backbone: str = "resnet34", in_channels: int = 3, weights: str = "none") -> ResNetTrunk | VGGTrunk:
    """The trunk named ``backbone`` (one of :data:`BACKBONES`); both kinds expose ``out_channels``."""
    if backbone in _VGG_BUILDERS:
        return VGGTrunk(backbone, in_channels, weights)
    if backbone in _BUILDERS:
        return ResNetTrunk(backbone, in_channels, weights)
    raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
