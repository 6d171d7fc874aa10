"""Load: 300 devices, 50 rituals and 5 000 Zigbee2MQTT messages a second cocoon can ignore.

`cocoon run` (its own process, no debug log) drives the big home of `load.py` on a real
Mosquitto, five rituals fading in at any moment, while a separate process floods the
broker for `COCOON_FAULT_LOAD_SECONDS` (20 s here, 5 min in `bench/stress`). All along,
"Calm now" is pressed sporadically (a random idle 0.2-1.0 s first, so each press meets a
daemon that had nothing to wake it), the first `/set` to a calm light is timed, and after
each press the mode is set back to `off` and every light's give-back awaited. cocoon's RSS
is read every round.

What must hold whatever the machine's load is asserted: no press is lost, none stalls
(every calm light and its give-back within `STALL` seconds), cocoon lives, and its RSS at
the end is within 10 % of what it was early in the flood. How quick the presses were (the
target is p99 under 50 ms) is a figure, recorded for `bench/stress`, which prints it: a
shared machine under load can always make one press slow.

The broker saves its database once a minute, as Mosquitto does by default. One that
saves on every change (deploy/docker's, so that a broker crash loses nothing) makes the
press that meets a save wait for it; bench/press_latency measures that cost.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench._measure import cpu_seconds, percentile, status_field

from cocoon.adapters.topics import Topics
from cocoon.config.load import load_config

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, write_config
from . import knobs
from .load import CALM, LIGHTS, PLANTS, RITUALS, SENSORS, THERMOSTATS, Home, big_home

pytestmark = pytest.mark.integration

RATE = 5000
P99_TARGET_MS = 50.0
RSS_GROWTH = 0.10
STALL = 10.0
ROOT = Path(__file__).resolve().parents[2]


def _press_and_give_back(home: Home, topics: Topics) -> float:
    """Press "Calm now", wait for every calm light and the mode, set `off`, wait for the
    give-back; returns the milliseconds from the press to the first calm `/set`."""
    mark = len(home.sets)
    began = home.press(topics.button("calm_now"))
    home.wait(lambda: home.calm_sets(mark), STALL, "first calm /set")
    first = home.calm_sets(mark)[0][0]
    home.wait(
        lambda: len({n for _, n in home.calm_sets(mark)}) == len(CALM) and home.mode == b"Calm now",
        STALL,
        "calm scene and mode",
    )
    mark = len(home.sets)
    home.press(topics.mode_set, "off")
    home.wait(
        lambda: len({n for _, n in home.calm_sets(mark)}) == len(CALM) and home.mode == b"Off",
        STALL,
        "give-back and mode off",
    )
    return (first - began) * 1000


def test_presses_stay_quick_and_memory_flat_under_a_zigbee_flood(
    periodic_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = periodic_mosquitto
    seconds = knobs.LOAD_SECONDS
    config = write_config(tmp_path, big_home(broker.port, datetime.now(UTC)))
    topics = Topics.for_config(load_config(config))
    seed = knobs.SEED or random.randrange(1, 10**6)
    chance = random.Random(seed)
    home = Home(broker.port, topics.mode)
    daemon = DaemonProcess(config, tmp_path / "state", verbose=False)
    flooder: subprocess.Popen[str] | None = None
    latencies: list[float] = []
    rss: list[int] = []
    try:
        daemon.start()
        home.wait(lambda: home.mode == b"Off", 30, "cocoon online with mode off")
        for _ in range(3):  # warm up: the first plans fill the caches
            _press_and_give_back(home, topics)
        command = [sys.executable, "-m", "tests.faults.load", str(broker.port), str(RATE)]
        flooder = subprocess.Popen(
            [*command, str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert flooder.stdout is not None
        assert flooder.stdout.readline().strip() == "ready"
        began, cpu_before = time.monotonic(), cpu_seconds(daemon.pid)
        while flooder.poll() is None:
            time.sleep(chance.uniform(0.2, 1.0))  # sporadic: an idle daemon each time
            latencies.append(_press_and_give_back(home, topics))
            rss.append(status_field(daemon.pid, "VmRSS"))
        took = time.monotonic() - began
        cpu = (cpu_seconds(daemon.pid) - cpu_before) / took * 100
        sent_text, flood_text = flooder.stdout.read().split()
        sent, flooded = int(sent_text), float(flood_text)
        assert daemon.process is not None
        assert daemon.process.poll() is None, daemon.log()
    finally:
        if flooder is not None:
            flooder.kill()
            flooder.communicate()
        home.close()
        daemon.end()
    assert latencies, "no press was made during the flood"
    fifth = max(1, len(rss) // 5)
    early, late = statistics.median(rss[:fifth]), statistics.median(rss[-fifth:])
    growth = late / early - 1
    p99 = percentile(latencies, 0.99)
    met = p99 < P99_TARGET_MS
    knobs.record(
        "load",
        devices=LIGHTS + THERMOSTATS + SENSORS,
        rituals=RITUALS,
        plants=PLANTS,
        seed=seed,
        flood_per_s=round(sent / flooded),
        flood_s=round(flooded, 1),
        presses=len(latencies),
        press_p50_ms=round(statistics.median(latencies), 2),
        press_p95_ms=round(percentile(latencies, 0.95), 2),
        press_p99_ms=round(p99, 2),
        press_p99_target=f"under {P99_TARGET_MS:g} ms: {'met' if met else 'missed'}",
        press_max_ms=round(max(latencies), 2),
        cocoon_cpu_pct=round(cpu, 1),
        rss_early_mb=round(early / 1024, 1),
        rss_late_mb=round(late / 1024, 1),
        rss_peak_mb=round(max(rss) / 1024, 1),
        rss_growth_pct=round(growth * 100, 1),
    )
    # The flood rate the machine reached is a figure (bench/stress prints it), not a verdict.
    assert sent > 0, "the flood sent nothing"
    assert growth < RSS_GROWTH, f"RSS grew {growth:.1%}: {rss}"
