"""Frozen trunks (``model.freeze_backbone``) and the FDAN path that starts from trunk outputs.

A frozen trunk is a pure function of its input: no gradient, BatchNorm always on its running
statistics (eval mode, even inside ``model.train()``), and, for random init (``weights: none``),
weights and BatchNorm statistics drawn from ``model.trunk_seed`` alone (a forked RNG: the global stream, and so the init of
attention, adaptation networks and heads under ``train.seed``, is the same as without freezing).
Its outputs can therefore be computed once per (corpus, feature config, backbone, weights) and cached
(:mod:`fdan.features.token_cache`).

Trunk outputs of a batch (:class:`TrunkOutputs`) are what the tokenizers feed their embedding
(projection + positional code + LayerNorm): audio ``(B, Ta, W)`` frequency-averaged trunk maps with
``audio_mask`` (B, Ta), faces ``(B, K, W)`` spatially pooled maps with ``face_mask`` (B, K).
:class:`FromTrunkOutputs` runs the rest of FDAN on them; its outputs equal ``FDAN.forward`` on the
media (same parameters, same dropout draws).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

TRUNK_KEYS = ("audio_feat", "audio_mask", "face_feat", "face_mask")


class FrozenTrunk(nn.Module):
    """Wraps a trunk: parameters without gradient, always in eval mode, forward under ``no_grad``.

    Input and output as the wrapped trunk (``(N, C, H, W)`` -> ``(N, out_channels, H/stride, W/stride)``).
    """

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk.requires_grad_(False).eval()

    @property
    def out_channels(self) -> int:
        return self.trunk.out_channels

    @property
    def stride(self) -> int:
        return self.trunk.stride

    def train(self, mode: bool = True) -> "FrozenTrunk":
        self.training = mode
        self.trunk.eval()  # BatchNorm on running statistics: a row's output never depends on its batch
        return self

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return self.trunk(x)


NOISE_BATCH, NOISE_SIZE = 32, 64


@torch.no_grad()
def calibrate_batchnorm(trunk: nn.Module, in_channels: int) -> None:
    """Set the BatchNorm running statistics of a random trunk from seeded standard-normal inputs.

    ``(NOISE_BATCH, in_channels, NOISE_SIZE, NOISE_SIZE)`` draws from the current RNG (the caller seeds
    it), one forward in training mode with a cumulative average (``momentum=None``). Untrained
    running statistics (mean 0, variance 1) make eval-mode BatchNorm the identity: activations then
    drift in scale layer by layer and the trunk outputs are dominated by one common direction
    (mean/std ≈ 2-3 per channel on the synthetic corpora), from which the layers above did not learn
    at all. With statistics from noise every layer's output is roughly unit-scale, as at the start of
    end-to-end training, yet the trunk stays a function of the seed alone (no corpus data).
    """
    bns = [m for m in trunk.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was = trunk.training
    trunk.train()
    trunk(torch.randn(NOISE_BATCH, in_channels, NOISE_SIZE, NOISE_SIZE))
    trunk.train(was)
    for m in bns:
        m.momentum = 0.1


def freeze_trunks(model: nn.Module) -> nn.Module:
    """Freeze the trunks of an FDAN model in place (see the module doc) and return it.

    With ``weights: none`` the trunks are first re-initialised from ``cfg.trunk_seed`` (face trunk
    from ``trunk_seed``, a separate audio trunk from ``trunk_seed + 1``) and their BatchNorm
    statistics set by :func:`calibrate_batchnorm`; pretrained weights (and their statistics) stay as
    loaded. Idempotent.
    """
    from fdan.model.encoders import build_trunk  # lazy: torchvision, not needed to read token caches

    cfg = model.cfg
    tokenizers = (model.audio_tokens, model.face_tokens)
    if all(isinstance(t.trunk, FrozenTrunk) for t in tokenizers):
        return model
    in_ch = {id(model.face_tokens): 3, id(model.audio_tokens): 3 if cfg.share_backbone else 1}
    wrapped: dict[int, FrozenTrunk] = {}
    for offset, tok in enumerate((model.face_tokens, model.audio_tokens)):
        trunk = tok.trunk
        if id(trunk) not in wrapped:
            if cfg.weights == "none":
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(cfg.trunk_seed + offset)
                    fresh = build_trunk(cfg.backbone, in_ch[id(tok)], "none", cfg.trunk_stages)
                    calibrate_batchnorm(fresh, in_ch[id(tok)])
                trunk.load_state_dict(fresh.state_dict())
            wrapped[id(trunk)] = FrozenTrunk(trunk)
        tok.trunk = wrapped[id(trunk)]
    return model


def trunk_parameter_names(model: nn.Module) -> set[str]:
    """State-dict keys that belong to the trunks (left out of frozen-trunk checkpoints)."""
    net = getattr(model, "net", model)
    prefix = "net." if net is not model else ""
    names = set()
    for tok_name in ("audio_tokens", "face_tokens"):
        for key in getattr(net, tok_name).trunk.state_dict():
            names.add(f"{prefix}{tok_name}.trunk.{key}")
    return names


def trainable_state(model: nn.Module) -> dict[str, Tensor]:
    """``model.state_dict()`` without the frozen trunks' entries (they are rebuilt from the config)."""
    frozen = trunk_parameter_names(model) if _is_frozen(model) else set()
    return {k: v for k, v in model.state_dict().items() if k not in frozen}


