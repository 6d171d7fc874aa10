"""What every part of the day's picture draws with: matplotlib, imported only when a
picture is asked for, the picture's palette, and a panel's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cocoon import install_hint
from cocoon.errors import CocoonError

BACKGROUND = "#15171d"
PANEL = "#1d2029"
TEXT = "#d9d4ca"
MUTED = "#8b8f99"
GRID = "#2b2f3a"


class Plot:
    """matplotlib's modules, imported only when a picture is asked for."""

    def __init__(self) -> None:
        try:
            import matplotlib as mpl
        except ImportError:
            needs = f"cocoon plan --png needs matplotlib: {install_hint('plot')}"
            raise CocoonError(needs) from None
        mpl.use("Agg", force=True)
        import matplotlib.collections as collections
        import matplotlib.dates as dates
        import matplotlib.pyplot as pyplot
        import matplotlib.ticker as ticker

        self.pyplot: Any = pyplot
        self.collections: Any = collections
        self.dates: Any = dates
        self.ticker: Any = ticker

    def x(self, moment: datetime) -> float:
        """A matplotlib date number for an instant."""
        value: float = self.dates.date2num(moment)
        return value


def name_panel(panel: Any, label: str) -> None:
    """A panel's name, in its top left corner."""
    panel.text(
        0.005, 0.92, label, transform=panel.transAxes, color=TEXT, fontsize=9, va="top", zorder=6
    )
