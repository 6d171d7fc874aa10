"""Where each message the process receives goes: to the claim, or to the homes it is for.

Another cocoon's claim on the process goes to `Ownership`. Every other topic is one a
home subscribed to, exactly (never a wildcard); the message goes to the router of each
home that did (a Zigbee2MQTT bridge topic or Home Assistant's birth to every home on it,
a device's or a button's to its own), run for that home (its log lines name it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cocoon.adapters.ownership import Ownership
from cocoon.adapters.router import Router
from cocoon.ports import Message, for_home


class Switchboard:
    """Routes received messages to the claim, or to the homes that listen on their topic."""

    def __init__(
        self, ownership: Ownership | None, routers: Callable[[], Iterable[tuple[str, Router]]]
    ) -> None:
        """`routers` names each home served now (its id, "" for a home of its own) and
        its router; `ownership` is the claim on the broker (None in a fleet, whose claims
        are in etcd)."""
        self.ownership = ownership
        self._routers = routers
        self._routes: dict[str, list[Callable[[Message], None]]] = {}

    def subscriptions(self) -> list[str]:
        """Every topic routed here, each once (asked again at each connect and reload)."""
        routes: dict[str, list[Callable[[Message], None]]] = {}
        for home, router in self._routers():
            receive = for_home(home, router.receive)
            for topic in router.subscriptions():
                routes.setdefault(topic, []).append(receive)
        self._routes = routes
        claims = [] if self.ownership is None else self.ownership.subscriptions()
        return [*claims, *routes]

    def receive(self, message: Message) -> None:
        """Route one received message."""
        if self.ownership is not None and self.ownership.handles(message.topic):
            self.ownership.receive(message)
            return
        for receive in self._routes.get(message.topic, ()):
            receive(message)
