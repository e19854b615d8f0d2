"""Alignment methods and their registry: ``create_method("dann", feature_dim=256)``.

| name | loss term (before α) | target probabilities | parameters | scopes |
|---|---|---|---|---|
| ``fdan`` | λ(p)·LMMD with one-hot *true* target labels (public FDAN code) | no (paired rows) | no | modalities |
| ``source_only`` | 0 | no | no | both |
| ``dsan`` | λ(p)·LMMD with predicted target weights | yes | no | both |
| ``mmd`` | λ(p)·multi-kernel MMD² | no | no | both |
| ``coral`` | λ(p)·‖C_S − C_T‖²_F / 4d² | no | no | both |
| ``dann`` | domain BCE through a gradient reversal of λ(p) | no | yes | both |
| ``adabn`` | 0; BatchNorm statistics re-estimated on the target corpus before evaluation | no | no | corpora |

Every method is an :class:`AlignmentMethod` (an ``nn.Module``) called as
``method(source_feat, target_feat, source_label, target_prob, progress=p)``; see :mod:`.base`.
"""
from __future__ import annotations

import inspect

from fdan.alignment.methods.adabn import AdaBN
from fdan.alignment.methods.base import SCOPES, AlignmentMethod, KernelMethod, Scope
from fdan.alignment.methods.coral import CORAL
from fdan.alignment.methods.dann import DANN
from fdan.alignment.methods.dsan import DSAN
from fdan.alignment.methods.fdan import FDANAlignment
from fdan.alignment.methods.mmd import MMD
from fdan.alignment.methods.source_only import SourceOnly

__all__ = [
    "AlignmentMethod", "KernelMethod", "Scope", "SCOPES",
    "SourceOnly", "AdaBN", "MMD", "CORAL", "DANN", "DSAN", "FDANAlignment",
    "create_method", "list_methods", "method_class", "method_options", "corpus_method_name",
]

_METHODS: dict[str, type[AlignmentMethod]] = {
    cls.name: cls for cls in (FDANAlignment, SourceOnly, DSAN, MMD, CORAL, DANN, AdaBN)
}
# A method whose weights need target labels is replaced at corpus level by its unlabelled counterpart.
_CORPUS_COUNTERPART = {"fdan": "dsan"}


def list_methods() -> list[str]:
    """Registered method names, ``fdan`` first (the default), then alphabetical."""
    return ["fdan", *sorted(n for n in _METHODS if n != "fdan")]


def method_class(name: str) -> type[AlignmentMethod]:
    if name not in _METHODS:
        raise ValueError(f"unknown alignment method {name!r}; known: {', '.join(list_methods())}")
    return _METHODS[name]


def method_options(name: str) -> list[str]:
    """The keyword options ``create_method(name, ...)`` accepts (its class's and its bases')."""
    options: list[str] = []
    for cls in method_class(name).__mro__:
        if "__init__" not in vars(cls) or not issubclass(cls, AlignmentMethod):
            continue
        for p in inspect.signature(vars(cls)["__init__"]).parameters.values():
            if p.kind is p.KEYWORD_ONLY and p.name not in options:
                options.append(p.name)
    return options


def corpus_method_name(name: str) -> str:
    """The method to use between source and target corpus for a run whose method is ``name``."""
    method_class(name)
    return _CORPUS_COUNTERPART.get(name, name)


def create_method(name: str, *, scope: Scope | None = None, **cfg: object) -> AlignmentMethod:
    """Build method ``name`` from its options (:func:`method_options`).

    Args:
        scope: ``"modalities"`` or ``"corpora"`` if the caller wants the method checked for that use
            (``fdan`` is refused for ``"corpora"``: use :func:`corpus_method_name`).
        cfg: options, e.g. ``feature_dim`` (required by ``dann``), ``num_classes`` (``fdan``),
            ``ramp_gamma``, kernel options for ``mmd``/``dsan``/``fdan``, ``hidden_dim`` for ``dann``.

    Raises:
        ValueError: unknown method or option, or a scope the method does not support.
    """
    cls = method_class(name)
    if scope is not None:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if scope not in cls.scopes:
            hint = f"; use {_CORPUS_COUNTERPART[name]!r} there" if name in _CORPUS_COUNTERPART else ""
            raise ValueError(f"alignment method {name!r} does not apply between {scope}{hint}")
    known = method_options(name)
    unknown = sorted(set(cfg) - set(known))
    if unknown:
        raise ValueError(f"alignment method {name!r} has no option(s) {unknown}; it takes {known}")
    return cls(**cfg)
