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
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cocoon import installed_version
from cocoon.adapters.claim import Instance, wait_turn
from cocoon.adapters.control import Control, status_messages
from cocoon.adapters.discovery import discovery_messages, stale_discovery
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.throttle import Throttle
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Announce, ClimateReport, LightReport
from cocoon.core.status import Status
from cocoon.errors import BusError, CocoonError, ConfigError
from cocoon.ports import Clock, DeviceGateway, Message
from cocoon.runtime.clock import SystemClock
from cocoon.runtime.engine import Engine
from cocoon.runtime.scheduler import Scheduler
from cocoon.runtime.store import JsonStore, write_atomically

_LOGGER = logging.getLogger(__name__)

# Announcements closer together than this are one: the later ones are coalesced into a
# single announcement at the end of the interval, of whatever is configured then.
ANNOUNCE_INTERVAL = 5.0
# Status changes within this many seconds go out as one.
STATUS_DELAY = 0.05


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
        self._announced_list: list[str] | None = None
        self._status: Status | None = None
        self._status_timer: asyncio.TimerHandle | None = None
        self._published: dict[str, bytes] = {}
        self._announced = 0.0
        self._announce_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.instance = Instance.this_process(self.clock.now())
        self._waiting: set[str] = set()
        """Other cocoons for this home that said they wait."""
        self._stepping_back: asyncio.Task[None] | None = None

    def _connected(self) -> None:
        self._claim()
        self.engine.submit(Announce("connected to the broker"))
        # Zigbee2MQTT devices say nothing until they change: ask each how it is now.
        self.gateway.ask_all("Connected to the broker")

    def _subscriptions(self) -> list[str]:
        return [
            self.topics.owner,
            self.topics.owner_waiting,
            *self.topics.commands(self.cfg),
            *self.gateway.subscriptions(),
        ]

    def _receive(self, message: Message) -> None:
        """Route one received message to the engine; junk is logged (rate-limited) and dropped."""
        try:
            if message.topic in (self.topics.owner, self.topics.owner_waiting):
                self._other_cocoon(message)
                return
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

    def _claim(self) -> None:
        """Say, retained, which cocoon runs this home (see `adapters.claim`)."""
        self.link.publish(Message(self.topics.owner, self.instance.payload(), qos=1, retain=True))

    def _other_cocoon(self, message: Message) -> None:
        """Another cocoon for this home says it waits, or claims the home as well."""
        other = Instance.parse(message.payload)
        # A retained claim is an earlier run's: history, not a rival.
        if other is None or other.id == self.instance.id or message.retain:
            return
        home = self.cfg.home.name
        if message.topic == self.topics.owner_waiting:
            if other.id not in self._waiting:
                self._waiting.add(other.id)
                _LOGGER.warning(
                    "Another cocoon for %s started (%s); it drives nothing while this one "
                    "(%s) runs",
                    home,
                    other.describe(),
                    self.instance.describe(),
                )
            self.link.publish(Message(self.topics.owner_here, self.instance.payload(), qos=1))
        elif self.instance.outranks(other):
            _LOGGER.warning(
                "Another cocoon (%s) claimed %s as well; it is younger and steps back",
                other.describe(),
                home,
            )
            self._claim()
        elif self._stepping_back is None:
            self._stepping_back = asyncio.create_task(self._step_back(other))

    async def _step_back(self, other: Instance) -> None:
        """Another cocoon claimed the home first: drive nothing, wait for its end."""
        _LOGGER.error(
            "Another cocoon (%s) claimed %s first: this one steps back",
            other.describe(),
            self.cfg.home.name,
        )
        assert self.cfg.mqtt is not None
        try:
            self.engine.drive(False)
            await self.link.stop(say_offline=False)
            await wait_turn(self.cfg.mqtt, self.topics, self.instance, f"for {self.cfg.home.name}")
        except Exception:
            # Never left standing aside for good: drive again, whatever went wrong.
            _LOGGER.exception("Stepping back went wrong; this cocoon drives again")
        try:
            await self.link.start()
        finally:
            self.engine.drive(True)
            self._stepping_back = None

    def _announce(self) -> None:
        """Announce now, or once at the end of the interval when one went out just before.

        Never dropped: a broker that lost everything, a Home Assistant that restarted or
        a reload right after an announcement still get the current configuration.
        """
        self._published.clear()
        wait = self._announced + ANNOUNCE_INTERVAL - time.monotonic()
        if not self._announced or wait <= 0:
            self._announce_now()
        elif self._announce_timer is None:
            loop = asyncio.get_running_loop()
            self._announce_timer = loop.call_later(wait, self._announce_now)

    def _announce_now(self) -> None:
        self._announce_timer = None
        if self._stepping_back is not None:
            return  # announced when this one takes over again
        self._announced = time.monotonic()
        current = discovery_messages(self.cfg, self.topics, installed_version())
        for message in [*stale_discovery(self._announced_topics(), current), *current]:
            try:
                self.link.publish(message)
            except BusError as exc:
                _LOGGER.error("Could not announce on %s: %s", message.topic, exc)  # noqa: TRY400
        self._remember_announced([m.topic for m in current])

    def _announced_topics(self) -> list[str]:
        """The discovery topics announced last time (entities since removed are among them)."""
        if self._announced_list is not None:
            return self._announced_list
        try:
            topics = json.loads(self._announced_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []

    def _remember_announced(self, topics: list[str]) -> None:
        # Kept in memory as well: a disk that cannot be written loses nothing while cocoon
        # runs, and never leaves half a list behind.
        self._announced_list = topics
        try:
            write_atomically(self._announced_file, json.dumps(topics))
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
        if self._status is None or self._stepping_back is not None:
            return
        for message in status_messages(self.cfg, self.topics, self._status):
            if self._published.get(message.topic) != message.payload:
                self._published[message.topic] = message.payload
                self.link.publish(message)

    async def start(self) -> None:
        """Wait while another cocoon runs this home; then load the state, start the
        scheduler and the engine, and connect."""
        assert self.cfg.mqtt is not None
        await wait_turn(self.cfg.mqtt, self.topics, self.instance, f"for {self.cfg.home.name}")
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
        if self._announce_timer is not None:
            self._announce_timer.cancel()
        if self._stepping_back is not None:
            self._stepping_back.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stepping_back
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
        self.engine.reload(cfg, [self.gateway, *self.engine.gateways[1:]])
        for event in self.gateway.carry_over(old):
            self.engine.submit(event)
        # New buttons and devices are listened to now, and the devices asked how they are.
        self.link.resubscribe()
        self.gateway.ask_all("A new configuration")


async def run(config: Path, state_dir: Path, on_ready: Callable[[], None] | None = None) -> int:
    """`cocoon run`: the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration."""
    cfg = load_config(config)
    daemon = Daemon(cfg, state_dir)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload, config)
    # Starting waits while another cocoon runs this home: a stop ends the wait too.
    starting = asyncio.create_task(daemon.start())
    stop_waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait({starting, stop_waiting}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        _LOGGER.info("Stopped before it took over")
        return 0
    stop_waiting.cancel()
    starting.result()
    # What start-up built (configuration, modules, caches) lives as long as the process:
    # kept out of the collector's full passes, which would otherwise walk it all again
    # every few seconds under load (a 20 ms pause for a 300-device home).
    gc.collect()
    gc.freeze()
    _LOGGER.info(
        "cocoon %s running for %s (%d device%s, %d ritual%s); state in %s",
        installed_version(),
        cfg.home.name,
        len(cfg.devices),
        "s" * (len(cfg.devices) != 1),
        len(cfg.rituals),
        "s" * (len(cfg.rituals) != 1),
        state_dir,
    )
    if on_ready is not None:
        on_ready()
    await stopping.wait()
    _LOGGER.info("Stopping")
    await asyncio.wait_for(daemon.stop(), timeout=5)
    return 0
