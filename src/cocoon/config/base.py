"""What every configuration section is built from: the strict base model, ids, MQTT
topic names, percentages and colour temperatures, and the names-only validation switch.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="An id: lower-case letters, digits and _, starting with a letter"),
]


def _topic(value: str) -> str:
    """A name that becomes part of an MQTT topic: one or more levels, none of them a wildcard."""
    if "#" in value or "+" in value:
        raise ValueError(
            f"'{value}' has an MQTT wildcard (# or +), which no topic may contain: leave it out"
        )
    if not value or value.startswith("/") or value.endswith("/"):
        raise ValueError(f"'{value}' must not be empty, nor start or end with /")
    if "//" in value:
        raise ValueError(f"'{value}' has an empty level (//): write one /")
    if "\0" in value:
        raise ValueError("a topic must not contain the NUL character")
    return value


Topic = Annotated[
    str,
    AfterValidator(_topic),
    Field(
        description="Part of an MQTT topic: levels separated by /, none empty, no # or +",
        json_schema_extra={"pattern": "^(?!.*//)[^/#+]([^#+]*[^/#+])?$"},
    ),
]
Percent = Annotated[float, Field(ge=0, le=100)]
Kelvin = Annotated[int, Field(ge=1000, le=10000)]

NAMES_ONLY = "names_only"
"""Validation context key: when true, the checks of how a section's settings go together
are left out, so that a file with errors still gives a model whose names can be
cross-checked (those errors were reported by the full validation already)."""


def combinations_checked(info: ValidationInfo) -> bool:
    """False while validating for names only (see `NAMES_ONLY`)."""
    return not (isinstance(info.context, dict) and info.context.get(NAMES_ONLY))


class Model(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
