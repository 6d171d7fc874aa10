"""The functional core: `step` moves the home to an instant, `apply` takes in one event.

Pure: time is a parameter, nothing here reads the clock or does I/O.
"""

from cocoon.core.planner import Planner
from cocoon.core.sent import Sent
from cocoon.core.state import RuntimeState
from cocoon.core.step import Applied, Outcome, apply, step

__all__ = ["Applied", "Outcome", "Planner", "RuntimeState", "Sent", "apply", "step"]
