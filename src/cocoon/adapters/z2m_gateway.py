"""Zigbee2MQTT as a whole: its bridge, what its devices can do, and sending to them.

Zigbee2MQTT says on `<base>/bridge/state` whether it is there (retained; its last will
says `{"state": "offline"}`); while it is away nothing is sent to its devices, and what
arrives is history, never a person's hand. `<base>/bridge/devices` and
`<base>/bridge/groups` (retained) name every device and group and say what each can do.
Devices publish their state only when it changes, so cocoon asks (`/get`) at every
connection, when Zigbee2MQTT comes back and when a device comes back online.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from cocoon.adapters.z2m_bridge import (
    Exposed,
    bridge_event,
    bridge_online,
    closest,
    read_directory,
)
from cocoon.adapters.zigbee2mqtt import (
    Zigbee2MqttDevices,
    base_topic,
    climate_payload,
    get_payload,
    light_payload,
)
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import (
    Availability,
    Capability,
    ClimateReport,
    Event,
    LightReport,
    Problem,
)
from cocoon.core.model import Command, LightCommand
from cocoon.errors import GatewayError
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)

BRIDGE = "zigbee2mqtt"
"""The problem subject of Zigbee2MQTT itself being away."""
ASK_AGAIN_SECONDS = 60.0
"""A light that keeps reporting "on" without a brightness is asked again at most this often
(one that never says would otherwise be asked at every answer)."""
ANSWER_SECONDS = 5.0
"""After cocoon asks a device (`/get`), what it reports this long is its answer: a reading.
(Asked twice, at a connection and when Zigbee2MQTT says online, it answers twice.)"""


class Zigbee2MqttGateway:
    """Sends commands to Zigbee2MQTT devices; knows which are there and what they can do."""

    def __init__(self, cfg: CocoonConfig, publish: Callable[[Message], None]) -> None:
        self._cfg = cfg
        self._publish = publish
        self._base = base_topic(cfg)
        self.devices = Zigbee2MqttDevices(cfg)
        self._names = {d: c.zigbee2mqtt for d, c in cfg.devices.items() if c.zigbee2mqtt}
        self._offline: set[str] = set()
        self._gone: set[str] = set()
        """Devices Zigbee2MQTT does not know (a typo, a rename, a device removed)."""
        self._bridge: bool | None = None
        """Whether Zigbee2MQTT is online; None until it says."""
        self._devices_payload: bytes | None = None
        self._groups_payload: bytes | None = None
        self._asked: dict[str, float] = {}
        """When each asked device's answers stop being answers (monotonic seconds)."""
        self._warned: dict[str, str] = {}
        self._asked_for_brightness: dict[str, float] = {}
        """When each light that left out its brightness may be asked again (monotonic)."""

    # -- topics -------------------------------------------------------------------

    def bridge_topics(self) -> list[str]:
        """The bridge topics cocoon listens to."""
        return [f"{self._base}/bridge/{t}" for t in ("state", "devices", "groups", "event")]

    def subscriptions(self) -> list[str]:
        """Every topic of Zigbee2MQTT cocoon listens to."""
        return [
            *self.bridge_topics(),
            *self.devices.state_topics(),
            *self.devices.availability_topics(),
        ]

    # -- receiving ------------------------------------------------------------------

    def receive(self, message: Message) -> list[Event]:
        """The events a message carries; `ValueError` for a payload Zigbee2MQTT never sends."""
        topic = message.topic.removeprefix(f"{self._base}/bridge/")
        if topic != message.topic:
            return self._bridge_message(topic, message.payload)
        events: list[Event] = []
        for event in self.devices.decode(message):
            if isinstance(event, Availability):
                events += self._availability(event)
            elif isinstance(event, LightReport) and self._history(event.device):
                # While Zigbee2MQTT is away, and in answer to cocoon's own question, a
                # report is what the device shows, never a person's hand.
                events.append(replace(event, by_hand=frozenset()))
            elif isinstance(event, ClimateReport) and self._history(event.device):
                events.append(replace(event, by_hand=False))
            else:
                events.append(event)
        now = time.monotonic()
        for device in sorted(self.devices.wanted):
            if now < self._asked_for_brightness.get(device, 0.0):
                continue
            self._asked_for_brightness[device] = now + ASK_AGAIN_SECONDS
            _LOGGER.info("%s said it is on but not how bright: asking it", device)
            self.ask(device)
        self.devices.wanted.clear()
        return events

    def _history(self, device: str) -> bool:
        return time.monotonic() < self._asked.get(device, 0.0) or self._bridge is False

    def _availability(self, event: Availability) -> list[Event]:
        before = self.available(event.device)
        if event.online:
            self._offline.discard(event.device)
        else:
            self._offline.add(event.device)
        if event.online and not before and self.available(event.device):
            # The engine says it is back (it knows whether it was away); this asks.
            _LOGGER.debug("Asking %s how it is: it is online", event.device)
            self.ask(event.device)
        return [event] if self.available(event.device) != before else []

    def _bridge_message(self, topic: str, payload: bytes) -> list[Event]:
        before = {device: self.available(device) for device in self._names}
        events: list[Event] = []
        if topic == "state":
            online = bridge_online(payload)
            if online == self._bridge:
                return []
            self._bridge = online
            events.append(Problem(BRIDGE, "" if online else "Zigbee2MQTT is offline"))
            if online:
                self.ask_all("Zigbee2MQTT is online")
        elif topic == "devices":
            self._devices_payload = payload
            events += self._learn()
        elif topic == "groups":
            self._groups_payload = payload
            events += self._learn()
        elif topic == "event":
            found = bridge_event(payload)
            for device, name in self._names.items():
                if found is not None and found[1] == name:
                    self._gone.add(device)
                    what = found[0].removeprefix("device_")
                    events.append(Problem(f"zigbee2mqtt {name}", f"{device}: {name} {what}"))
        for device, was in before.items():
            if self.available(device) != was:
                events.append(Availability(device, not was))
        return events

    def _learn(self) -> list[Event]:
        """Take in `bridge/devices` (and `bridge/groups`): names, abilities, problems."""
        if self._devices_payload is None:
            return []
        directory = read_directory(self._devices_payload, self._groups_payload)
        events: list[Event] = []
        for device, name in self._names.items():
            exposed = directory.get(name)
            subject = f"zigbee2mqtt {name}"
            if exposed is None:
                if self._groups_payload is None:
                    continue  # it may be a group: wait for the groups to judge
                self._gone.add(device)
                guess = closest(name, directory.names())
                hint = f" (closest known: '{guess}')" if guess else ""
                events.append(Problem(subject, f"{device}: Zigbee2MQTT knows no '{name}'{hint}"))
                continue
            if device in self._gone:
                self._gone.discard(device)
                events.append(Problem(subject))
            if self.devices.exposed.get(device) != exposed:
                self.devices.exposed[device] = exposed
                self._check_range(device, exposed)
                ability = exposed.light or exposed.climate
                if ability is not None:
                    events.append(Capability(device, ability))
        return events

    def _check_range(self, device: str, exposed: Exposed) -> None:
        config = self._cfg.devices[device]
        if exposed.mireds is None or exposed.light is None or exposed.light.kelvin is None:
            return
        warmest, coldest = exposed.light.kelvin
        outside = (config.min_kelvin is not None and config.min_kelvin < warmest - 1) or (
            config.max_kelvin is not None and config.max_kelvin > coldest + 1
        )
        if outside:
            text = (
                f"{device}: the configured {config.min_kelvin or '-'}–{config.max_kelvin or '-'} K"
                f" is beyond what the light shows ({warmest:.0f}–{coldest:.0f} K);"
                " it is asked for no more than it shows"
            )
            if self._warned.get(device) != text:
                self._warned[device] = text
                _LOGGER.warning("%s", text)

    def carry_over(self, old: Zigbee2MqttGateway) -> list[Event]:
        """Take what an earlier gateway (before a configuration reload) learnt: Zigbee2MQTT
        sends its retained bridge topics only once per subscription."""
        self._bridge = old._bridge
        self._offline = {d for d in old._offline if d in self._names}
        self._devices_payload, self._groups_payload = old._devices_payload, old._groups_payload
        # A name no longer configured has no problem any more (a typo fixed, say).
        names = set(self._names.values())
        cleared: list[Event] = [
            Problem(f"zigbee2mqtt {name}") for name in old._names.values() if name not in names
        ]
        return cleared + self._learn()

    # -- the gateway ----------------------------------------------------------------

    def reaches(self, device: str) -> bool:
        """Whether `device` is configured as a Zigbee2MQTT device."""
        return device in self._names

    def available(self, device: str) -> bool:
        """Whether Zigbee2MQTT is there, knows the device, and does not say it is offline."""
        return (
            self._bridge is not False and device not in self._offline and device not in self._gone
        )

    def set_topic(self, device: str) -> str:
        """The `/set` topic of a Zigbee2MQTT device."""
        if not self.reaches(device):
            raise GatewayError(f"{device} is not a Zigbee2MQTT device")
        return f"{self._base}/{self._names[device]}/set"

    def send(self, command: Command) -> None:
        """Publish one command to the device's `/set` topic (QoS 1, not retained)."""
        topic = self.set_topic(command.device)
        exposed = self.devices.exposed.get(command.device)
        if isinstance(command, LightCommand):
            payload = light_payload(command, self._cfg.devices[command.device], exposed)
        elif exposed is not None and exposed.setpoint is not None:
            payload = climate_payload(command, exposed.setpoint)
        else:
            payload = climate_payload(command)
        self._publish(Message(topic, json.dumps(payload).encode(), qos=1, retain=False))

    def ask(self, device: str) -> bool:
        """Ask a device for its state (`/get`); its answer is a reading, not a hand.

        False when there is no one to ask (Zigbee2MQTT away, a sensor, which sleeps).
        """
        name = self._names.get(device)
        config = self._cfg.devices.get(device)
        if name is None or config is None or not self.available(device):
            return False
        payload = get_payload(config.kind, self.devices.exposed.get(device))
        if payload is None:
            return False
        self._asked[device] = time.monotonic() + ANSWER_SECONDS
        topic = f"{self._base}/{name}/get"
        self._publish(Message(topic, json.dumps(payload).encode(), qos=1, retain=False))
        return True

    def ask_all(self, why: str) -> None:
        """Ask every device cocoon drives for its state (at a connection, a comeback)."""
        asked = [device for device in self._names if self.ask(device)]
        if asked:
            _LOGGER.info(
                "%s: asking %d Zigbee2MQTT %s (devices say nothing until they change)",
                why,
                len(asked),
                "device how it is" if len(asked) == 1 else "devices how they are",
            )
