"""The engine with fakes behind its own ports: events in, commands and state out."""

from __future__ import annotations

import errno
import logging
from datetime import UTC, datetime, timedelta

import pytest

from cocoon.config.schema import CocoonConfig
from cocoon.core.events import (
    Availability,
    ClimateReport,
    LightReport,
    Press,
    SelectMode,
    SetHandsOff,
    Wake,
)
from cocoon.core.model import Attribute, ClimateCommand, Command, LightCommand, LightState
from cocoon.core.sent import SETTLE
from cocoon.core.state import RuntimeState
from cocoon.runtime.engine import Engine

from ..core.homes import at, home_config
from ..fakes import FakeClock, FakeGateway, MemoryStore


def _engine(
    start: str = "2026-11-25 18:00",
    **sections: object,
) -> tuple[Engine, FakeClock, FakeGateway, MemoryStore, list[datetime]]:
    sections = {
        "calm_modes": {"calm_now": {"scene": "calm", "duration": "10min", "fade": "1min"}},
        "rituals": {
            "evening": {"at": "19:00", "until": "22:00", "scene": "evening", "fade": "20min"}
        },
        "settings": {"rate_limit": 1000},
        **sections,
    }
    cfg = home_config(**sections)
    clock = FakeClock(at(start))
    gateway = FakeGateway()
    store = MemoryStore()
    armed: list[datetime] = []
    engine = Engine(cfg, clock=clock, store=store, gateways=[gateway], arm=armed.append)
    engine.start()
    # Devices that never reported are left alone: these have.
    engine.handle(LightReport("sofa", LightState(0)))
    engine.handle(LightReport("desk", LightState(0)))
    return engine, clock, gateway, store, armed


def _lights(sent: list[Command]) -> dict[str, LightCommand]:
    return {c.device: c for c in sent if isinstance(c, LightCommand)}


def test_a_press_sends_the_calm_scene_fading_in_and_persists_it() -> None:
    engine, clock, gateway, store, armed = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(LightReport("desk", LightState(50, 4000)))
    engine.handle(Press("calm_now"))
    assert "calm_now" in store.state.calm
    assert set(_lights(gateway.sent)) == {"sofa", "desk"}  # the fade's first step, at once
    assert armed[-1] - clock.now() <= timedelta(seconds=30)
    clock.moment += timedelta(minutes=1)
    engine.handle(SelectMode("calm_now"))  # already on: nothing new, but a reconcile
    sent = _lights(gateway.sent)
    assert sent["sofa"] == LightCommand("sofa", True, 20.0, 2000, 0.0, "calm_now")
    assert not sent["desk"].on


def test_a_press_with_the_examples_fade_sends_its_first_step_at_the_press() -> None:
    calm = {"calm_now": {"scene": "calm", "duration": "45min", "fade": "3min"}}
    engine, clock, gateway, _, armed = _engine(calm_modes=calm)
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(LightReport("desk", LightState(50, 4000)))
    engine.handle(Press("calm_now"))
    pressed = clock.now()
    first = _lights(gateway.sent)
    # Sent in the turn that handled the press (the clock has not moved): each light's
    # first step, gliding over the time until the engine wakes for the second.
    step = (armed[-1] - pressed).total_seconds()
    assert 0 < step <= 30
    assert {c.transition for c in first.values()} == {step}
    max_step = engine.cfg.settings.max_step
    assert 70 - max_step <= (first["sofa"].brightness or 0) < 70
    assert 50 - max_step <= (first["desk"].brightness or 0) < 50
    # At the wake the next step leaves, from where the first one ended: no jump.
    clock.moment = armed[-1]
    engine.handle(Wake())
    second = _lights(gateway.sent[len(first) :])
    assert 0 <= (first["sofa"].brightness or 0) - (second["sofa"].brightness or 0) <= max_step


def test_off_on_the_mode_select_ends_calm_and_gives_back_the_snapshot() -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=3)
    engine.handle(SelectMode("off"))
    clock.moment += timedelta(minutes=1)  # the end of the fade-out, when the engine wakes
    engine.handle(Wake())
    last = _lights(gateway.sent)["sofa"]
    assert (last.on, last.brightness, last.kelvin) == (True, 70.0, 3500)
    clock.moment += timedelta(seconds=1)
    engine.handle(Wake())  # the snapshot is given back once more, then let go
    assert store.state.calm == {}
    assert all(hold.giving_back for hold in store.state.holds.values())
    clock.moment += timedelta(seconds=1)
    engine.handle(Wake())
    assert store.state.holds == {}


