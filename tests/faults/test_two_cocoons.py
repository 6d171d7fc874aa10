"""Two cocoons for one home: one drives, the other waits and takes over when it stops.

Both are `cocoon run` processes on a real Mosquitto with the Zigbee2MQTT simulator, with
the same configuration (so the same client id) or with client ids of their own.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cocoon.adapters.claim import Instance
from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import (
    DaemonProcess,
    DaemonThread,
    Watcher,
    config_of,
    home,
    level,
    wait_until,
    write_config,
)
from . import knobs

pytestmark = pytest.mark.integration

PRESS = "cocoon/test_flat/button/calm_now/press"


@pytest.mark.parametrize("client_ids", ["the same", "their own"])
def test_a_second_cocoon_waits_and_takes_over_when_the_first_dies(
    client_ids: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "1h", "fade": 0}
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first_config = write_config(first_dir, data)
    if client_ids == "their own":
        data["mqtt"]["client_id"] += "-second"
    second_config = write_config(second_dir, data)
    sim = Zigbee2MqttSimulator(cfg, mosquitto.host, mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(mosquitto, [topics.availability, topics.mode])
    first = DaemonProcess(first_config, first_dir / "state")
    second = DaemonProcess(second_config, second_dir / "state")
    try:
        first.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="first online")
        second.start()
        wait_until(lambda: "drives nothing while this one" in first.log(), what="first told")
        assert "Another cocoon already runs for Test flat" in second.log()
        watcher.publish(PRESS, "PRESS")
        wait_until(lambda: level(sim) == 51, what="the calm scene")
        wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="the mode")
        commands = len(sim.received("sofa_lamp"))
        watcher.publish(topics.mode_set, "off")
        wait_until(lambda: level(sim) == 178, what="given back")
        assert len(sim.received("sofa_lamp")) == commands + 1  # one cocoon, one command
        first.kill()
        began = time.monotonic()
        wait_until(lambda: "this one takes over" in second.log(), what="the takeover")
        wait_until(
            lambda: watcher.seen(topics.availability)[-1:] == [b"online"],
            what="the second one online",
        )
        took = time.monotonic() - began
        watcher.publish(PRESS, "PRESS")
        wait_until(lambda: level(sim) == 51, what="calm, pressed on the second cocoon")
        assert second.process is not None
        assert second.process.poll() is None
    finally:
        first.kill()
        second.end()
        watcher.close()
        sim.stop()
    log = first.log()
    # With one client id the broker would knock the first off at every connect.
    assert log.count(f"as {cfg.mqtt.client_id} (") == 1, log  # type: ignore[union-attr]
    assert "Traceback" not in log + second.log()
    knobs.record(f"two-cocoons-{client_ids.replace(' ', '-')}-ids", takeover_s=round(took, 2))


def test_a_cocoon_that_finds_an_older_claim_steps_back_and_takes_over_if_nobody_answers(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    watcher = Watcher(mosquitto, [topics.availability, topics.mode])
    daemon = DaemonProcess(write_config(tmp_path, data), tmp_path / "state")
    try:
        daemon.start()
        # Running, its subscriptions in place (a retained `online` may be an earlier test's).
        wait_until(lambda: "running for Test flat" in daemon.log(), what="running")
        # Another cocoon that started earlier claims the home (two started at once), then
        # vanishes without a will: the first steps back, knocks, and takes over again.
        rival = Instance("rival", "elsewhere", 1, datetime.now(UTC) - timedelta(hours=1))
        watcher.publish(topics.owner, rival.payload(), retain=True)
        wait_until(lambda: "claimed Test flat first" in daemon.log(), what="stepped back")
        # It knocks; nobody answers (or the broker already says the claimant is offline).
        taken_over = re.compile(r"does not answer: taking over|is offline: this one takes over")
        try:
            wait_until(lambda: taken_over.search(daemon.log()), timeout=90, what="taken over")
        except AssertionError as failed:
            raise AssertionError(f"{failed}; the daemon's log:\n{daemon.log()}") from None
        owner = json.loads(
            wait_until(lambda: _retained_owner(mosquitto, topics), what="the claim renewed")
        )
        assert owner["instance"] != "rival"
        watcher.publish(PRESS, "PRESS")
        wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="a press after")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        daemon.kill()
        watcher.publish(topics.owner, b"", retain=True)  # the shared broker forgets the claims
        watcher.close()
    assert "Traceback" not in daemon.log()


def test_a_restart_after_a_clean_stop_takes_over_quietly_after_a_death_with_a_warning(
    fresh_mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config_of(home(fresh_mosquitto.port), tmp_path)
    topics = Topics.for_config(cfg)

    def takeovers() -> list[tuple[int, str]]:
        found = [(r.levelno, r.getMessage()) for r in caplog.records]
        caplog.clear()
        return [(level, text) for level, text in found if "takes over" in text]

    with caplog.at_level(logging.INFO):
        with DaemonThread(cfg, tmp_path / "state") as first:
            ran = first.daemon.ownership.instance.describe()
        assert takeovers() == []  # the first run of all: nobody to take over from
        with DaemonThread(cfg, tmp_path / "state"):
            pass
        assert takeovers() == [
            (
                logging.INFO,
                f"The cocoon ({ran}) that ran for Test flat stopped cleanly: this one takes over",
            )
        ]
        # One that ended without a clean stop: its claim as it was, and its last will.
        gone = Instance("gone", "elsewhere", 1, datetime.now(UTC) - timedelta(hours=1))
        watcher = Watcher(fresh_mosquitto, [])
        try:
            watcher.publish(topics.owner, gone.payload(), retain=True)
            watcher.publish(topics.availability, "offline", retain=True)
        finally:
            watcher.close()
        with DaemonThread(cfg, tmp_path / "state"):
            pass
        assert takeovers() == [
            (
                logging.WARNING,
                f"The cocoon ({gone.describe()}) that claimed for Test flat ended without a"
                " clean stop (killed, crashed or cut off) and is offline: this one takes over",
            )
        ]


def _retained_owner(broker: Mosquitto, topics: Topics) -> bytes | None:
    reader = Watcher(broker, [topics.owner])
    try:
        owner = wait_until(lambda: reader.last(topics.owner), what="the owner")
        return owner if b"rival" not in owner else None
    finally:
        reader.close()
