"""A fleet: three `cocoon run --fleet` workers share 300 flats; ten of them killed in turn.

Run with `.venv/bin/python -m bench.fleet` from the repository root (bench/run does);
`--flats`, `--kills`, `--lease` and `--idle-seconds` change the run. A real etcd and a
real Mosquitto on free loopback ports, a site of flats with a lamp, a reading lamp and a
radiator each (tests/site/building.py), the Zigbee2MQTT simulator playing every device on
MQTT 5 (so it hears which worker sent each command), and three workers with the default
lease (10 s). Mosquitto saves its database once a minute, as an installation would. What
is measured:

- takeover: a worker is killed (SIGKILL) with its share of flats; the time from the kill
  to the moment every one of its flats was sent something (the new owner asks each of its
  devices how it is when it takes it) by another worker; p50 and max over the kills. The
  killed worker is started again and the fleet left to settle on even shares before the
  next kill;
- presses during a failover: a quarter of the dead worker's flats are pressed ("Settle",
  as a fleet's Home Assistant button presses: stamped and retained) while no one owns
  them, spread over the takeover; a press is lost if the flat's lamp never goes calm;
- one driver per flat: over the whole run, no flat was ever sent commands by a worker
  after another had begun (each worker and lease is one sender);
- steady state: with every flat served and nothing happening, etcd's writes (puts and
  deletes) and lease renewals per second, and each worker's CPU (utime + stime, share of
  one CPU) over the idle window, beside one `cocoon run` (no fleet) serving the same flats.

Targets: every takeover within the lease + 2 s; no press lost; never two drivers. The
figures are one table; the process exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.daemon.harness import DaemonProcess, Watcher, wait_until
from tests.etcd import Etcd
from tests.faults.mosquittos import QUICK_SAVES, TunedMosquitto
from tests.fleet.harness import Fleet, two_drivers
from tests.site.building import CALM, LAMP, flat_ids, write_site

from bench._measure import cpu_seconds, print_table, quiet_exit_on_sigterm
from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.app.fleet_options import DEFAULT_LEASE
from cocoon.config.site import load_site
from cocoon.core.share import shares

WORKERS = ("w1", "w2", "w3")
PATIENCE = 180.0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flats", type=int, default=300)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=int, default=DEFAULT_LEASE)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    return parser.parse_args()


def metrics(etcd: Etcd) -> dict[str, float]:
    """etcd's counters of writes and renewals."""
    text = urllib.request.urlopen(f"http://{etcd.host}:{etcd.port}/metrics", timeout=5).read()
    wanted = ("etcd_mvcc_put_total", "etcd_mvcc_delete_total", "etcd_debugging_lease_renewed_total")
    found = {}
    for line in text.decode().splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            found[name] = float(value)
    return found


