"""MqttLink against a real Mosquitto: delivery, the last will, reconnects, persistent sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cocoon.adapters.mqtt_link import MqttLink
from cocoon.config.schema import Mqtt
from cocoon.errors import BusError
from cocoon.ports import Message

from ..brokers import Mosquitto

pytestmark = pytest.mark.integration

LOGGER_NAME = "cocoon.adapters.mqtt_link"
Seen = tuple[str, bytes, bool]
"""topic, payload, retain."""


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run one async test body on a fresh loop in the main thread."""
    asyncio.run(main)


async def until(predicate: Callable[[], object], what: str, timeout: float = 5.0) -> float:
    """Wait (letting the loop run) until `predicate()` is true; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def unique(prefix: str) -> str:
    """A name no other test (on the shared broker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Probe:
    """Another client on the broker: Home Assistant, a dashboard, a person with mosquitto_pub."""

    def __init__(self, broker: Mosquitto, *topics: str) -> None:
        self.seen: list[Seen] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=unique("probe"), protocol=mqtt.MQTTv5
        )
        self._client.on_message = self._message
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if topics:
            self._client.subscribe([(topic, 1) for topic in topics])
            assert self._subscribed.wait(5), "the probe's subscription was not acknowledged"

    def _message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.seen.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def payloads(self, topic: str) -> list[bytes]:
        """Payloads seen on `topic`, in order."""
        return [payload for seen_topic, payload, _ in self.seen if seen_topic == topic]

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish and wait until the broker has it."""
        self._client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def __enter__(self) -> Probe:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Rig:
    """One cocoon side for a test: unique topics and client id, and what the link hands over."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        base = unique("test")
        self.client_id = unique("cocoon")
        self.availability = f"{base}/status"
        self.press = f"{base}/button/calm_now/press"
        self.mode = f"{base}/mode/set"
        self.ready = f"{base}/ready"
        self.state = f"{base}/state"
        self.devices = f"{base}/bridge/devices"
        self.messages: list[Message] = []
        self.threads: set[int] = set()
        self.connects = 0
        self.subscription_calls = 0
        self.fail_on: bytes | None = None

    def link(self, *, client_id: str | None = None, **settings: Any) -> MqttLink:
        """A link to the rig's broker, reporting to this rig."""
        return MqttLink(
            Mqtt(
                host=self.broker.host,
                port=self.broker.port,
                client_id=client_id or self.client_id,
                **settings,
            ),
            availability_topic=self.availability,
            on_message=self._on_message,
            on_connect=self._on_connect,
            subscriptions=self._subscriptions,
        )

    def _subscriptions(self) -> list[str]:
        self.subscription_calls += 1
        return [self.press, self.mode, self.ready, self.devices]

    def _on_message(self, message: Message) -> None:
        self.threads.add(threading.get_ident())
        self.messages.append(message)
        if message.payload == self.fail_on:
            raise ValueError(f"a handler that chokes on {message.payload!r}")

    def _on_connect(self) -> None:
        self.threads.add(threading.get_ident())
        self.connects += 1

    def mark_ready(self) -> None:
        """Leave a retained marker: the link gets it as soon as its subscriptions hold."""
        with Probe(self.broker) as probe:
            probe.publish(self.ready, b"ready", retain=True)

    async def subscribed(self, times: int = 1) -> None:
        """Wait until the link's subscriptions hold (for the `times`-th time)."""
        await until(lambda: len(self.payloads(self.ready)) >= times, "the link's subscriptions")

    def payloads(self, topic: str) -> list[bytes]:
        """Payloads handed to cocoon on `topic`, in order."""
        return [message.payload for message in self.messages if message.topic == topic]

    def received(self) -> list[Seen]:
        """What cocoon was handed, without the readiness markers."""
        return [(m.topic, m.payload, m.retain) for m in self.messages if m.topic != self.ready]


@contextlib.asynccontextmanager
async def running(link: MqttLink) -> AsyncIterator[MqttLink]:
    """Start the link, and stop it whatever happens."""
    await link.start()
    try:
        yield link
    finally:
        await link.stop()


async def retained(broker: Mosquitto, topic: str) -> bytes:
    """The retained payload on `topic`, read by a new subscriber."""
    with Probe(broker, topic) as probe:
        await until(lambda: probe.seen, f"a retained message on {topic}")
    assert probe.seen[0][2], f"the first message on {topic} was not a retained one"
    return probe.seen[0][1]


LOOP_THREAD = threading.main_thread().ident


def test_connecting_says_online_and_calls_on_connect_on_the_loop(mosquitto: Mosquitto) -> None:
    rig = Rig(mosquitto)

    async def main() -> None:
        async with running(rig.link()) as link:
            await until(lambda: rig.connects == 1, "on_connect")
            assert link.connected
            assert await retained(mosquitto, rig.availability) == b"online"
            with Probe(mosquitto, rig.state) as probe:
                link.publish(Message.text(rig.state, "calm", qos=1, retain=True))
                await until(lambda: probe.payloads(rig.state), "the published state")
            assert await retained(mosquitto, rig.state) == b"calm"

    run(main())
    assert rig.threads == {LOOP_THREAD}
    assert rig.subscription_calls == 1


