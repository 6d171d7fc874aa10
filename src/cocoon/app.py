"""The composition root: the one place that builds concrete adapters and wires them up.

Start order: state, scheduler, the engine's consumer, then the bus (so nothing it
delivers is lost). Stop order is the reverse; the bus says `offline` last.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cocoon.adapters.control import Control, status_messages
from cocoon.adapters.discovery import discovery_messages, stale_discovery
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Announce, ClimateReport, LightReport
from cocoon.core.status import Status
from cocoon.core.throttle import Throttle
from cocoon.errors import CocoonError, ConfigError
from cocoon.ports import Clock, DeviceGateway, Message
from cocoon.runtime.clock import SystemClock
from cocoon.runtime.engine import Engine
from cocoon.runtime.scheduler import Scheduler
from cocoon.runtime.store import JsonStore

_LOGGER = logging.getLogger(__name__)

# Home Assistant announces itself again after every restart; more often than this is noise.
ANNOUNCE_INTERVAL = 5.0
# Status changes within this many seconds go out as one.
STATUS_DELAY = 0.05


def cocoon_version() -> str:
    """The installed version of cocoon."""
    try:
        return version("cocoon")
    except PackageNotFoundError:
        return "unknown"


class Daemon:
    """cocoon running against one MQTT broker: the engine, its bus and its scheduler."""

    def __init__(
        self,
        cfg: CocoonConfig,
        state_dir: Path,
        *,
        clock: Clock | None = None,
        client_id: str | None = None,
    ) -> None:
        if cfg.mqtt is None:
            raise CocoonError("cocoon run needs an mqtt: section (the broker to talk through)")
        self.cfg = cfg
        self.clock = clock or SystemClock()
        self.topics = Topics.for_config(cfg)
        self.control = Control(cfg, self.topics)
        self.link = MqttLink(
            cfg.mqtt,
            availability_topic=self.topics.availability,
            on_message=self._receive,
            on_connect=self._connected,
            subscriptions=self._subscriptions,
            client_id=client_id,
        )
        self.gateway = Zigbee2MqttGateway(cfg, self.link.publish)
        self.home_assistant: HomeAssistantGateway | None = None
        gateways: list[DeviceGateway] = [self.gateway]
        if cfg.home_assistant is not None and any(d.entity for d in cfg.devices.values()):
            self.home_assistant = HomeAssistantGateway(cfg, lambda e: self.engine.submit(e))
            gateways.append(self.home_assistant)
        self.scheduler = Scheduler(self.clock, lambda event: self.engine.submit(event))
        self.engine = Engine(
            cfg,
            clock=self.clock,
            store=JsonStore(state_dir),
            gateways=gateways,
            arm=self.scheduler.arm,
            on_status=self._publish_status,
            on_announce=self._announce,
        )
        self._dropped = Throttle(60.0)
        self._announced_file = state_dir / "announced.json"
        self._status: Status | None = None
        self._status_timer: asyncio.TimerHandle | None = None
        self._published: dict[str, bytes] = {}
        self._announced = 0.0
        self._task: asyncio.Task[None] | None = None

    def _subscriptions(self) -> list[str]:
        return [*self.topics.commands(self.cfg), *self.gateway.subscriptions()]

    def _connected(self) -> None:
        self.engine.submit(Announce("connected to the broker"))
        # Zigbee2MQTT devices say nothing until they change: ask each how it is now.
        self.gateway.ask_all("Connected to the broker")

    def _receive(self, message: Message) -> None:
        """Route one received message to the engine; junk is logged (rate-limited) and dropped."""
        try:
            if self.control.handles(message.topic):
                event = self.control.decode(message)
                if event is not None:
                    self.engine.submit(event)
                return
            for report in self.gateway.receive(message):
                # A retained report is what a device said before cocoon (re)started:
                # history, never a person's hand.
                if message.retain and isinstance(report, LightReport):
                    report = replace(report, by_hand=frozenset())
                elif message.retain and isinstance(report, ClimateReport):
                    report = replace(report, by_hand=False)
                self.engine.submit(report)
        except (ValueError, UnicodeDecodeError) as exc:
            held = self._dropped.allow(message.topic, time.monotonic())
            if held is not None:
                more = f" ({held} more dropped since the last report)" if held else ""
                _LOGGER.warning("Dropped a message on %s: %s%s", message.topic, exc, more)

    def _announce(self) -> None:
        now = time.monotonic()
        self._published.clear()
        if now - self._announced < ANNOUNCE_INTERVAL and self._announced:
            return
        self._announced = now
        current = discovery_messages(self.cfg, self.topics, cocoon_version())
        for message in [*stale_discovery(self._announced_topics(), current), *current]:
            self.link.publish(message)
        self._remember_announced([m.topic for m in current])

    def _announced_topics(self) -> list[str]:
        """The discovery topics announced last time (entities since removed are among them)."""
        try:
            topics = json.loads(self._announced_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []

    def _remember_announced(self, topics: list[str]) -> None:
        try:
            self._announced_file.parent.mkdir(parents=True, exist_ok=True)
            self._announced_file.write_text(json.dumps(topics), encoding="utf-8")
        except OSError as exc:
            _LOGGER.warning("Could not remember the announced entities: %s", exc)

    def _publish_status(self, status: Status) -> None:
        # A burst of events (a flood of sensor reports) changes the status many times in
        # a row; only the latest is worth sending, a moment later, and only what changed.
        self._status = status
        if self._status_timer is None:
            loop = asyncio.get_running_loop()
            self._status_timer = loop.call_later(STATUS_DELAY, self._flush_status)

    def _flush_status(self) -> None:
        self._status_timer = None
        if self._status is None:
            return
        for message in status_messages(self.topics, self._status):
            if self._published.get(message.topic) != message.payload:
                self._published[message.topic] = message.payload
                self.link.publish(message)

    async def start(self) -> None:
        """Load the state, start the scheduler and the engine, then connect."""
        self.engine.start()
        self.scheduler.start()
        self._task = asyncio.create_task(self.engine.run(), name="cocoon-engine")
        if self.home_assistant is not None:
            await self.home_assistant.start()
        await self.link.start()

    async def stop(self) -> None:
        """Stop in reverse order; the bus publishes `offline` before it disconnects."""
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._flush_status()
        self.engine.stop()
        self.scheduler.stop()
        if self.home_assistant is not None:
            await self.home_assistant.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.link.stop()

    def reload(self, path: Path) -> None:
        """Read the configuration again; an invalid one is logged and the old one kept."""
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            # A configuration problem is the person's to fix, not a bug: no traceback.
            _LOGGER.error("The new configuration is invalid; keeping the old one:\n%s", exc)  # noqa: TRY400
            return
        if cfg.mqtt != self.cfg.mqtt:
            _LOGGER.warning("Changes to the mqtt: section take effect at the next restart")
        if cfg.home_assistant != self.cfg.home_assistant or {
            n: d for n, d in cfg.devices.items() if d.entity
        } != {n: d for n, d in self.cfg.devices.items() if d.entity}:
            _LOGGER.warning("Changes to Home Assistant devices take effect at the next restart")
        self.cfg = cfg
        self.control = Control(cfg, self.topics)
        old, self.gateway = self.gateway, Zigbee2MqttGateway(cfg, self.link.publish)
        self.engine.gateways = [self.gateway, *self.engine.gateways[1:]]
        self.engine.reload(cfg)
        for event in self.gateway.carry_over(old):
            self.engine.submit(event)


async def _one_shot(
    cfg: CocoonConfig,
    topics: Topics,
    listen: list[str],
    act: Callable[[MqttLink], None],
    received: Callable[[Message], None],
    wait: float,
) -> None:
    """Connect a short-lived client, do one thing, wait a little for answers, disconnect."""
    assert cfg.mqtt is not None
    connected = asyncio.Event()
    link = MqttLink(
        cfg.mqtt,
        availability_topic=None,
        on_message=received,
        on_connect=connected.set,
        subscriptions=lambda: listen,
        client_id=f"cocoon-cli-{os.getpid()}",
    )
    await link.start()
    try:
        try:
            await asyncio.wait_for(connected.wait(), timeout=5)
        except TimeoutError:
            raise CocoonError(
                f"cannot reach the MQTT broker at {cfg.mqtt.host}:{cfg.mqtt.port}"
            ) from None
        act(link)
        await asyncio.sleep(wait)
    finally:
        await link.stop()


async def trigger(cfg: CocoonConfig, name: str) -> str:
    """`cocoon trigger NAME`: press a calm mode's or ritual's button over MQTT."""
    if name not in cfg.calm_modes and name not in cfg.rituals:
        known = ", ".join([*cfg.calm_modes, *cfg.rituals]) or "none are configured"
        raise CocoonError(f"no calm mode or ritual named '{name}' (known: {known})")
    topics = Topics.for_config(cfg)
    press = Message.text(topics.button(name), "PRESS", qos=1)
    await _one_shot(cfg, topics, [], lambda link: link.publish(press), lambda m: None, 0.3)
    return topics.button(name)


async def fetch_status(
    cfg: CocoonConfig, timeout: float = 3.0
) -> tuple[dict[str, Any] | None, bool]:
    """The daemon's retained status document and whether it is online."""
    topics = Topics.for_config(cfg)
    found: dict[str, bytes] = {}

    def received(message: Message) -> None:
        found[message.topic] = message.payload

    await _one_shot(
        cfg, topics, [topics.state, topics.availability], lambda link: None, received, 0.5
    )
    document = json.loads(found[topics.state]) if topics.state in found else None
    return document, found.get(topics.availability) == b"online"


async def run(config: Path, state_dir: Path, on_ready: Callable[[], None] | None = None) -> int:
    """`cocoon run`: the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration."""
    cfg = load_config(config)
    daemon = Daemon(cfg, state_dir)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload, config)
    await daemon.start()
    # What start-up built (configuration, modules, caches) lives as long as the process:
    # kept out of the collector's full passes, which would otherwise walk it all again
    # every few seconds under load (a 20 ms pause for a 300-device home).
    gc.collect()
    gc.freeze()
    _LOGGER.info(
        "cocoon %s running for %s (%d devices, %d rituals); state in %s",
        cocoon_version(),
        cfg.home.name,
        len(cfg.devices),
        len(cfg.rituals),
        state_dir,
    )
    if on_ready is not None:
        on_ready()
    await stopping.wait()
    _LOGGER.info("Stopping")
    await asyncio.wait_for(daemon.stop(), timeout=5)
    return 0
