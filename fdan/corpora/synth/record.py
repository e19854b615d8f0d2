"""corpus.json: how a synthetic corpus was made, and whether an existing one matches a recipe.

`corpus_record` builds the JSON object `generate` writes (the key order is part of the bytes: a
corpus made before the variant fields existed gets the same corpus.json). `differences` compares a
corpus on disk with the record a recipe would write, so a caller that reuses a generated corpus can
refuse one made from other settings instead of silently using it.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fdan.corpora.synth import layout
from fdan.corpora.synth.conditions import Conditions
from fdan.corpora.synth.profiles import EMOTIONS
from fdan.corpora.synth.shift import CueShift

# Filled in from the clips and speakers actually drawn, not part of a recipe.
_DERIVED = ("n_clips", "speaker_profiles")


def speaker_ids(cond: Conditions, n: int) -> list[str]:
    """`<prefix><NN>` for speakers 1..n."""
    return [f"{cond.speaker_prefix}{i + 1:02d}" for i in range(n)]


def corpus_record(cond: Conditions, seed: int, speakers: int, clips_per_emotion: int, *, base: str,
                  shift: CueShift | None = None, emotion_clips: dict[str, int] | None = None,
                  n_clips: int | None = None, speaker_profiles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """corpus.json's object. `base` (the named conditions the corpus was drawn from), `shift` and
    `emotion_clips` are written only when they make the corpus a variant (name, shift or label shift)."""
    meta: dict[str, Any] = {
        "family": layout.FAMILY, "corpus": cond.name, "seed": seed, "version": layout.VERSION,
        "description": cond.description, "speakers": speaker_ids(cond, speakers),
        "clips_per_emotion": clips_per_emotion, "emotions": list(EMOTIONS), "n_clips": n_clips,
        "audio_store": cond.audio_store, "conditions": asdict(cond),
    }
    if base != cond.name:
        meta["base"] = base
    if shift is not None:
        meta["shift"] = shift.record()
    if emotion_clips:
        meta["emotion_clips"] = {e: int(emotion_clips[e]) for e in EMOTIONS if e in emotion_clips}
    if speaker_profiles is not None:
        meta["speaker_profiles"] = speaker_profiles
    return meta


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out or {prefix.rstrip("."): {}}
    return {prefix.rstrip("."): value}


def differences(root: Path | str, expected: dict[str, Any]) -> list[str]:
    """'field: on disk X, asked Y' for every recipe field in which ROOT/corpus.json differs from `expected`.

    A root without a readable corpus.json gives one line saying so. Derived fields (clip count,
    speaker profiles) are not compared.
    """
    path = Path(root) / layout.CORPUS_JSON
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{layout.CORPUS_JSON}: cannot be read ({exc})"]
    want = json.loads(json.dumps({k: v for k, v in expected.items() if k not in _DERIVED}))  # tuples -> lists
    have = {k: v for k, v in recorded.items() if k not in _DERIVED} if isinstance(recorded, dict) else {}
    flat_want, flat_have = _flat(want), _flat(have)
    missing = object()
    out = []
    for key in sorted(set(flat_want) | set(flat_have)):
        a, b = flat_have.get(key, missing), flat_want.get(key, missing)
        if a != b:
            out.append(f"{key}: on disk {'(absent)' if a is missing else json.dumps(a)}, "
                       f"asked {'(absent)' if b is missing else json.dumps(b)}")
    return out
