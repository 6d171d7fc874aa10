"""One `cocoon run` serves a building: twenty flats on a real Mosquitto, one file each.

The Zigbee2MQTT simulator plays every flat's devices on one network. The flats have no
rituals, so whatever a flat's devices are sent follows from a press in that flat.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.config.site import load_site

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, Watcher, level, wait_until
from .building import AS_BEFORE, CALM, LAMP, SETTLE_SECONDS, flat, flat_ids, write_flat, write_site

pytestmark = pytest.mark.integration

FLATS = flat_ids()


@dataclass
class Building:
    site: Path
    sim: Zigbee2MqttSimulator
    watcher: Watcher
    daemon: DaemonProcess
    directory: Path
    port: int

    def press(self, ident: str, button: str = "calm_now") -> None:
        self.watcher.publish(f"cocoon/{ident}/button/{button}/press", "PRESS")

    def lamp(self, ident: str) -> object:
        return level(self.sim, f"{ident}/lamp")

    def sent(self, ident: str) -> list[dict[str, object]]:
        """Every command a flat's devices were sent (not counting `/get`)."""
        return [
            command
            for device in ("lamp", "reading", "radiator")
            for command in self.sim.received(f"{ident}/{device}")
        ]

    def configs(self) -> dict[str, dict[str, Any]]:
        """The discovery configs announced so far, by topic."""
        return {
            m.topic: json.loads(m.payload)
            for m in list(self.watcher.messages)
            if m.topic.startswith("homeassistant/") and m.topic.endswith("/config") and m.payload
        }

    def served(self) -> None:
        """Wait until the process and every flat say they are online, and every flat is
        announced (a few flats at a time)."""
        wait_until(lambda: self.watcher.last("cocoon/status") == b"online", what="online")
        for ident in FLATS:
            wait_until(
                lambda ident=ident: self.watcher.last(f"cocoon/{ident}/status") == b"online",
                what=f"{ident} online",
            )
            wait_until(
                lambda ident=ident: any(f"cocoon_{ident}/" in topic for topic in self.configs()),
                what=f"{ident} announced",
            )

    def reload(self, flats: list[str] | None = None) -> None:
        if flats is not None:
            write_site(self.directory, self.port, flats)
        self.daemon.signal(signal.SIGHUP)

    def log_says(self, *words: str) -> str:
        """The log, once one of its lines says all of `words`."""
        return wait_until(
            lambda: (
                (log := self.daemon.log())
                and any(all(w in line for w in words) for line in log.splitlines())
                and log
            ),
            what=" … ".join(words),
        )


@pytest.fixture
def building(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Building]:
    site = write_site(tmp_path, mosquitto.port, FLATS)
    sim = Zigbee2MqttSimulator.of_site(load_site(site).homes, mosquitto.host, mosquitto.port)
    sim.start()
    for ident in FLATS:
        sim.set_light(f"{ident}/lamp", **LAMP)
        sim.set_light(f"{ident}/reading", on=True, brightness_pct=40, kelvin=3000)
    watcher = Watcher(mosquitto, ["cocoon/#", "homeassistant/#"])
    daemon = DaemonProcess(site, tmp_path / "state")
    daemon.start()
    built = Building(site, sim, watcher, daemon, tmp_path, mosquitto.port)
    try:
        built.served()
        yield built
    finally:
        daemon.end()
        watcher.close()
        sim.stop()


def test_a_press_lands_in_its_flat_and_nowhere_else(building: Building) -> None:
    building.press("flat_07")
    building.press("flat_13")
    wait_until(lambda: building.lamp("flat_07") == CALM, what="flat 7 calm")
    wait_until(lambda: building.lamp("flat_13") == CALM, what="flat 13 calm")
    wait_until(lambda: building.sim.state("flat_13/reading").get("state") == "OFF", what="off")
    for ident in FLATS:
        if ident not in ("flat_07", "flat_13"):
            assert building.sent(ident) == [], ident
            assert building.lamp(ident) == AS_BEFORE
    # The status of each flat is its own: calm in the two pressed, off in the others.
    wait_until(lambda: building.watcher.last("cocoon/flat_07/mode") == b"Calm now", what="mode")
    assert building.watcher.last("cocoon/flat_08/mode") == b"Off"
    log = building.daemon.log()
    assert "[flat_07]" in log
    assert "[flat_13]" in log


def test_each_flat_is_its_own_device_in_home_assistant_and_goes_with_the_process(
    building: Building,
) -> None:
    building.press("flat_03")
    wait_until(lambda: building.lamp("flat_03") == CALM, what="calm")

    ours = {f"cocoon_{ident}" for ident in FLATS}
    # (The broker is shared with other tests: only this building's configs count.)
    configs_now = {
        topic: config
        for topic, config in building.configs().items()
        if config["device"]["identifiers"][0] in ours
    }
    assert {c["device"]["identifiers"][0] for c in configs_now.values()} == ours
    unique_ids = [c["unique_id"] for c in configs_now.values()]
    assert len(unique_ids) == len(set(unique_ids))
    for config in configs_now.values():
        topics = [a["topic"] for a in config["availability"]]
        assert topics[0] == "cocoon/status"
        assert topics[1].startswith("cocoon/flat_")
        assert config["availability_mode"] == "all"
    building.daemon.kill()
    # The broker says the process is gone (its will); every flat's entities go with it.
    wait_until(lambda: building.watcher.last("cocoon/status") == b"offline", what="the will")


