"""A stand-in for a Home Assistant dashboard: it presses cocoon's buttons over MQTT.

It also listens to cocoon's availability topic, so the demo can tell that cocoon said
`offline` when it stopped.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.errors import BusError

_TIMEOUT = 5.0
PRESS = b"PRESS"


class Dashboard:
    """One plain MQTT client on the demo's broker (blocking calls: run them in a thread)."""

    def __init__(self, host: str, port: int, availability_topic: str) -> None:
        self._host = host
        self._port = port
        self._availability_topic = availability_topic
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._availability: bytes | None = None
        self._changed = threading.Condition(self._lock)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"cocoon-demo-dashboard-{os.getpid()}"
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    @property
    def availability(self) -> bytes | None:
        """What cocoon last said on its availability topic (`online` / `offline`)."""
        with self._lock:
            return self._availability

    def start(self) -> None:
        """Connect and listen; wait until the subscription is in place."""
        try:
            self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise BusError(f"the dashboard cannot reach {self._host}:{self._port}: {exc}") from exc
        self._client.loop_start()
        if not self._ready.wait(_TIMEOUT):
            self.stop()
            raise BusError("the dashboard could not subscribe in 5 s")

    def press(self, topic: str) -> None:
        """Press a button the way Home Assistant does: `PRESS`, QoS 1, not retained."""
        self._client.publish(topic, PRESS, qos=1, retain=False).wait_for_publish(_TIMEOUT)

    def wait_for(self, payload: bytes, timeout: float) -> bool:
        """Wait until cocoon says `payload` on its availability topic."""
        with self._changed:
            return self._changed.wait_for(lambda: self._availability == payload, timeout)

    def stop(self) -> None:
        """Disconnect and end the network thread."""
        self._client.disconnect()
        self._client.loop_stop()

    # -- paho's thread ----------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if not reason_code.is_failure:
            client.subscribe(self._availability_topic, qos=1)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Any,
    ) -> None:
        self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self._availability = bytes(message.payload)
            self._changed.notify_all()
