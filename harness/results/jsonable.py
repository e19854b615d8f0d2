"""The one conversion of run data (numpy scalars and arrays, paths, tuples, sets, pydantic models, NaN)
into JSON/YAML-safe Python values, done by pydantic's serializer."""
from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python


def _unknown(value: Any) -> Any:
    """numpy scalars and arrays (``.tolist()``); anything else pydantic cannot serialise becomes its text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def to_jsonable(value: Any, *, keep_nan: bool = False) -> Any:
    """``value`` as plain JSON data: containers recursively, dict keys as text, NaN and ±inf as None.

    ``keep_nan`` keeps NaN and ±inf as floats (``json.dumps`` writes ``NaN``), for files only Python reads
    back, where a missing number must stay a float NaN (the per-unit summaries a resumed run reloads).
    """
    return to_jsonable_python(value, fallback=_unknown, inf_nan_mode="constants" if keep_nan else "null")
