"""A retained junk flood on cocoon's discovery prefix and command topics, left before it starts.

Retained presses, mode and hands-off commands are old news: cocoon must not replay them
when it (re)subscribes. It must still announce itself, and answer a real press.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, Watcher, config_of, home, json_of, wait_until
from . import knobs

pytestmark = pytest.mark.integration

_JUNK = [b"PRESS", b"calm_now", b"ON", b"{not json", b"\xff\xfe", b"x" * 2000, b"", b"off"]


def _flood(broker: Mosquitto, topics: Topics, count: int) -> float:
    """Publish `count` retained junk messages; the real command topics get a retained
    PRESS, `calm_now` and `ON` last. Returns the seconds it took."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="junk-flood")
    client.connect(broker.host, broker.port)
    client.loop_start()
    prefix = f"{topics.discovery_prefix}/button/{topics.node_id}"
    started = time.monotonic()
    try:
        for number in range(count):
            payload = _JUNK[number % len(_JUNK)]
            if number % 4 == 0:
                topic = f"{prefix}/junk_{number}/config"
            elif number % 4 == 1:
                topic = f"{topics.base}/button/junk_{number}/press"
            elif number % 4 == 2:
                topic = [topics.button("calm_now"), topics.mode_set, topics.hands_off_set][
                    number % 3
                ]
            else:
                topic = f"{topics.discovery_prefix}/status"
            client.publish(topic, payload, qos=0, retain=True)
        for topic, payload in [
            (topics.button("calm_now"), b"PRESS"),
            (topics.button("evening"), b"PRESS"),
            (topics.mode_set, b"calm_now"),
            (topics.hands_off_set, b"ON"),
        ]:
            client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()
    return time.monotonic() - started


def _calm_ends(documents: list[bytes]) -> set[str]:
    """Every end time of calm_now the published statuses showed."""
    return {e for d in documents if (e := json.loads(d)["calm_until"].get("calm_now"))}


def test_a_retained_junk_flood_is_not_replayed_and_a_real_press_works(
    periodic_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = periodic_mosquitto
    data = home(broker.port)
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "1h", "fade": 0}
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    sim = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    button = (
        f"{topics.discovery_prefix}/button/{topics.node_id}/{topics.node_id}_calm_calm_now/config"
    )
    flood_seconds = _flood(broker, topics, knobs.FLOOD)
    watcher = Watcher(broker, [topics.availability, topics.state, topics.mode, button])
    try:
        started = time.monotonic()
        with DaemonThread(cfg, tmp_path / "state") as daemon:
            wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
            wait_until(lambda: json_of(watcher.last(button) or b"null"), what="own discovery")
            wait_until(lambda: watcher.last(topics.state), what="the status published")
            online = time.monotonic() - started
            assert json_of(watcher.last(topics.state))["hands_off"] is False
            assert sim.received("sofa_lamp") == []
            watcher.publish(topics.button("calm_now"), "PRESS")  # a real press, not retained
            wait_until(lambda: sim.state("sofa_lamp").get("brightness") == 51, what="real press")
            answered = time.monotonic() - started
            handled = daemon.daemon.engine.handled
            wait_until(lambda: _calm_ends(watcher.seen(topics.state)), what="calm in the status")
        modes = [m for m in watcher.seen(topics.mode) if m != b"Off"]
        assert modes == [b"Calm now"], modes
        assert len(_calm_ends(watcher.seen(topics.state))) == 1  # one press, one calm mode
        assert not any(json.loads(doc)["hands_off"] for doc in watcher.seen(topics.state))
    finally:
        watcher.close()
        sim.stop()
    knobs.record(
        "junk-flood",
        retained_junk=knobs.FLOOD,
        flood_s=round(flood_seconds, 2),
        online_s=round(online, 2),
        press_answered_s=round(answered, 2),
        events_handled=handled,
    )
