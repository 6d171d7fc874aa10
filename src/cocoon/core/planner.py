"""The plans of one configuration: each day's schedule and the layers of a state, cached.

A `Planner` is what `core.step` is given besides the state: it decides nothing itself,
it only remembers what a configuration works out to so a fade step costs little.
"""

from __future__ import annotations

from datetime import date, datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core.layers import Layer, build_layers
from cocoon.core.schedule import DayPlan, plan_day
from cocoon.core.state import RuntimeState
from cocoon.core.steady import Steady


class Planner:
    """One configuration's plans; it caches each day's schedule and the state's layers."""

    def __init__(self, cfg: CocoonConfig) -> None:
        self.cfg = cfg
        self.zone = cfg.home.zone
        self.plant_readings = frozenset(
            (threshold.sensor, kind)
            for plant in cfg.plants.values()
            for kind, threshold in plant.thresholds().items()
        )
        """Every (sensor, kind of reading) a plant reads."""
        self._days: dict[date, DayPlan] = {}
        self._layers: tuple[object, object, list[Layer]] = (None, None, [])
        self._boundaries: tuple[object, list[datetime]] = (None, [])
        self.recent: list[tuple[datetime, object, object, object]] = []
        """The last few targets worked out, by instant, state and readings (a step asks
        for the same ones while it finds its wake-up and its aims); see `targets.desired`."""
        self.steady = Steady()
        """The layers in force and the lights' targets while nothing moves (`core/steady.py`)."""

    def day(self, day: date) -> DayPlan:
        """The schedule of a local date (cached)."""
        plan = self._days.get(day)
        if plan is None:
            if len(self._days) > 16:
                self._days.clear()
            plan = self._days[day] = plan_day(self.cfg, day)
        return plan

    def local_date(self, now: datetime) -> date:
        """The home's calendar date at `now`."""
        return now.astimezone(self.zone).date()

    def layers(self, state: RuntimeState) -> list[Layer]:
        """Every layer the state knows of, lowest priority first (cached per state)."""
        runs, calm, cached = self._layers
        # Transitions replace these dicts whenever they change anything, never mutate them.
        if runs is state.runs and calm is state.calm:
            return cached
        found = build_layers(self.cfg, state)
        self._layers = (state.runs, state.calm, found)
        return found

    def boundaries(self, state: RuntimeState) -> list[datetime]:
        """Every instant a layer of the state changes course, sorted (cached per state)."""
        layers = self.layers(state)
        if self._boundaries[0] is not layers:
            found = sorted({b for layer in layers for b in layer.envelope.boundaries()})
            self._boundaries = (layers, found)
        return self._boundaries[1]
