"""The columns said once, and the one JSON conversion."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pydantic

from harness.results.columns import HEADS, METRICS
from harness.results.jsonable import to_jsonable


def test_heads_and_metrics_are_the_libraries():
    from fdan.evaluation.evaluate import HEADS as TRAIN_HEADS

    assert HEADS == TRAIN_HEADS
    assert METRICS == ("war", "uar", "macro_f1")


class Spec(pydantic.BaseModel):
    root: Path
    ratio: float


def test_to_jsonable_turns_run_data_into_json():
    value = {1: (np.int64(3), np.float32(0.5)), "nan": float("nan"), "np_nan": np.float64("nan"),
             "inf": math.inf, "arr": np.arange(3), "set": {2}, "path": Path("/x"), "spec": Spec(root="r", ratio=1)}
    plain = to_jsonable(value)
    assert plain == {"1": [3, 0.5], "nan": None, "np_nan": None, "inf": None, "arr": [0, 1, 2], "set": [2],
                     "path": "/x", "spec": {"root": "r", "ratio": 1.0}}
    assert json.loads(json.dumps(plain, allow_nan=False)) == plain


def test_to_jsonable_can_keep_nan_for_python_readers():
    plain = to_jsonable({"x": np.float32("nan"), "y": [math.inf]}, keep_nan=True)
    assert math.isnan(plain["x"]) and plain["y"] == [math.inf]
