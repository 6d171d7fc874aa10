"""YAML files to plain Python values, remembering where every setting was written.

Handles `!secret NAME` (from `secrets.yaml` next to the main file), `!include FILE`
(relative to the including file) and merge keys (`<<: *base`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

from cocoon.config.checks import did_you_mean
from cocoon.config.positions import Document, FieldPath, Position, render_path
from cocoon.errors import ConfigError, Located

_LOGGER = logging.getLogger(__name__)

SECRETS_FILE = "secrets.yaml"
_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"
_MAX_VALUES = 100_000
_PLAIN_INT = re.compile(r"0|[1-9][0-9]*")
_PLAIN_FLOAT = re.compile(r"[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?")
_BOOLEANS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


class _Loader(yaml.SafeLoader):
    """The safe loader; we only compose with it and build Python values ourselves."""


class _Unreadable(Exception):
    """A file that cannot be read as text; the message says why."""


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _Unreadable("no such file") from None
    except IsADirectoryError:
        raise _Unreadable("it is a directory, not a file") from None
    except PermissionError:
        raise _Unreadable("permission denied") from None
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _Unreadable(f"not UTF-8 text (line {line})") from None


def _compose(text: str, name: str) -> yaml.Node | None:
    """The node tree of `text`; None when it holds no document. Raises ConfigError."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = ": ".join(part for part in (exc.context, exc.problem) if part)
        if "'\\t'" in what:
            what += " (indent with spaces, not tabs)"
        # Our own rendering: str(exc) quotes a snippet of the line, which may hold a secret.
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ConfigError.at(name, f"YAML syntax error: {what}", line=line, column=column) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError.at(name, f"YAML cannot read this file: {exc.reason}", line=line) from None


# Longer numbers stay text (and are refused where a number is expected): Python will
# not read more than 4300 digits, and no setting needs 20.
_LONGEST_INT = 20


def _scalar_value(kind: str, text: str) -> object:
    # YAML 1.1 reads too much into plain scalars. Only unsigned decimal numbers become
    # numbers: `22:30` (base 60), `0x00158d00…` (a Zigbee address) and `+0.5` (a relative
    # setpoint, where the sign matters) stay text, which pydantic still reads as a number
    # wherever a number is expected.
    if kind == "null":
        return None
    if kind == "bool":
        return _BOOLEANS.get(text.lower(), text)
    if kind == "int" and _PLAIN_INT.fullmatch(text) and len(text) <= _LONGEST_INT:
        return int(text)
    if kind == "float" and _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    return text


