"""The runtime state: people's intents and what cocoon holds, as frozen values.

Everything here survives a restart (`runtime/store.py` saves it). The transitions that
change it live in `core/transitions/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cocoon.core.model import Attribute, LightState
from cocoon.core.plants import PlantStatus


@dataclass(frozen=True, slots=True)
class RitualRun:
    """A ritual's latest run: the window it holds, and the plant cues it carries."""

    ritual: str
    day: date
    start: datetime
    end: datetime
    cues: tuple[str, ...] = ()
    missed: bool = False
    joined: datetime | None = None
    """The instant cocoon joined the window after its start (it was not running then):
    the window is in force from `start`, the lights glide to it from `joined`."""


@dataclass(frozen=True, slots=True)
class CalmRun:
    """A calm mode someone pressed, and until when it lasts."""

    mode: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Override:
    """A person changed these attributes by hand; cocoon leaves them alone until `until`."""

    attributes: frozenset[Attribute]
    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class TakeBack:
    """cocoon takes a device back: it fades from `start` (what the person left) to its targets."""

    start: LightState
    at: datetime
    fade: timedelta

    def weight(self, now: datetime) -> float:
        """How far the take-back has come (0 to 1)."""
        if self.fade <= timedelta(0):
            return 1.0
        return min(1.0, max(0.0, (now - self.at) / self.fade))


@dataclass(frozen=True, slots=True)
class Hold:
    """cocoon's hold on one device: the snapshot to give back, an override, a take-back."""

    snapshot: LightState | None = None
    setpoint: float | None = None
    override: Override | None = None
    taking_back: TakeBack | None = None
    giving_back: bool = False
    """No layer holds the device any more: the snapshot is given back once, then let go."""
    late: bool = False
    """The give-back comes after its layer's own fade-out could show it (the device was
    away, the layer left the configuration): it glides there instead."""


@dataclass(frozen=True, slots=True)
class RuntimeState:
    """Everything cocoon must remember across a restart."""

    runs: dict[str, RitualRun] = field(default_factory=dict)
    calm: dict[str, CalmRun] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    plants: dict[str, PlantStatus] = field(default_factory=dict)
    paused_since: datetime | None = None
