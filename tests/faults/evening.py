"""An engine on a fake clock in Brussels, with an evening and a 02:30 ritual, whose starts are
tracked so tests can check the clock rules: at most once a day, late only within grace."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from cocoon.core.events import ClimateReport, Event, LightReport, Wake
from cocoon.core.model import LightCommand, LightState
from cocoon.runtime.engine import Engine

from ..core.homes import at, home_config
from ..fakes import FakeClock, FakeGateway, MemoryStore

RITUALS = {
    "evening": {"at": "sunset", "until": "23:00", "scene": "evening", "fade": "20min"},
    "early": {"at": "02:30", "duration": "1h", "scene": "tea", "fade": "1min"},
}
SOFA = LightState(60, 3000)


class Evening:
    """The engine, its fakes and every ritual start it made (ritual, local day, wall clock)."""

    def __init__(self, start: str | datetime) -> None:
        self.cfg = home_config(rituals=RITUALS, settings={"rate_limit": 1000})
        self.clock = FakeClock(at(start) if isinstance(start, str) else start)
        self.gateway = FakeGateway()
        self.store = MemoryStore()
        self.armed: list[datetime] = []
        self.engine = Engine(
            self.cfg,
            clock=self.clock,
            store=self.store,
            gateways=[self.gateway],
            arm=self.armed.append,
        )
        self.starts: list[tuple[str, date, datetime]] = []
        self.missed: list[tuple[str, date, datetime]] = []
        self.handled = 0
        self._runs: dict[str, object] = {}
        self.engine.start()
        self.handle(LightReport("sofa", SOFA))
        self.handle(LightReport("desk", LightState(0)))
        self.handle(ClimateReport("heat", 20.0, 19.5))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def handle(self, event: Event | None = None, stepped: timedelta = timedelta(0)) -> None:
        """One event through the engine; it must re-arm for an instant after now.

        After the wall clock `stepped`, a run whose start moved by that step is the same run.
        """
        self.engine.handle(event or Wake())
        self.handled += 1
        for name, run in self.store.state.runs.items():
            previous = self._runs.get(name)
            if previous == run:
                continue
            self._runs[name] = run
            if previous is not None and run == replace(
                previous, start=previous.start + stepped, end=run.end, joined=run.joined
            ):
                continue
            (self.missed if run.missed else self.starts).append((name, run.day, self.now))
        assert self.armed, "the engine never armed the scheduler"
        assert self.armed[-1] > self.now, f"armed for {self.armed[-1]}, not after {self.now}"

    def jump(self, delta: timedelta) -> None:
        """The wall clock steps by `delta`; the scheduler notices and wakes the engine."""
        self.clock.moment += delta
        self.handle(Wake("clock jumped"), stepped=delta)

    def follow(self, until: datetime | str) -> None:
        """Wake the engine at every instant it asks for, like the scheduler, up to `until`."""
        end = at(until) if isinstance(until, str) else until
        while self.armed[-1] < end:
            self.clock.moment = self.armed[-1]
            self.handle()
        if end > self.now:
            self.clock.moment = end
            self.handle()

    def scheduled(self, ritual: str, day: date) -> datetime:
        """When `ritual` is due on the local date `day`."""
        window = next(w for w in self.engine.planner.day(day).windows if w.ritual == ritual)
        return window.start

    def started(self, ritual: str, day: str | date) -> list[datetime]:
        """The wall-clock instants `ritual` started at for the local date `day`."""
        wanted = date.fromisoformat(day) if isinstance(day, str) else day
        return [when for name, d, when in self.starts if name == ritual and d == wanted]

    def lights(self, device: str, since: int = 0) -> list[LightCommand]:
        """Light commands sent to `device` (from the `since`-th command sent)."""
        return [
            c
            for c in self.gateway.sent[since:]
            if isinstance(c, LightCommand) and c.device == device
        ]

    def check_rules(self) -> None:
        """Each ritual at most once per local date, never early; a cue late only within
        grace, a window (`until`) late only while it is in force (it is joined)."""
        grace = self.cfg.settings.grace
        days = [(name, day) for name, day, _ in self.starts]
        assert len(days) == len(set(days)), f"a ritual ran twice on one day: {self.starts}"
        for name, day, when in self.starts:
            window = next(w for w in self.engine.planner.day(day).windows if w.ritual == name)
            window_ritual = self.cfg.rituals[name].until is not None
            latest = window.end if window_ritual else window.start + grace
            assert window.start <= when <= latest, f"{name} of {day} due {window.start}, at {when}"
