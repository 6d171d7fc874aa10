"""A building on one cocoon: 10, 50 and 200 flats of 8 Zigbee2MQTT devices in one process.

Run with `.venv/bin/python -m bench.many_homes` from the repository root (bench/run does);
`--flats 10,50` (or COCOON_BENCH_FLATS=10,50) runs fewer sizes, `--press-seconds` and
`--idle-seconds` shorten the windows. For each size: a real Mosquitto on a free loopback
port (saving its database once a minute, as Mosquitto does by default), a site file of
that many flats (bench/_building.py: the example home of config/cocoon.yaml, every
device on one Zigbee2MQTT network, `rate_limit: 10` for that network), the Zigbee2MQTT
simulator playing every device of every flat with one MQTT client, and one
`cocoon run --config site.yaml` as a child process. In this process, two MQTT connections
driven from one thread (bench/_probe.py) press the buttons and hear every `/set`, every
flat's status, mode and discovery config, each stamped with `time.perf_counter()`.

The flats' evening ritual is placed (to the second, as an offset from sunset) to start
after the start-up and an idle window, and fades in over 3 minutes in every flat at once.
What is measured:

- start-up: from starting `cocoon run` to every flat announced (each of its Home Assistant
  discovery configs published, and its availability `online`), waited for up to the
  start-up budget (15 s + 0.1 s a flat, settling included); and the messages cocoon says
  it dropped (its log's "Dropped a message": paho's outgoing queue was full);
- memory: VmRSS of the process after start-up (and a few seconds to settle); the cost of
  a flat is the slope of a least-squares line through (flats, RSS) of the sizes run, the
  process's base its intercept; each column also shows the difference to the size before;
- idle CPU: utime + stime of the process over the window between start-up and the
  evening (nothing due, nothing fading), as a share of one CPU;
- presses while every flat fades: from 5 s into the evening, "Calm now" pressed in a
  random flat every 0.5-2 s (QoS 1, as Home Assistant's button), the time to the first
  `/set` to that flat's calm lights (sofa and floor lamp); then the mode set back to `off`
  and its give-back awaited, so each press changes something. A fade step of the same
  flat that happens to leave in those few milliseconds would count as the press's
  (only ever making a press look quicker);
- commands per second on the Zigbee2MQTT network: every `/set` of the run, in sliding
  1 s windows. Commands for the flat of a press or of its `off`, within 0.3 s of it, are a
  person's (sent at once, outside the pace) and counted apart; the rest are paced: their
  busiest second must stay within `rate_limit`.

Targets: every flat announced, no message dropped; press → first `/set` p99 under 50 ms;
under 1 MB of RSS per flat; paced commands never above the rate limit in any 1 s window.
The figures of every size are one table; the process exits 1 when a target is missed, and
the lines under the table say which.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from tests.daemon.harness import DaemonProcess
from tests.faults.mosquittos import QUICK_SAVES, TunedMosquitto

from bench._building import (
    CALM_LIGHTS,
    LATITUDE,
    LONGITUDE,
    TIMEZONE,
    ZIGBEE2MQTT,
    timed_rituals,
    write_building,
)
from bench._daemon import print_log_tail
from bench._measure import (
    cpu_seconds,
    percentile,
    print_grid,
    quiet_exit_on_sigterm,
    status_field,
)
from bench._probe import Clients, Inbox, client
from cocoon.adapters.discovery import entities
from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig, Home
from cocoon.config.site import load_site
from cocoon.core.schedule import ritual_window
from cocoon.core.sun import sun_times

SIZES = (10, 50, 200)
RATE = 10  # the example's rate_limit, for the whole network
FADE = "3min"
SETTLE, IDLE, PRESS_SECONDS, FIRST_STEPS = 5.0, 30.0, 60.0, 5.0
TARGET_P99_MS, TARGET_MB_PER_FLAT = 50.0, 1.0
STALL = 5.0  # s: a press with no /set this long after it is lost
PERSON_WINDOW = 0.3  # s after a press or an `off`: that flat's commands are the person's
ZONE = ZoneInfo(TIMEZONE)
DROPPED = "Dropped a message"  # cocoon's warning when paho's outgoing queue is full
BROKER: dict[str, str | None] = {**QUICK_SAVES, "log_type": "error"}


def start_budget(flats: int) -> float:
    """Seconds allowed for start-up and settling before the idle window begins."""
    return 15.0 + 0.1 * flats


@dataclass
class Heard:
    """What the watching side heard, by flat."""

    pending: dict[str, str]  # topic still to hear → its flat (discovery configs, status)
    sets: list[tuple[float, str, str]] = field(default_factory=list)  # time, flat, device
    modes: dict[str, bytes] = field(default_factory=dict)
    announced: float | None = None


class Building(Clients):
    """The watching side: `presser` presses (Home Assistant's part), `listener` hears the
    network's `/set` commands and each flat's status, mode and discovery."""

    def __init__(self, port: int, homes: Mapping[str, CocoonConfig]) -> None:
        pending: dict[str, str] = {}
        self.topics = {ident: Topics.for_config(cfg) for ident, cfg in homes.items()}
        for ident, cfg in homes.items():
            topics = self.topics[ident]
            pending[topics.availability] = ident
            pending.update((entity.topic(topics), ident) for entity in entities(cfg, topics))
        self.heard = Heard(pending)
        self.actions: list[tuple[float, str]] = []  # presses and `off`s: when, which flat
        self._mode_of = {topics.mode: ident for ident, topics in self.topics.items()}
        inbox: Inbox = []
        self.presser = client(port, inbox)
        self.listener = client(port)
        super().__init__([self.presser, self.listener], inbox)
        self.wait(lambda: all(c.is_connected() for c in self.clients), 5, "connection")
        acked: list[int] = []
        self.listener.on_subscribe = lambda *args: acked.append(args[2])
        self.listener.on_message = self._on_listener
        prefixes = {t.discovery_prefix for t in self.topics.values()}
        bases = {t.availability.rsplit("/", 2)[0] for t in self.topics.values()}
        wanted = [f"{ZIGBEE2MQTT}/+/+/set", *(f"{p}/#" for p in prefixes)]
        wanted += [f"{b}/+/{leaf}" for b in bases for leaf in ("status", "mode")]
        _, mid = self.listener.subscribe([(topic, 1) for topic in wanted])
        self.wait(lambda: mid in acked, 5, "subscription")

    def _on_listener(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now, topic, heard = time.perf_counter(), message.topic, self.heard
        if topic.endswith("/set") and topic.startswith(f"{ZIGBEE2MQTT}/"):
            _, flat, device, _ = topic.split("/")
            heard.sets.append((now, flat, device))
        elif topic in self._mode_of:
            heard.modes[self._mode_of[topic]] = bytes(message.payload)
        elif topic in heard.pending and message.payload not in (b"", b"offline"):
            del heard.pending[topic]
            if not heard.pending:
                heard.announced = now

    def missing(self) -> str:
        """What is still not heard: how many topics of how many flats, a few named."""
        pending = self.heard.pending
        flats = sorted(set(pending.values()))
        return (
            f"{len(pending)} topics of {len(flats)} flats ({', '.join(flats[:5])}…),"
            f" such as {', '.join(sorted(pending)[:5])}"
        )

    def press(self, flat: str) -> float | None:
        """Press "Calm now" in `flat`; the milliseconds to the first `/set` to its calm
        lights (None: none within `STALL` s). Then wait for the mode, set it `off` and wait
        for that too."""
        topics, heard = self.topics[flat], self.heard
        mark = len(heard.sets)
        began = time.perf_counter()
        self.presser.publish(topics.button("calm_now"), "PRESS", qos=1)
        self.actions.append((began, flat))
        found: list[float] = []

        def first() -> bool:
            found.extend(t for t, f, d in heard.sets[mark:] if f == flat and d in CALM_LIGHTS)
            return bool(found)

        with contextlib.suppress(TimeoutError):
            self.wait(first, STALL, "")
        with contextlib.suppress(TimeoutError):
            self.wait(lambda: heard.modes.get(flat) == b"Calm now", STALL, "")
        self.actions.append((time.perf_counter(), flat))
        self.presser.publish(topics.mode_set, "off", qos=1)
        with contextlib.suppress(TimeoutError):
            self.wait(lambda: heard.modes.get(flat) == b"Off", STALL, "")
        return (found[0] - began) * 1000 if found else None

    def close(self) -> None:
        for each in self.clients:
            each.disconnect()


def busiest(times: Sequence[float], width: float) -> int:
    """The most events in any window of `width` seconds."""
    ordered, most, low = sorted(times), 0, 0
    for high, moment in enumerate(ordered):
        while ordered[low] <= moment - width:
            low += 1
        most = max(most, high - low + 1)
    return most


def is_persons(moment: float, flat: str, actions: Sequence[tuple[float, str]]) -> bool:
    return any(f == flat and 0 <= moment - t <= PERSON_WINDOW for t, f in actions)


@dataclass
class Figures:
    """One size's measurements."""

    flats: int
    startup: float = 0.0
    unannounced: int = 0  # flats not announced by the end of the start-up budget
    dropped: int = 0  # messages cocoon said it dropped (its log)
    rss: float = 0.0
    rss_end: float = 0.0
    idle_cpu: float = 0.0
    idle_window: float = 0.0
    idle_commands: int = 0
    fade_cpu: float = 0.0
    presses: list[float] = field(default_factory=list)
    lost: int = 0  # presses with no /set to the flat's calm lights within STALL
    paced_peak: int = 0
    paced_sustained: float = 0.0
    person_commands: int = 0
    person_peak: int = 0
    commands: int = 0


def load_homes(site: Path) -> dict[str, CocoonConfig]:
    """The flats of the site, through cocoon's own site loader."""
    return dict(load_site(site).homes)


def evening_start(now: datetime, flats: int, idle: float) -> datetime:
    """When the evening should start: after start-up, settling and the idle window."""
    return (now + timedelta(seconds=start_budget(flats) + idle)).replace(microsecond=0)


def run_size(
    flats: int, idle: float, press_seconds: float, rng: random.Random, logs: Path | None
) -> Figures:
    """Start a building of `flats` flats and measure it; cocoon's log is copied into
    `logs` when given."""
    figures = Figures(flats)
    place = Home(name="Bench", latitude=LATITUDE, longitude=LONGITUDE, timezone=TIMEZONE)
    with tempfile.TemporaryDirectory(prefix="cocoon-bench-") as name:
        directory = Path(name)
        broker = TunedMosquitto(directory / "broker", options=BROKER)
        broker.start()
        simulator: Zigbee2MqttSimulator | None = None
        watch: Building | None = None
        state = directory / "state"
        state.mkdir()
        daemon: DaemonProcess | None = None
        try:
            evening = evening_start(datetime.now(ZONE), flats, idle)
            sunset = sun_times(place, evening.date()).sunset
            assert sunset is not None, "Brussels has a sunset every day"
            rituals = timed_rituals(evening, sunset.astimezone(ZONE), fade=FADE)
            site = write_building(directory, flats, broker.port, rituals=rituals)
            homes = load_homes(site)
            first = next(iter(homes.values()))
            starts = ritual_window(first, "evening", evening.date()).start
            evening_at = starts.timestamp()
            simulator = Zigbee2MqttSimulator.of_site(homes, broker.host, broker.port)
            simulator.start()
            watch = Building(broker.port, homes)
            daemon = DaemonProcess(site, state, verbose=False)
            began = time.perf_counter()
            daemon.start()
            announced = began + start_budget(flats) - SETTLE
            while watch.heard.announced is None and time.perf_counter() < announced:
                watch.step(0.05)
            figures.unannounced = len(set(watch.heard.pending.values()))
            if watch.heard.announced is None:
                figures.startup = time.perf_counter() - began
                print(f"{flats} flats: {watch.missing()}", file=sys.stderr)
            else:
                figures.startup = watch.heard.announced - began
            watch.pump(SETTLE)
            pid = daemon.pid
            figures.rss = status_field(pid, "VmRSS") / 1024
            # Idle: until 2 s before the evening.
            idle_began, cpu_before = time.perf_counter(), cpu_seconds(pid)
            quiet = len(watch.heard.sets)
            watch.pump(max(0.0, evening_at - 2 - time.time()))
            figures.idle_window = time.perf_counter() - idle_began
            figures.idle_cpu = (cpu_seconds(pid) - cpu_before) / figures.idle_window * 100
            figures.idle_commands = len(watch.heard.sets) - quiet
            # The evening: every flat fades in at once; presses from a few seconds in.
            watch.pump(max(0.0, evening_at - time.time()) + FIRST_STEPS)
            fade_began, cpu_before = time.perf_counter(), cpu_seconds(pid)
            names = list(homes)
            while time.perf_counter() - fade_began < press_seconds:
                watch.pump(rng.uniform(0.5, 2.0))
                latency = watch.press(rng.choice(names))
                if latency is None:
                    figures.lost += 1
                else:
                    figures.presses.append(latency)
            took = time.perf_counter() - fade_began
            figures.fade_cpu = (cpu_seconds(pid) - cpu_before) / took * 100
            figures.rss_end = status_field(pid, "VmRSS") / 1024
            figures.dropped = daemon.log().count(DROPPED)
            assert daemon.process is not None
            if daemon.process.poll() is not None:
                raise RuntimeError(f"cocoon ended with {daemon.process.returncode}")
            count_commands(figures, watch)
        except Exception:
            if daemon is not None:
                print_log_tail(daemon)
            raise
        finally:
            if watch is not None:
                watch.close()
            if daemon is not None:
                daemon.end()
                if logs is not None:
                    logs.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(daemon.log_path, logs / f"cocoon-{flats}-flats.log")
            if simulator is not None:
                simulator.stop()
            broker.stop()
    return figures


def count_commands(figures: Figures, watch: Building) -> None:
    """The network's commands: a person's apart, the busiest second of the paced ones."""
    sets, actions = watch.heard.sets, watch.actions
    persons = [t for t, flat, _ in sets if is_persons(t, flat, actions)]
    paced = [t for t, flat, _ in sets if not is_persons(t, flat, actions)]
    figures.commands = len(sets)
    figures.person_commands = len(persons)
    figures.person_peak = busiest(persons, 1.0)
    figures.paced_peak = busiest(paced, 1.0)
    figures.paced_sustained = busiest(paced, 10.0) / 10


def milliseconds(values: list[float], how: Callable[[list[float]], float]) -> str:
    return f"{how(values):.1f} ms" if values else "-"


def started(figures: Figures) -> str:
    """The start-up time, or how many flats were still unannounced when it was over."""
    if figures.unannounced:
        announced = figures.flats - figures.unannounced
        return f"only {announced} by {figures.startup:.0f} s"
    return f"{figures.startup:.1f} s"


def fit(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """Least squares: (intercept, slope) of RSS in MB against flats."""
    slope, intercept = statistics.linear_regression(
        [float(x) for x, _ in points], [y for _, y in points]
    )
    return intercept, slope


def report(all_figures: list[Figures]) -> bool:
    """Print the table; True when every target is met."""
    header = [f"{f.flats} flats" for f in all_figures]
    missed: list[str] = []

    def row(metric: str, values: list[str], target: str = "") -> tuple[str, list[str], str]:
        return metric, values, target

    per_flat = ["-"]
    for before, after in itertools.pairwise(all_figures):
        step = (after.rss - before.rss) / (after.flats - before.flats)
        per_flat.append(f"{step * 1024:.0f} kB")
    p99s = [percentile(f.presses, 0.99) if f.presses else math.inf for f in all_figures]
    rows = [
        row(
            "start-up to every flat announced",
            [started(f) for f in all_figures],
            "every flat",
        ),
        row("messages cocoon dropped (its log)", [str(f.dropped) for f in all_figures], "0"),
        row("VmRSS after start-up", [f"{f.rss:.1f} MB" for f in all_figures]),
        row("  per flat, from the size before", per_flat, f"< {TARGET_MB_PER_FLAT:g} MB"),
        row("VmRSS after the presses", [f"{f.rss_end:.1f} MB" for f in all_figures]),
        row("idle CPU (nothing due or fading)", [f"{f.idle_cpu:.2f} %" for f in all_figures]),
        row("  idle window", [f"{f.idle_window:.0f} s" for f in all_figures]),
        row("  commands sent while idle", [str(f.idle_commands) for f in all_figures], "0"),
        row("CPU while every flat fades", [f"{f.fade_cpu:.1f} %" for f in all_figures]),
        row("presses (all flats fading)", [str(len(f.presses) + f.lost) for f in all_figures]),
        row(
            f"  with no /set within {STALL:g} s (lost)",
            [str(f.lost) for f in all_figures],
            "0",
        ),
        row(
            "press → first /set: p50",
            [milliseconds(f.presses, statistics.median) for f in all_figures],
        ),
        row(
            "press → first /set: p99",
            [f"{p:.1f} ms" if p < math.inf else "-" for p in p99s],
            f"< {TARGET_P99_MS:g} ms",
        ),
        row("press → first /set: max", [milliseconds(f.presses, max) for f in all_figures]),
        row("/set on the network (all)", [str(f.commands) for f in all_figures]),
        row(
            "paced commands: busiest 1 s",
            [str(f.paced_peak) for f in all_figures],
            f"≤ {RATE} (rate_limit)",
        ),
        row(
            "paced commands: busiest 10 s, per s",
            [f"{f.paced_sustained:.1f}" for f in all_figures],
        ),
        row("a person's commands (sent at once)", [str(f.person_commands) for f in all_figures]),
        row("  busiest 1 s", [str(f.person_peak) for f in all_figures]),
    ]
    for figures, p99 in zip(all_figures, p99s, strict=True):
        if figures.unannounced:
            missed.append(
                f"{figures.unannounced} of {figures.flats} flats not announced"
                f" {figures.startup:.0f} s after the start"
            )
        if figures.lost:
            missed.append(f"{figures.lost} presses lost at {figures.flats} flats")
        if figures.dropped:
            missed.append(f"cocoon dropped {figures.dropped} messages at {figures.flats} flats")
        if figures.presses and p99 >= TARGET_P99_MS:
            missed.append(f"press p99 at {figures.flats} flats: {p99:.1f} ms ≥ {TARGET_P99_MS:g}")
        if figures.paced_peak > RATE:
            missed.append(
                f"paced commands at {figures.flats} flats: {figures.paced_peak} in 1 s > {RATE}"
            )
    footer: list[str] = []
    if len(all_figures) >= 2:
        base, slope = fit([(f.flats, f.rss) for f in all_figures])
        footer.append(
            f"RSS fit over the sizes (least squares): {base:.1f} MB + {slope * 1024:.0f} kB"
            " per flat"
        )
        if slope >= TARGET_MB_PER_FLAT:
            missed.append(f"RSS per flat {slope:.2f} MB ≥ {TARGET_MB_PER_FLAT:g} MB")
    else:
        footer.append("RSS per flat needs two sizes or more")
    footer.extend(f"MISSED: {what}" for what in missed)
    print_grid(
        "many_homes: Mosquitto + one `cocoon run` of a site, the simulator playing every"
        f" flat (8 Zigbee2MQTT devices each, one network, rate_limit {RATE}); every flat's"
        f" evening fades in over {FADE} at once; sporadic presses of Calm now in random"
        " flats (0.5-2 s apart)",
        header,
        rows,
        footer,
        not missed,
    )
    return not missed


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.many_homes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--flats",
        type=sizes,
        default=sizes(os.environ.get("COCOON_BENCH_FLATS", ",".join(map(str, SIZES)))),
        help="building sizes to run, comma-separated (default 10,50,200, or COCOON_BENCH_FLATS)",
    )
    parser.add_argument("--idle-seconds", type=float, default=IDLE)
    parser.add_argument("--press-seconds", type=float, default=PRESS_SECONDS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--logs", type=Path, metavar="DIR", help="keep cocoon's log of each size in DIR"
    )
    args = parser.parse_args(argv)
    quiet_exit_on_sigterm()
    rng = random.Random(args.seed)
    results = [
        run_size(n, args.idle_seconds, args.press_seconds, rng, args.logs) for n in args.flats
    ]
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
