"""Load `cocoon.yaml` into a `CocoonConfig`, or say every problem with its file, line and field."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from cocoon.config.checks import reference_problems
from cocoon.config.messages import describe, kind_of
from cocoon.config.positions import Document, FieldPath, render_path
from cocoon.config.reader import read_document
from cocoon.config.schema import CocoonConfig
from cocoon.errors import ConfigError, Located

_LOGGER = logging.getLogger(__name__)

MASK = "***"


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value in it replaced by ***."""
    # Longest first, so a secret that contains a shorter one is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _located(doc: Document, items: Iterable[tuple[FieldPath, str]]) -> list[Located]:
    main = doc.positions[()].file
    found = []
    for path, message in items:
        at = doc.locate(path)
        field = mask(render_path(path), doc.secrets)
        found.append(Located(at.file, at.line, at.column, field, mask(message, doc.secrets)))
    return sorted(found, key=lambda p: (p.file != main, p.file, p.line or 0, p.column or 0))


def _from_secret(doc: Document, path: FieldPath) -> bool:
    return any(path[: len(secret)] == secret for secret in doc.secret_paths)


def load_config(path: str | Path) -> CocoonConfig:
    """Read, validate and cross-check the configuration at `path`.

    Raises ConfigError for every problem found (unreadable file, YAML syntax, wrong
    values, unknown keys, names pointing nowhere), never with a secret value in it.
    """
    doc = read_document(path)
    if not isinstance(doc.data, dict):
        top = doc.positions[()]
        message = f"the top level must be a mapping (home:, devices:, …), not {kind_of(doc.data)}"
        raise ConfigError.at(top.file, message, line=top.line, column=top.column)
    try:
        cfg = CocoonConfig.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        described = (describe(e, show_input=not _from_secret(doc, tuple(e["loc"]))) for e in errors)
        raise ConfigError(_located(doc, described)) from None
    problems = reference_problems(cfg)
    if problems:
        raise ConfigError(_located(doc, ((p.path, p.message) for p in problems)))
    _LOGGER.debug(
        "Loaded %s: %d devices, %d scenes, %d rituals",
        path,
        len(cfg.devices),
        len(cfg.scenes),
        len(cfg.rituals),
    )
    return cfg
