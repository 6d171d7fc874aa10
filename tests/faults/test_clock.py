"""Clock trouble: NTP steps of an hour either way and an 8 h suspend, on a fake clock.

The engine must run each ritual at most once per local date, run a missed cue late only
within `settings.grace` (a window in force is joined where it stands), never crash and
always re-arm (checked on every event by `Evening.handle`). The real `Scheduler` must
notice a wall clock that leaves the monotonic one and wake the engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoon.core.events import Event, Wake
from cocoon.runtime import scheduler as scheduler_module
from cocoon.runtime.scheduler import JOB, Scheduler

from ..core.homes import at
from . import knobs
from .evening import SOFA, Evening

HOUR = timedelta(hours=1)


def test_ntp_steps_forward_over_the_early_ritual_skip_it_beyond_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    home = Evening("2026-11-25 12:00")
    with caplog.at_level(logging.INFO):
        home.follow("2026-11-26 02:15")
        home.jump(HOUR)  # 02:15 → 03:15: the 02:30 start is 45 min behind
        home.follow("2026-11-26 12:00")
    assert home.started("early", "2026-11-26") == []
    assert [(n, str(d)) for n, d, _ in home.missed] == [("early", "2026-11-26")]
    assert "ritual early missed by 45 min (grace 10min): skipped today" in caplog.text
    assert len(home.started("evening", "2026-11-25")) == 1
    home.check_rules()


def test_a_ritual_whose_whole_window_was_jumped_over_is_logged_as_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    home = Evening("2026-11-25 12:00")
    with caplog.at_level(logging.INFO):
        home.follow("2026-11-26 02:15")
        home.jump(2 * HOUR)  # 04:15: the whole 02:30-03:30 window is behind
        home.follow("2026-11-26 12:00")
    assert home.started("early", "2026-11-26") == []
    assert "ritual early missed" in caplog.text


def test_a_small_step_forward_runs_the_ritual_late_within_grace() -> None:
    home = Evening("2026-11-25 12:00")
    home.follow("2026-11-26 02:28")
    home.jump(timedelta(minutes=7))  # 02:35: five minutes late, within the 10 min grace
    home.follow("2026-11-26 12:00")
    assert home.started("early", "2026-11-26") == [at("2026-11-26 02:35")]
    assert home.lights("desk")[-1].brightness == 0 or not home.lights("desk")[-1].on
    home.check_rules()


def test_ntp_steps_back_run_nothing_twice() -> None:
    home = Evening("2026-11-25 12:00")
    home.follow("2026-11-25 22:30")
    home.jump(-HOUR)  # back to 21:30, in the middle of the evening
    home.follow("2026-11-26 02:40")
    home.jump(-HOUR)  # back to 01:40, ten minutes after the early ritual started
    home.follow("2026-11-26 12:00")
    assert len(home.started("evening", "2026-11-25")) == 1
    assert len(home.started("early", "2026-11-26")) == 1
    sofa = home.lights("sofa")[-1]
    assert (sofa.brightness, sofa.kelvin) == (SOFA.brightness, SOFA.kelvin)
    home.check_rules()


def test_the_lamp_is_not_switched_off_and_faded_in_again_by_a_step_back() -> None:
    """A running ritual carries on across a step back, as it does across a restart."""
    home = Evening("2026-11-25 12:00")
    home.follow("2026-11-26 02:45")
    shown = home.lights("desk")[-1]
    assert (shown.on, shown.brightness) == (True, 40)
    sent = len(home.gateway.sent)
    home.jump(-HOUR)  # 01:45: the wall clock says the ritual has not started yet
    home.follow("2026-11-26 02:31")
    looks = [(c.on, c.brightness) for c in home.lights("desk", since=sent)]
    assert all(on and (brightness or 0) >= 30 for on, brightness in looks), looks


@pytest.mark.parametrize(
    ("suspend", "resume", "early", "evening"),
    [
        # 8 h from 22:00: the evening ended while asleep, the 02:30 window passed whole.
        ("2026-11-25 22:00", "2026-11-26 06:00", [], 1),
        # 8 h from 18:35: back at 02:35, five minutes into the early ritual: it runs late.
        ("2026-11-25 18:35", "2026-11-26 02:35", ["2026-11-26 02:35"], 1),
        # 8 h from 12:00: back at 20:00, hours after sunset: the evening (a window,
        # until 23:00) is joined where it stands.
        ("2026-11-25 12:00", "2026-11-25 20:00", ["2026-11-26 02:30"], 1),
    ],
)
def test_a_suspend_of_eight_hours(
    suspend: str, resume: str, early: list[str], evening: int
) -> None:
    home = Evening("2026-11-25 11:00")
    home.follow(suspend)
    home.jump(at(resume) - at(suspend))
    home.follow("2026-11-26 12:00")
    assert home.started("early", "2026-11-26") == [at(t) for t in early]
    assert len(home.started("evening", "2026-11-25")) == evening
    sofa = home.lights("sofa")
    if sofa:  # whatever happened, the evening gave the lamp back
        assert (sofa[-1].brightness, sofa[-1].kelvin) == (SOFA.brightness, SOFA.kelvin)
    home.follow("2026-11-26 23:30")
    assert len(home.started("evening", "2026-11-26")) == 1
    home.check_rules()


_STEPS = st.one_of(
    st.tuples(st.just("follow"), st.integers(1, 12 * 60)),  # minutes of ordinary time
    st.tuples(st.just("jump"), st.sampled_from([-60, 60, -5, 5, 7, 30, 480])),
    st.tuples(st.just("jump"), st.integers(-90, 600)),
)
_STARTS = ["2026-11-25 12:00", "2026-03-28 12:00", "2026-10-24 12:00", "2026-06-20 12:00"]


_walks = {"examples": 0, "events": 0, "steps": 0, "ritual_starts": 0, "missed": 0}


@settings(
    max_examples=knobs.CLOCK_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(start=st.sampled_from(_STARTS), steps=st.lists(_STEPS, min_size=1, max_size=12))
def test_any_mix_of_steps_and_suspends_keeps_the_rules(
    start: str, steps: list[tuple[str, int]]
) -> None:
    home = Evening(start)
    for kind, minutes in steps:
        if kind == "follow":
            home.follow(home.now + timedelta(minutes=minutes))
        else:
            home.jump(timedelta(minutes=minutes))
    home.follow(home.now + timedelta(hours=30))
    home.check_rules()
    _walks["examples"] += 1
    _walks["events"] += home.handled
    _walks["steps"] += len(steps)
    _walks["ritual_starts"] += len(home.starts)
    _walks["missed"] += len(home.missed)


def test_zz_report_the_clock_figures() -> None:
    knobs.record("clock-walks", **_walks)


# -- the real scheduler ------------------------------------------------------------------


class _Wall:
    """`time.time` that a test can step, with the real monotonic clock beside it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def seconds_until(self, moment: datetime) -> float:
        return (moment - self.now()).total_seconds()


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> _Wall:
    stepped = _Wall()
    fake = SimpleNamespace(time=stepped.time, monotonic=time.monotonic)
    monkeypatch.setattr(scheduler_module, "time", fake)
    return stepped


