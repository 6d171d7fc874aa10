"""How long a whole day's plan takes: 100 lights, 20 rituals, every minute of 24 hours.

Run with `.venv/bin/python bench/plan_day.py`. Each measured run uses a fresh `Planner`,
so its schedule cache starts cold, as it does for `cocoon plan` and after a reload.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import OFF, LightReading, Readings
from cocoon.core.planner import Planner
from cocoon.core.simulate import follow, simulate
from cocoon.core.state import RuntimeState
from cocoon.core.step import next_wakeup
from cocoon.core.targets import desired
from cocoon.core.transitions import advance

DAY = date(2026, 4, 14)  # an ordinary Tuesday in Brussels
LIGHTS, THERMOSTATS, RITUALS, PER_SCENE = 100, 4, 20, 10
RUNS, WARM_UP = 7, 1
TARGET_MS = 200.0
T = TypeVar("T")
SUN_TIMES = ("sunrise", "sunrise+15min", "sunset-30min", "sunset", "dusk", "dawn+10min")


def synthetic_home(seed: int = 7) -> CocoonConfig:
    """A large Brussels home: 100 lights in 10 rooms, 4 thermostats, 20 rituals."""
    rng = random.Random(seed)
    lights = [f"light_{i:03d}" for i in range(LIGHTS)]
    heat = [f"heat_{i}" for i in range(THERMOSTATS)]
    devices: dict[str, Any] = {
        name: {"zigbee2mqtt": name, "room": f"Room {i // 10 + 1}"} for i, name in enumerate(lights)
    }
    devices.update(
        {name: {"zigbee2mqtt": name, "kind": "thermostat", "min": 16, "max": 23} for name in heat}
    )
    scenes: dict[str, Any] = {}
    rituals: dict[str, Any] = {}
    for i in range(RITUALS):
        chosen = rng.sample(lights, PER_SCENE)
        scene_lights: dict[str, Any] = {}
        for name in chosen:
            if rng.random() < 0.15:
                scene_lights[name] = "off"
            else:
                scene_lights[name] = {
                    "brightness": rng.choice([1, 5, 15, 25, 35, 50, 70, 100]),
                    "kelvin": rng.choice([1800, 2200, 2700, 3000, 4000, 5000]),
                }
        scene: dict[str, Any] = {"lights": scene_lights}
        if i % 4 == 0:
            scene["heat"] = {rng.choice(heat): rng.choice(["+0.5", "-1", "21", "+1"])}
        scenes[f"scene_{i:02d}"] = scene
        if i % 2 == 0:
            at = rng.choice(SUN_TIMES)
        else:
            at = f"{rng.randrange(5, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}"
        ritual: dict[str, Any] = {
            "at": at,
            "scene": f"scene_{i:02d}",
            "fade": f"{rng.randint(2, 45)}min",
        }
        if i % 3 == 0:
            ritual["until"] = f"{rng.randrange(0, 24):02d}:{rng.choice([0, 30]):02d}"
        else:
            ritual["duration"] = f"{rng.randint(20, 300)}min"
        rituals[f"ritual_{i:02d}"] = ritual
    return CocoonConfig.model_validate(
        {
            "home": {
                "name": "Bench house",
                "latitude": 50.85,
                "longitude": 4.35,
                "timezone": "Europe/Brussels",
            },
            "mqtt": {},
            "devices": devices,
            "scenes": scenes,
            "rituals": rituals,
        }
    )


def day_range(cfg: CocoonConfig) -> tuple[datetime, datetime]:
    """Local midnight to the next one, in UTC."""
    zone = cfg.home.zone
    start = datetime.combine(DAY, datetime.min.time(), zone).astimezone(UTC)
    end = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    return start, end


def full_day(cfg: CocoonConfig) -> int:
    """advance + desired at every minute of the day (and at each ritual start)."""
    start, end = day_range(cfg)
    readings = lights_off(cfg, start)
    return len(simulate(Planner(cfg), start, end, timedelta(minutes=1), readings=readings).steps)


def lights_off(cfg: CocoonConfig, at: datetime) -> Readings:
    """Every light reported off (cocoon leaves a light that never reported alone)."""
    lights = [name for name, device in cfg.devices.items() if device.kind == "light"]
    return Readings({name: LightReading(OFF, at) for name in lights}, {})


def wakeup_walk(cfg: CocoonConfig) -> tuple[int, float]:
    """The daemon's way through the day: wake up only when `next_wakeup` says so.

    Returns the number of `next_wakeup` calls and the seconds spent in them.
    """
    planner = Planner(cfg)
    start, end = day_range(cfg)
    state, readings = RuntimeState(), lights_off(cfg, start)
    now, calls, spent = start, 0, 0.0
    while now < end:
        state, _ = advance(planner, now, state, readings)
        targets = desired(planner, now, state, readings)
        readings = follow(readings, targets, now)
        began = time.perf_counter()
        now = next_wakeup(planner, now, state, readings)
        spent += time.perf_counter() - began
        calls += 1
    return calls, spent


def measure(run: Callable[[CocoonConfig], T], cfg: CocoonConfig) -> tuple[list[float], list[T]]:
    """Milliseconds of each measured run, and what each run returned."""
    for _ in range(WARM_UP):
        run(cfg)
    times: list[float] = []
    results: list[T] = []
    for _ in range(RUNS):
        began = time.perf_counter()
        results.append(run(cfg))
        times.append((time.perf_counter() - began) * 1000)
    return times, results


def main() -> int:
    cfg = synthetic_home()
    day_ms, counted = measure(full_day, cfg)
    walk_ms, walked = measure(wakeup_walk, cfg)
    steps, wakeups = counted[-1], walked[-1][0]
    in_wakeup = statistics.median(spent * 1000 for _, spent in walked)
    best, median = min(day_ms), statistics.median(day_ms)
    walk = statistics.median(walk_ms)
    rows = [
        ("full day: steps (advance + desired)", f"{steps}", ""),
        ("full day: best of 7", f"{best:.1f} ms", f"< {TARGET_MS:.0f} ms"),
        ("full day: median of 7", f"{median:.1f} ms", f"< {TARGET_MS:.0f} ms"),
        ("full day: per step (median)", f"{median / steps * 1000:.0f} µs", ""),
        ("daemon walk: next_wakeup calls", f"{wakeups}", ""),
        ("daemon walk: in next_wakeup (median)", f"{in_wakeup:.1f} ms", ""),
        ("daemon walk: per next_wakeup", f"{in_wakeup / max(1, wakeups) * 1000:.0f} µs", ""),
        ("daemon walk: whole day (median)", f"{walk:.1f} ms", ""),
    ]
    ok = median < TARGET_MS
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    print(
        f"plan_day: {LIGHTS} lights, {THERMOSTATS} thermostats, {RITUALS} rituals;"
        f" {DAY} in Europe/Brussels; {RUNS} runs after {WARM_UP} warm-up"
    )
    print(f"  {'metric':<{width[0]}}  {'value':>{width[1]}}  target")
    for metric, value, target in rows:
        print(f"  {metric:<{width[0]}}  {value:>{width[1]}}  {target}".rstrip())
    verdict = "met" if ok else "MISSED"
    print(f"  full day target {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
