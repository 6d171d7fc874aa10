"""A broker and `cocoon run` in a temporary directory, with a probe listening; all stopped
and removed afterwards. Everything talks to 127.0.0.1 only (the broker of `tests.brokers`
listens on loopback).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.brokers import Mosquitto
from tests.daemon.harness import DaemonProcess, home, write_config
from tests.faults.mosquittos import TunedMosquitto

from bench._probe import MODE_TOPIC, SET_TOPICS, Probe


def print_log_tail(daemon: DaemonProcess) -> None:
    """Show the end of cocoon's log (a benchmark failed: it may say why)."""
    tail = "\n".join(daemon.log().splitlines()[-40:])
    print(f"cocoon's log ends with:\n{tail}", file=sys.stderr)


@contextlib.contextmanager
def running_home(
    *, verbose: bool = False, broker_options: dict[str, str | None] | None = None, **overrides: Any
) -> Iterator[tuple[Mosquitto, DaemonProcess, Probe]]:
    """A broker, the devices' retained reports, `cocoon run` online, and a probe listening
    to the `/set` topics and the mode; all stopped and removed afterwards, whatever happens.

    The broker is the tests' (saving its database on every change, like deploy/docker's),
    with `broker_options` changed."""
    with tempfile.TemporaryDirectory(prefix="cocoon-bench-") as name:
        directory = Path(name)
        broker = TunedMosquitto(directory / "broker", options=broker_options)
        daemon: DaemonProcess | None = None
        probe: Probe | None = None
        try:
            broker.start()
            state = directory / "state"
            state.mkdir()
            config = write_config(directory, home(broker.port, **overrides))
            daemon = DaemonProcess(config, state, verbose=verbose)
            probe = Probe(broker.port, [*sorted(SET_TOPICS), MODE_TOPIC])
            for device in probe.devices:
                probe.report(device)
            daemon.start()
            probe.first(0, lambda topic, body: topic == MODE_TOPIC and body == b"Off", 15)
            yield broker, daemon, probe
        except Exception:
            if daemon is not None:
                print_log_tail(daemon)
            raise
        finally:
            if probe is not None:
                probe.close()
            if daemon is not None:
                daemon.end()
            broker.stop()
