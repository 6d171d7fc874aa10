"""One exception tree for cocoon: every error we raise on purpose is a `CocoonError`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class CocoonError(Exception):
    """Base of every error cocoon raises on purpose."""


@dataclass(frozen=True, slots=True)
class Located:
    """One configuration problem and where it is: file, 1-based line and column, field."""

    file: str
    line: int | None
    column: int | None
    field: str
    """The dotted path of the setting, like `scenes.evening.lights.sofa`; empty for the file."""
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(CocoonError):
    """The configuration cannot be used; `problems` says every reason found, with its place."""

    def __init__(self, problems: Iterable[Located]) -> None:
        self.problems: tuple[Located, ...] = tuple(problems)
        # The problems as args keep the error picklable (it is rebuilt as cls(*args)).
        super().__init__(self.problems)

    @classmethod
    def at(
        cls,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str = "",
    ) -> ConfigError:
        """An error with a single problem."""
        return cls([Located(file, line, column, field, message)])

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class GatewayError(CocoonError):
    """A device gateway (Home Assistant, Zigbee2MQTT) failed or refused a request."""


class BusError(CocoonError):
    """The message bus (the MQTT broker) is unreachable or refused us."""
