"""Readings and printing for the benchmarks: /proc of a process, percentiles, the table."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import sys
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def quiet_exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the broker and the daemon."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pid_of(argument: str) -> int:
    """The pid of the one process whose command line has `argument` (the broker's config)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if argument in (entry / "cmdline").read_bytes().decode().split("\0"):
                    return int(entry.name)
    raise LookupError(f"no process with {argument} on its command line")


def status_field(pid: int, key: str) -> int:
    """A number from /proc/<pid>/status (VmRSS is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def context_switches(pid: int) -> int:
    """Voluntary context switches of all threads: how often the process went to sleep."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 300 is the 297th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


def print_table(title: str, rows: list[tuple[str, str, str]], verdict: bool) -> None:
    """The same layout as bench/plan_day.py."""
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    print(title)
    print(f"  {'metric':<{width[0]}}  {'value':>{width[1]}}  target")
    for metric, value, target in rows:
        print(f"  {metric:<{width[0]}}  {value:>{width[1]}}  {target}".rstrip())
    print(f"  targets {'met' if verdict else 'MISSED'}")


def print_grid(
    title: str,
    columns: list[str],
    rows: list[tuple[str, list[str], str]],
    footer: list[str],
    verdict: bool,
) -> None:
    """print_table's layout with a value column per case (`columns`), then `footer` lines."""
    width = max(len(metric) for metric, _, _ in rows)
    cells = [
        max(len(columns[i]), *(len(values[i]) for _, values, _ in rows))
        for i in range(len(columns))
    ]
    heads = "  ".join(f"{c:>{w}}" for c, w in zip(columns, cells, strict=True))
    print(title)
    print(f"  {'metric':<{width}}  {heads}  target")
    for metric, values, target in rows:
        shown = "  ".join(f"{v:>{w}}" for v, w in zip(values, cells, strict=True))
        print(f"  {metric:<{width}}  {shown}  {target}".rstrip())
    for line in footer:
        print(f"  {line}")
    print(f"  targets {'met' if verdict else 'MISSED'}")
