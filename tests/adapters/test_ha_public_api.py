"""The Home Assistant adapter uses libraries through their public interface only.

A private member (`client._async_recv()`, `client.__aenter__()` called by hand, a
module under `_async`) may change in any release of the library; the adapter's
modules are read as syntax trees and every such touch is named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ADAPTERS = Path(__file__).parents[2] / "src" / "cocoon" / "adapters"
MODULES = sorted([ADAPTERS / "home_assistant.py", *ADAPTERS.glob("ha_*.py")])
# Attributes of the language itself, not of a library: exception chains and type names.
LANGUAGE = frozenset({"__cause__", "__context__", "__traceback__", "__name__", "__qualname__"})
OWN = frozenset({"self", "cls"})


def private_touches(source: str) -> list[str]:
    """Each place where `source` reaches a member or module that is not public."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            mine = isinstance(node.value, ast.Name) and node.value.id in OWN
            if not mine and node.attr not in LANGUAGE:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and _names_private(node):
            found.append(f"line {node.lineno}: getattr(…, {ast.unparse(node.args[1])})")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "__future__" and not node.module.startswith("cocoon"):
                parts = node.module.split(".") + [alias.name for alias in node.names]
                found += [f"line {node.lineno}: {part}" for part in parts if part.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if any(part.startswith("_") for part in alias.name.split("."))
            ]
    return found


def _names_private(call: ast.Call) -> bool:
    if not (isinstance(call.func, ast.Name) and call.func.id in ("getattr", "setattr")):
        return False
    name = call.args[1] if len(call.args) > 1 else None
    return isinstance(name, ast.Constant) and str(name.value).startswith("_")


def test_the_adapter_is_the_gateway_the_hub_the_link_the_wire_and_the_mapping() -> None:
    assert [module.name for module in MODULES] == [
        "ha_hub.py",
        "ha_link.py",
        "ha_mapping.py",
        "ha_wire.py",
        "home_assistant.py",
    ]


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_the_home_assistant_adapter_touches_no_private_member_of_a_library(
    module: Path,
) -> None:
    assert private_touches(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("message = await client._async_recv()", "._async_recv"),
        ("ident = self._client._request_id()", "._request_id"),
        ("await client.__aenter__()", ".__aenter__"),
        ("value = getattr(client, '_id_counter')", "getattr(…, '_id_counter')"),
        ("from niquests._async import AsyncSession", "_async"),
        ("from homeassistant_api.errors import _Hidden", "_Hidden"),
        ("import urllib3_future._collections", "import urllib3_future._collections"),
    ],
)
def test_the_check_names_each_kind_of_private_touch(source: str, named: str) -> None:
    touches = private_touches(source)
    assert len(touches) == 1
    assert touches[0].endswith(named)


def test_the_check_lets_own_members_and_exception_chains_pass() -> None:
    source = (
        "self._waiting.pop(ident)\n"
        "current = exc.__cause__ or exc.__context__\n"
        "kind = type(exc).__name__\n"
        "from cocoon.adapters.ha_mapping import UNAVAILABLE\n"
    )
    assert private_touches(source) == []
