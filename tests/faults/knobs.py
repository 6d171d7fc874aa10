"""How hard the fault suite pushes, read from the environment, and where it reports figures.

The defaults keep `tests/faults` short enough for every test run; `bench/stress` sets the
long values. Each test that measures something appends one JSON line to the file named by
`COCOON_FAULT_REPORT` (when set), which `bench/stress` turns into a table.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


def _number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text else default


ROUNDS = _number("COCOON_FAULT_ROUNDS", 0)
"""Rounds of kill -9 and broker restarts; 0 means each test's own short default."""
KILL_ROUNDS = _number("COCOON_FAULT_KILL_ROUNDS", 0)
"""Rounds of kill -9 of cocoon (overrides COCOON_FAULT_ROUNDS for that test)."""
BROKER_ROUNDS = _number("COCOON_FAULT_BROKER_ROUNDS", 0)
"""Rounds of kill -9 of Mosquitto (overrides COCOON_FAULT_ROUNDS for that test)."""
HA_ROUNDS = _number("COCOON_FAULT_HA_ROUNDS", 0)
"""Rounds of Home Assistant killed or stopped (overrides COCOON_FAULT_ROUNDS for that test)."""
CLOCK_EXAMPLES = _number("COCOON_FAULT_CLOCK_EXAMPLES", 25)
"""Random mixes of clock steps and suspends played through the engine."""
YAML_EXAMPLES = _number("COCOON_FAULT_YAML_EXAMPLES", 250)
"""Generated YAML documents fed to the loader."""
CLI_EXAMPLES = _number("COCOON_FAULT_CLI_EXAMPLES", max(50, YAML_EXAMPLES // 6))
"""Generated YAML documents fed to `cocoon check`."""
PAYLOADS = _number("COCOON_FAULT_PAYLOADS", 10_000)
"""Random payloads per topic kind through the decoders and the engine."""
PAYLOAD_EXAMPLES = _number("COCOON_FAULT_PAYLOAD_EXAMPLES", 300)
"""Hypothesis examples of up to 20 junk messages each through the decoders and the engine."""
FLOOD = _number("COCOON_FAULT_FLOOD", 10_000)
"""Retained junk messages published before cocoon starts."""
LOAD_SECONDS = _number("COCOON_FAULT_LOAD_SECONDS", 20)
"""Seconds of the Zigbee2MQTT flood of the load test (presses all along)."""
SEED = _number("COCOON_FAULT_SEED", 0)
"""Seed of the random instants (kill -9, broker restarts); 0 picks one and reports it."""

_lock = threading.Lock()


def rounds(default: int, specific: int = 0) -> int:
    """The rounds a test runs: its own variable, else `COCOON_FAULT_ROUNDS`, else `default`."""
    return specific or ROUNDS or default


def rss_kib() -> int:
    """This process's resident set size, in KiB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def record(test: str, **figures: object) -> None:
    """Append one line of figures for `test` to `$COCOON_FAULT_REPORT` (if set)."""
    target = os.environ.get("COCOON_FAULT_REPORT")
    if not target:
        return
    line = json.dumps({"test": test, **figures}, default=str, sort_keys=False)
    with _lock, Path(target).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
