"""The fault suite (tests/faults) in its long form, then a table of what it ran and measured.

Run `bench/stress` from anywhere (or `.venv/bin/python -m bench._stress` from the repository
root). It runs pytest on tests/faults with the long settings below exported (each can be
overridden from the environment), has every test append its figures as JSON lines to a
report file, and prints three tables: the settings, the outcome per test module, and the
figures. `--quick` keeps the short defaults of the normal test run; arguments after `--` go
to pytest (`bench/stress -- -k crash`). Exits with pytest's status.

The module's name starts with `_` so that `bench/run` (which runs every bench/NAME.py) does
not start this 11-minute run as one of its benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LONG = {
    "COCOON_FAULT_KILL_ROUNDS": "50",  # kill -9 of cocoon (the issue: 50 random instants)
    "COCOON_FAULT_BROKER_ROUNDS": "20",  # kill -9 of Mosquitto during fades (the issue: 20)
    "COCOON_FAULT_HA_ROUNDS": "3",  # Home Assistant killed or stopped (the issue: 3 restarts)
    "COCOON_FAULT_YAML_EXAMPLES": "10000",  # generated YAML documents (the issue: 10 000)
    "COCOON_FAULT_CLI_EXAMPLES": "1000",  # of those, through `cocoon check`
    "COCOON_FAULT_PAYLOADS": "100000",  # junk payloads for the flat-memory check (100 000)
    "COCOON_FAULT_PAYLOAD_EXAMPLES": "15000",  # hypothesis runs of up to 20 messages each
    "COCOON_FAULT_CLOCK_EXAMPLES": "500",  # random mixes of clock steps and suspends
    "COCOON_FAULT_FLOOD": "10000",  # retained junk messages before cocoon starts
    "COCOON_FAULT_LOAD_SECONDS": "300",  # 5 000 Zigbee2MQTT messages/s (the issue: 5 min)
}


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))


def _outcomes(junit: Path) -> list[tuple[str, ...]]:
    if not junit.exists():
        return []
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "?").rsplit(".", 1)[-1]
        kinds = {child.tag: child for child in case}
        if "failure" in kinds or "error" in kinds:
            outcome = "failed"
        elif "skipped" in kinds:
            skipped = kinds["skipped"]
            outcome = "xfailed" if "xfail" in (skipped.get("type") or "") else "skipped"
        else:
            outcome = "passed"
        counts[module][outcome] += 1
        counts[module]["seconds"] += float(case.get("time") or 0)
    return [
        (
            module,
            *(str(int(c[k])) for k in ("passed", "xfailed", "failed", "skipped")),
            f"{c['seconds']:.1f}",
        )
        for module, c in sorted(counts.items())
    ]


def _show(value: object) -> str:
    if isinstance(value, list):
        if len(value) > 6:
            return f"{len(value)} values, first {json.dumps(value[:3])}"
        return json.dumps(value)
    return str(value)


def _figures(report: Path) -> list[tuple[str, ...]]:
    if not report.exists():
        return []
    rows: list[tuple[str, ...]] = []
    for line in report.read_text().splitlines():
        entry = json.loads(line)
        test = entry.pop("test")
        for key, value in entry.items():
            rows.append((test, key, _show(value)))
            test = ""
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/stress", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short defaults of the test run")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args(argv)
    settings = {} if args.quick else {k: os.environ.get(k, v) for k, v in LONG.items()}
    with tempfile.TemporaryDirectory(prefix="cocoon-stress-") as scratch:
        report, junit = Path(scratch) / "figures.jsonl", Path(scratch) / "junit.xml"
        env = {**os.environ, **settings, "COCOON_FAULT_REPORT": str(report)}
        command = [sys.executable, "-m", "pytest", "tests/faults", "-q", "-p", "no:cacheprovider"]
        command += ["-o", "junit_family=xunit1", f"--junitxml={junit}", *args.pytest_args]
        print("$", " ".join(command), flush=True)
        started = time.monotonic()
        status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        elapsed = time.monotonic() - started
        shown = settings or {"(short defaults)": "see tests/faults/knobs.py"}
        _table("What ran", ("setting", "value"), [(k, v) for k, v in shown.items()])
        _table(
            "Outcomes",
            ("module", "passed", "xfailed", "failed", "skipped", "seconds"),
            _outcomes(junit),
        )
        _table("Figures", ("test", "figure", "value"), _figures(report))
    print(f"\npytest exited with {status} after {elapsed:.0f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
