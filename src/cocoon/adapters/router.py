"""Where each message a home receives goes: one received message, one destination.

(Other cocoons' claims on the process go to `Ownership` before a home sees them.)
cocoon's command topics are decoded by `Control` (Home Assistant's birth message is an
announcement, told to whoever announces; the rest are events); device reports are
decoded by the Zigbee2MQTT gateway into events. Events go to `submit` (the engine's
inbox). Junk is logged, rate-limited, and dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from cocoon.adapters.control import Control
from cocoon.adapters.throttle import Throttle
from cocoon.adapters.topics import Topics
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Announce, ClimateReport, Event, LightReport
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)


class Router:
    """Routes a home's received messages to its announcer or its engine."""

    def __init__(
        self,
        cfg: CocoonConfig,
        topics: Topics,
        gateway: Zigbee2MqttGateway,
        *,
        submit: Callable[[Event], None],
        announce: Callable[[str], None],
        clear: Callable[[str], None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`clear` takes a fleet's retained press off its topic once it was acted on;
        `now` is the time in seconds since the epoch (a press's stamp is compared to it)."""
        self._now = now
        self.cfg = cfg
        self.topics = topics
        self._clear = clear
        self.control = Control(cfg, topics)
        self.gateway = gateway
        self._submit = submit
        self._announce = announce
        self._dropped = Throttle(60.0)

    def reload(self, cfg: CocoonConfig, gateway: Zigbee2MqttGateway) -> None:
        """Route for a new configuration, with the gateway that goes with it."""
        self.cfg = cfg
        seen, self.control = self.control.seen, Control(cfg, self.topics)
        self.control.seen = seen
        self.gateway = gateway

    def subscriptions(self) -> list[str]:
        """Every topic routed here (asked again at each connect)."""
        return [
            *self.topics.commands(self.cfg),
            *self.gateway.subscriptions(),
        ]

    def receive(self, message: Message) -> None:
        """Route one received message; junk is logged (rate-limited) and dropped."""
        try:
            if self.control.handles(message.topic):
                event = self.control.decode(message, self._now())
                if isinstance(event, Announce):
                    self._announce(event.reason)
                elif event is not None:
                    self._submit(event)
                if (
                    self.control.fleet
                    and self._clear is not None
                    and message.payload
                    and self.control.button(message.topic)
                ):
                    self._clear(message.topic)
                return
            for report in self.gateway.receive(message):
                # A retained report is what a device said before cocoon (re)started:
                # history, never a person's hand.
                if message.retain and isinstance(report, LightReport):
                    report = replace(report, by_hand=frozenset())
                elif message.retain and isinstance(report, ClimateReport):
                    report = replace(report, by_hand=False)
                self._submit(report)
        except (ValueError, UnicodeDecodeError) as exc:
            held = self._dropped.allow(message.topic, time.monotonic())
            if held is not None:
                more = f" ({held} more dropped since the last report)" if held else ""
                _LOGGER.warning("Dropped a message on %s: %s%s", message.topic, exc, more)
