"""Dotted command-line overrides (`--set train.epochs=3`) applied to the raw YAML mapping."""
from __future__ import annotations

import copy
from typing import Any

import yaml

from harness.config.errors import ConfigError


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b.c=value` -> (["a", "b", "c"], value parsed as a YAML scalar / flow collection)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE, e.g. --set train.epochs=3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each override set; intermediate mappings are created as needed.

    Keys that themselves contain dots are matched greedily against existing keys; under `search.space`
    the key is always two parts: `search.space.model.attn_heads.values=[2,4]` sets entry `model.attn_heads`.
    Unknown keys are not rejected here: schema validation names them with their full dotted path.
    """
    out = copy.deepcopy(data)
    for item in overrides:
        path, value = parse_override(item)
        node: Any = out
        i = 0
        while True:
            if isinstance(node, list):
                key: Any = _index(node, path[i], path)
                j = i + 1
            else:
                if path[:i] == ["search", "space"]:  # search-space keys are always `section.field`
                    j = min(i + 2, len(path))
                else:
                    j = next((j for j in range(len(path), i, -1) if ".".join(path[i:j]) in node), i + 1)
                key = ".".join(path[i:j])
            if j == len(path):
                node[key] = value
                break
            nxt = node[key] if isinstance(node, list) else node.get(key)
            if nxt is None:
                nxt = node[key] = {}
            elif not isinstance(nxt, (dict, list)):
                raise ConfigError(f"--set {'.'.join(path)}: {'.'.join(path[:j])} is a value, not a section")
            node, i = nxt, j
    return out


def _index(node: list, part: str, path: list[str]) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set {'.'.join(path)}: {part!r} is not an index of a {len(node)}-item list")
    return int(part)
