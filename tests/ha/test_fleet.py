"""A fleet against a real Home Assistant (2024.3 and 2026.11): its buttons and events.

Two workers serve two flats of Zigbee2MQTT lamps. A fleet's buttons stamp their press
with its time (a `command_template` Home Assistant renders) and retain it; a
`cocoon_trigger` event reaches every worker, each passes it on as a press with the
event's id, and the flat's owner acts on it once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.config.site import load_site

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, Watcher, level, wait_until
from ..etcd import Etcd
from ..homeassistant import HomeAssistant
from ..site.building import CALM, LAMP, flat

pytestmark = pytest.mark.integration

FLATS = ("fleet_a", "fleet_b")


@pytest.fixture
def fleet(
    home_assistant: HomeAssistant, mosquitto: Mosquitto, etcd: Etcd, tmp_path: Path
) -> Iterator[tuple[dict[str, DaemonProcess], Zigbee2MqttSimulator, Watcher]]:
    site = {
        "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "client_id": f"f-{time.time_ns()}"},
        "home_assistant": {"url": home_assistant.url, "token": home_assistant.token},
        "settings": {"rate_limit": 100},
        "homes": {ident: flat(ident) for ident in FLATS},
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    sim = Zigbee2MqttSimulator.of_site(
        load_site(path).homes, mosquitto.host, mosquitto.port, mqtt5=True
    )
    sim.start()
    for ident in FLATS:
        sim.set_light(f"{ident}/lamp", **LAMP)
    watcher = Watcher(mosquitto, [f"cocoon/{ident}/button/+/press" for ident in FLATS])
    workers = {
        name: DaemonProcess(
            path, tmp_path / name, more=["--fleet", etcd.url, "--worker", name, "--lease", "4"]
        )
        for name in ("hw1", "hw2")
    }
    try:
        for worker in workers.values():
            worker.start()
        # One flat each, subscribed: a press now goes to a worker that serves it.
        wait_until(
            lambda: sorted(etcd.keys("/cocoon/default/owners/").values()) == ["hw1", "hw2"],
            60,
            "a flat for each worker",
        )
        for name, worker in workers.items():
            wait_until(lambda w=worker: "Served by this worker" in w.log(), 60, name)
        for ident in FLATS:
            home_assistant.wait_for_state(
                f"button.cocoon_{ident}_calm_calm_now", lambda s: s["state"] != "unavailable"
            )
        yield workers, sim, watcher
    finally:
        for worker in workers.values():
            worker.end()
        watcher.close()
        sim.stop()


def test_a_fleets_button_press_is_stamped_by_home_assistant_and_acted_on(
    fleet: tuple[dict[str, DaemonProcess], Zigbee2MqttSimulator, Watcher],
    home_assistant: HomeAssistant,
) -> None:
    _, sim, watcher = fleet
    pressed = time.time()
    home_assistant.call_service(
        "button", "press", {"entity_id": "button.cocoon_fleet_a_calm_calm_now"}
    )
    wait_until(lambda: level(sim, "fleet_a/lamp") == CALM, 30, "fleet_a calm")
    presses = [json.loads(p) for p in watcher.seen("cocoon/fleet_a/button/calm_now/press") if p]
    assert len(presses) == 1
    assert presses[0]["press"] == "PRESS"
    assert pressed - 5 <= presses[0]["at"] <= time.time() + 5  # Home Assistant's now()


def test_a_cocoon_trigger_heard_by_every_worker_acts_once(
    fleet: tuple[dict[str, DaemonProcess], Zigbee2MqttSimulator, Watcher],
    home_assistant: HomeAssistant,
) -> None:
    workers, sim, watcher = fleet
    home_assistant.request("POST", "events/cocoon_trigger", {"name": "Calm now", "home": "fleet_b"})
    wait_until(lambda: level(sim, "fleet_b/lamp") == CALM, 30, "fleet_b calm")
    topic = "cocoon/fleet_b/button/calm_now/press"
    wait_until(lambda: len([p for p in watcher.seen(topic) if p]) == 2, 30, "both passed it on")
    ids = {json.loads(p)["id"] for p in watcher.seen(topic) if p}
    assert len(ids) == 1
    # The owner clears each copy it hears, after handling it.
    wait_until(lambda: watcher.seen(topic).count(b"") == 2, 30, "both copies handled")
    logs = "".join(worker.log() for worker in workers.values())
    assert logs.count("[fleet_b] calm_now pressed") == 1
    assert "pressed again" not in logs
