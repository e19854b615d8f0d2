"""ResNet and VGG trunks for face frames and log-Mel spectrograms, with local-only weight loading.

:func:`build_trunk` builds either kind: ResNet-18/34/50 (:class:`ResNetTrunk`) or VGG-16/19
(:class:`VGGTrunk`, the plain configurations D and E of Simonyan & Zisserman 2015, as in the paper's
baseline table); both map ``(N, in_channels, H, W)`` to ``(N, out_channels, H/s, W/s)``.

``stages`` keeps the first 1-4 stages (ResNet ``layer1..layer4``; VGG blocks 2-5 after its first), output
stride ``s = 2^(stages+1)`` (4, 8, 16, 32); 4 = the whole trunk, as in the paper. Fewer stages matter for
*frozen random* trunks: each random stage loses information, and a linear probe of random ResNet-18
features on the synthetic corpora falls from 54 % (1 stage, audio) to 27 % (4 stages; README, "The model").

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


def imagenet_weights_url(backbone: str) -> str:
    """torchvision's published address of the ImageNet file for ``backbone``."""
    return (_BUILDERS.get(backbone) or _VGG_BUILDERS[backbone])[1].url


def imagenet_weights_path(backbone: str) -> Path:
    """Where torchvision keeps its ImageNet file for ``backbone`` in the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / imagenet_weights_url(backbone).rsplit("/", 1)[-1]


def _load_state_dict(backbone: str, weights: str) -> dict[str, torch.Tensor] | None:
    if weights == "none":
        return None
    path = imagenet_weights_path(backbone) if weights == "imagenet" else Path(weights).expanduser()
    if not path.is_file():
        hint = (f" (training never downloads weights: run `fdan-bench weights fetch --backbone {backbone}` on a "
                "machine with a network, or place torchvision's file there)") if weights == "imagenet" else ""
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

    Input ``(N, in_channels, H, W)`` float; output feature map ``(N, out_channels, H/stride, W/stride)``
    (the first ``stages`` residual stages; 4: 512 channels at stride 32 for ResNet-18/34, 2048 for ResNet-50).
    For ``in_channels=1`` the first convolution takes one channel; pretrained RGB filters are summed
    over the colour axis so a grey image gives the same response as its RGB copy.
    """

    def __init__(self, backbone: str = "resnet34", in_channels: int = 3, weights: str = "none", stages: int = 4) -> None:
        super().__init__()
        _check_stages(stages)
        if backbone not in _BUILDERS:
            hint = " (VGG trunks: VGGTrunk or build_trunk)" if backbone in _VGG_BUILDERS else ""
            raise ValueError(f"unknown ResNet backbone {backbone!r}; known: {sorted(_BUILDERS)}{hint}")
        builder = _BUILDERS[backbone][0]
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
        layers = [net.layer1, net.layer2, net.layer3, net.layer4][:stages]
        self.body = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, *layers)
        self.out_channels = [m for m in layers[-1].modules() if isinstance(m, nn.BatchNorm2d)][-1].num_features
        self.stride = 2 ** (stages + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class VGGTrunk(nn.Module):
    """torchvision's VGG-16/19 convolutional part (``features``, no BatchNorm), without pooling and classifier.

    Input ``(N, in_channels, H, W)`` float; output ``(N, out_channels, H/stride, W/stride)``: ``stages + 1``
    blocks, each ending in a 2×2 max-pool (4: all five, 512 channels at stride 32).
    Random init is torchvision's (Kaiming normal, fan-out). For ``in_channels != 3`` the first
    convolution is rebuilt; pretrained RGB filters are averaged into it as in :class:`ResNetTrunk`.
    A weights file may be a whole torchvision VGG state dict: its ``classifier.*`` entries are ignored.
    """

    def __init__(self, backbone: str = "vgg16", in_channels: int = 3, weights: str = "none", stages: int = 4) -> None:
        super().__init__()
        _check_stages(stages)
        if backbone not in _VGG_BUILDERS:
            raise ValueError(f"unknown VGG backbone {backbone!r}; known: {sorted(_VGG_BUILDERS)}")
        layout = list(vgg.cfgs[_VGG_BUILDERS[backbone][0]])
        pools = [i for i, v in enumerate(layout) if v == "M"]
        layout = layout[: pools[stages] + 1]  # blocks 1..stages+1, each ending in a 2x2 max-pool
        self.out_channels = [v for v in layout if v != "M"][-1]
        self.stride = 2 ** (stages + 1)
        # The same Sequential as torchvision's VGG.features (its prefix), so state-dict keys ("features.N.*") match.
        self.features = vgg.make_layers(layout, batch_norm=False)
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        state = _load_state_dict(backbone, weights)
        if state is not None:
            kept = {f"features.{i}." for i in range(len(self.features))}
            state = {k: v for k, v in state.items() if k.startswith("features.") and k[: k.index(".", 9) + 1] in kept}
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


def _check_stages(stages: int) -> None:
    if stages not in (1, 2, 3, 4):
        raise ValueError(f"trunk stages must be 1, 2, 3 or 4, got {stages!r}")


def build_trunk(backbone: str = "resnet34", in_channels: int = 3, weights: str = "none",
                stages: int = 4) -> ResNetTrunk | VGGTrunk:
    """The trunk named ``backbone`` (one of :data:`BACKBONES`) with its first ``stages`` stages; both kinds
    expose ``out_channels`` and ``stride``."""
    if backbone in _VGG_BUILDERS:
        return VGGTrunk(backbone, in_channels, weights, stages)
    if backbone in _BUILDERS:
        return ResNetTrunk(backbone, in_channels, weights, stages)
    raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