def test_a_report_cocoon_did_not_cause_is_a_manual_override(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=2)
    engine.handle(Press("calm_now"))
    engine.handle(LightReport("sofa", LightState(20, 2000)))  # cocoon's own doing
    assert store.state.holds["sofa"].override is None
    with caplog.at_level(logging.INFO):
        engine.handle(LightReport("sofa", LightState(90, 2000)))
    assert store.state.holds["sofa"].override is not None
    assert "sofa changed by hand (brightness)" in caplog.text
    before = len(gateway.sent)
    clock.moment += timedelta(minutes=1)
    engine.handle(Press("calm_now"))
    assert all(c.device != "sofa" or c.brightness is None for c in gateway.sent[before:])


def test_a_setpoint_changed_on_the_thermostat_is_left_alone() -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(ClimateReport("heat", 20.0, 19.0))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(seconds=10)
    engine.handle(Press("calm_now"))
    assert ClimateCommand("heat", 23.0, "calm_now (held within 16–23)") in gateway.sent
    engine.handle(ClimateReport("heat", 17.0, 19.0))
    assert store.state.holds["heat"].override is not None


def test_an_offline_device_is_skipped_and_reconciled_when_back() -> None:
    engine, clock, gateway, _, _ = _engine()
    gateway.offline.add("sofa")
    engine.handle(Availability("sofa", online=False))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=2)
    engine.handle(Press("calm_now"))
    assert "sofa" not in _lights(gateway.sent)
    gateway.offline.clear()
    engine.handle(Availability("sofa", online=True))
    assert _lights(gateway.sent)["sofa"].brightness == 20.0


def test_a_calm_mode_ended_while_a_light_is_away_is_given_back_when_it_returns() -> None:
    engine, clock, gateway, store, _ = _engine(
        calm_modes={"calm_now": {"scene": "calm", "duration": "10min", "fade": 0}}
    )
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    engine.handle(LightReport("sofa", LightState(20, 2000)))
    gateway.offline.add("sofa")
    engine.handle(Availability("sofa", online=False))
    clock.moment += timedelta(minutes=1)
    engine.handle(SelectMode("off"))
    for _ in range(3):  # whatever else happens meanwhile, the give-back waits for the light
        clock.moment += timedelta(seconds=1)
        engine.handle(Wake())
    assert _lights(gateway.sent)["sofa"].brightness == 20.0
    assert "sofa" in store.state.holds
    gateway.offline.clear()
    engine.handle(Availability("sofa", online=True))
    last = _lights(gateway.sent)["sofa"]
    assert (last.on, last.brightness, last.kelvin) == (True, 70.0, 3500)
    clock.moment += timedelta(seconds=1)
    engine.handle(Wake())
    assert store.state.holds == {}


def test_hands_off_sends_nothing_until_switched_off_again() -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(SetHandsOff(True))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=2)
    engine.handle(Press("calm_now"))
    assert gateway.sent == []
    assert store.state.paused_since is not None
    engine.handle(SetHandsOff(False))
    assert store.state.paused_since is None


def test_unknown_buttons_are_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    engine, _, gateway, store, _ = _engine()
    with caplog.at_level(logging.WARNING):
        engine.handle(Press("party_mode"))
    assert "unknown button 'party_mode'" in caplog.text
    assert store.state.calm == {}
    assert gateway.sent == []


def test_the_engine_wakes_for_the_next_ritual_when_idle() -> None:
    engine, _, _, _, armed = _engine()
    engine.handle(Wake())
    assert armed[-1] == at("2026-11-25 19:00")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-03-29", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        ("2026-10-25", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_whole_dst_day_driven_by_wake_ups_runs_each_ritual_once(
    day: str, expected: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    engine, clock, gateway, store, armed = _engine(
        (at(f"{day} 00:00") - timedelta(hours=12)).strftime("%Y-%m-%d %H:%M"),
        rituals={
            "early": {"at": "02:30", "duration": "20min", "scene": "tea", "fade": "1min"},
            "evening": {"at": "sunset", "until": "23:00", "scene": "evening", "fade": "20min"},
        },
    )
    end = at(f"{day} 00:00") + timedelta(days=1)
    with caplog.at_level(logging.INFO):
        engine.handle(Wake())
        while armed[-1] < end:
            clock.moment = armed[-1]
            engine.handle(Wake())
    messages = [r.getMessage() for r in caplog.records]
    assert sum("ritual early started" in m for m in messages) == 1
    assert store.state.runs["early"].start == expected
    assert sum("ritual evening started" in m for m in messages) == 2
    assert {c.device for c in gateway.sent} == {"sofa", "desk"}


