"""Gentle by construction: over random homes and instants no light ever jumps.

Between two consecutive reconcile ticks (the planner's own wake-ups, plus button
presses at random instants) no light's target brightness moves by more than
`settings.max_step`, and while it shows, its colour never jumps colder by more than
one colour step (10 mireds), at any time of day. What is sent at a tick (a fading light
aims at its look at the next tick, `targets.aims`) is within the same step of the look
at that tick, so no command asks a light to move further than one step.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoon.config.checks import reference_problems
from cocoon.config.schema import CocoonConfig
from cocoon.core.model import LightReading, LightState, LightTarget, Readings
from cocoon.core.planner import Planner
from cocoon.core.simulate import follow
from cocoon.core.state import RuntimeState
from cocoon.core.step import next_wakeup
from cocoon.core.targets import MIRED_STEP, VISIBLE, aims, desired
from cocoon.core.transitions import advance, press

LIGHTS = ("sofa", "desk", "floor")

light_setting = st.one_of(
    st.just("off"),
    st.fixed_dictionaries(
        {"brightness": st.integers(0, 100)},
        optional={"kelvin": st.integers(1800, 6500)},
    ),
    st.fixed_dictionaries({"kelvin": st.integers(1800, 6500)}),
)
scene = st.dictionaries(st.sampled_from(LIGHTS), light_setting, min_size=1)
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
sun_time = st.builds(
    lambda event, sign, minutes: f"{event}{sign}{minutes}min",
    st.sampled_from(["sunrise", "sunset", "dusk", "dawn"]),
    st.sampled_from("+-"),
    st.integers(0, 120),
)


# A window from the evening until a clock time or sunrise (at most about 14 hours, so its
# fade-out never reaches its own start the next day).
evening_window = st.builds(
    lambda h, m, until: {"at": f"{h:02d}:{m:02d}", "until": until},
    st.integers(18, 23),
    st.integers(0, 59),
    st.one_of(
        st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 8), st.integers(0, 59)),
        st.just("sunrise"),
        st.builds(lambda m: f"sunrise+{m}min", st.integers(0, 90)),
    ),
)


def fades(max_step: float) -> st.SearchStrategy[str]:
    quickest = max(30, math.ceil(110 / max_step))
    return st.builds(lambda s: f"{s}s", st.integers(quickest, 3 * 3600))


def rituals(max_step: float) -> st.SearchStrategy[dict[str, Any]]:
    # A cue lasts a while (`duration`); a window lasts until a time (`until`), and one in
    # force when cocoon starts is joined where it stands.
    end = st.one_of(
        st.fixed_dictionaries(
            {"duration": st.builds(lambda m: f"{m}min", st.integers(1, 20 * 60))}
        ),
        evening_window,
    )
    return st.builds(
        lambda fixed, ends: {**fixed, **ends},
        st.fixed_dictionaries(
            {"at": st.one_of(clock, sun_time), "fade": fades(max_step)},
            optional={"fade_out": fades(max_step)},
        ),
        end,
    )


@st.composite
def homes(draw: st.DrawFn) -> CocoonConfig:
    max_step = draw(st.floats(1, 20))
    fade = fades(max_step)
    scenes = draw(st.lists(scene, min_size=1, max_size=4))
    drawn = draw(st.lists(rituals(max_step), min_size=1, max_size=4))
    data: dict[str, Any] = {
        "home": {
            "latitude": draw(st.sampled_from([50.85, 69.65, 59.9, -33.9])),
            "longitude": 4.35,
            "timezone": draw(st.sampled_from(["Europe/Brussels", "Europe/Oslo", "UTC"])),
        },
        "mqtt": {},
        "settings": {
            "max_step": max_step,
            "fade_step": f"{draw(st.integers(5, 300))}s",
        },
        "devices": {name: {"zigbee2mqtt": name} for name in LIGHTS},
        "scenes": {f"s{i}": {"lights": lights} for i, lights in enumerate(scenes)},
        "rituals": {
            f"r{i}": {**r, "scene": f"s{draw(st.integers(0, len(scenes) - 1))}"}
            for i, r in enumerate(drawn)
        },
        "calm_modes": {"calm": {"scene": "s0", "duration": "20min", "fade": draw(fade)}},
    }
    cfg = CocoonConfig.model_validate(data)
    assert reference_problems(cfg) == []
    return cfg


start_instant = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
initial = st.builds(
    lambda b, k: LightState(b, k if b else None),
    st.sampled_from([0.0, 1.0, 30.0, 100.0]),
    st.integers(2000, 6500),
)


def _step_ok(cfg: CocoonConfig, before: Readings, targets: dict[str, Any], gap: object) -> None:
    for device, target in targets.items():
        if not isinstance(target, LightTarget):
            continue
        shown = before.light(device)
        if shown is None:
            continue
        new = target.state
        assert abs(new.brightness - shown.brightness) <= cfg.settings.max_step + 1e-6, (
            device,
            shown,
            new,
            target.reason,
        )
        if min(shown.brightness, new.brightness) >= VISIBLE and shown.kelvin and new.kelvin:
            colder = 1e6 / shown.kelvin - 1e6 / new.kelvin
            assert colder <= MIRED_STEP + 1e-6, (device, shown, new, target.reason, gap)


def _walk(
    cfg: CocoonConfig,
    start: datetime,
    looks: list[LightState],
    presses: list[int],
    down: tuple[datetime, datetime] | None = None,
) -> int:
    """Tick through 30 hours from a first start (no saved state) at `start`; returns the
    number of windows joined. With `down` (from, until), cocoon stops at the first tick
    after `from` at which it holds no light, for as long as `until - from`: nothing ticks,
    the lights stay as they were, and the state comes back as it was saved. (A return in
    the middle of a run that was already going is not what this walks.)"""
    planner = Planner(cfg)
    readings = Readings(
        {name: LightReading(look, start) for name, look in zip(LIGHTS, looks, strict=True)}, {}
    )
    state = RuntimeState()
    pending = sorted(start + timedelta(seconds=s) for s in presses)
    now, end = start, start + timedelta(hours=30)
    ticks, previous, joined = 0, start, 0
    while now < end and ticks < 3000:
        state, notes = advance(planner, now, state, readings)
        joined += sum("joined" in note for note in notes)
        while pending and pending[0] <= now:
            pending.pop(0)
            state, _ = press(planner, "calm", now, state, readings)
        targets = desired(planner, now, state, readings)
        _step_ok(cfg, readings, targets, now - previous)
        previous = now
        readings = follow(readings, targets, now)
        following = next_wakeup(planner, now, state, readings)
        assert following > now
        aimed = aims(planner, targets, following, state, readings)
        _step_ok(cfg, readings, aimed, following - now)
        if pending and pending[0] < following:
            following = pending[0]
        if down is not None and down[0] <= following and not state.holds:
            # Stopped while it held nothing; it comes back `down[1] - down[0]` later.
            following, down = following + (down[1] - down[0]), None
            pending = [p for p in pending if p >= following]
        now, ticks = following, ticks + 1
    return joined


_joins = {"first start": 0, "return": 0}


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    cfg=homes(),
    start=start_instant,
    looks=st.lists(initial, min_size=3, max_size=3),
    presses=st.lists(st.integers(0, 36 * 3600), max_size=3),
)
def test_no_light_jumps_between_ticks(
    cfg: CocoonConfig, start: datetime, looks: list[LightState], presses: list[int]
) -> None:
    _joins["first start"] += _walk(cfg, start, looks, presses)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    cfg=homes(),
    start=start_instant,
    looks=st.lists(initial, min_size=3, max_size=3),
    presses=st.lists(st.integers(0, 36 * 3600), max_size=2),
    away=st.integers(0, 20 * 3600),
    gone=st.integers(11 * 60, 12 * 3600),
)
def test_no_light_jumps_when_cocoon_comes_back_after_the_grace(
    cfg: CocoonConfig,
    start: datetime,
    looks: list[LightState],
    presses: list[int],
    away: int,
    gone: int,
) -> None:
    down_from = start + timedelta(seconds=away)
    _joins["return"] += _walk(
        cfg, start, looks, presses, (down_from, down_from + timedelta(seconds=gone))
    )


def test_zz_windows_were_joined() -> None:
    """The walks above did join windows in force (first starts and returns)."""
    assert _joins["first start"] > 0
    assert _joins["return"] > 0
