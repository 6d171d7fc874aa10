"""One home served by the process: its gateways, engine, announcer and router, wired.

What a home shares with the others of its building is handed in (`app.shared`): the broker
connection, the scheduler, the link to Home Assistant, the pacer of each network, and
the spreader that keeps a building's announcements from all going out at one instant.
Everything a home does runs for it (`for_home`): its log lines name it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cocoon.adapters.announcer import Announcer
from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.mqtt_client import OFFLINE
from cocoon.adapters.mqtt_link import ONLINE
from cocoon.adapters.router import Router
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.app.shared import Shared, uses_home_assistant
from cocoon.config.schema import CocoonConfig
from cocoon.core import RuntimeState
from cocoon.core.events import Event
from cocoon.core.model import Command
from cocoon.ports import CURRENT_HOME, Message, Store, for_home
from cocoon.runtime.engine import Engine
from cocoon.runtime.gateways import Gateways
from cocoon.runtime.pacer import Outbox, Pacer
from cocoon.runtime.store import JsonStore, write_atomically

HOME_ASSISTANT = "home assistant"
"""The network of the devices reached through Home Assistant (paced as one)."""


def network(cfg: CocoonConfig, device: str) -> str:
    """The network a device's commands travel on: its Zigbee2MQTT base topic, or Home
    Assistant."""
    configured = cfg.devices.get(device)
    if configured is not None and configured.zigbee2mqtt and cfg.mqtt is not None:
        return f"zigbee2mqtt:{cfg.mqtt.zigbee2mqtt_topic}"
    return HOME_ASSISTANT


class HomeRuntime:
    """One home: built from its configuration and what the building shares."""

    def __init__(
        self,
        ident: str,
        cfg: CocoonConfig,
        shared: Shared,
        state_dir: Path,
        store: Store | None = None,
        sender: str | None = None,
    ) -> None:
        """`ident` is the home's id in a building ("" for a home of its own); its state is
        kept in `store`, by default in `state_dir` (where its announcements are noted);
        what it publishes says it comes from `sender`, if given."""
        self.ident = ident
        self.cfg = cfg
        self.shared = shared
        self.sender = sender
        self.topics = _topics(cfg, shared)
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.alarm = shared.scheduler.alarm(ident, self.inbox.put_nowait)
        self.gateway = Zigbee2MqttGateway(cfg, self.publish)
        self.home_assistant = self._home_assistant(cfg)
        self.gateways = Gateways(self._gateways())
        self.announcer = Announcer(
            cfg, self.topics, self.publish, state_dir / "announced.json", write_atomically
        )
        self.outbox = Outbox(self._pacer, for_home(ident, self._send))
        self.engine = Engine(
            cfg,
            clock=shared.clock,
            store=store or JsonStore(state_dir),
            gateways=self.gateways,
            arm=self.alarm.arm,
            on_status=self.announcer.tell,
            inbox=self.inbox,
            outbox=self.outbox,
            writer=shared.writer,
        )
        self.router = Router(
            cfg,
            self.topics,
            self.gateway,
            submit=self.inbox.put_nowait,
            announce=self.announce,
            clear=self._clear,
            now=lambda: shared.clock.now().timestamp(),
        )
        self._task: asyncio.Task[None] | None = None

    def _home_assistant(self, cfg: CocoonConfig) -> HomeAssistantGateway | None:
        hub = self.shared.hub
        # In a building every flat hears Home Assistant (its `cocoon_trigger` presses).
        if hub is None or not (self.shared.building or uses_home_assistant(cfg)):
            return None
        return HomeAssistantGateway(cfg, self.inbox.put_nowait, hub.link)

    def _gateways(self) -> list[Zigbee2MqttGateway | HomeAssistantGateway]:
        """The gateways of the current configuration: Zigbee2MQTT first."""
        ha = [] if self.home_assistant is None else [self.home_assistant]
        return [self.gateway, *ha]

    def _send(self, command: Command) -> None:
        # A fleet's fence holds back Home Assistant's commands as it does MQTT's.
        if self.shared.may_drive():
            self.gateways.send(command)

    def _pacer(self, device: str) -> Pacer:
        # A home of its own paces all its devices as one, as it always did.
        return self.shared.pacers(network(self.cfg, device) if self.shared.building else "")

    def start(self) -> None:
        """Load the state and start the engine (it runs for this home)."""
        for_home(self.ident, self.engine.start)()
        context = contextvars.copy_context()
        context.run(CURRENT_HOME.set, self.ident)
        self._task = asyncio.get_running_loop().create_task(
            self.engine.run(), name=f"cocoon-engine {self.ident}".strip(), context=context
        )
        if self.shared.hub is not None and self.home_assistant is not None:
            self.shared.hub.attach(self.ident, self.home_assistant)

    def connected(self) -> None:
        """The broker connection is (again) up: say the home is served, announce it and
        ask its Zigbee2MQTT devices how they are (they say nothing until they change)."""
        if self.shared.building:
            self._say(ONLINE)
        self.announce("connected to the broker")
        self.shared.spreader.ask((self.ident, "ask"), self._ask_all("Connected to the broker"))

    def announce(self, reason: str) -> None:
        """Tell Home Assistant about the home again, in its turn."""
        announcer = self.announcer
        action = for_home(self.ident, lambda: announcer.announce(reason))
        self.shared.spreader.ask((self.ident, "announce"), action)

    def _ask_all(self, why: str) -> Callable[[], None]:
        gateway = self.gateway
        return for_home(self.ident, lambda: gateway.ask_all(why))

    def drive(self, on: bool) -> None:
        """Send and speak (as by default), or not while another cocoon drives."""
        self.engine.drive(on)
        self.announcer.drive(on)

    def reload(self, cfg: CocoonConfig) -> None:
        """Take a new configuration of this home."""
        for_home(self.ident, self._reload)(cfg)

    def _reload(self, cfg: CocoonConfig) -> None:
        old_gateway, self.gateway = self.gateway, Zigbee2MqttGateway(cfg, self.publish)
        if _entities(cfg) != _entities(self.cfg):
            self.home_assistant = self._home_assistant(cfg)
            hub = self.shared.hub
            if hub is not None:
                hub.detach(self.ident)
                if self.home_assistant is not None:
                    hub.attach(self.ident, self.home_assistant)
        self.cfg = cfg
        self.router.reload(cfg, self.gateway)
        self.announcer.reload(cfg)
        self.engine.reload(cfg, self._gateways())
        for event in self.gateway.carry_over(old_gateway):
            self.engine.submit(event)
        self.announce("configuration reloaded")
        self.shared.spreader.ask((self.ident, "ask"), self._ask_all("A new configuration"))

    def leave(self) -> None:
        """The home is no longer served: give its devices back, take back its entities."""
        for_home(self.ident, self._leave)()

    def _leave(self) -> None:
        self.engine.leave()
        self.announcer.withdraw()
        if self.shared.building:
            self._say(OFFLINE)
        self._end()

    def release(self, *, offline: bool = False) -> RuntimeState:
        """The home is another worker's of the fleet from now: stop without a word to its
        devices or Home Assistant (its lights stay as they are for the next owner), but
        `offline` as its worker stops; its state at this instant."""
        for_home(self.ident, self._release)(offline)
        return self.engine.state

    def _release(self, offline: bool) -> None:
        # What came in and is not handled yet (a press) is part of the state handed on.
        pending = []
        while not self.inbox.empty():
            pending.append(self.inbox.get_nowait())
        if pending:
            self.engine.handle(*pending)
        if offline:
            self._say(OFFLINE)
        self.announcer.drive(False)
        self.announcer.stop()
        self.engine.stop()
        self._end()

    async def stop(self) -> None:
        """Send the status still waiting and stop the engine."""
        self.announcer.stop()
        self.engine.stop()
        task = self._end()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _end(self) -> asyncio.Task[None] | None:
        self.alarm.cancel()
        self.outbox.leave()
        if self.shared.hub is not None:
            self.shared.hub.detach(self.ident)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    def _say(self, availability: bytes) -> None:
        """The home's own availability (in a building), retained."""
        message = Message(self.topics.availability, availability, qos=1, retain=True)
        self.publish(message)

    def _clear(self, topic: str) -> None:
        """Take a fleet's retained press off its topic (it was acted on)."""
        self.publish(Message(topic, b"", qos=1, retain=True))

    def publish(self, message: Message) -> None:
        """Publish for this home (saying who sends, in a fleet)."""
        self.shared.publish(
            message if self.sender is None else replace(message, sender=self.sender)
        )


def _topics(cfg: CocoonConfig, shared: Shared) -> Topics:
    """A home's topics: its own, with its process's or its fleet worker's availability."""
    if shared.worker is not None:
        return Topics.for_worker(cfg, shared.worker)
    return Topics.for_building(cfg) if shared.building else Topics.for_config(cfg)


def _entities(cfg: CocoonConfig) -> object:
    """What of a configuration the Home Assistant gateway is built from."""
    return cfg.home_assistant, {n: d for n, d in cfg.devices.items() if d.entity}
