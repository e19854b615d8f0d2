"""Command-line options generated from `fdan.config.FeatureConfig`: one `--kebab-name` per field, its help
and default taken from the model, so a new feature field is an option with no edit here.

`with_feature_options(command)` gives `command` those options; it receives the ones the user set as
`feature_overrides: dict[str, Any]` (field name -> value, validated later by FeatureConfig itself).
"""
from __future__ import annotations

import functools
import inspect
import typing
from typing import Any, Callable, Literal, Optional

import typer
from pydantic.fields import FieldInfo

from fdan.config import FeatureConfig

OVERRIDES_PARAM = "feature_overrides"


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _option_type(info: FieldInfo) -> type:
    """The CLI type of a field: its scalar type; a Literal or union becomes str / its scalar part (pydantic
    checks the value afterwards, with its own message)."""
    annotation = info.annotation
    if typing.get_origin(annotation) is Literal:
        return str
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def _help(name: str, info: FieldInfo) -> str:
    default = info.get_default(call_default_factory=True)
    choices = typing.get_args(info.annotation) if typing.get_origin(info.annotation) is Literal else ()
    parts = [info.description or name.replace("_", " ")]
    if choices:
        parts.append(" | ".join(map(str, choices)))
    parts.append(f"default {default}")
    return "; ".join(parts)


def feature_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per FeatureConfig field, default None (= not set on the command line)."""
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[_option_type(info)],
                              default=typer.Option(None, option_name(name), help=_help(name, info),
                                                   rich_help_panel="Feature options (fdan.config.FeatureConfig)"))
            for name, info in FeatureConfig.model_fields.items()]


def with_feature_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with the generated feature options; it gets the set ones as ``feature_overrides``."""
    signature = inspect.signature(command)
    own = [p for name, p in signature.parameters.items() if name != OVERRIDES_PARAM]
    generated = feature_parameters()
    fields = {p.name for p in generated}

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in fields}
        return command(**kwargs, **{OVERRIDES_PARAM: {k: v for k, v in overrides.items() if v is not None}})

    hints = typing.get_type_hints(command)
    wrapper.__signature__ = signature.replace(parameters=[*own, *generated])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**{k: v for k, v in hints.items() if k != OVERRIDES_PARAM},
                               **{p.name: p.annotation for p in generated}}
    del wrapper.__wrapped__  # typer must read the new signature, not the wrapped function's
    return wrapper
