"""The alignment terms of one training run, chosen by ``train.method`` (fdan.alignment.methods):

    L = CE terms + α · A_mod(h_a, h_f; y, P_f, q) + β · A_corp(z_s, z_t; y, P_t, q)

``A_mod`` aligns the audio features ``h_a`` (source) with the face features ``h_f`` (target) of the
same utterances (``model.align`` says which pair: the unimodal or the attended features),
``A_corp`` (cross-corpus runs only) the source corpus' fused features ``z_s`` with the unlabelled
target corpus' ``z_t``; ``α = lmmd_weight``, ``β = cross_corpus_lmmd_weight``. Each method applies its
own ramp ``λ(q) = 2/(1+exp(−γq)) − 1`` (``γ = lmmd_gamma``) to its divergence (DANN: to its gradient
reversal), on the warm-up-shifted progress ``q = max(0, p − w)/(1 − w)`` (``w = lmmd_warmup``), so
the product equals ``fdan.training.schedule.lambda_ramp(p, γ, w)`` — the caller must not ramp again.

Which method per scope:
- modalities: ``train.method``; ``fdan`` with ``lmmd_target_weights: predictions`` is ``dsan``
  (face-head probabilities ``P_f`` instead of the true labels).
- corpora: ``fdan.alignment.methods.corpus_method_name(method)``: ``fdan`` → ``dsan`` (target labels are never
  read; ``P_t`` = softmax of the target's fused logits), every other method itself.
- ``source_only``, ``adabn``: no term at either scope (adabn re-estimates BatchNorm statistics on the target
  corpus before evaluation: fdan.training.target_statistics).
A single-modality model (one head) has no modality term; its corpus term aligns that head's feature.

An :class:`Alignment` is an ``nn.Module``: DANN's discriminators are parameters. ``attach_alignment``
makes it a submodule of the FDAN network (``<net>.alignment``), so the optimizer, ``.to(device)``,
DDP and the checkpoint take it with the model; ``without_alignment(state)`` drops it from a state
dict for evaluation-only models.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from fdan.alignment.scale import term_gain
from fdan.alignment.methods import AlignmentMethod, KernelMethod, corpus_method_name, create_method, method_class
from fdan.config import TrainConfig
from fdan.training.distributed import gather_rows

__all__ = ["Alignment", "attach_alignment", "run_scopes", "alignment_of", "without_alignment", "unread_fields",
           "ALIGNMENT_KEY", "ALIGNMENT_FIELDS"]

ALIGNMENT_KEY = "alignment"
_LMMD_METHODS = ("fdan", "dsan")
SCOPE_NAMES = ("modal", "corpus")


def _build(name: str, scope: str, cfg: TrainConfig, feature_dim: int, num_classes: int) -> AlignmentMethod | None:
    if not method_class(name).has_term:  # source_only, adabn
        return None
    opts: dict[str, Any] = {"feature_dim": feature_dim, "num_classes": num_classes, "ramp_gamma": cfg.lmmd_gamma}
    if issubclass(method_class(name), KernelMethod):
        opts.update(kernel_mul=cfg.kernel_mul, kernel_num=cfg.kernel_num, fix_sigma=cfg.fix_sigma, bandwidths=cfg.bandwidths)
    return create_method(name, scope=scope, **opts)  # type: ignore[arg-type]


def _part_name(name: str, scope: str) -> str:
    """Loss-part key of a term: ``lmmd_modal`` / ``lmmd_corpus`` for LMMD methods, else ``<method>_<scope>``."""
    return f"{'lmmd' if name in _LMMD_METHODS else name}_{scope}"


class Alignment(nn.Module):
    """Both alignment terms of a run (module docstring); ``modal`` / ``corpus`` are None where there is none."""

    def __init__(self, cfg: TrainConfig, feature_dim: int, num_classes: int, scopes: tuple[str, ...] = SCOPE_NAMES) -> None:
        super().__init__()
        method = getattr(cfg, "method", "fdan")
        modal = "dsan" if method == "fdan" and cfg.lmmd_target_weights == "predictions" else method
        self.method, self.scopes = method, tuple(scopes)
        # a term the run never computes is not built: DDP needs a gradient for every trainable parameter
        self.modal = _build(modal, "modalities", cfg, feature_dim, num_classes) if "modal" in scopes else None
        self.corpus = _build(corpus_method_name(method), "corpora", cfg, feature_dim, num_classes) if "corpus" in scopes else None
        self.warmup = float(cfg.lmmd_warmup)
        self.scale_invariant = bool(cfg.lmmd_scale_invariant)  # fdan.alignment.scale: same rule, gains
        self.gather = bool(getattr(cfg, "gather_alignment", True))  # fdan.training.distributed: all ranks' rows

    def has_parameters(self) -> bool:
        """Whether a method has trainable parameters (DANN's discriminator)."""
        return any(p.requires_grad for p in self.parameters())

    def progress(self, p: float) -> float:
        """The warm-up-shifted progress ``q`` the methods ramp on."""
        return max(0.0, float(p) - self.warmup) / (1.0 - self.warmup)

    def term(self, scope: str, source: Tensor, target: Tensor, label: Tensor, target_prob: Tensor | None,
             progress: float) -> tuple[Tensor, str, Tensor] | None:
        """``(scheduled term, part name, raw divergence)`` of ``scope`` ("modal" / "corpus"), or None.

        The raw (unscheduled, detached) divergence is what the loss parts report, so that
        ``total = CE + α · g · λ(p) · part`` for the discrepancy methods (DANN: ``part`` = the domain loss;
        ``g`` the method's gain, fdan.alignment.scale.term_gain)."""
        method: AlignmentMethod | None = getattr(self, scope)
        if method is None:
            return None
        prob = target_prob if method.needs_target_prob else None
        if self.gather:  # several DDP ranks: the term of the global batch (identity in one process)
            source, target, label = gather_rows(source), gather_rows(target), gather_rows(label)
            prob = None if prob is None else gather_rows(prob)
        scheduled = method(source, target, label, prob, progress=self.progress(progress))
        with torch.no_grad(), torch.autocast(device_type=source.device.type, enabled=False):
            raw = method.divergence(source.detach().float(), target.detach().float(), label,
                                    None if prob is None else prob.detach().float())
        return scheduled.float() * term_gain(method.name, self.scale_invariant), _part_name(method.name, scope), raw.float()


ALIGNMENT_FIELDS = ("lmmd_weight", "cross_corpus_lmmd_weight", "lmmd_target_weights", "lmmd_gamma", "lmmd_warmup",
                    "lmmd_scale_invariant", "gather_alignment", "kernel_mul", "kernel_num", "fix_sigma", "bandwidths")
_KERNEL_FIELDS = ("kernel_mul", "kernel_num", "fix_sigma", "bandwidths")


def unread_fields(cfg: TrainConfig, *, two_modalities: bool, reads_target_rows: bool) -> frozenset[str]:
    """The alignment fields of ``cfg`` (:data:`ALIGNMENT_FIELDS`) that a run never reads, so that changing them
    cannot change the run: the weight of a term the run does not have (no modality term for ``source_only`` /
    ``adabn`` or one modality; no corpus term without target rows or for those methods), the ramp, warm-up and scale rule
    when it has no term at all, the kernel's bandwidths when no term is a kernel method, ``lmmd_target_weights``
    unless the modality term is ``fdan``'s. ``reads_target_rows``: the run is given unlabelled target rows
    (a cross-corpus unit; the corpus term then exists by its method alone, as :class:`Alignment` builds it)."""
    method = cfg.method
    modal = "dsan" if method == "fdan" and cfg.lmmd_target_weights == "predictions" else method
    has_modal = two_modalities and method_class(method).has_term
    has_corpus = reads_target_rows and method_class(corpus_method_name(method)).has_term
    terms = [modal] * has_modal + [corpus_method_name(method)] * has_corpus
    read: set[str] = set()
    if has_modal:
        read |= {"lmmd_weight", "lmmd_target_weights"} if method == "fdan" else {"lmmd_weight"}
    if has_corpus:
        read.add("cross_corpus_lmmd_weight")
    if terms:
        read |= {"lmmd_gamma", "lmmd_warmup", "lmmd_scale_invariant", "gather_alignment"}
    if any(issubclass(method_class(t), KernelMethod) for t in terms):
        read |= set(_KERNEL_FIELDS)
    return frozenset(ALIGNMENT_FIELDS) - read


def _fdan_net(model: nn.Module) -> nn.Module:
    """The FDAN network inside DDP (``module``) and frozen-trunk (``net``) wrappers."""
    model = getattr(model, "module", model)
    while isinstance(getattr(model, "net", None), nn.Module):
        model = model.net
    return model


def run_scopes(model: nn.Module, reads_target: bool) -> tuple[str, ...]:
    """The terms a run computes: ``modal`` with two modalities (``fdan.model.modalities``), ``corpus`` when
    it reads target batches (``fdan.training.target_use``)."""
    modalities = getattr(getattr(model, "module", model), "modalities", ("audio", "face"))
    return tuple(s for s, used in (("modal", len(modalities) == 2), ("corpus", reads_target)) if used)


def attach_alignment(model: nn.Module, cfg: TrainConfig, scopes: tuple[str, ...] = SCOPE_NAMES) -> Alignment:
    """Build the run's :class:`Alignment` and register it as ``<FDAN net>.alignment`` (before the optimizer
    is built, so DANN's discriminators are optimised); returns it. ``scopes``: the terms the run computes
    (``modal`` needs two modalities, ``corpus`` a target corpus); the others are not built. An alignment
    already attached for the same method and scopes is kept (calling twice is harmless)."""
    net = _fdan_net(model)
    attached = getattr(net, ALIGNMENT_KEY, None)
    if isinstance(attached, Alignment) and (attached.method, attached.scopes) == (getattr(cfg, "method", "fdan"), tuple(scopes)):
        return attached
    align = Alignment(cfg, int(net.cfg.adapt_dim), int(net.cfg.num_classes), tuple(scopes))
    device = next(net.parameters()).device
    net.add_module(ALIGNMENT_KEY, align.to(device))
    return align


def alignment_of(model: nn.Module, cfg: TrainConfig) -> Alignment:
    """The attached alignment; for a model without one, a parameter-free one built from ``cfg`` (a few small
    modules, built per call rather than kept in a process-wide cache).

    A method with parameters (DANN) must be attached (:func:`attach_alignment`), else its discriminator
    would never be optimised: ValueError."""
    net = _fdan_net(model)
    attached = getattr(net, ALIGNMENT_KEY, None)
    if isinstance(attached, Alignment):
        return attached
    align = Alignment(cfg, int(net.cfg.adapt_dim), int(net.cfg.num_classes))
    if align.has_parameters():
        raise ValueError(f"train.method {cfg.method!r} has parameters: call fdan.alignment.scopes.attach_alignment(model, cfg) "
                         "before building the optimizer")
    return align.to(next(net.parameters()).device)


def without_alignment(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A model state dict without the alignment entries (``…alignment.…``), for evaluation-only models."""
    return {k: v for k, v in state.items() if ALIGNMENT_KEY not in k.split(".")}
