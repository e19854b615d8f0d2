"""Dotted config fields (`train.lmmd_weight`, `model.attn_heads`): the one place a dotted value is applied.

Search spaces, variants, `search.seeds` re-runs and the trials' sampled values all name model / train
fields this way; :func:`with_values` writes such values into the sections and validates each changed
section again, so its own checks (e.g. `attn_dim` divisible by `attn_heads`) run on the combined values.
"""
from __future__ import annotations

from typing import Any, Mapping, TypeVar

from pydantic import BaseModel

Section = TypeVar("Section", bound=BaseModel)


def by_section(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"train.lr": 0.1, "model.attn_heads": 2}`` -> ``{"train": {"lr": 0.1}, "model": {"attn_heads": 2}}``."""
    out: dict[str, dict[str, Any]] = {}
    for dotted, value in values.items():
        section, _, field = dotted.partition(".")
        out.setdefault(section, {})[field] = value
    return out


def with_values(sections: Mapping[str, Section], values: Mapping[str, Any]) -> dict[str, Section]:
    """The sections that ``values`` (dotted fields) change, each with them set and validated again
    (pydantic ``ValidationError`` for an invalid combination); sections not named are left out."""
    return {name: type(sections[name]).model_validate({**sections[name].model_dump(), **updates})
            for name, updates in by_section(values).items()}
