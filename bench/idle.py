"""What cocoon costs while nothing happens: CPU and memory over a minute of idling.

Run with `.venv/bin/python -m bench.idle` from the repository root (bench/run does).
A real Mosquitto on a free loopback port and `cocoon run -v` as a child process, with
the test home's ritual moved half a day away from now, so nothing fades or is due.
After the start has settled, 60 s of nothing: cocoon's CPU time (utime + stime from
/proc/<pid>/stat) as a share of one core, its VmRSS at the end, and how often it woke:
APScheduler's "Running job" lines in its debug log and the voluntary context switches
of all its threads (each one is a thread going back to sleep).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench._daemon import running_home
from bench._measure import (
    context_switches,
    cpu_seconds,
    print_table,
    quiet_exit_on_sigterm,
    status_field,
)

SETTLE, WINDOW = 5.0, 60.0
TARGET_CPU, TARGET_RSS = 0.3, 64.0  # % of one core, MB: an idle AppDaemon is at 0.3 % and 73 MB
ZONE = ZoneInfo("Europe/Brussels")  # the test home's time zone


def far_ritual() -> dict[str, object]:
    """The test home's evening ritual, moved to start 12 hours from now, for an hour."""
    start = datetime.now(ZONE) + timedelta(hours=12)
    return {
        "evening": {
            "at": f"{start:%H:%M}",
            "until": f"{start + timedelta(hours=1):%H:%M}",
            "scene": "evening",
            "fade": "20min",
        }
    }


def main() -> int:
    quiet_exit_on_sigterm()
    with running_home(verbose=True, rituals=far_ritual()) as (_, daemon, probe):
        probe.pump(SETTLE)
        pid = daemon.pid
        jobs_before = daemon.log().count("Running job")
        switches_before = context_switches(pid)
        cpu_before = cpu_seconds(pid)
        mark = len(probe.inbox)
        began = time.perf_counter()
        probe.pump(WINDOW)  # keeps the probe's own connections alive, nothing else
        took = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu_before
        switches = context_switches(pid) - switches_before
        jobs = daemon.log().count("Running job") - jobs_before
        rss = status_field(pid, "VmRSS") / 1024
        threads = status_field(pid, "Threads")
        published = len(probe.inbox) - mark
    share = cpu / took * 100
    per_minute = 60 / took
    rows = [
        ("CPU while idle", f"{share:.3f} %", f"< {TARGET_CPU:g} %  (AppDaemon: 0.3 %)"),
        ("CPU time in the window", f"{cpu * 1000:.0f} ms", ""),
        ("VmRSS at the end", f"{rss:.1f} MB", f"≤ {TARGET_RSS:g} MB  (AppDaemon: 73 MB)"),
        ("threads", f"{threads}", ""),
        ("APScheduler jobs run per minute", f"{jobs * per_minute:.0f}", ""),
        ("voluntary context switches per minute", f"{switches * per_minute:.0f}", ""),
        ("commands and status messages sent", f"{published}", "0"),
    ]
    ok = share < TARGET_CPU and rss <= TARGET_RSS
    print_table(
        f"idle: Mosquitto + `cocoon run -v`; nothing due for 12 h; {SETTLE:g} s to settle,"
        f" then {took:.1f} s measured",
        rows,
        ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