def load_trainable_state(model: nn.Module, state: dict[str, Tensor]) -> None:
    """Load a :func:`trainable_state` (or a full state); only frozen trunk entries may be missing."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    frozen = trunk_parameter_names(model) if _is_frozen(model) else set()
    bad = [k for k in missing if k not in frozen]
    if bad or unexpected:
        raise RuntimeError(f"checkpoint does not fit the model: missing {bad[:3]}, unexpected {list(unexpected)[:3]}")


class CachedTrunk(nn.Module):
    """Stands in for a frozen trunk whose outputs come from the token cache: no parameters, never run.

    Keeps the module tree of :class:`FromTrunkOutputs` small: ``model.train()``, dropout switching
    and ``state_dict`` walk every submodule on every step, and a ResNet trunk has hundreds.
    """

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        raise RuntimeError("this model reads cached trunk outputs (FromTrunkOutputs); its trunks are not kept")


def _is_frozen(model: nn.Module) -> bool:
    net = getattr(model, "net", model)
    return isinstance(getattr(getattr(net, "audio_tokens", None), "trunk", None), (FrozenTrunk, CachedTrunk))


@dataclass
class TrunkOutputs:
    """Trunk outputs of B rows: ``audio_feat`` (B, Ta, W), ``audio_mask`` (B, Ta) bool, ``face_feat``
    (B, K, W), ``face_mask`` (B, K) bool."""

    audio_feat: Tensor
    audio_mask: Tensor
    face_feat: Tensor
    face_mask: Tensor


def _embed_input(tokenizer: nn.Module, *args: Tensor | None) -> tuple[Tensor, Tensor]:
    """Run the tokenizer and return (its embedding's input, its mask): the trunk stage, by the model's own code."""
    seen: list[Tensor] = []
    handle = tokenizer.embed.register_forward_hook(lambda _m, inputs, _out: seen.append(inputs[0]))  # (feat, mask)
    try:
        _, mask = tokenizer(*args)
    finally:
        handle.remove()
    return seen[0], mask


@torch.no_grad()
def trunk_outputs(model: nn.Module, mel: Tensor, faces: Tensor, mel_len: Tensor | None = None,
                  face_mask: Tensor | None = None) -> TrunkOutputs:
    """The trunk stage of a frozen FDAN (input normalisation, length buckets, trunk, pooling) on one batch."""
    if not _is_frozen(model):
        raise ValueError("trunk outputs are cacheable only for frozen trunks (model.freeze_backbone: true)")
    audio, a_mask = _embed_input(model.audio_tokens, mel, mel_len)
    face, f_mask = _embed_input(model.face_tokens, faces, face_mask)
    return TrunkOutputs(audio.float(), a_mask, face.float(), f_mask)


class FromTrunkOutputs(nn.Module):
    """FDAN from cached trunk outputs: ``forward(audio_feat, audio_mask, face_feat, face_mask, *, dropout_free)``.

    Holds the FDAN as ``net``, its trunks replaced by :class:`CachedTrunk` (the model is changed in
    place; its state dict has no trunk entries; they need not be frozen first: never run, their
    frozen outputs are in the cache); shapes as :class:`TrunkOutputs`, output an
    ``FDANOutput``. ``fdan.evaluation.evaluate.model_inputs`` passes these keys when a batch carries them, so
    ``fdan.training`` and ``evaluate`` work unchanged on token batches.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if not (_is_frozen(net) or net.cfg.freeze_backbone):
            raise ValueError("FromTrunkOutputs needs a model with frozen trunks (model.freeze_backbone)")
        for tok in (net.audio_tokens, net.face_tokens):
            tok.trunk = CachedTrunk(tok.trunk.out_channels)
        self.net = net
        self.cfg = net.cfg

    def param_groups(self, lr: float, backbone_lr_mult: float = 0.1) -> list[dict]:
        return self.net.param_groups(lr, backbone_lr_mult)

    def forward(self, audio_feat: Tensor | None = None, audio_mask: Tensor | None = None, face_feat: Tensor | None = None,
                face_mask: Tensor | None = None, *, dropout_free: bool = False):
        net = self.net
        audio = (net.audio_tokens.embed(audio_feat, audio_mask), audio_mask) if audio_feat is not None else None
        face = (net.face_tokens.embed(face_feat, face_mask), face_mask) if face_feat is not None else None
        return net.forward_tokens(audio, face, dropout_free=dropout_free)