def _position(node: yaml.Node, file: str) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Reader:
    """Converts node trees to values; collects problems instead of stopping at the first."""

    def __init__(self, secrets_file: Path | None) -> None:
        # None where secrets are not allowed: in the secrets file itself.
        self.secrets_file = secrets_file
        self.positions: dict[FieldPath, Position] = {}
        self.problems: list[Located] = []
        self.secret_values: set[str] = set()
        self.secret_paths: set[FieldPath] = set()
        self._secrets: dict[str, object] | None = None
        self._secrets_unreadable: str | None = None
        self._secrets_failed = False
        self._including: list[Path] = []
        # A file included in many places (a site's shared scenes) is parsed once.
        self._composed: dict[Path, yaml.Node | None] = {}
        self._active: set[int] = set()
        self._count = 0

    def read_root(self, root: yaml.Node, path: Path) -> object:
        """The value of the main file's document `root`."""
        self.positions[()] = _position(root, str(path))
        self._including.append(path.resolve())
        return self.convert(root, (), str(path))

    def problem(self, at: Position, path: FieldPath, message: str) -> None:
        """Record a problem at a position."""
        self.problems.append(Located(at.file, at.line, at.column, render_path(path), message))

    def convert(self, node: yaml.Node, path: FieldPath, file: str) -> object:
        """The plain Python value of `node`, recording positions below `path`."""
        self._count += 1
        if self._count > _MAX_VALUES:
            raise ConfigError.at(
                file,
                f"more than {_MAX_VALUES} values once aliases are expanded",
            )
        if id(node) in self._active:
            self.problem(_position(node, file), path, "an alias refers to the value it is in")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path, file)
        tag = node.tag
        if tag not in (_CORE + "map", _CORE + "seq"):
            self.problem(_position(node, file), path, f"unsupported tag {tag} on a collection")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, file)
            items: list[object] = []
            for index, child in enumerate(node.value):
                self.positions[(*path, index)] = _position(child, file)
                items.append(self.convert(child, (*path, index), file))
            return items
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, file: str) -> dict[str, object]:
        result: dict[str, object] = {}
        merges = [value for key, value in node.value if key.tag == _MERGE]
        # Earlier merged mappings win over later ones, and explicit keys over all of them.
        for source in reversed(merges):
            sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
            for each in reversed(sources):
                merged = self.convert(each, path, file)
                if isinstance(merged, dict):
                    result.update(merged)
                else:
                    self.problem(
                        _position(each, file), path, "<< merges a mapping or a list of mappings"
                    )
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            at = _position(key_node, file)
            if not isinstance(key_node, yaml.ScalarNode) or not key_node.tag.startswith(_CORE):
                self.problem(at, path, "a key must be a plain name")
                continue
            key = str(key_node.value)
            if key in first_seen:
                message = f"'{key}' is given twice (first on line {first_seen[key]})"
                self.problem(at, (*path, key), message)
                continue
            first_seen[key] = at.line
            self.positions[(*path, key)] = at
            result[key] = self.convert(value_node, (*path, key), file)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath, file: str) -> object:
        tag, text = node.tag, str(node.value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # YAML's "\ud800" escape makes text no file, log or terminal can hold.
            self.problem(
                _position(node, file), path, "text with an invalid character (a lone surrogate)"
            )
            return None
        if tag == "!secret":
            return self._secret(text.strip(), _position(node, file), path)
        if tag == "!include":
            return self._include(text.strip(), _position(node, file), path, file)
        if not tag.startswith(_CORE):
            message = f"unknown tag {tag}; cocoon knows !secret NAME and !include FILE"
            self.problem(_position(node, file), path, message)
            return None
        # A quoted scalar is always text: the resolver only types plain ones.
        return _scalar_value(tag.removeprefix(_CORE), text)

    def _secret(self, name: str, at: Position, path: FieldPath) -> object:
        if self.secrets_file is None:
            self.problem(at, path, "!secret cannot be used inside the secrets file")
            return None
        secrets = self._load_secrets(self.secrets_file)
        if secrets is None:
            if self._secrets_unreadable is not None:
                why = f"{self.secrets_file}: {self._secrets_unreadable}"
                self.problem(at, path, f"secret '{name}' cannot be read from {why}")
            return None
        if name not in secrets:
            hint = did_you_mean(name, secrets.keys())  # names only, never values
            self.problem(at, path, f"secret '{name}' is not in {self.secrets_file}{hint}")
            return None
        value = secrets[name]
        self.secret_paths.add(path)
        self.secret_values.update(_texts(value))
        _LOGGER.debug("Read secret %s for %s", name, render_path(path))
        return value

    def _load_secrets(self, secrets_file: Path) -> dict[str, object] | None:
        if self._secrets is not None or self._secrets_failed:
            return self._secrets
        name = str(secrets_file)
        try:
            root = _compose(_read_text(secrets_file), name)
        except _Unreadable as exc:
            self._secrets_unreadable = str(exc)
            self._secrets_failed = True
            return None
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            self._secrets_failed = True
            return None
        inner = _Reader(secrets_file=None)
        data = {} if root is None else inner.convert(root, (), name)
        self.problems.extend(inner.problems)
        if not isinstance(data, dict):
            self.problems.append(Located(name, 1, 1, "", "the secrets file must be a mapping"))
            self._secrets_failed = True
            return None
        self._secrets = data
        return data

    def _include(self, target: str, at: Position, path: FieldPath, file: str) -> object:
        included = Path(file).parent / target
        name = str(included)
        if "\0" in target:
            self.problem(at, path, "an !include file name cannot hold a NUL character")
            return None
        resolved = included.resolve()
        if resolved in self._including:
            self.problem(at, path, f"{name} includes itself (through !include)")
            return None
        if resolved in self._composed:
            root = self._composed[resolved]
        else:
            try:
                root = _compose(_read_text(included), name)
            except _Unreadable as exc:
                self.problem(at, path, f"cannot include {name}: {exc}")
                return None
            except ConfigError as exc:
                self.problems.extend(exc.problems)
                return None
            self._composed[resolved] = root
        if root is None:
            return None
        self._including.append(resolved)
        try:
            return self.convert(root, path, name)
        finally:
            self._including.pop()


def _texts(value: object) -> set[str]:
    """Every scalar in a secret value, as text."""
    if isinstance(value, dict):
        return set().union(*(_texts(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_texts(v) for v in value))
    if value is None or isinstance(value, bool) or value == "":
        return set()
    return {str(value)}


def read_document(path: str | Path, secrets_file: Path | None = None) -> Document:
    """Read the YAML configuration at `path` into values with positions; raises ConfigError.

    `!secret` reads `secrets_file`, by default `secrets.yaml` next to `path`.
    """
    path = Path(path)
    name = str(path)
    try:
        text = _read_text(path)
    except _Unreadable as exc:
        raise ConfigError.at(name, f"cannot read the configuration: {exc}") from None
    reader = _Reader(secrets_file=secrets_file or path.parent / SECRETS_FILE)
    try:
        root = _compose(text, name)
        if root is None:
            raise ConfigError.at(name, "the file is empty; a configuration needs home and devices")
        data = reader.read_root(root, path)
    except RecursionError:
        raise ConfigError.at(name, "the YAML is nested too deeply") from None
    if reader.problems:
        raise ConfigError(reader.problems)
    _LOGGER.debug("Read %s: %d positions", name, len(reader.positions))
    return Document(
        data=data,
        positions=reader.positions,
        secrets=frozenset(reader.secret_values),
        secret_paths=frozenset(reader.secret_paths),
    )
