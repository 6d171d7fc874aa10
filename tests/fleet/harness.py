"""A fleet on real programs: etcd, Mosquitto, `cocoon run --fleet` workers, and the
simulator playing every flat's devices on MQTT 5 (so it sees who sends each command).

Each worker is its own `cocoon run` process with its own state directory and a short
lease (`LEASE` seconds), so the tests see takeovers in seconds.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from cocoon.adapters.simulator import Zigbee2MqttSimulator

from ..brokers import Mosquitto
from ..daemon.harness import DaemonProcess, Watcher, level, wait_until
from ..etcd import Etcd
from ..site.building import LAMP

LEASE = 4
"""The workers' lease in the tests, in seconds (`--lease`)."""
PATIENCE = 90.0
"""Seconds a test waits for what should take a few: a loaded machine must not fail it."""
DEVICES = ("lamp", "reading", "radiator")


@dataclass
class Fleet:
    """The world of a fleet's test."""

    directory: Path
    site: Path
    flats: list[str]
    etcd: Etcd
    broker: Mosquitto
    sim: Zigbee2MqttSimulator
    watcher: Watcher
    workers: dict[str, DaemonProcess] = field(default_factory=dict)
    lease: int = LEASE
    verbose: bool = True

    def start_worker(self, name: str) -> DaemonProcess:
        worker = DaemonProcess(
            self.site,
            self.directory / name,
            verbose=self.verbose,
            more=["--fleet", self.etcd.url, "--worker", name, "--lease", str(self.lease)],
        )
        worker.start()
        self.workers[name] = worker
        return worker

    def end(self) -> None:
        for worker in self.workers.values():
            if worker.process is not None and worker.process.poll() is None:
                worker.signal(signal.SIGCONT)
            worker.end()
        self.watcher.close()
        self.sim.stop()

    # -- what etcd says ------------------------------------------------------------------

    def owners(self) -> dict[str, str]:
        """Each owned flat's worker, as etcd says now."""
        prefix = "/cocoon/default/owners/"
        return {key.removeprefix(prefix): worker for key, worker in self.etcd.keys(prefix).items()}

    def counts(self) -> dict[str, int]:
        """How many flats each worker owns now."""
        found: dict[str, int] = {}
        for worker in self.owners().values():
            found[worker] = found.get(worker, 0) + 1
        return found

    def settled(self, shares: dict[str, int]) -> dict[str, str]:
        """Wait until the workers own `shares` of the flats and each flat is served (its
        lamp asked by its owner since it took it); the owners then."""

        def done() -> dict[str, str] | None:
            owners = self.owners()
            if len(owners) != len(self.flats) or self.counts() != shares:
                return None
            return owners

        return wait_until(done, timeout=PATIENCE, what=f"shares {shares}")

    # -- what the flats see --------------------------------------------------------------

    def press(self, ident: str, button: str = "calm_now") -> None:
        """A live press, as Home Assistant's button in a fleet sends it (retained)."""
        payload = json.dumps({"press": "PRESS", "at": int(time.time())})
        self.watcher.publish(f"cocoon/{ident}/button/{button}/press", payload, retain=True)

    def lamp(self, ident: str) -> object:
        return level(self.sim, f"{ident}/lamp")

    def senders(self, ident: str) -> list[tuple[float, str | None]]:
        """Who sent each command to a flat's devices, and when, in order."""
        return sorted(sent for device in DEVICES for sent in self.sim.senders(f"{ident}/{device}"))

    def status(self, ident: str) -> bytes | None:
        return self.watcher.last(f"cocoon/{ident}/status")


def drivers_in_turn(senders: list[tuple[float, str | None]]) -> list[str]:
    """The senders of a flat's commands, one entry per turn (a sender as long as it is the
    one sending). A sender is a worker and its claim on the flat (`<worker>#<claim's
    revision>`): a flat driven by one worker at a time has each sender once, as a worker
    whose claim ended never sends with it again (one that claims the flat again is
    another sender)."""
    turns: list[str] = []
    for _, sender in senders:
        name = sender or "(no sender)"
        if not turns or turns[-1] != name:
            turns.append(name)
    return turns


def two_drivers(fleet: Fleet) -> dict[str, list[str]]:
    """The flats some worker sent to again after another had begun: none, in a fleet."""
    found = {}
    for ident in fleet.flats:
        turns = drivers_in_turn(fleet.senders(ident))
        if len(turns) != len(set(turns)):
            found[ident] = turns
    return found


def lamps_set(fleet: Fleet, ident: str, after: float) -> list[dict[str, object]]:
    """What a flat's lamp was sent after the monotonic instant `after`."""
    return [
        command
        for command in fleet.sim.received(f"{ident}/lamp")
        if float(str(command["received_at"])) > after
    ]


__all__ = ["LAMP", "LEASE", "PATIENCE", "Fleet", "lamps_set", "two_drivers", "wait_until"]