def cpu_over(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over `seconds` as a share of one CPU (percent)."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: 100 * (cpu_seconds(pid) - before[name]) / seconds for name, pid in pids.items()}


def first_sent_by_others(fleet: Fleet, ident: str, dead: str, after: float) -> float | None:
    """When a flat was first sent something after `after` by a worker other than `dead`."""
    for at, sender in fleet.senders(ident):
        if at > after and not (sender or "").startswith(f"{dead}#"):
            return at
    return None


def calmed_after(fleet: Fleet, ident: str, after: float) -> bool:
    """Whether a flat's lamp was sent its calm brightness after `after` (the press acted
    on: the calm mode itself ends a few seconds later)."""
    return any(
        command.get("brightness") == CALM and float(str(command["received_at"])) > after
        for command in fleet.sim.received(f"{ident}/lamp")
    )


def press_stamped(watcher: Watcher, ident: str) -> None:
    payload = json.dumps({"press": "PRESS", "at": int(time.time())})
    watcher.publish(f"cocoon/{ident}/button/settle/press", payload, retain=True)


def main() -> int:
    quiet_exit_on_sigterm()
    options = arguments()
    flats = flat_ids(options.flats)
    directory = Path(tempfile.mkdtemp(prefix="cocoon-bench-fleet-"))
    etcd = Etcd(directory / "etcd")
    # Saving its database once a minute, as an installation would (the tests' broker
    # saves at every change, which a building's retained messages make slow).
    broker = TunedMosquitto(directory / "mosquitto", options={**QUICK_SAVES, "log_type": "error"})
    etcd.start()
    broker.start()
    site = write_site(directory, broker.port, flats)
    sim = Zigbee2MqttSimulator.of_site(load_site(site).homes, broker.host, broker.port, mqtt5=True)
    sim.start()
    for ident in flats:
        sim.set_light(f"{ident}/lamp", **LAMP)
    watcher = Watcher(broker, ["cocoon/+/status"])
    fleet = Fleet(directory, site, flats, etcd, broker, sim, watcher, lease=options.lease)
    fleet.verbose = False
    rows: list[tuple[str, str, str]] = []
    try:
        started = time.monotonic()
        for name in WORKERS:
            fleet.start_worker(name)
        even = shares(options.flats, WORKERS)
        fleet.settled(even)
        rows.append(
            ("start-up: three workers to even shares", f"{time.monotonic() - started:.1f} s", "")
        )

        # Steady state, fleet.
        time.sleep(5)
        before = metrics(etcd)
        window = options.idle_seconds
        pids = {name: fleet.workers[name].pid for name in WORKERS}
        cpu = cpu_over(pids, window)
        after = metrics(etcd)
        writes = (
            sum(after[k] - before[k] for k in ("etcd_mvcc_put_total", "etcd_mvcc_delete_total"))
            / window
        )
        renewals = (
            after["etcd_debugging_lease_renewed_total"]
            - before["etcd_debugging_lease_renewed_total"]
        ) / window

        # Kills.
        takeovers: list[float] = []
        pressed = lost = 0
        rng = random.Random(7)
        for kill in range(options.kills):
            dead = WORKERS[kill % len(WORKERS)]
            owners = fleet.owners()
            its = sorted(ident for ident, worker in owners.items() if worker == dead)
            chosen = rng.sample(its, max(1, len(its) // 4))
            killed = time.monotonic()
            fleet.workers[dead].kill()
            # Presses spread over the gap while no one owns the flats.
            for ident in chosen:
                press_stamped(watcher, ident)
                time.sleep(options.lease / len(chosen) / 2)
            survivors = [w for w in WORKERS if w != dead]
            fleet.settled(shares(options.flats, survivors))
            owned = time.monotonic() - killed
            times = []
            for ident in its:
                at = wait_until(
                    lambda i=ident, d=dead, k=killed: first_sent_by_others(fleet, i, d, k),
                    PATIENCE,
                    f"{ident} driven again",
                )
                times.append(at - killed)
            takeovers.append(max(times))
            for ident in chosen:
                pressed += 1
                try:
                    wait_until(
                        lambda i=ident, k=killed: calmed_after(fleet, i, k), 60, f"{ident} calm"
                    )
                except AssertionError:
                    lost += 1
            fleet.start_worker(dead)
            fleet.settled(even)
            print(
                f"kill {kill + 1}: {dead}'s {len(its)} flats owned again within "
                f"{owned:.1f} s, all driven again {takeovers[-1]:.1f} s after "
                f"(median flat {statistics.median(times):.1f} s)",
                flush=True,
            )
        drivers = two_drivers(fleet)
    finally:
        for worker in fleet.workers.values():
            worker.end()

    # The same flats on one process, for the steady state beside it.
    single = DaemonProcess(site, directory / "single", verbose=False)
    single.start()
    try:
        wait_until(
            lambda: all(watcher.last(f"cocoon/{i}/status") == b"online" for i in flats[-5:]),
            PATIENCE,
            "the single process serving",
        )
        time.sleep(10)
        alone = cpu_over({"single": single.pid}, options.idle_seconds)["single"]
    finally:
        single.end()
        watcher.close()
        sim.stop()
        broker.stop()
        etcd.kill()

    budget = options.lease + 2
    ok = max(takeovers) <= budget and lost == 0 and not drivers
    rows += [
        (
            f"takeover after kill -9 ({options.kills} kills): p50",
            f"{statistics.median(takeovers):.1f} s",
            "",
        ),
        ("takeover after kill -9: max", f"{max(takeovers):.1f} s", f"≤ lease + 2 s = {budget} s"),
        ("presses while no one owned the flat", f"{pressed}", ""),
        ("presses lost", f"{lost}", "0"),
        ("flats ever driven by two workers", f"{len(drivers)}", "0"),
        ("steady: etcd writes (puts + deletes)", f"{writes:.2f} /s", ""),
        ("steady: lease renewals", f"{renewals:.2f} /s", ""),
        *[(f"steady: CPU of worker {name}", f"{cpu[name]:.2f} %", "") for name in WORKERS],
        ("steady: CPU of one process with every flat", f"{alone:.2f} %", "(no fleet)"),
    ]
    print_table(
        f"fleet: {len(WORKERS)} workers, {options.flats} flats (3 devices each), lease "
        f"{options.lease} s, etcd and Mosquitto on loopback",
        rows,
        ok,
    )
    shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
