"""What a step takes over from the step before while nothing moves.

Between two boundaries a layer that does not fade keeps its weight, and a light that no
layer fades, no person holds and cocoon does not take back has a target that depends on
its layers, its hold and how it shows, not on the instant. A `Steady` (one per
`Planner`) remembers the layers in force at the last instant asked, each such light's
target, holds found settled and the last boundary found, so a day of steps between
fades costs little. It holds the very objects it
compares (`is`), so an object it remembers is never another one with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cocoon.core.layers import Layer
from cocoon.core.model import LightState, LightTarget, Reason, Target
from cocoon.core.state import Hold, RuntimeState

Grouped = dict[str, list["Active"]]


@dataclass(frozen=True, slots=True)
class Active:
    """A layer in force at an instant, with its weight then and whether it fades."""

    layer: Layer
    weight: float
    fading: bool
    why: Reason


class Steady:
    """The layers in force at the last instant asked, and the targets of steady lights."""

    def __init__(self) -> None:
        self._layers: list[Layer] | None = None
        self._now: datetime | None = None
        self._actives: list[Active] = []
        self._grouped: tuple[Grouped, Grouped] = ({}, {})
        self._lights: dict[str, tuple[list[Active], Hold, LightState | None, LightTarget | None]]
        self._lights = {}
        self._all: tuple[Grouped, dict[str, Hold], dict[str, Target]] | None = None
        self._settled: tuple[Grouped, Grouped, dict[str, Hold]] | None = None
        self._boundary: tuple[datetime, RuntimeState, datetime] | None = None

    def in_force(self, layers: list[Layer], now: datetime) -> tuple[Grouped, Grouped]:
        """The layers in force at `now` by light and by thermostat, lowest first.

        A light's list is the one of the last call when each of its layers is the same
        with the same weight: the list being the same says its layers did not move.
        """
        if layers is self._layers and now == self._now:
            return self._grouped
        if layers is not self._layers:
            self._layers, self._actives, self._grouped = layers, [], ({}, {})
        self._now = now
        known, same = self._actives, True
        actives: list[Active] = []
        for layer in layers:
            envelope = layer.envelope
            if not envelope.holds(now):
                continue
            weight, fading = envelope.weight(now), envelope.fading(now)
            i = len(actives)
            was = known[i] if i < len(known) else None
            if (
                was is not None
                and was.layer is layer
                and (was.weight, was.fading) == (weight, fading)
            ):
                actives.append(was)
                continue
            actives.append(Active(layer, weight, fading, layer.why))
            same = False
        if same and len(actives) == len(known):
            return self._grouped
        lights: Grouped = {}
        heat: Grouped = {}
        for active in actives:
            for device in active.layer.lights:
                lights.setdefault(device, []).append(active)
            for device in active.layer.heat:
                heat.setdefault(device, []).append(active)
        # A light none of whose layers moved keeps its list (and so its target).
        before = self._grouped[0]
        for device, entries in lights.items():
            old = before.get(device)
            if old is not None and len(old) == len(entries) and all(map(_same, old, entries)):
                lights[device] = old
        self._actives, self._grouped = actives, (lights, heat)
        return self._grouped

    def light(
        self, device: str, entries: list[Active], hold: Hold, shows: LightState | None
    ) -> tuple[bool, LightTarget | None]:
        """Whether a target is remembered for a light with these very layers, hold and
        look, and that target."""
        known = self._lights.get(device)
        if known is None or known[0] is not entries or known[1] is not hold:
            return False, None
        return known[2] is shows, known[3]

    def remember(
        self,
        device: str,
        entries: list[Active],
        hold: Hold,
        shows: LightState | None,
        target: LightTarget | None,
    ) -> None:
        """Remember a light's target if it stays the same while its layers do not move."""
        if _still(entries, hold):
            self._lights[device] = (entries, hold, shows, target)
        else:
            self._lights.pop(device, None)

    def all_lights(self, lights: Grouped, holds: dict[str, Hold]) -> dict[str, Target] | None:
        """Every light's target of the last step, if none can have changed since: the
        same layers in force, unmoved, the same holds, each light with its snapshot."""
        seen = self._all
        if seen is not None and seen[0] is lights and seen[1] is holds:
            return seen[2]
        return None

    def keep_all(self, lights: Grouped, holds: dict[str, Hold], targets: dict[str, Target]) -> None:
        """Remember every light's target (`all_lights`) if none depends on the instant
        or on the readings."""
        self._all = None
        for device, entries in lights.items():
            hold = holds.get(device)
            if hold is None or hold.snapshot is None or not _still(entries, hold):
                return
        self._all = (lights, holds, targets)

    def settled(self, lights: Grouped, heat: Grouped, holds: dict[str, Hold]) -> bool:
        """Whether these holds were found settled under these very layers in force."""
        seen = self._settled
        return seen is not None and seen[0] is lights and seen[1] is heat and seen[2] is holds

    def keep_settled(self, lights: Grouped, heat: Grouped, holds: dict[str, Hold]) -> None:
        """Remember that the holds are settled if they stay so whatever the instant and
        the readings: every held device has its snapshot, none is held by no layer."""
        self._settled = None
        for device, hold in holds.items():
            if hold.giving_back or (device not in lights and device not in heat):
                return
        for device in lights:
            if device not in holds or holds[device].snapshot is None:
                return
        for device in heat:
            if device not in holds or holds[device].setpoint is None:
                return
        self._settled = (lights, heat, holds)

    def boundary(self, now: datetime, state: RuntimeState) -> datetime | None:
        """The next boundary found for this very state at this instant, if it was."""
        seen = self._boundary
        if seen is not None and seen[0] == now and seen[1] is state:
            return seen[2]
        return None

    def keep_boundary(self, now: datetime, state: RuntimeState, boundary: datetime) -> None:
        """Remember the next boundary of `state` at `now`."""
        self._boundary = (now, state, boundary)


def _same(a: Active, b: Active) -> bool:
    return a is b


def _still(entries: list[Active], hold: Hold) -> bool:
    """Whether a light's target stays the same while its layers do not move."""
    if hold.override is not None or hold.taking_back is not None:
        return False
    return not any(entry.fading for entry in entries)
