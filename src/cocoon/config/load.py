"""Load `cocoon.yaml` into a `CocoonConfig`, or say every problem with its file, line and field."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from cocoon.config.checks import reference_problems
from cocoon.config.messages import describe, kind_of
from cocoon.config.positions import Document, FieldPath, render_path
from cocoon.config.reader import read_document
from cocoon.config.schema import NAMES_ONLY, CocoonConfig
from cocoon.errors import ConfigError, Located

_LOGGER = logging.getLogger(__name__)

MASK = "***"
_PRUNE_ROUNDS = 20
"""Passes of pruning a broken document before its names are cross-checked anyway."""
_STAND_INS: dict[str, object] = {
    "home": {"latitude": 0, "longitude": 0, "timezone": "UTC"},
    "devices": {},
}
"""Valid stand-ins for required sections that are broken as a whole."""
_FIELD_STAND_INS: dict[tuple[str, str], object] = {("rituals", "at"): "00:00"}
"""Valid stand-ins for a broken required setting (section, setting): dropped, it would
take its whole entry with it, and the entry's other names would go unchecked."""


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value in it replaced by ***."""
    # Longest first, so a secret that contains a shorter one is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def located(
    doc: Document, items: Iterable[tuple[FieldPath, str]], prefix: FieldPath = ()
) -> list[Located]:
    """Problems (a path into `doc` and a message) with their file, line and column, secrets
    masked, in the order of the files; `prefix` is put before each field's name (a home
    written inside a site file is `homes.<id>`)."""
    main = doc.positions[()].file
    found = []
    for path, message in items:
        at = doc.locate(path)
        field = mask(render_path((*prefix, *path)), doc.secrets)
        found.append(Located(at.file, at.line, at.column, field, mask(message, doc.secrets)))
    return sorted(found, key=lambda p: (p.file != main, p.file, p.line or 0, p.column or 0))


def _from_secret(doc: Document, path: FieldPath) -> bool:
    return any(path[: len(secret)] == secret for secret in doc.secret_paths)


def _broken_part(loc: FieldPath, kind: str) -> FieldPath:
    """The part of the document to drop for one validation error."""
    if kind == "missing" or loc[-1:] == ("[key]",):
        # A section lacking a required key, or a mapping entry whose name is invalid.
        return loc[:-1]
    return loc


def _drop(data: object, path: FieldPath) -> bool:
    """Remove `path` from `data` (a required section is replaced by a stand-in)."""
    if not path or not isinstance(data, dict):
        return False
    if len(path) == 1 and path[0] in _STAND_INS:
        stand_in = _STAND_INS[str(path[0])]
        if data.get(path[0]) == stand_in:
            return False
        data[path[0]] = copy.deepcopy(stand_in)
        return True
    stand_in = _FIELD_STAND_INS.get((str(path[0]), str(path[-1]))) if len(path) == 3 else None
    if stand_in is not None:
        entry = data.get(path[0], {}).get(path[1]) if isinstance(data.get(path[0]), dict) else None
        if not isinstance(entry, dict) or entry.get(path[2]) == stand_in:
            return False
        entry[path[2]] = stand_in
        return True
    parent: object = data
    for part in path[:-1]:
        if not _holds(parent, part):
            return False
        parent = parent[part]  # type: ignore[index]
    if not _holds(parent, path[-1]):
        return False
    del parent[path[-1]]  # type: ignore[attr-defined]
    return True


def _holds(container: object, part: str | int) -> bool:
    """Whether `part` is a key of a mapping or an index of a list."""
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _names_of_broken(data: object) -> tuple[CocoonConfig, frozenset[FieldPath]] | None:
    """A model of a document that failed validation, for checking the names it uses.

    Each setting with an error is dropped (a section missing a required key with it),
    and the checks of how settings go together are left out, until what is left is
    valid. Returns the model and the paths dropped, or None when nothing valid is left.
    """
    data = copy.deepcopy(data)
    dropped: set[FieldPath] = set()
    for _ in range(_PRUNE_ROUNDS):
        try:
            cfg = CocoonConfig.model_validate(data, context={NAMES_ONLY: True})
        except ValidationError as exc:
            parts = {_broken_part(tuple(e["loc"]), e["type"]) for e in exc.errors()}
            pruned = {part for part in parts if _drop(data, part)}
            if not pruned:
                return None
            dropped |= pruned
        else:
            return cfg, frozenset(dropped)
    return None


def described_errors(doc: Document, exc: ValidationError) -> list[tuple[FieldPath, str]]:
    """A validation error of `doc.data` as paths and messages; a value from a secret unshown."""
    return [
        describe(e, show_input=not _from_secret(doc, tuple(e["loc"])))
        for e in exc.errors(include_url=False)
    ]


def top_mapping(doc: Document) -> dict[str, object]:
    """The document's top level, which must be a mapping; raises ConfigError."""
    if not isinstance(doc.data, dict):
        top = doc.positions[()]
        message = f"the top level must be a mapping (home:, devices:, …), not {kind_of(doc.data)}"
        raise ConfigError.at(top.file, message, line=top.line, column=top.column)
    return doc.data


def validate_home(doc: Document, prefix: FieldPath = ()) -> CocoonConfig:
    """Validate and cross-check a home read from YAML (`doc.data`, a mapping).

    Raises ConfigError for every problem, each at the place `doc` records for it and
    named with `prefix` before its field; never with a secret value in it.
    """
    try:
        cfg = CocoonConfig.model_validate(doc.data)
    except ValidationError as exc:
        described = described_errors(doc, exc)
        # One error must not hide another: the names the rest of the file uses are
        # cross-checked too, leaving out those that the errors make uncertain.
        salvaged = _names_of_broken(doc.data)
        if salvaged is not None:
            partial, dropped = salvaged
            described += [(p.path, p.message) for p in reference_problems(partial, dropped)]
        raise ConfigError(located(doc, described, prefix)) from None
    problems = reference_problems(cfg)
    if problems:
        raise ConfigError(located(doc, ((p.path, p.message) for p in problems), prefix))
    return cfg


def load_config(path: str | Path) -> CocoonConfig:
    """Read, validate and cross-check the single-home configuration at `path`.

    Raises ConfigError for every problem found (unreadable file, YAML syntax, wrong
    values, unknown keys, names pointing nowhere), never with a secret value in it.
    A site file (with `homes:`) is refused: `cocoon.config.site` reads those.
    """
    doc = read_document(path)
    if "homes" in top_mapping(doc):
        at = doc.locate(("homes",))
        message = "a site file (homes:) holds several homes: this reads a single home's file"
        raise ConfigError.at(at.file, message, line=at.line, column=at.column, field="homes")
    cfg = validate_home(doc)
    _LOGGER.debug(
        "Loaded %s: %d devices, %d scenes, %d rituals",
        path,
        len(cfg.devices),
        len(cfg.scenes),
        len(cfg.rituals),
    )
    return cfg
