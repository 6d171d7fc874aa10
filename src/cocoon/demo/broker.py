"""The demo's MQTT broker: amqtt, in this process, on a free port of 127.0.0.1 only.

amqtt speaks MQTT 3.1.1 and nothing newer; the demo's configuration says so
(`mqtt.protocol: "3.1.1"`).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from cocoon import install_hint
from cocoon.errors import BusError, CocoonError

HOST = "127.0.0.1"
# amqtt and the state machine library under it log every connection and state change.
_CHATTY_LOGGERS = ("amqtt", "transitions")
_BIND_ATTEMPTS = 3


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _broker_config(port: int) -> dict[str, Any]:
    # One plain TCP listener on loopback, anonymous access, and none of amqtt's default
    # plugins that log every packet or publish $SYS topics.
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}", "max_connections": 16}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


class EmbeddedBroker:
    """An amqtt broker on `HOST`; `port` is known once `start()` returned."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self._broker: Any = None

    async def start(self) -> None:
        """Start listening on a free loopback port (another one if it was taken meanwhile)."""
        try:
            from amqtt.broker import Broker
            from amqtt.errors import BrokerError
        except ImportError as exc:
            raise CocoonError(
                f"cocoon demo needs the embedded broker amqtt: {install_hint('demo')}"
            ) from exc
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        problem: Exception | None = None
        for _ in range(_BIND_ATTEMPTS):
            port = free_port()
            broker = Broker(_broker_config(port))
            try:
                await broker.start()
            except BrokerError as exc:
                problem = exc
                continue
            self._broker, self.port = broker, port
            return
        raise BusError(f"the demo's broker could not listen on {HOST}: {problem}")

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