def test_an_instant_calm_mode_switched_off_gives_back_at_once() -> None:
    engine, clock, gateway, _, _ = _engine(
        calm_modes={"calm_now": {"scene": "calm", "duration": "1h", "fade": 0}}
    )
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    assert _lights(gateway.sent)["sofa"].brightness == 20.0
    clock.moment += timedelta(seconds=5)
    engine.handle(SelectMode("off"))
    last = _lights(gateway.sent)["sofa"]
    assert (last.brightness, last.kelvin) == (70.0, 3500)


def _calm_and_off_two_seconds_apart() -> tuple[Engine, FakeClock, MemoryStore]:
    """A calm mode pressed and ended 2 s later: the valve was told 23 °C, then 20 °C."""
    engine, clock, gateway, store, _ = _engine(
        calm_modes={"calm_now": {"scene": "calm", "duration": "1h", "fade": 0}}
    )
    engine.handle(ClimateReport("heat", 20.0, 19.0))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(seconds=2)
    engine.handle(SelectMode("off"))
    assert [c.setpoint for c in gateway.sent if isinstance(c, ClimateCommand)] == [23.0, 20.0]
    return engine, clock, store


def test_a_late_thermostat_report_of_an_earlier_command_is_not_a_person() -> None:
    engine, _, store = _calm_and_off_two_seconds_apart()
    engine.handle(ClimateReport("heat", 23.0, 19.0))  # the valve answers the first, late
    assert all(hold.override is None for hold in store.state.holds.values())


def test_the_settle_window_runs_on_the_engines_clock_not_on_real_time() -> None:
    # The engine's clock is a fake one (the demo's runs 1440 times faster than real
    # time): what a report may still be answering is judged on it alone. No real time
    # passes in this test, so a window on real time would still explain the late report.
    engine, clock, store = _calm_and_off_two_seconds_apart()
    clock.moment += SETTLE + timedelta(seconds=1)
    engine.handle(ClimateReport("heat", 23.0, 19.0))  # the first command, long settled
    override = store.state.holds["heat"].override
    assert override is not None
    assert override.attributes == {Attribute.SETPOINT}


def test_a_press_right_after_a_give_back_starts_from_what_was_given_back() -> None:
    engine, clock, gateway, store, _ = _engine(
        calm_modes={"calm_now": {"scene": "calm", "duration": "1h", "fade": 0}}
    )
    engine.handle(ClimateReport("heat", 17.0, 19.0))
    engine.handle(Press("calm_now"))  # +4
    engine.handle(ClimateReport("heat", 21.0, 19.0))
    clock.moment += timedelta(seconds=2)
    engine.handle(SelectMode("off"))
    for _ in range(2):  # given back, then let go
        clock.moment += timedelta(minutes=5)
        engine.handle(Wake())
    assert store.state.holds == {}
    # Pressed again before the valve has reported the 17 it was given back.
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(seconds=2)
    engine.handle(SelectMode("off"))
    setpoints = [c.setpoint for c in gateway.sent if isinstance(c, ClimateCommand)]
    assert setpoints == [21.0, 17.0, 21.0, 17.0]


def test_a_flood_of_identical_reports_is_taken_in_without_planning() -> None:
    engine, _, _, _, armed = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    before = len(armed)
    engine.handle(*[LightReport("sofa", LightState(70, 3500)) for _ in range(1000)])
    assert len(armed) == before  # no reconcile was needed
    assert engine.handled >= 1003