def test_messages_arrive_on_the_loop_with_their_retain_flag(mosquitto: Mosquitto) -> None:
    rig = Rig(mosquitto)

    async def main() -> None:
        with Probe(mosquitto) as probe:
            # A press left retained before cocoon connects: the broker replays it to every
            # new subscriber, which is why the caller must ignore retained commands.
            probe.publish(rig.mode, b"calm", retain=True)
            async with running(rig.link()):
                await until(lambda: rig.payloads(rig.mode), "the retained mode")
                probe.publish(rig.press, b"PRESS")
                await until(lambda: rig.payloads(rig.press), "the live press")
            probe.publish(rig.mode, b"", retain=True)

    run(main())
    assert rig.received() == [(rig.mode, b"calm", True), (rig.press, b"PRESS", False)]
    assert {message.qos for message in rig.messages} == {1}
    assert rig.threads == {LOOP_THREAD}


def test_a_failing_handler_does_not_stop_later_messages(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(mosquitto)
    rig.fail_on = b"2"

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link()) as link:
            await rig.subscribed()
            with Probe(mosquitto) as probe:
                for payload in (b"1", b"2", b"3"):
                    probe.publish(rig.press, payload)
            await until(lambda: len(rig.payloads(rig.press)) == 3, "the third press")
            assert link.connected

    run(main())
    assert rig.payloads(rig.press) == [b"1", b"2", b"3"]
    failures = [r for r in caplog.records if r.name == LOGGER_NAME and r.exc_info]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR
    assert rig.press in failures[0].getMessage()


def test_oversized_payloads_are_dropped(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    rig = Rig(mosquitto)

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link(max_payload=65536)):
            await rig.subscribed()
            with Probe(mosquitto) as probe:
                probe.publish(rig.press, b"x" * 9_000_000)  # the broker keeps it from us
                probe.publish(rig.press, b"y" * 65_636)  # within the packet size: we drop it
                probe.publish(rig.press, b"small")
            await until(lambda: rig.payloads(rig.press), "the small message")

    run(main())
    assert rig.payloads(rig.press) == [b"small"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert rig.press in warnings[0]
    assert "65636" in warnings[0]  # the 9 MB message never reached cocoon


def test_zigbee2mqtts_list_of_a_buildings_devices_is_taken_whatever_max_payload_says(
    mosquitto: Mosquitto,
) -> None:
    rig = Rig(mosquitto)
    devices = rig.devices
    listing = b"[" + b",".join([b'{"friendly_name": "flat_001/lamp"}'] * 40_000) + b"]"
    assert len(listing) > 1_000_000

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link(max_payload=65536)):
            await rig.subscribed()
            with Probe(mosquitto) as probe:
                probe.publish(devices, listing)
            await until(lambda: rig.payloads(devices), "the list")

    run(main())
    assert rig.payloads(devices) == [listing]


