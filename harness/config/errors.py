"""`ConfigError`, how pydantic validation errors become one message naming the dotted field, and the
"did you mean" suggestions for misspelt field, corpus and importer names (difflib)."""
from __future__ import annotations

import difflib
import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from harness.errors import InputError


class ConfigError(InputError, ValueError):
    """An invalid experiment config; the message names the dotted field path. The CLI exits with code 2."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`; did you mean 'epochs'?` for the closest of ``choices`` (difflib ratio >= 0.6), else ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (directly, or inside Optional / list / dict values), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def section_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the section at ``loc`` (a validation error's location, without the bad key) below
    ``model``: list indices and dict keys (``corpora.<name>``) are stepped over. [] when unknown."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, str) and part in current.model_fields:
            current = _model_in(current.model_fields[part].annotation)
        # an index or a dict key: the same model holds the entries
    return list(current.model_fields) if current is not None else []


def format_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """`train.epochs: Input should be a valid integer (got 'x'); ...` - one clause per error. With
    ``model`` (the validated class) an unknown field gets the closest known name of its section."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, [") and "] " in msg:  # a cross-field error that names its own path
            inner = msg[len("Value error, "):]
            loc, msg = inner[1:inner.index("]")], inner[inner.index("]") + 2:]
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
            if model is not None and err["loc"]:
                msg += did_you_mean(str(err["loc"][-1]), section_fields(model, tuple(err["loc"][:-1])))
        got = err.get("input")
        shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{loc or '<root>'}: {msg}{shown}")
    return "; ".join(lines)
