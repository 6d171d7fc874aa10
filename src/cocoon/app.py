"""The composition root: the one place that builds concrete adapters and wires them up.

Start order: state, scheduler, the engine's consumer, then the bus (so nothing it
delivers is lost). Stop order is the reverse; the bus says `offline` last.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from cocoon import installed_version
from cocoon.adapters.announcer import Announcer
from cocoon.adapters.claim import Instance
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.mqtt_link import MqttLink
from cocoon.adapters.ownership import Ownership
from cocoon.adapters.router import Router
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Event
from cocoon.errors import CocoonError, ConfigError
from cocoon.ports import Clock, DeviceGateway
from cocoon.runtime.clock import SystemClock
from cocoon.runtime.engine import Engine
from cocoon.runtime.scheduler import Scheduler
from cocoon.runtime.store import JsonStore, write_atomically

_LOGGER = logging.getLogger(__name__)


class Daemon:
    """cocoon running against one MQTT broker: the engine, its bus and its scheduler.

    Built in the order things depend on each other, each handed what it talks to:
    the engine's inbox first (the scheduler, Home Assistant and the router put events
    in it), the link and what publishes through it, the engine (its status goes to the
    announcer), the claim on the home, and last the router the link hands messages to.
    """

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
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.scheduler = Scheduler(self.clock, inbox.put_nowait)
        self.link = MqttLink(
            cfg.mqtt, availability_topic=self.topics.availability, client_id=client_id
        )
        self.gateway = Zigbee2MqttGateway(cfg, self.link.publish)
        self.home_assistant: HomeAssistantGateway | None = None
        if cfg.home_assistant is not None and any(d.entity for d in cfg.devices.values()):
            self.home_assistant = HomeAssistantGateway(cfg, inbox.put_nowait)
        self.announcer = Announcer(
            cfg, self.topics, self.link.publish, state_dir / "announced.json", write_atomically
        )
        self.engine = Engine(
            cfg,
            clock=self.clock,
            store=JsonStore(state_dir),
            gateways=self._gateways(),
            arm=self.scheduler.arm,
            on_status=self.announcer.tell,
            inbox=inbox,
        )
        self.instance = Instance.this_process(self.clock.now())
        self.ownership = Ownership(
            cfg,
            self.topics,
            self.link,
            self.instance,
            drives=(self.engine.drive, self.announcer.drive),
        )
        self.router = Router(
            cfg,
            self.topics,
            self.gateway,
            self.ownership,
            submit=inbox.put_nowait,
            announce=self.announcer.announce,
        )
        self.link.listen(
            on_message=self.router.receive,
            on_connect=self._connected,
            subscriptions=self.router.subscriptions,
        )
        self._task: asyncio.Task[None] | None = None

    def _gateways(self) -> list[DeviceGateway]:
        """The gateways of the current configuration: Zigbee2MQTT first."""
        ha = [] if self.home_assistant is None else [self.home_assistant]
        return [self.gateway, *ha]

    def _connected(self) -> None:
        self.ownership.claim()
        self.announcer.announce("connected to the broker")
        # Zigbee2MQTT devices say nothing until they change: ask each how it is now.
        self.gateway.ask_all("Connected to the broker")

    async def start(self) -> None:
        """Wait while another cocoon runs this home; then load the state, start the
        scheduler and the engine, and connect."""
        await self.ownership.wait_turn()
        self.engine.start()
        self.scheduler.start()
        self._task = asyncio.create_task(self.engine.run(), name="cocoon-engine")
        if self.home_assistant is not None:
            await self.home_assistant.start()
        await self.link.start()

    async def stop(self) -> None:
        """Stop in reverse order; the bus publishes `offline` before it disconnects."""
        self.announcer.stop()
        await self.ownership.stop()
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
        old, self.gateway = self.gateway, Zigbee2MqttGateway(cfg, self.link.publish)
        self.router.reload(cfg, self.gateway)
        self.ownership.reload(cfg)
        self.announcer.reload(cfg)
        self.engine.reload(cfg, self._gateways())
        for event in self.gateway.carry_over(old):
            self.engine.submit(event)
        self.announcer.announce("configuration reloaded")
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