@pytest.mark.parametrize("step", [3600.0, -3600.0, 8 * 3600.0, 3.0])
def test_the_scheduler_wakes_the_engine_when_the_wall_clock_jumps(
    wall: _Wall, step: float, caplog: pytest.LogCaptureFixture
) -> None:
    woken: list[Event] = []

    async def scenario() -> tuple[datetime | None, datetime | None]:
        scheduler = Scheduler(_UtcClock(), woken.append)
        scheduler.start()
        try:
            due = datetime.now(UTC) + timedelta(hours=2)
            scheduler.arm(due)
            before = scheduler._scheduler.get_job(JOB).next_run_time
            await scheduler._check_clock()  # no jump yet: nothing happens
            assert woken == []
            wall.offset += step
            await scheduler._check_clock()
            assert woken == [Wake("clock jumped")]
            assert scheduler.armed is None  # so the engine's next arm() is taken
            scheduler.arm(due)
            assert scheduler.armed == due
            return before, scheduler._scheduler.get_job(JOB).next_run_time
        finally:
            scheduler.stop()

    with caplog.at_level(logging.WARNING):
        before, after = asyncio.run(scenario())
    assert "The wall clock jumped by" in caplog.text
    assert before is not None
    assert after is not None


def test_the_scheduler_ignores_drift_within_two_seconds(wall: _Wall) -> None:
    woken: list[Event] = []
    scheduler = Scheduler(_UtcClock(), woken.append)
    wall.offset += 1.5
    asyncio.run(scheduler._check_clock())
    wall.offset -= 1.5  # and back again: drift, not a jump
    asyncio.run(scheduler._check_clock())
    assert woken == []


def test_a_wake_up_armed_in_the_past_fires_at_once() -> None:
    """After a step forward, an instant the engine asked for is already past: it still fires."""
    woken: list[Event] = []

    async def scenario() -> None:
        scheduler = Scheduler(_UtcClock(), woken.append)
        scheduler.start()
        try:
            scheduler.arm(datetime.now(UTC) - HOUR)
            for _ in range(200):
                if woken:
                    return
                await asyncio.sleep(0.01)
        finally:
            scheduler.stop()

    asyncio.run(scenario())
    assert woken == [Wake()]
