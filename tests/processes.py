"""The real programs the tests start (Mosquitto, Home Assistant, etcd): one way to run
each as a process of its own, by its own pid.

Started with `subprocess.Popen` and stopped by that pid, never from a shell with `&` (an
orphan is not reaped here and stays `<defunct>`). Each program says how it starts and
when it is ready; stopping, killing, pausing and restarting are the same for all.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

STOP_TIMEOUT = 10.0
"""Seconds a program has to exit after SIGTERM before it is killed."""


class Program:
    """A program run by the tests: `start()` is each program's own."""

    name = "program"
    stop_timeout = STOP_TIMEOUT
    log_path: Path
    """Where the program writes its log."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process is alive (a paused one is)."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self) -> None:
        """Start the program and wait until it is ready."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop gracefully (SIGTERM) and wait for the process to exit."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill abruptly (SIGKILL), like a power cut, and wait for the process to exit."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Stop (if running) and start again, keeping what `start` keeps."""
        if self.running:
            self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): it holds its sockets and answers nothing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused process go on (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the program's log, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])

    def _spawn(
        self,
        argv: list[str],
        *,
        output: int | object = subprocess.DEVNULL,
        env: dict[str, str] | None = None,
    ) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,  # type: ignore[arg-type]
            stderr=subprocess.STDOUT,
            env=env,
        )

    def _wait_ready(
        self, ready: Callable[[], bool], what: str, timeout: float, poll: float = 0.05
    ) -> None:
        """Wait until `ready()`. A process that exits first, or is not `what` within
        `timeout` seconds (it is killed then), is an error that quotes its log's end."""
        deadline = time.monotonic() + timeout
        while not ready():
            code = self._exit_code()
            if code is not None:
                self._process = None
                raise RuntimeError(
                    f"{self.name} exited with code {code} while starting; its log ends "
                    f"with:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self._end(signal.SIGKILL)
                raise RuntimeError(
                    f"{self.name} was not {what} within {timeout:.0f} s; its log ends "
                    f"with:\n{self.log_tail()}"
                )
            time.sleep(poll)

    def _exit_code(self) -> int | None:
        """The exit code once the process has ended while starting (else None)."""
        return None if self._process is None else self._process.poll()

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError(f"{self.name} is not running")
        self._process.send_signal(sig)

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            if sig != signal.SIGKILL:
                # A paused process takes no SIGTERM until it goes on.
                process.send_signal(signal.SIGCONT)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.stop_timeout)
