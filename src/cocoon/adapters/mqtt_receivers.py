"""What the MQTT link hands on, on the asyncio loop: received messages and connections.

A message larger than it may be (`mqtt_client.allowed`) is logged and dropped; the
others wait until paho has read the whole burst, then go to the handler one by one. A
handler that fails is logged, and the link lives on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from paho.mqtt.client import MQTTMessage

from cocoon.adapters.mqtt_client import allowed
from cocoon.adapters.mqtt_diagnoses import Diagnoses
from cocoon.config.schema import Mqtt
from cocoon.ports import Message


class Receivers:
    """The handlers of received messages and of each (re)connection."""

    def __init__(
        self,
        on_message: Callable[[Message], None],
        on_connect: Callable[[], None],
        settings: Mqtt,
        diagnoses: Diagnoses,
        logger: logging.Logger,
    ) -> None:
        self._on_message = on_message
        self._on_connect = on_connect
        self._settings = settings
        self._diagnoses = diagnoses
        self._log = logger
        self._inbox: list[Message] = []

    def listen(self, on_message: Callable[[Message], None], on_connect: Callable[[], None]) -> None:
        """Hand messages and connections to these handlers from now on."""
        self._on_message = on_message
        self._on_connect = on_connect

    def take(self, msg: MQTTMessage) -> None:
        """Keep a message paho read, until the burst is read (`deliver`)."""
        try:
            topic, size = msg.topic, len(msg.payload)
            if size > allowed(topic, self._settings):
                self._diagnoses.oversized(topic, size, time.monotonic())
                return
            message = Message(topic, bytes(msg.payload), msg.qos, bool(msg.retain))
            self._inbox.append(message)
        except Exception:
            self._log.exception("Dropped an MQTT message that could not be read")

    def deliver(self, stopping: Callable[[], bool]) -> None:
        """Hand the messages kept to the handler, in order, until the link is `stopping`."""
        messages, self._inbox = self._inbox, []
        for message in messages:
            if stopping():
                return
            try:
                self._on_message(message)
            except Exception:
                self._log.exception("The handler failed on an MQTT message on %s", message.topic)

    def connected(self) -> None:
        """Tell the handler the connection is (again) up."""
        try:
            self._on_connect()
        except Exception:
            self._log.exception("The handler failed after connecting to MQTT")
