"""ResNet trunks for face frames and log-Mel spectrograms, with local-only weight loading.

Weights are never downloaded: ``weights`` is ``"none"`` (random init), ``"imagenet"`` (torchvision's file,
only if it already lies in the torch hub cache) or a path to a state dict saved with ``torch.save``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models

_BUILDERS = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1, 512),
    "resnet34": (models.resnet34, models.ResNet34_Weights.IMAGENET1K_V1, 512),
    "resnet50": (models.resnet50, models.ResNet50_Weights.IMAGENET1K_V2, 2048),
}


class WeightsError(FileNotFoundError):
    """A weights file that is missing or does not fit the backbone (one clear message)."""


def imagenet_weights_path(backbone: str) -> Path:
    """Where torchvision keeps its ImageNet file for ``backbone`` in the torch hub cache."""
    url = _BUILDERS[backbone][1].url
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
            raise ValueError(f"unknown backbone {backbone!r}; known: {sorted(_BUILDERS)}")
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