class _FullDisk(MemoryStore):
    """A store whose disk is full until `failing` is set back to False."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True
        self.attempts = 0

    def save(self, state: RuntimeState) -> None:
        self.attempts += 1
        if self.failing:
            raise OSError(errno.ENOSPC, "No space left on device", "/var/lib/cocoon/.state.json")
        super().save(state)


def test_a_disk_that_cannot_be_written_stops_nothing_and_shows_until_a_save_works() -> None:
    cfg = home_config(
        calm_modes={"calm_now": {"scene": "calm", "duration": "10s", "fade": 0}},
        settings={"rate_limit": 1000},
    )
    clock, gateway, store = FakeClock(at("2026-11-25 18:00")), FakeGateway(), _FullDisk()
    armed: list[datetime] = []
    engine = Engine(cfg, clock=clock, store=store, gateways=[gateway], arm=armed.append)
    engine.start()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    assert _lights(gateway.sent)["sofa"].brightness == 20.0  # the press went out
    assert engine.status is not None
    [problem] = engine.status.problems
    assert problem == (
        "state not saved: No space left on device: /var/lib/cocoon/.state.json"
        " (since 18:00), retrying"
    )
    # The save is tried again soon: before the calm mode's end would wake the engine.
    assert clock.now() < armed[-1] < clock.now() + timedelta(seconds=10)
    # The calm mode ends at its time and gives back, disk or not.
    while clock.now() < at("2026-11-25 18:00") + timedelta(seconds=12):
        clock.moment = max(armed[-1], clock.now() + timedelta(milliseconds=100))
        engine.handle(Wake())
    given_back = _lights(gateway.sent)["sofa"]
    assert (given_back.brightness, given_back.kelvin) == (70.0, 3500)
    assert engine.status.problems == (problem,)  # still the first failure's time
    tries = store.attempts
    assert tries > 3
    store.failing = False
    clock.moment = armed[-1]
    engine.handle(Wake())
    assert engine.status.problems == ()
    assert store.state.calm == {}
    assert store.attempts == tries + 1


def _reloaded(*, desk: bool = True, **changes: object) -> CocoonConfig:
    """The engine's home of `_engine` again, with `changes`, and without the desk lamp
    (in its devices and every scene) unless `desk`."""
    sections: dict[str, object] = {
        "calm_modes": {"calm_now": {"scene": "calm", "duration": "10min", "fade": "1min"}},
        "rituals": {
            "evening": {"at": "19:00", "until": "22:00", "scene": "evening", "fade": "20min"}
        },
        "settings": {"rate_limit": 1000},
    }
    if not desk:
        sections["devices"] = {
            "sofa": {"zigbee2mqtt": "sofa"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat", "min": 16, "max": 23},
            "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
        }
        sections["scenes"] = {
            "evening": {"lights": {"sofa": {"brightness": 35, "kelvin": 2200}}},
            "calm": {"lights": {"sofa": {"brightness": 20, "kelvin": 2000}}},
        }
    return home_config(**{**sections, **changes})


def test_a_held_lamp_removed_by_a_reload_is_given_back_in_a_glide() -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(LightReport("desk", LightState(50, 4000)))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=2)
    engine.handle(Wake())
    assert not _lights(gateway.sent)["desk"].on  # the calm scene switched it off
    sent = len(gateway.sent)
    engine.reload(_reloaded(desk=False))
    [back] = gateway.sent[sent:]
    assert back == LightCommand(
        "desk",
        True,
        50.0,
        4000,
        engine.cfg.settings.fade_step.total_seconds(),
        "given back: no longer configured",
    )
    engine.handle(Wake())  # the reload's reconcile: nothing else for the desk, no KeyError
    assert "desk" not in store.state.holds
    assert all(c.device != "desk" for c in gateway.sent[sent + 1 :])


def test_a_calm_mode_removed_by_a_reload_ends_and_gives_back_gliding(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))
    clock.moment += timedelta(minutes=2)
    engine.handle(Wake())
    sent = len(gateway.sent)
    with caplog.at_level(logging.INFO):
        engine.reload(_reloaded(calm_modes={}))
        engine.handle(Wake())
    assert "calm mode calm_now is no longer configured" in caplog.text
    back = _lights(gateway.sent[sent:])["sofa"]
    assert (back.brightness, back.kelvin) == (70.0, 3500)
    assert back.transition == engine.cfg.settings.fade_step.total_seconds()  # no jump
    assert store.state.calm == {}


def test_a_shortened_calm_mode_ends_earlier_and_says_when(caplog: pytest.LogCaptureFixture) -> None:
    engine, clock, _, store, _ = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(Press("calm_now"))  # 10 minutes, at 18:00
    clock.moment += timedelta(minutes=1)
    shorter = {"calm_now": {"scene": "calm", "duration": "4min", "fade": "1min"}}
    with caplog.at_level(logging.INFO):
        engine.reload(_reloaded(calm_modes=shorter))
        engine.handle(Wake())
    assert store.state.calm["calm_now"].end == at("2026-11-25 18:04")
    assert "calm_now now ends at 18:04 (its duration changed from 10min to 4min)" in caplog.text


def test_a_restart_with_a_held_device_no_longer_configured_leaves_it_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, clock, gateway, store, _ = _engine()
    engine.handle(LightReport("sofa", LightState(70, 3500)))
    engine.handle(LightReport("desk", LightState(50, 4000)))
    engine.handle(Press("calm_now"))
    assert "desk" in store.state.holds
    restarted = Engine(
        _reloaded(desk=False), clock=clock, store=store, gateways=[gateway], arm=[].append
    )
    with caplog.at_level(logging.WARNING):
        restarted.start()
        restarted.handle(Wake())
    assert "desk was held when cocoon stopped but is no longer configured" in caplog.text
    assert "desk" not in store.state.holds
    assert "calm_now" in store.state.calm  # the rest carries on
