"""Where the demo's frames go: a live view redrawn in place, or a plain log.

The live view uses ANSI escape codes only (home, clear to end of line and of screen,
hide the cursor); the plain log suits a terminal without colours, a pipe and CI.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Protocol, TextIO

from cocoon.config.schema import CocoonConfig
from cocoon.demo.view import Frame, plain_line, render

_HOME = "\x1b[H"
_CLEAR_SCREEN = "\x1b[2J"
_CLEAR_LINE = "\x1b[K"
_CLEAR_BELOW = "\x1b[J"
_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"
PLAIN_EVERY = timedelta(minutes=30)
"""Simulated time between two lines of the plain log."""


def _span(speed: float, duration: timedelta) -> str:
    minutes = round(duration.total_seconds() * speed / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def headline(home: CocoonConfig, start: datetime, speed: float, duration: timedelta) -> str:
    """What the demo is about to play, in one line."""
    real = duration.total_seconds()
    return (
        f"cocoon demo: {home.home.name}, {start:%a %d %b %Y} from {start:%H:%M},"
        f" {speed:g}× ({_span(speed, duration)} in {real:g} s)"
    )


class Screen(Protocol):
    """Shows frames as the demo plays."""

    tick: float
    """Real seconds between two frames."""

    def begin(self, home: CocoonConfig, start: datetime, speed: float, duration: timedelta) -> None:
        """The demo starts."""
        ...

    def show(self, frame: Frame, events: list[str]) -> None:
        """A new frame, with the feed's lines since the last one."""
        ...

    def close(self) -> None:
        """The demo has stopped (normally or not): leave the terminal as it was."""
        ...

    def summary(self, text: str) -> None:
        """The last line."""
        ...


class Live:
    """Redraws the whole view in place a few times a second, in 24-bit colour."""

    tick = 0.2

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._last: Frame | None = None
        self._began = False

    def begin(self, home: CocoonConfig, start: datetime, speed: float, duration: timedelta) -> None:
        """Clear the screen and hide the cursor."""
        self._began = True
        self.out.write(_HIDE_CURSOR + _CLEAR_SCREEN)
        self.out.flush()

    def show(self, frame: Frame, events: list[str]) -> None:
        """Draw `frame` over the previous one (the feed is part of the frame)."""
        self._last = frame
        self._draw(frame, "Ctrl-C ends the demo")

    def close(self) -> None:
        """Draw the last frame without the hint, and give the cursor back."""
        if self._last is not None:
            self._draw(self._last, "")
        if self._began:
            self.out.write(_SHOW_CURSOR + "\n")
            self.out.flush()

    def summary(self, text: str) -> None:
        """Print the summary under the last frame."""
        self.out.write(text + "\n")
        self.out.flush()

    def _draw(self, frame: Frame, footer: str) -> None:
        size = shutil.get_terminal_size()
        # A frame taller than the terminal would scroll and tear: it is laid out to fit.
        text = render(frame, colour=True, width=size.columns, height=size.lines, footer=footer)
        self.out.write(_HOME + text.replace("\n", _CLEAR_LINE + "\n") + _CLEAR_LINE + _CLEAR_BELOW)
        self.out.flush()


class Plain:
    """Prints cocoon's decisions as they come, and a line of the home every 30 simulated min."""

    tick = 0.05

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._start: datetime | None = None
        self._slot = -1

    def begin(self, home: CocoonConfig, start: datetime, speed: float, duration: timedelta) -> None:
        """Print what is about to be played."""
        self._start = start
        self._print(headline(home, start, speed, duration))

    def show(self, frame: Frame, events: list[str]) -> None:
        """Print the new decisions, then the home when a new half hour began."""
        for line in events:
            self._print(line)
        if self._start is None:
            return
        slot = int((frame.now - self._start) / PLAIN_EVERY)
        if slot > self._slot:
            self._slot = slot
            self._print(plain_line(frame))

    def close(self) -> None:
        """Nothing to restore."""

    def summary(self, text: str) -> None:
        """Print the summary."""
        self._print(text)

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()
