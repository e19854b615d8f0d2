"""Search-space entries of the experiment YAML and their Ray Tune distributions.

YAML form (keys are dotted fields of the model / train / features sections):

    search:
      space:
        model.attn_heads: {type: choice, values: [2, 4]}
        train.lmmd_weight: {type: loguniform, low: 0.1, high: 10}
        train.bandwidths: {type: choice, values: [null, [0.5, 1, 2]]}

Optuna's categorical distribution only holds scalars, so a choice with a list (or null mixed with
numbers) is searched by index and decoded in the trial (`decode`).
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

_SCALAR = (bool, int, float, str)


class Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["choice", "uniform", "loguniform", "quniform", "randint"]
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    q: float | None = None

    @model_validator(mode="after")
    def _check(self) -> "Distribution":
        if self.type == "choice":
            if not self.values:
                raise ValueError("choice needs a non-empty 'values' list")
            if self.low is not None or self.high is not None or self.q is not None:
                raise ValueError("choice takes only 'values'")
            return self
        if self.values is not None:
            raise ValueError(f"{self.type} takes low/high, not 'values'")
        if self.low is None or self.high is None:
            raise ValueError(f"{self.type} needs 'low' and 'high'")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.type == "loguniform" and self.low <= 0:
            raise ValueError("loguniform needs low > 0")
        if self.type == "quniform" and not self.q:
            raise ValueError("quniform needs 'q'")
        return self

    @property
    def by_index(self) -> bool:
        """True when the choice values are not all plain scalars of one kind (searched by index)."""
        if self.type != "choice":
            return False
        kinds = {type(v) for v in self.values or []}
        return not all(isinstance(v, _SCALAR) for v in self.values or []) or len(kinds) > 1

    def to_tune(self) -> Any:
        from ray import tune

        if self.type == "choice":
            return tune.choice(list(range(len(self.values)))) if self.by_index else tune.choice(list(self.values))
        if self.type == "uniform":
            return tune.uniform(self.low, self.high)
        if self.type == "loguniform":
            return tune.loguniform(self.low, self.high)
        if self.type == "quniform":
            return tune.quniform(self.low, self.high, self.q)
        return tune.randint(int(self.low), int(self.high))

    def candidates(self) -> list[Any]:
        """Values worth validating against the target field (choices, or the bounds)."""
        if self.type == "choice":
            return list(self.values or [])
        if self.type == "randint":
            return [int(self.low), int(self.high) - 1]
        return [self.low, self.high]


SearchSpace = dict[str, Distribution]


def param_name(dotted: str) -> str:
    """Tune key / column name of a searched field: `train.lmmd_weight` -> `lmmd_weight` (leaves are unique)."""
    return dotted.rpartition(".")[2]


def tune_space(space: SearchSpace) -> dict[str, Any]:
    return {param_name(k): d.to_tune() for k, d in space.items()}


def decode(space: SearchSpace, params: dict[str, Any]) -> dict[str, Any]:
    """Sampled Tune values -> {dotted field: config value} (index-searched choices decoded)."""
    out = {}
    for dotted, dist in space.items():
        value = params[param_name(dotted)]
        out[dotted] = dist.values[int(value)] if dist.by_index else value
    return out