def test_stop_says_offline_and_ends_the_session(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    rig = Rig(mosquitto)

    async def main() -> None:
        link = rig.link()
        await link.start()
        await until(lambda: link.connected, "the connection")
        await link.stop()
        assert not link.connected
        assert await retained(mosquitto, rig.availability) == b"offline"
        with pytest.raises(BusError, match="not started"):
            link.publish(Message.text(rig.mode, "calm"))
        # The next run starts afresh: nothing queued for the old session is replayed.
        caplog.clear()
        async with running(rig.link()) as again:
            await until(lambda: again.connected, "the second connection")
        assert "(new session)" in caplog.text

    run(main())


def test_publish_refuses_what_the_broker_would_choke_on(mosquitto: Mosquitto) -> None:
    rig = Rig(mosquitto)

    async def main() -> None:
        async with running(rig.link(max_payload=1024)) as link:
            with pytest.raises(BusError, match="max_payload"):
                link.publish(Message(rig.mode, b"x" * 2000))
            with pytest.raises(BusError, match="cannot publish"):
                link.publish(Message(f"{rig.mode}/#", b"calm"))

    run(main())


def test_starts_without_a_broker_and_stops_quickly_when_it_is_gone(
    fresh_mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(fresh_mosquitto)

    async def main() -> None:
        fresh_mosquitto.stop()
        link = rig.link()
        await link.start()  # must not fail: it keeps trying in the background
        await until(lambda: "Cannot reach" in caplog.text, "the unreachable warning")
        assert not link.connected
        fresh_mosquitto.start()
        await until(lambda: link.connected, "the late connection")
        fresh_mosquitto.kill()
        # stop() gives up on the vanished broker by itself instead of hanging.
        await asyncio.wait_for(link.stop(), timeout=60)
        assert not link.connected

    run(main())


def test_reconnects_after_the_broker_is_killed_and_forgot_everything(
    fresh_mosquitto: Mosquitto,
) -> None:
    broker = fresh_mosquitto
    rig = Rig(broker)

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link()) as link:
            await rig.subscribed()
            broker.kill()
            # Without its database the broker has neither our `online` nor our session:
            # whatever is there after the reconnect, the link did again.
            (broker.dir / "mosquitto.db").unlink()
            broker.start()
            await until(lambda: rig.connects == 2, "the reconnect", timeout=30)
            assert link.connected
            assert await retained(broker, rig.availability) == b"online"
            with Probe(broker) as probe:
                probe.publish(rig.press, b"after the restart")
            await until(lambda: rig.payloads(rig.press), "a press after the restart")

    run(main())
    assert rig.payloads(rig.press) == [b"after the restart"]
    assert rig.subscription_calls == 2


def test_the_persistent_session_keeps_a_press_sent_while_cocoon_was_away(
    fresh_mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    broker = fresh_mosquitto
    rig = Rig(broker)

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link()) as link:
            await rig.subscribed()
            # The broker saves its database after each change, in its own loop: once it
            # has taken the acknowledgement of `ready`, the subscriptions are on disk.
            acked = f"Received PUBACK from {rig.client_id}"
            await until(lambda: acked in broker.log_tail(200), "the subscriptions saved")
            broker.kill()  # SIGKILL: only what the broker saved on change survives
            await until(lambda: not link.connected, "the lost connection noticed")
            broker.start()
            with Probe(broker) as probe:
                probe.publish(rig.press, b"while away", qos=1)
            # Acknowledged by the broker while the link waits out its reconnect delay.
            assert not link.connected
            await until(lambda: rig.payloads(rig.press), "the press sent while away", timeout=10)

    run(main())
    assert rig.received() == [(rig.press, b"while away", False)]
    assert rig.connects == 2
    assert "session resumed" in caplog.text


_LINK_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from cocoon.adapters.mqtt_link import MqttLink
    from cocoon.config.schema import Mqtt

    async def main():
        host, port, client_id, availability = sys.argv[1:5]
        link = MqttLink(
            Mqtt(host=host, port=int(port), client_id=client_id),
            availability_topic=availability,
            on_message=lambda message: None,
            on_connect=lambda: None,
            subscriptions=list,
        )
        await link.start()
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_the_broker_says_offline_when_cocoon_dies(mosquitto: Mosquitto, tmp_path: Path) -> None:
    rig = Rig(mosquitto)
    stderr = tmp_path / "link.stderr"

    async def main() -> None:
        with Probe(mosquitto, rig.availability) as probe, stderr.open("wb") as errors:
            args = [mosquitto.host, str(mosquitto.port), rig.client_id, rig.availability]
            process = subprocess.Popen(
                [sys.executable, "-c", _LINK_SCRIPT, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                await until(
                    lambda: probe.payloads(rig.availability) == [b"online"] or stderr.read_text(),
                    "the link process to come online",
                    timeout=15,
                )
                assert probe.payloads(rig.availability) == [b"online"], stderr.read_text()
                process.kill()  # no DISCONNECT: the broker publishes the last will
                process.wait(5)
                await until(
                    lambda: probe.payloads(rig.availability) == [b"online", b"offline"],
                    "the last will",
                )
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(5)
        assert await retained(mosquitto, rig.availability) == b"offline"

    run(main())


def test_a_twin_with_the_same_client_id_is_reported(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    rig = Rig(mosquitto)

    def reported() -> bool:
        return any(
            r.levelno == logging.ERROR and rig.client_id in r.getMessage() for r in caplog.records
        )

    async def main() -> int:
        async with running(rig.link()), running(rig.link()):
            await until(reported, "the takeover error", timeout=20)
            # No storm: once known, the twins back off instead of knocking each other off
            # every second (what a slow machine does, it does less often, never more).
            before = rig.connects
            await asyncio.sleep(3)
            return rig.connects - before

    storm = asyncio.run(main())
    assert storm <= 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "same client id" in errors[0]
    assert "mqtt.client_id" in errors[0]
    assert "tries again only every 10 s" in errors[0]


def test_a_failure_inside_paho_is_logged_and_the_link_carries_on(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(mosquitto)

    async def main() -> None:
        rig.mark_ready()
        async with running(rig.link()) as link:
            await rig.subscribed()
            client = link._client
            assert client is not None
            loop_misc = client.loop_misc

            def fail() -> NoReturn:
                client.loop_misc = loop_misc  # type: ignore[method-assign]
                raise RuntimeError("injected: paho's housekeeping fails")

            client.loop_misc = fail  # type: ignore[method-assign]
            await until(lambda: "keepalive failed" in caplog.text, "the logged failure")
            with Probe(mosquitto) as probe:
                probe.publish(rig.press, b"after the failure")
            await until(lambda: rig.payloads(rig.press), "a press after the failure")
            assert link.connected

    run(main())
