"""Discovery is always true: whatever comes right after an announcement, the retained
discovery ends up showing exactly the configuration in force.

Announcements closer together than a few seconds are coalesced, never dropped: a broker
that restarts without its database right after cocoon announced, and reloads in quick
succession, each end with the current buttons and mode options on the broker.
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, Watcher, config_of, home, wait_until, write_config
from . import knobs

pytestmark = pytest.mark.integration


def _button(topics: Topics, mode: str) -> str:
    return f"homeassistant/button/{topics.node_id}/{topics.node_id}_calm_{mode}/config"


def _select(topics: Topics) -> str:
    return f"homeassistant/select/{topics.node_id}/{topics.node_id}_mode/config"


def _retained(broker: Mosquitto, topics: list[str]) -> dict[str, bytes]:
    """What a newcomer (Home Assistant starting now) reads from the broker on `topics`.

    The broker sends the retained messages of a subscription before anything the same
    client publishes after it: once its own marker is back, all of them are in.
    """
    marker = f"test/marker/{uuid.uuid4().hex}"
    watcher = Watcher(broker, [*topics, marker])
    try:
        watcher.publish(marker, "end of the retained messages")
        wait_until(lambda: watcher.seen(marker), what="the marker")
        return {topic: payload for topic in topics if (payload := watcher.last(topic))}
    finally:
        watcher.close()


def _options(payload: bytes | None) -> list[str]:
    return list(json.loads(payload or b"{}").get("options", []))


def _with_modes(port: int, *modes: str) -> dict[str, Any]:
    data = home(port)
    data["mqtt"]["client_id"] = f"cocoon-{port}"  # the same in every version of the file
    data["calm_modes"] = {
        mode: {"scene": "calm", "duration": "5min", "fade": 0, "button": mode.title()}
        for mode in modes
    }
    return data


def test_two_reloads_in_quick_succession_leave_the_second_ones_entities(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = _with_modes(mosquitto.port, "calm_now")
    topics = Topics.for_config(config_of(data, tmp_path))
    watched = [_button(topics, m) for m in ("calm_now", "breathe", "rest")] + [_select(topics)]
    watcher = Watcher(mosquitto, [*watched, topics.mode])
    daemon = DaemonProcess(write_config(tmp_path, data), tmp_path / "state")
    try:
        daemon.start()
        # Running (its SIGHUP handler in place): the shared broker's retained discovery
        # may be an earlier test's.
        wait_until(lambda: "running for Test flat" in daemon.log(), what="running")
        write_config(tmp_path, _with_modes(mosquitto.port, "calm_now", "breathe"))
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: daemon.log().count("Configuration reloaded") == 1, what="reload 1")
        write_config(tmp_path, _with_modes(mosquitto.port, "rest"))
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: daemon.log().count("Configuration reloaded") == 2, what="reload 2")
        began = time.monotonic()
        wait_until(
            lambda: _options(watcher.last(_select(topics))) == ["Off", "Rest"],
            timeout=30,
            what="the second reload's mode options",
        )
        settled = time.monotonic() - began
        retained = _retained(mosquitto, watched)
        # The new button works as well as it shows: cocoon listens to it since the reload.
        watcher.publish(topics.button("rest"), "PRESS")
        wait_until(lambda: watcher.last(topics.mode) == b"Rest", what="a press of the new button")
    finally:
        daemon.end()
        watcher.close()
    assert _button(topics, "rest") in retained
    assert _button(topics, "calm_now") not in retained
    assert _button(topics, "breathe") not in retained
    assert _options(retained[_select(topics)]) == ["Off", "Rest"]
    knobs.record("discovery-reloads", seconds_to_true=round(settled, 2))


def test_a_broker_that_lost_everything_right_after_an_announcement_gets_it_again(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = fresh_mosquitto
    data = _with_modes(broker.port, "calm_now")
    topics = Topics.for_config(config_of(data, tmp_path))
    watcher = Watcher(broker, [_select(topics)])
    daemon = DaemonProcess(write_config(tmp_path, data), tmp_path / "state")
    try:
        daemon.start()
        wait_until(lambda: watcher.last(_select(topics)), what="the first announcement")
        broker.kill()
        (broker.dir / "mosquitto.db").unlink(missing_ok=True)
        broker.start()
        began = time.monotonic()
        wait_until(
            lambda: _select(topics) in _retained(broker, [_select(topics)]),
            timeout=30,
            what="discovery on the new broker",
        )
        back = time.monotonic() - began
    finally:
        daemon.end()
        watcher.close()
    knobs.record("discovery-broker-amnesia", seconds_to_true=round(back, 2))
