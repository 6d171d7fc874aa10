"""The home never waits on the disk: a full, read-only or vanished state directory.

`cocoon run` keeps its state on a small tmpfs of the test's own (mounting needs root, as
CI and the developers' machines run; elsewhere these tests are skipped). Once cocoon is
online the disk is broken, then "Calm now" (3 s, no fade) is pressed: the lamp must go
calm and be given back at the mode's end as if nothing were wrong, while the status says
the state is not saved (and so does Home Assistant's diagnostic "Problem" sensor, whose
attributes are the reasons); once the disk is mended, the problem clears by itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import (
    DaemonProcess,
    Watcher,
    config_of,
    home,
    json_of,
    level,
    wait_until,
    write_config,
)
from . import knobs

pytestmark = pytest.mark.integration

PRESS = "cocoon/test_flat/button/calm_now/press"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs of the test's own."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small disk needs root and mount(8)")
    try:
        _mount("-t", "tmpfs", "-o", "size=512k", "tmpfs", str(where))
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True, timeout=30)


def _fill(disk: Path) -> Path:
    """Write zeros until the disk is full; the file that filled it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


def _problems(watcher: Watcher, topics: Topics) -> list[str] | None:
    """The problems of the status document, once Home Assistant's sensor says the same."""
    document = json_of(watcher.last(topics.state)) or {}
    sensor = json_of(watcher.last(topics.problems)) or {}
    problems = list(document.get("problems", []))
    return problems if sensor.get("problems") == problems else None


@pytest.mark.parametrize("fault", ["full", "read-only", "vanished"])
def test_calm_mode_ends_and_gives_back_whatever_the_state_disk_does(
    fault: str, mosquitto: Mosquitto, small_disk: Path, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    # The state directory is the small disk itself (its log is written beside it); the one
    # that vanishes is an ordinary directory.
    state = tmp_path / "state" if fault == "vanished" else small_disk
    sim = Zigbee2MqttSimulator(cfg, mosquitto.host, mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(mosquitto, [topics.state, topics.problems, topics.availability])
    daemon = DaemonProcess(write_config(tmp_path, data), state)
    filler: Path | None = None
    cleared = 0.0
    try:
        daemon.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
        wait_until(lambda: (state / "state.json").exists(), what="a first save")
        if fault == "full":
            filler = _fill(small_disk)
        elif fault == "read-only":
            _mount("-o", "remount,ro", str(small_disk))
        else:
            # Moved away in one step, then removed: cocoon may be writing into it meanwhile.
            gone = tmp_path / "gone"
            state.rename(gone)
            shutil.rmtree(gone, ignore_errors=True)
        watcher.publish(PRESS, "PRESS")
        wait_until(lambda: level(sim) == 51, what="the calm scene (20 %)")
        wait_until(lambda: level(sim) == 178, timeout=20, what="given back (70 %)")
        if fault == "vanished":
            # The directory is made again by the next save.
            wait_until(lambda: (state / "state.json").exists(), what="the state saved again")
            wait_until(lambda: _problems(watcher, topics) == [], what="no problem")
        else:
            [problem] = wait_until(lambda: _problems(watcher, topics), what="the problem shown")
            reason = os.strerror(errno.ENOSPC if fault == "full" else errno.EROFS)
            assert problem.startswith(f"state not saved: {reason}")
            if filler is not None:
                filler.unlink()
            else:
                _mount("-o", "remount,rw", str(small_disk))
            mended = time.monotonic()
            wait_until(lambda: _problems(watcher, topics) == [], timeout=90, what="cleared")
            cleared = time.monotonic() - mended
        assert daemon.process is not None
        assert daemon.process.poll() is None
    finally:
        daemon.end()
        watcher.close()
        sim.stop()
    log = daemon.log()
    assert "Traceback" not in log
    if fault != "vanished":
        assert "Could not save the state" in log
        assert "The state is saved again" in log
    knobs.record(f"disk-{fault}", calm_given_back="yes", problem_cleared_after_s=round(cleared, 2))
