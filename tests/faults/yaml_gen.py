"""Hypothesis strategies for broken `cocoon.yaml` files: a real configuration with random
subtrees swapped in (wrong types, unknown keys, tags, aliases, deep nesting), rendered as
block or flow YAML, then damaged as bytes (tabs, invalid UTF-8, cut lines, CRLF, BOM).

It includes the inputs behind the loader bugs pinned by xfail tests in `test_config_fuzz.py`
(huge numbers, NUL and lone surrogates); that module tolerates exactly those failures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from cocoon.config.schema import CocoonConfig

MQTT_USER = "fuzz-user-7Qx"
MQTT_PASSWORD = "fuzz-password-Zr81kq"
HA_TOKEN = "fuzz-token-eyJhbGciOiJIUzI1NiJ9.Wq3"
SECRET_VALUES = (MQTT_PASSWORD, HA_TOKEN)


@dataclass(frozen=True)
class Raw:
    """Text written into the YAML exactly as it is (plain scalars, aliases, deep flow)."""

    text: str


@dataclass(frozen=True)
class Tag:
    """A tagged scalar: `!secret name`, `!include file`, `!!binary …`."""

    tag: str
    value: str


def _schema_keys() -> list[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(k for k in node.get("properties", {}) if isinstance(k, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(CocoonConfig.model_json_schema())
    return sorted(found)


REAL_KEYS = _schema_keys()

# fmt: off
BASE: dict[str, Any] = {
    "home": {"name": "Fuzz flat", "latitude": 50.85, "longitude": 4.35,
             "timezone": "Europe/Brussels"},
    "mqtt": {"host": "127.0.0.1", "port": 1883, "username": Tag("!secret", "mqtt_user"),
             "password": Tag("!secret", "mqtt_password")},
    "home_assistant": {"url": "http://127.0.0.1:8123", "token": Tag("!secret", "ha_token")},
    "settings": {"grace": "10min", "rate_limit": 10},
    "devices": {
        "sofa": {"zigbee2mqtt": "sofa_lamp"},
        "ceiling": {"entity": "light.ceiling"},
        "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat", "min": 16, "max": 23},
        "soil": {"entity": "sensor.soil"},
    },
    "scenes": {
        "calm": {"lights": {"sofa": {"brightness": 20, "kelvin": 2000}, "ceiling": "off"},
                 "heat": {"heat": "+1"}},
        "evening": Tag("!include", "scene.yaml"),
    },
    "rituals": {
        "evening": {"at": "sunset-30min", "until": "22:30", "scene": "evening", "fade": "45min",
                    "not_before": "18:00"},
        "tea": {"at": "07:15", "duration": "20min", "days": "weekdays", "scene": "calm"},
    },
    "calm_modes": {
        "calm_now": {"scene": "calm", "duration": "45min", "fade": "3min", "button": "Calm now"}
    },
    "plants": {
        "fern": {"moisture": {"sensor": "soil", "below": 25},
                 "cue": {"during": "tea", "light": "sofa"}}
    },
}
# fmt: on
SCENE_FILE = "lights: {sofa: {brightness: 35, kelvin: 2200}}\nheat: {heat: +0.5}\n"


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    return found


PATHS = _paths(BASE)

_PLAIN = [
    "07:15", "25:61", "7:5", "sunset-30min", "sunrise+1h", "dusk - 5 min", "noon+", "20min",
    "0", "-5min", "1h30m", "90s", "1:02:03", "+0.5", "-1", "21", "off", "on", "yes", "NO",
    "~", "null", "true", "weekdays", "weekends", "daily", "mon", "[mon, xyz]", ".inf",
    "-.inf", ".nan", "0x1F", "0o17", "1_000", "1e3", "2026-03-29", "12:30:00",
    "Europe/Brussels", "Mars/Olympus", "UTC", "light.sofa", "climate.x", "sensor.", "ünïcödé",
    "\u202e", "&anchor", "*nowhere", "|", ">", "'", '"', "#", "- -", "{", "[", "}", "]",
    "%YAML 1.1", "---", "...", "@", "`", "? x", "a: b: c", "http://x", "!", "!!", "<<",
    "99999999999999h", "sunset+99999999h",
]  # fmt: skip
_HUGE = ["99999999999999999999h", "sunset+99999999999999999h", "9" * 4400]
_TAG_NAMES = [
    "!secret", "!include", "!nope", "!!str", "!!int", "!!float", "!!binary", "!!timestamp",
    "!!python/name:os.system", "!!set", "!<tag:yaml.org,2002:str>", "!secret ",
]  # fmt: skip
_TAG_VALUES = [
    "mqtt_user", "mqtt_password", "ha_token", "missing_secret", "", "scene.yaml",
    "missing.yaml", "broken.yaml", "cocoon.yaml", "sub", "../outside.yaml", "/nonexistent/x",
    "loop.yaml", "secrets.yaml", "aGVsbG8=", "2026-13-45", "x" * 300,
]  # fmt: skip


def _quoted(text: str) -> Raw:
    # JSON's escapes (\u0000 included) are valid in YAML's double-quoted scalars.
    return Raw(json.dumps(text))


def _nested(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def _nested_map(depth: int) -> Raw:
    return Raw("{a: " * depth + "1" + "}" * depth)


def _deep(choice: tuple[int, int]) -> Raw:
    rare, depth = choice
    depth = depth if rare == 0 else depth % 60 + 1
    return _nested(depth) if depth % 2 else _nested_map(depth // 2 + 1)


def scalars() -> st.SearchStrategy[Any]:
    """One leaf: plain or quoted text, numbers of every size, tags, aliases, deep flow."""
    return st.one_of(
        st.sampled_from(_PLAIN + _HUGE).map(Raw),
        st.text(max_size=40).map(_quoted),
        st.integers(-(10**6), 10**6),
        st.integers(-(10**80), 10**80),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Raw(repr(f))),
        st.booleans(),
        st.none(),
        st.builds(Tag, st.sampled_from(_TAG_NAMES), st.sampled_from([*_TAG_VALUES, "a\0b"])),
        st.builds(Tag, st.sampled_from(_TAG_NAMES), st.text(max_size=12)),
        # Mostly shallow; one in ten deep enough to hit the recursion limit (and slow).
        st.tuples(st.integers(0, 9), st.integers(1, 1500)).map(_deep),
    )


def _keys() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(REAL_KEYS),
        st.sampled_from(["<<", "1", "true", "null", "~", "a b", "-", ":", "", "x" * 70]),
        st.text(max_size=12),
        st.integers(-5, 5),
    )


def values() -> st.SearchStrategy[Any]:
    """A random subtree: scalars, lists and mappings with real and made-up keys."""
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(_keys(), children, max_size=5),
        ),
        max_leaves=25,
    )


def _edit(data: Any, path: tuple[str, ...], op: str, key: Any, value: Any) -> Any:
    """`data` with the node at `path` replaced, deleted, or given an extra key."""
    if not path:
        if op == "add" and isinstance(data, dict):
            return {**data, key: value}
        return value if op == "set" else data
    if not isinstance(data, dict) or path[0] not in data:
        return data
    head, rest = path[0], path[1:]
    if op == "delete" and not rest:
        return {k: v for k, v in data.items() if k != head}
    return {**data, head: _edit(data[head], rest, op, key, value)}


edits = st.lists(
    st.tuples(
        st.sampled_from(PATHS),
        st.sampled_from(["set", "set", "delete", "add"]),
        _keys(),
        values(),
    ),
    max_size=4,
)


def documents() -> st.SearchStrategy[Any]:
    """The real configuration with a few random edits, or a random document altogether."""
    edited = edits.map(lambda changes: _apply(BASE, changes))
    return st.one_of(edited, edited, values())


def _apply(data: Any, changes: list[tuple[tuple[str, ...], str, Any, Any]]) -> Any:
    for path, op, key, value in changes:
        data = _edit(data, path, op, key, value)
    return data


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key(key: Any) -> str:
    if isinstance(key, str) and (key == "<<" or _PLAIN_KEY.fullmatch(key)):
        return key
    return _scalar(key)


def _scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Tag):
        # Unescaped, so a character outside the BMP is not read back as two surrogates.
        return f"{value.tag} {json.dumps(value.value, ensure_ascii=False)}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value if _PLAIN_KEY.fullmatch(value) else json.dumps(value)
    return _flow(value)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else (("-", v) for v in value)
    for key, child in items:
        head = f"{pad}- " if isinstance(value, list) else f"{pad}{_key(key)}:"
        if isinstance(child, dict | list) and child:
            lines.append(head.rstrip())
            lines.extend(_block(child, indent + 2))
        else:
            lines.append(
                f"{head} {_flow(child)}".rstrip() if head.endswith(":") else head + _flow(child)
            )
    return lines


def render(document: Any, flow: bool) -> str:
    """The document as YAML text, in block style (the usual) or all flow."""
    if flow or not isinstance(document, dict | list) or not document:
        return _flow(document) + "\n"
    return "\n".join(_block(document, 0)) + "\n"


_DAMAGE = st.one_of(
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from([b"\t", b"  ", b"\n", b":"])),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from([b"\xff", b"\xc3(", b"\x00"])),
    st.tuples(st.just("insert"), st.floats(0, 1), st.text(max_size=3).map(str.encode)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.integers(1, 20)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.none()),
    st.tuples(st.just("crlf"), st.just(0.0), st.none()),
    st.tuples(st.just("bom"), st.just(0.0), st.none()),
    st.tuples(st.just("tabs"), st.just(0.0), st.none()),
)


def damage(text: bytes, changes: list[tuple[str, float, Any]]) -> bytes:
    """`text` with byte-level damage applied, in order."""
    for kind, where, what in changes:
        at = int(where * len(text))
        if kind == "insert":
            text = text[:at] + what + text[at:]
        elif kind == "cut":
            text = text[:at] + text[at + what :]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "crlf":
            text = text.replace(b"\n", b"\r\n")
        elif kind == "bom":
            text = b"\xef\xbb\xbf" + text
        elif kind == "tabs":
            text = text.replace(b"  ", b"\t")
    return text


damages = st.lists(_DAMAGE, max_size=3)

SECRETS_FILES = [
    f"mqtt_user: {MQTT_USER}\nmqtt_password: {MQTT_PASSWORD}\nha_token: {HA_TOKEN}\n".encode(),
    b"",
    b"- just\n- a list\n",
    b"mqtt_password: !secret mqtt_password\n",
    b"ha_token: [unclosed\n",
    b"\xff\xfe not utf-8\n",
    None,  # no secrets file at all
]


@dataclass(frozen=True)
class Case:
    """One generated configuration directory's files."""

    main: bytes
    secrets: bytes | None


cases = st.builds(
    lambda doc, flow, broken, secrets: Case(damage(render(doc, flow).encode(), broken), secrets),
    documents(),
    st.booleans(),
    damages,
    st.sampled_from(SECRETS_FILES),
)
