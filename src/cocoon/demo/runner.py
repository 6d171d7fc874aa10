"""`cocoon demo`: the broker, the simulated devices and the daemon, a day played fast.

Start order: broker, simulated devices, daemon (its clock starts last, so the day starts
at 06:00 sharp), dashboard. Stop order is the reverse; the daemon says `offline` before
the broker goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics
from cocoon.app import Daemon
from cocoon.config.schema import CocoonConfig
from cocoon.demo.broker import EmbeddedBroker
from cocoon.demo.dashboard import Dashboard
from cocoon.demo.feed import Feed
from cocoon.demo.home import (
    WATERED,
    calm_press_at,
    demo_start,
    display_names,
    plant_sensors,
    simulated_config,
    thirsty_plant,
)
from cocoon.demo.screen import Screen
from cocoon.demo.snapshot import Snapshots
from cocoon.runtime.clock import ScaledClock

_READING_EVERY = timedelta(minutes=10)
"""How often (simulated) the plant sensors report, so none goes silent in a long run."""
_STOP_TIMEOUT = 5.0
_OFFLINE_WAIT = 2.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `cocoon demo` was asked for."""

    speed: float
    """Simulated seconds per real second."""
    duration: timedelta
    """Real time the demo runs."""
    day: date | None = None
    """The day to simulate (today at home when None)."""


@contextlib.contextmanager
def _feeding(feed: Feed) -> Iterator[None]:
    """Send log records to the feed instead of stderr, which would tear the live view."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for handler in saved:
        root.removeHandler(handler)
    root.addHandler(feed)
    root.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(feed)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


class Demo:
    """One run of the demo on a started broker: devices, daemon, dashboard and the script."""

    def __init__(
        self, cfg: CocoonConfig, options: DemoOptions, broker: EmbeddedBroker, screen: Screen
    ) -> None:
        self.options = options
        self.screen = screen
        self.home = simulated_config(cfg, broker.host, broker.port, f"cocoon-demo-{os.getpid()}")
        zone = self.home.home.zone
        self.start = demo_start(self.home, options.day or datetime.now(zone).date())
        self.topics = Topics.for_config(self.home)
        self.sim = Zigbee2MqttSimulator(self.home, broker.host, broker.port)
        self.dashboard = Dashboard(broker.host, broker.port, self.topics.availability)
        self.plant = thirsty_plant(self.home)
        self.calm = next(iter(self.home.calm_modes), None)
        self.calm_at = calm_press_at(self.home, self.start, options.duration * options.speed)
        self.rituals: dict[tuple[str, date], str] = {}
        self._next_reading = self.start
        self._watered = False
        self._pressed = False

    async def play(self, stop: asyncio.Event) -> str:
        """Run everything until the time is up or `stop` is set; the summary line."""
        # The broker runs on this loop: the simulator's blocking start must not hold it.
        await asyncio.to_thread(self.sim.start)
        try:
            self._report_readings(self.start)
            with tempfile.TemporaryDirectory(prefix="cocoon-demo-") as state_dir:
                elapsed, offline = await self._run_daemon(Path(state_dir), stop)
            return self._summary(elapsed, offline, self._commands())
        finally:
            await asyncio.to_thread(self.sim.stop)

    async def _run_daemon(self, state_dir: Path, stop: asyncio.Event) -> tuple[float, bool]:
        """Run the daemon and the script; the real seconds it ran, and whether it said offline."""
        home, options = self.home, self.options
        assert home.mqtt is not None
        clock = ScaledClock(self.start, options.speed)
        daemon = Daemon(home, state_dir, clock=clock, client_id=home.mqtt.client_id)
        feed = Feed(clock, home.home.zone, names=display_names(home))
        snapshots = Snapshots(home, daemon, self.sim, feed, options.speed)
        loop = asyncio.get_running_loop()
        began = loop.time()
        self.screen.begin(home, self.start, options.speed, options.duration)
        with _feeding(feed):
            await daemon.start()
            try:
                await asyncio.to_thread(self.dashboard.start)
                while not stop.is_set() and loop.time() < began + options.duration.total_seconds():
                    await self._act(daemon, feed)
                    self.screen.show(snapshots.frame(), feed.unread())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.screen.tick)
            finally:
                # A ritual that started after the last look still counts in the summary.
                self._collect_rituals(daemon)
                await asyncio.wait_for(daemon.stop(), timeout=_STOP_TIMEOUT)
                offline = await asyncio.to_thread(
                    self.dashboard.wait_for, b"offline", _OFFLINE_WAIT
                )
                await asyncio.to_thread(self.dashboard.stop)
        self.screen.show(snapshots.frame(), feed.unread())
        return loop.time() - began, offline

    async def _act(self, daemon: Daemon, feed: Feed) -> None:
        """Do what the script says is due: a sensor reading, the watering, the calm press."""
        now = daemon.clock.now()
        if now >= self._next_reading:
            if self.plant and not self._watered and now - self.start >= timedelta(hours=WATERED):
                self._watered = True
                feed.note(
                    f"someone waters the {self.home.display_name('plants', self.plant.plant)}"
                )
            self._report_readings(now)
            self._next_reading = now + _READING_EVERY
        due = self.calm_at is not None and now >= self.calm_at
        if self.calm is not None and due and not self._pressed:
            self._pressed = True
            label = self.home.display_name("calm_modes", self.calm)
            feed.note(f'pressed "{label}" on the dashboard')
            await asyncio.to_thread(self.dashboard.press, self.topics.button(self.calm))
        self._collect_rituals(daemon)

    def _collect_rituals(self, daemon: Daemon) -> None:
        """Remember the rituals that ran (the state keeps only each one's latest run)."""
        for run in daemon.engine.state.runs.values():
            if not run.missed:
                self.rituals[(run.ritual, run.day)] = self.home.display_name("rituals", run.ritual)

    def _report_readings(self, now: datetime) -> None:
        """Every plant sensor reports: the thirsty plant's dries, the others stay as they are."""
        plant = self.plant
        for sensor, key in plant_sensors(self.home):
            if plant is not None and (sensor, key) == (plant.sensor, plant.key):
                self.sim.set_reading(sensor, key, plant.moisture(now - self.start))
            elif isinstance(value := self.sim.state(sensor).get(key), int | float):
                self.sim.set_reading(sensor, key, float(value))

    def _summary(self, elapsed: float, offline: bool, commands: int) -> str:
        hours, rest = divmod(int(elapsed * self.options.speed), 3600)
        rituals = ", ".join(self.rituals.values()) or "none"
        calm = self.calm and self.home.display_name("calm_modes", self.calm)
        return " · ".join(
            [
                f"demo over: {hours} h {rest // 60:02d} min in {elapsed:.1f} s",
                f"{commands} commands sent",
                f"rituals run: {rituals}",
                f"{calm} pressed" if self._pressed else "no calm press",
                "cocoon offline" if offline else "cocoon stopped (offline not seen)",
                "broker stopped",
            ]
        )

    def _commands(self) -> int:
        lights = [
            device.zigbee2mqtt
            for device in self.home.devices.values()
            if device.zigbee2mqtt is not None and device.kind != "sensor"
        ]
        return sum(len(self.sim.received(name)) for name in lights)


async def run_demo(cfg: CocoonConfig, options: DemoOptions, screen: Screen) -> int:
    """Play the demo until its duration has passed or SIGINT/SIGTERM; the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    broker = EmbeddedBroker()
    try:
        await broker.start()
        try:
            summary = await Demo(cfg, options, broker, screen).play(stop)
        finally:
            await broker.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        screen.close()
    screen.summary(summary)
    return 0
