"""The topics the MQTT link holds at the broker: exact topics, QoS 1, never a wildcard."""

from __future__ import annotations

import logging
from collections.abc import Callable

from paho.mqtt.client import Client
from paho.mqtt.reasoncodes import ReasonCode


class Subscriptions:
    """Subscribes to the topics of `wanted()`, follows its changes, reads the answers."""

    def __init__(self, wanted: Callable[[], list[str]], logger: logging.Logger) -> None:
        self._wanted = wanted
        self._log = logger
        self._asked: dict[int, list[str]] = {}
        """The topics of each SUBSCRIBE not acknowledged yet, by message id."""
        self._held: list[str] = []
        """The topics of the last (re)subscription."""

    def subscribe_all(self, client: Client) -> bool:
        """Subscribe to every wanted topic, as at each (re)connect; False if there is none."""
        topics = list(dict.fromkeys(self._wanted()))
        self._held = topics
        self._asked.clear()
        if not topics:
            return False
        self._subscribe(client, topics)
        return True

    def follow(self, client: Client) -> None:
        """Subscribe to the wanted topics that are new, unsubscribe from those gone."""
        topics = list(dict.fromkeys(self._wanted()))
        gone = [topic for topic in self._held if topic not in topics]
        new = [topic for topic in topics if topic not in self._held]
        self._held = topics
        if gone:
            client.unsubscribe(gone)
        if new:
            self._subscribe(client, new)

    def acknowledged(self, mid: int, reasons: list[ReasonCode]) -> None:
        """The broker answered SUBSCRIBE `mid`: say which topics it refused."""
        topics = self._asked.pop(mid, [])
        for topic, reason in zip(topics, reasons, strict=False):
            if reason.is_failure:
                self._log.warning(
                    "The MQTT broker refused the subscription to %s (%s)", topic, reason
                )

    def _subscribe(self, client: Client, topics: list[str]) -> None:
        _, mid = client.subscribe([(topic, 1) for topic in topics])
        if mid is not None:
            self._asked[mid] = topics
