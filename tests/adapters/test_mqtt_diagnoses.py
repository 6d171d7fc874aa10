"""What the link says when a broker will not have it: each cause named, with the fix.

Against real brokers where a real one behaves so: Mosquitto with a packet limit or a
password, amqtt (which speaks MQTT 3.1.1 only). A listener that takes the connection and
then says nothing, or hangs up at once, is what a wrong port often is.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cocoon.adapters import paho_loop
from cocoon.demo.broker import EmbeddedBroker
from cocoon.ports import Message

from ..brokers import HOST, Mosquitto
from ..conftest import PACKET_LIMIT
from ..faults.mosquittos import TunedMosquitto
from .test_mqtt_link import LOGGER_NAME, Probe, Rig, run, running, unique, until

pytestmark = pytest.mark.integration


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_message_over_the_brokers_packet_limit_is_named_and_not_sent(
    limited_mosquitto: TunedMosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    limited = limited_mosquitto
    rig = Rig(limited)
    big = f"homeassistant/button/{unique('big')}/config"

    async def main() -> None:
        async with running(rig.link()) as link:
            await until(lambda: rig.connects == 1, "the connection")
            with Probe(limited, rig.state) as probe:
                link.publish(Message(big, b"x" * 1000, qos=1, retain=True))
                link.publish(Message.text(rig.state, "after the big one", qos=1))
                await until(lambda: probe.payloads(rig.state), "the message after it")
            assert link.connected

    run(main())
    # Sent as before, it made the broker drop cocoon over and over (reason 149).
    assert rig.connects == 1
    [error] = _errors(caplog)
    assert big in error
    # What cocoon needed: a fixed header of 3 bytes (its remaining length takes two),
    # the topic with its length, the packet id, an empty property list and the payload.
    assert f"{3 + 2 + len(big) + 2 + 1 + 1000} bytes" in error
    assert f"takes at most {PACKET_LIMIT}" in error
    assert "max_packet_size" in error
    assert "same client id" not in caplog.text


def test_mqtt_5_against_a_broker_that_speaks_only_3_1_1_says_which_protocol_to_set(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    # amqtt cannot read cocoon's MQTT 5 CONNECT (a last will, session properties) and
    # says nothing at all: cocoon gives up on the attempt and says what to set.
    monkeypatch.setattr(paho_loop, "ANSWER_WAIT", 1.0)

    async def main() -> None:
        broker = EmbeddedBroker()
        await broker.start()
        try:
            rig = Rig(broker)  # type: ignore[arg-type]  # host and port are all it reads
            async with running(rig.link()):
                await until(lambda: _errors(caplog), "the diagnosis")
            [silence, *_] = _errors(caplog)
            assert 'set mqtt.protocol: "3.1.1"' in silence
            assert rig.connects == 0
            async with running(rig.link(protocol="3.1.1")) as link:
                await until(lambda: link.connected, "the connection over MQTT 3.1.1")
        finally:
            await broker.stop()

    run(main())
    assert "username" not in caplog.text


class _Listener:
    """A TCP listener on loopback that takes connections and then says nothing, or hangs up."""

    def __init__(self, *, hang_up: bool) -> None:
        self.host = HOST
        self._server = socket.create_server((HOST, 0))
        self.port: int = self._server.getsockname()[1]
        self._hang_up = hang_up
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            if self._hang_up:
                connection.recv(1024)  # the CONNECT
                connection.close()
            else:
                self._open.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self._open:
            connection.close()


def test_a_listener_that_never_answers_connect_is_given_up_on_with_a_hint(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    monkeypatch.setattr(paho_loop, "ANSWER_WAIT", 0.5)
    listener = _Listener(hang_up=False)
    rig = Rig(listener)  # type: ignore[arg-type]

    async def main() -> None:
        async with running(rig.link()):
            await until(lambda: _errors(caplog), "the diagnosis", timeout=15)

    try:
        run(main())
    finally:
        listener.close()
    [error] = _errors(caplog)
    assert "did not answer cocoon's MQTT 5 CONNECT" in error
    assert 'set mqtt.protocol: "3.1.1"' in error
    assert "Lost the MQTT broker" not in caplog.text


def test_a_connection_never_made_is_not_called_lost(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    listener = _Listener(hang_up=True)
    rig = Rig(listener)  # type: ignore[arg-type]

    async def main() -> None:
        async with running(rig.link()):
            await until(lambda: _errors(caplog), "the diagnosis", timeout=15)
            await asyncio.sleep(0)

    try:
        run(main())
    finally:
        listener.close()
    [error] = _errors(caplog)
    assert "closed the connection before accepting cocoon" in error
    assert "Lost the MQTT broker" not in caplog.text
    assert rig.connects == 0


def test_refused_credentials_name_the_settings_to_check(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ..faults.mosquittos import password_file

    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    users = password_file(tmp_path / "passwords", {"cocoon": "right"})
    broker = TunedMosquitto(
        tmp_path / "locked",
        options={"allow_anonymous": "false", "password_file": str(users)},
    )
    broker.start()
    rig = Rig(broker)

    async def main() -> None:
        async with running(rig.link(username="cocoon", password="wrong")):
            await until(lambda: _errors(caplog), "the refusal")

    try:
        run(main())
    finally:
        broker.stop()
    [error] = _errors(caplog)
    assert "refused cocoon" in error
    assert "check mqtt.username, mqtt.password" in error
    assert "wrong" not in caplog.text


def test_a_message_with_an_expiry_reaches_subscribers_with_it(mosquitto: Mosquitto) -> None:
    """`cocoon trigger`'s presses expire on the broker: a daemon that died without the
    broker knowing yet is not handed an old press when it comes back an hour later."""
    rig = Rig(mosquitto)
    received: list[mqtt.MQTTMessage] = []
    subscriber = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=unique("expiry"), protocol=mqtt.MQTTv5
    )
    subscriber.on_message = lambda client, userdata, message: received.append(message)
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.connect(mosquitto.host, mosquitto.port)
    subscriber.loop_start()
    try:
        subscriber.subscribe(rig.press, qos=1)
        assert subscribed.wait(5)

        async def main() -> None:
            async with running(rig.link()) as link:
                await until(lambda: link.connected, "the connection")
                link.publish(Message(rig.press, b"PRESS", qos=1, expiry=60))
                await until(lambda: received, "the press")

        run(main())
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    expiry = getattr(received[0].properties, "MessageExpiryInterval", None)
    assert expiry is not None
    assert 0 < expiry <= 60
