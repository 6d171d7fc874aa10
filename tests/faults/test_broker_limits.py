"""Brokers that will not take what cocoon sends, and a state file that cannot be read:
`cocoon run` says what is wrong and what to change, and carries on where it can.

Real brokers: Mosquitto with a packet limit below a discovery message, and amqtt (which
speaks MQTT 3.1.1 only) in a thread of the test, against cocoon's default MQTT 5.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from cocoon.adapters.topics import Topics
from cocoon.demo.broker import EmbeddedBroker

from ..brokers import Mosquitto
from ..conftest import PACKET_LIMIT
from ..daemon.harness import DaemonProcess, Watcher, config_of, home, wait_until, write_config
from . import knobs
from .mosquittos import TunedMosquitto

pytestmark = pytest.mark.integration


def test_a_packet_limit_below_discovery_is_named_and_causes_no_reconnects(
    limited_mosquitto: TunedMosquitto, tmp_path: Path
) -> None:
    limited = limited_mosquitto
    data = home(limited.port)
    topics = Topics.for_config(config_of(data, tmp_path))
    watcher = Watcher(limited, [topics.availability, topics.mode])
    daemon = DaemonProcess(write_config(tmp_path, data), tmp_path / "state")
    try:
        daemon.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
        wait_until(lambda: "(its max_packet_size)" in daemon.log(), what="the diagnosis")
        # Small messages still flow: a press works and its mode is published.
        watcher.publish(topics.button("calm_now"), "PRESS")
        wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="a press")
    finally:
        daemon.end()
        watcher.close()
    log = daemon.log()
    [line, *_] = [line for line in log.splitlines() if "(its max_packet_size)" in line]
    assert f"takes at most {PACKET_LIMIT}" in line
    assert "needs a packet of" in line
    assert log.count(f"as {data['mqtt']['client_id']} (") == 1  # connected once, no storm
    assert "same client id" not in log
    knobs.record("packet-limit", broker_limit=PACKET_LIMIT, connections=1, press="answered")


class _Amqtt:
    """amqtt, MQTT 3.1.1 only, on a loop in a thread of its own."""

    def __init__(self) -> None:
        self.broker = EmbeddedBroker()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> EmbeddedBroker:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.broker.start(), self._loop).result(30)
        return self.broker

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.broker.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def test_mqtt_5_against_a_3_1_1_broker_says_which_protocol_to_set(tmp_path: Path) -> None:
    with _Amqtt() as broker:
        data = home(broker.port)
        daemon = DaemonProcess(write_config(tmp_path, data), tmp_path / "state")
        began = time.monotonic()
        try:
            daemon.start()
            wait_until(
                lambda: 'set mqtt.protocol: "3.1.1"' in daemon.log(),
                timeout=60,
                what="the diagnosis",
            )
            told = time.monotonic() - began
        finally:
            daemon.end()
        data["mqtt"]["protocol"] = "3.1.1"
        again = DaemonProcess(write_config(tmp_path, data), tmp_path / "again")
        try:
            again.start()
            wait_until(
                lambda: f"as {data['mqtt']['client_id']} (" in again.log(),
                timeout=60,
                what="connected over 3.1.1",
            )
        finally:
            again.end()
    assert "username" not in daemon.log()
    knobs.record("protocol-mismatch", diagnosed_after_s=round(told, 1))


@pytest.mark.parametrize("kind", ["not UTF-8", "a directory"])
def test_a_state_file_that_cannot_be_read_is_moved_aside_and_cocoon_runs(
    kind: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    topics = Topics.for_config(config_of(data, tmp_path))
    state = tmp_path / "state"
    state.mkdir()
    if kind == "a directory":
        (state / "state.json").mkdir()
    else:
        (state / "state.json").write_bytes(b"\xff\xfe not text")
    watcher = Watcher(mosquitto, [topics.availability, topics.mode])
    daemon = DaemonProcess(write_config(tmp_path, data), state)
    try:
        daemon.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
        watcher.publish(topics.button("calm_now"), "PRESS")
        wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="a press")
        wait_until(lambda: (state / "state.json").is_file(), what="the state saved afresh")
    finally:
        daemon.end()
        watcher.close()
    assert "could not be read" in daemon.log()
    assert "Traceback" not in daemon.log()
    assert any(p.name.startswith("state.corrupt-") for p in state.iterdir())
    knobs.record(f"state-file-{kind.replace(' ', '-')}", moved_aside="yes", press="answered")
