"""`ConfigError` and how pydantic validation errors become one message naming the dotted field."""
from __future__ import annotations

from pydantic import ValidationError
from harness.errors import InputError


class ConfigError(InputError, ValueError):
    """An invalid experiment config; the message names the dotted field path. The CLI exits with code 2."""


def format_validation_error(exc: ValidationError) -> str:
    """`train.epochs: Input should be a valid integer (got 'x'); ...` - one clause per error."""
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
        got = err.get("input")
        shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{loc or '<root>'}: {msg}{shown}")
    return "; ".join(lines)
