"""A fleet: three `cocoon run --fleet` workers share thirty flats through a real etcd.

They show the guarantees of docs/fleet.md on real processes: the flats spread evenly; a
worker killed mid calm mode has its flats taken over and each calm mode given back at its
time by the next owner; a worker paused past its lease never sends again to a flat it
lost; a fourth worker takes its share without a flat going dark; and etcd away stops
the workers (once their leases could have expired) until it is back. The simulator
checks every command's sender (MQTT 5 user property): one driver per flat at a time.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.config.site import load_site

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, Watcher
from ..etcd import Etcd
from ..site.building import AS_BEFORE, CALM, LAMP, SETTLE_SECONDS, flat_ids, write_site
from .harness import PATIENCE, Fleet, lamps_set, two_drivers, wait_until

pytestmark = pytest.mark.integration

FLATS = flat_ids(30)
EVEN = {"w1": 10, "w2": 10, "w3": 10}


@pytest.fixture
def fleet(etcd: Etcd, fresh_mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Fleet]:
    broker = fresh_mosquitto
    site = write_site(tmp_path, broker.port, FLATS)
    sim = Zigbee2MqttSimulator.of_site(load_site(site).homes, broker.host, broker.port, mqtt5=True)
    sim.start()
    for ident in FLATS:
        sim.set_light(f"{ident}/lamp", **LAMP)
        sim.set_light(f"{ident}/reading", on=True, brightness_pct=40, kelvin=3000)
    watcher = Watcher(broker, ["cocoon/#", "homeassistant/#"])
    world = Fleet(tmp_path, site, FLATS, etcd, broker, sim, watcher)
    try:
        for name in EVEN:
            world.start_worker(name)
        world.settled(EVEN)
        for ident in FLATS:
            wait_until(lambda i=ident: world.status(i) == b"online", PATIENCE, f"{ident} online")
        yield world
    finally:
        world.end()


def availability_of(fleet: Fleet, ident: str) -> list[str]:
    """The availability topics of a flat's Calm now button, as last announced."""
    topic = f"homeassistant/button/cocoon_{ident}/cocoon_{ident}_calm_calm_now/config"
    payload = fleet.watcher.last(topic)
    return [item["topic"] for item in json.loads(payload or b"{}").get("availability", [])]


def test_three_workers_share_the_flats_and_a_fourth_takes_its_share_without_a_gap(
    fleet: Fleet,
) -> None:
    owners = fleet.owners()
    for ident, worker in owners.items():
        wait_until(
            lambda i=ident, w=worker: f"cocoon/workers/{w}/status" in availability_of(fleet, i),
            PATIENCE,
            f"{ident} announced by {worker}",
        )
    joined = time.monotonic()
    fleet.start_worker("w4")
    after = fleet.settled({"w1": 8, "w2": 8, "w3": 7, "w4": 7})
    moved = [ident for ident in FLATS if after[ident] != owners[ident]]
    assert len(moved) == 7
    assert {after[ident] for ident in moved} == {"w4"}
    # The new owner announces the flat with its own availability, and drives it.
    for ident in moved:
        wait_until(
            lambda i=ident: "cocoon/workers/w4/status" in availability_of(fleet, i),
            PATIENCE,
            f"{ident} announced by w4",
        )
    fleet.press(moved[0])
    wait_until(lambda: fleet.lamp(moved[0]) == CALM, PATIENCE, "the moved flat calm")
    # No flat went dark: none said offline, no lamp was sent anything it did not ask for.
    for ident in FLATS:
        assert b"offline" not in fleet.watcher.seen(f"cocoon/{ident}/status"), ident
        if ident != moved[0]:
            assert fleet.lamp(ident) == AS_BEFORE, ident
            assert all("brightness" not in c for c in lamps_set(fleet, ident, joined)), ident
    assert two_drivers(fleet) == {}