def test_after_kill_9_every_flat_resumes_and_is_given_back_at_its_time(
    building: Building,
) -> None:
    states = building.directory / "state" / "homes"

    def saved_calm(ident: str) -> bool:
        saved = states / ident / "state.json"
        return saved.exists() and "settle" in json.loads(saved.read_text())["calm"]

    for ident in FLATS:
        building.press(ident, "settle")
    for ident in FLATS:
        wait_until(lambda ident=ident: building.lamp(ident) == CALM, what=f"{ident} calm")
        wait_until(lambda ident=ident: saved_calm(ident), what=f"{ident}'s calm saved")
    building.daemon.kill()
    # One flat's state file is spoilt meanwhile: that flat alone starts afresh.
    spoilt, *resumed = FLATS[::-1]
    (states / spoilt / "state.json").write_text("{not json")
    building.daemon.start()
    building.served()
    for ident in resumed:
        wait_until(
            lambda ident=ident: building.lamp(ident) == AS_BEFORE,
            timeout=SETTLE_SECONDS + 20,
            what=f"{ident} given back",
        )
    for ident in resumed:
        # Calm (told again after the restart), then as before: nothing in between.
        levels = [c["brightness"] for c in building.sim.received(f"{ident}/lamp")]
        assert set(levels) == {CALM, AS_BEFORE}, ident
        assert levels[-1] == AS_BEFORE, ident
        assert not list((states / ident).glob("state.corrupt-*")), ident
    # The spoilt one was moved aside, and its flat knows no calm mode to end.
    assert len(list((states / spoilt).glob("state.corrupt-*.json"))) == 1
    assert building.lamp(spoilt) == CALM
    building.log_says(f"[{spoilt}]", "could not be read")


def test_a_broken_flat_file_keeps_that_flat_as_it_was_while_the_others_reload(
    building: Building,
) -> None:
    (building.directory / "flats" / "flat_02.yaml").write_text("home: [unclosed\n")
    write_flat(building.directory, "flat_05", flat("flat_05", calm_brightness=30))
    # Flat 6 now names flat 2's lamp, which flat 2 (kept as it was) still drives.
    grabbing = flat("flat_06", calm_brightness=40)
    grabbing["devices"]["lamp"] = {"zigbee2mqtt": "flat_02/lamp"}
    write_flat(building.directory, "flat_06", grabbing)
    building.reload()
    building.log_says("[flat_05]", "Configuration reloaded")
    log = building.log_says("[flat_02]", "invalid")
    assert "flat_02.yaml" in log
    building.log_says("[flat_06]", "still drives: flat_02/lamp (flat_02)")
    building.press("flat_05")
    wait_until(lambda: building.lamp("flat_05") == 76, what="flat 5's new calm (30 %)")
    building.press("flat_02")
    wait_until(lambda: building.lamp("flat_02") == CALM, what="flat 2 as it was")
    building.press("flat_06")
    wait_until(lambda: building.lamp("flat_06") == CALM, what="flat 6 as it was, its own lamp")


def test_a_flat_removed_from_the_site_gives_its_devices_back(building: Building) -> None:
    building.press("flat_09")
    wait_until(lambda: building.lamp("flat_09") == CALM, what="calm")
    building.reload([ident for ident in FLATS if ident != "flat_09"])
    wait_until(lambda: building.lamp("flat_09") == AS_BEFORE, what="given back")
    wait_until(lambda: building.watcher.last("cocoon/flat_09/status") == b"offline", what="gone")
    gone = [
        m.topic
        for m in list(building.watcher.messages)
        if m.topic.startswith("homeassistant/") and "flat_09" in m.topic and not m.payload
    ]
    assert gone, "its entities are taken back from Home Assistant"
    sent_before = len(building.sent("flat_09"))
    building.press("flat_09")  # no one listens there any more
    building.press("flat_10")
    wait_until(lambda: building.lamp("flat_10") == CALM, what="the others still served")
    assert len(building.sent("flat_09")) == sent_before
    assert building.lamp("flat_09") == AS_BEFORE


def test_a_flood_junk_and_a_stuck_device_in_one_flat_never_hold_up_another(
    building: Building,
) -> None:
    # Flat 1's reading lamp is stuck (it left the network), and flat 1 wants it off.
    building.sim.set_available("flat_01/reading", False)
    building.press("flat_01")
    flood = building.watcher.client

    def flood_flat_01(messages: int) -> None:
        for n in range(messages):
            junk = b"{not json" if n % 2 else b'{"brightness": 3'
            flood.publish("zigbee2mqtt/flat_01/lamp", junk)
            report = {"state": "ON", "brightness": n % 254}
            flood.publish("zigbee2mqtt/flat_01/lamp", json.dumps(report))

    flood_flat_01(1500)
    building.press("flat_02")
    flood_flat_01(1500)  # and on, while flat 2's press is handled
    wait_until(lambda: building.lamp("flat_02") == CALM, what="flat 2 calm during the flood")
    wait_until(lambda: building.sim.state("flat_02/reading").get("state") == "OFF", what="off")
    log = building.log_says("Dropped a message")
    dropped = [line for line in log.splitlines() if "Dropped a message" in line]
    assert all("[flat_01]" in line for line in dropped)
    for ident in FLATS[2:]:
        assert building.sent(ident) == [], ident
