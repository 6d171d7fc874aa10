"""Where each setting was written: paths into the document and their file positions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]
"""Where a value sits in the document: mapping keys and sequence indexes from the top."""


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a file: 1-based line and column."""

    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Document:
    """A configuration read from YAML: its values and where each one was written."""

    data: object
    positions: Mapping[FieldPath, Position]
    secrets: frozenset[str] = frozenset()
    """Every secret value that was read, as text, to be masked in messages."""
    secret_paths: frozenset[FieldPath] = frozenset()
    """The paths whose value came from `!secret`."""

    def locate(self, path: FieldPath) -> Position:
        """The position of `path`, or of its nearest parent that was written down."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return self.positions[()]


def render_path(path: FieldPath) -> str:
    """`('scenes', 'evening', 'lights', 'sofa')` as `scenes.evening.lights.sofa`; indexes as [0]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
