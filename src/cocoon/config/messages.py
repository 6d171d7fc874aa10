"""Pydantic's validation errors, reworded for a person editing YAML."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from cocoon.config.checks import did_you_mean
from cocoon.config.positions import FieldPath
from cocoon.config.schema import CocoonConfig

_KEY = "[key]"
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_PATTERNS = {
    _ID_PATTERN: "is not a valid name: use lower-case letters, digits and _, from a letter on",
    r"^[a-z_]+\.[a-z0-9_]+$": "is not a Home Assistant entity id like light.sofa",
}
_EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping of names to settings",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "path_type": "a file path",
}
_BOUNDS = {
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "string_too_long": "must be at most {max_length} characters long",
    "string_too_short": "must be at least {min_length} characters long",
}
_MODEL_HINTS = {"LightSetting": ", or on / off"}


def kind_of(value: object) -> str:
    """What a YAML value is, in words: 'a mapping', 'a list', 'text', 'a number'…"""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _unwrap(annotation: Any) -> Any:
    """The type inside Annotated[...] and X | None (the model type of a union of models)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            options = [a for a in get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (models or options)[0]
        else:
            return annotation


def _step(annotation: Any, part: str | int) -> Any:
    """The type of `part` inside a value of type `annotation`; None when unknown."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found = annotation.model_fields.get(str(part))
        return None if found is None else found.annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (list, tuple, set, frozenset) and args:
        return args[0]
    return None


def valid_keys(path: FieldPath) -> list[str]:
    """The keys the section at `path` takes, when it is a model with fixed keys."""
    annotation: Any = CocoonConfig
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _words(class_name: str) -> str:
    """`LightSetting` as `light setting`."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in class_name).strip()


def _shown(value: Any) -> str:
    """A scalar as written: text quoted and cut short, numbers as they are."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return str(value)


def _got(value: Any, show_input: bool) -> str:
    if show_input and isinstance(value, str | int | float) and not isinstance(value, bool):
        return f", not {_shown(value)}"
    return f", not {kind_of(value)}"


def _unknown_key(path: FieldPath, key: str) -> str:
    choices = valid_keys(path)
    hint = did_you_mean(key, choices)
    if hint or not choices:
        return f"unknown key '{key}'{hint}"
    return f"unknown key '{key}' (valid keys: {', '.join(choices)})"


def _strip_prefix(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message


def _model_type(err: ErrorDetails, show_input: bool) -> str:
    name = str(err.get("ctx", {}).get("class_name", ""))
    what = _words(name) if name else "section"
    hint = _MODEL_HINTS.get(name, "")
    return f"expected a {what} (a mapping of keys to values{hint}){_got(err['input'], show_input)}"


def _pattern(err: ErrorDetails, show_input: bool) -> str:
    pattern = str(err.get("ctx", {}).get("pattern", ""))
    shown = _shown(err["input"]) if show_input else "the value"
    return f"{shown} {_PATTERNS.get(pattern, f'does not match the pattern {pattern}')}"


_Rewrite = Callable[[ErrorDetails, bool], str]
_REWRITES: dict[str, _Rewrite] = {
    "model_type": _model_type,
    "model_attributes_type": _model_type,
    "string_pattern_mismatch": _pattern,
    "literal_error": lambda err, show: (
        f"expected one of {err.get('ctx', {}).get('expected', '')}{_got(err['input'], show)}"
    ),
    "value_error": lambda err, _show: _strip_prefix(err["msg"]),
    "assertion_error": lambda err, _show: _strip_prefix(err["msg"]),
}


def _message(err: ErrorDetails, show_input: bool) -> str:
    """What is wrong with a value, naming what was expected."""
    kind = err["type"]
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{_got(err['input'], show_input)}"
    if kind in _BOUNDS:
        # 100, not 100.0: a bound reads as it would be written.
        bounds = {k: f"{v:g}" if isinstance(v, float) else v for k, v in err.get("ctx", {}).items()}
        return _BOUNDS[kind].format(**bounds)
    if kind in _REWRITES:
        return _REWRITES[kind](err, show_input)
    message = _strip_prefix(err["msg"])
    return message[:1].lower() + message[1:]


def describe(err: ErrorDetails, show_input: bool = True) -> tuple[FieldPath, str]:
    """The path a pydantic error is about, and a message naming what was expected.

    `show_input` False keeps the offending value out of the message (it came from a secret).
    """
    loc = tuple(err["loc"])
    kind = err["type"]
    if loc[-1:] == (_KEY,):
        # An invalid key of a mapping: loc ends with the key itself, then "[key]".
        if kind == "string_pattern_mismatch":
            return loc[:-1], _pattern(err, True)
        return loc[:-1], f"the name {_message(err, show_input)}"
    if kind == "missing":
        return loc[:-1], f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc[:-1], str(loc[-1]))
    return loc, _message(err, show_input)