def test_a_killed_workers_flats_are_taken_over_and_given_back_at_their_time(
    fleet: Fleet,
) -> None:
    owners = fleet.owners()
    lost = sorted(ident for ident, worker in owners.items() if worker == "w2")
    pressed = time.monotonic()
    for ident in lost:
        fleet.press(ident, "settle")
    for ident in lost:
        wait_until(lambda i=ident: fleet.lamp(i) == CALM, PATIENCE, f"{ident} calm")
    killed = time.monotonic()
    fleet.workers["w2"].kill()
    after = fleet.settled({"w1": 15, "w3": 15})
    print(f"w2's flats owned again {time.monotonic() - killed:.1f} s after kill -9")
    assert {after[ident] for ident in lost} <= {"w1", "w3"}
    # Each calm mode ends at its time on the next owner, which gives back what w2 had
    # snapshotted before it pressed: the lamp as it was.
    for ident in lost:
        wait_until(lambda i=ident: fleet.lamp(i) == AS_BEFORE, PATIENCE, f"{ident} given back")
        (back,) = [c for c in lamps_set(fleet, ident, killed) if c.get("brightness") == AS_BEFORE]
        assert float(str(back["received_at"])) >= pressed + SETTLE_SECONDS
        senders = fleet.sim.senders(f"{ident}/lamp")
        assert (senders[-1][1] or "").startswith(after[ident])
    assert two_drivers(fleet) == {}


def test_a_worker_paused_past_its_lease_never_sends_to_the_flats_it_lost(
    fleet: Fleet,
) -> None:
    owners = fleet.owners()
    its = sorted(ident for ident, worker in owners.items() if worker == "w1")
    pressed = time.monotonic()
    for ident in its:
        fleet.press(ident, "settle")
    for ident in its:
        wait_until(lambda i=ident: fleet.lamp(i) == CALM, PATIENCE, f"{ident} calm")
    paused = fleet.workers["w1"]
    paused.signal(signal.SIGSTOP)
    try:
        fleet.settled({"w2": 15, "w3": 15})
        # Paused past the calm mode's end too: what w1 had scheduled is due at SIGCONT.
        wait_until(lambda: time.monotonic() > pressed + SETTLE_SECONDS + 1, PATIENCE)
    finally:
        paused.signal(signal.SIGCONT)
    # Back, it finds its lease expired, lets go without a word and joins again.
    fleet.settled(EVEN)
    for ident in its:
        wait_until(lambda i=ident: fleet.lamp(i) == AS_BEFORE, PATIENCE, f"{ident} given back")
    assert "lease expired" in paused.log()
    assert two_drivers(fleet) == {}


def test_with_etcd_away_the_workers_hold_back_and_go_on_when_it_is_back(
    fleet: Fleet,
) -> None:
    owners = fleet.owners()
    fleet.etcd.kill()
    for name, worker in fleet.workers.items():
        wait_until(lambda w=worker: "holding back every home" in w.log(), PATIENCE, name)
    ident = sorted(owners)[0]
    held = time.monotonic()
    fleet.press(ident)
    owner = fleet.workers[owners[ident]]
    wait_until(lambda: "calm_now pressed" in owner.log(), PATIENCE, "the press taken")
    restarted = time.monotonic()
    fleet.etcd.start()
    wait_until(lambda: fleet.lamp(ident) == CALM, PATIENCE, "the press carried out")
    # Held back while etcd was away (the lease might have been another's by then).
    while_away = [
        command
        for command in lamps_set(fleet, ident, held)
        if float(str(command["received_at"])) < restarted
    ]
    assert while_away == []
    # The leases lived through it: every flat is where it was.
    assert fleet.owners() == owners
    assert two_drivers(fleet) == {}


def test_a_second_worker_of_the_same_name_waits_until_the_first_is_gone(
    etcd: Etcd, fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    site = write_site(tmp_path, fresh_mosquitto.port, ["flat_01", "flat_02"])
    # No simulator nor watcher: only who serves what is looked at.
    world = Fleet(tmp_path, site, ["flat_01", "flat_02"], etcd, fresh_mosquitto, None, None)
    first = world.start_worker("same")
    world.settled({"same": 2})
    second = DaemonProcess(
        site,
        tmp_path / "second",
        more=["--fleet", etcd.url, "--worker", "same", "--lease", "4"],
    )
    second.start()
    try:
        wait_until(
            lambda: "Another worker of this fleet is called 'same'" in second.log(), PATIENCE
        )
        assert "Served by this worker" not in second.log()
        first.end()  # gives its flats back and leaves
        wait_until(lambda: second.log().count("Served by this worker") == 2, PATIENCE, "taken")
        assert second.log().count("Another worker of this fleet") == 1
    finally:
        second.end()
        first.end()
