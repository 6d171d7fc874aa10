"""Every change to the runtime state, as pure functions: state in, new state out.

- `rituals`: time moving on (rituals start on time, late, joined or missed; what ran
  out ends; plants' statuses follow their sensors);
- `people`: presses, the mode select, hands off, a device changed by hand;
- `holds`: cocoon's hold on each device (snapshot, give back, take back);
- `carry`: the state carried over to a new configuration, or across a clock stepped back.
"""

from cocoon.core.transitions.carry import GiveBack, give_back_removed, reconfigure, rewind
from cocoon.core.transitions.holds import settle, take_back
from cocoon.core.transitions.people import (
    end_calm,
    pause,
    press,
    press_calm,
    resume,
    select,
    set_override,
)
from cocoon.core.transitions.rituals import advance, expire, start, start_ritual

__all__ = [
    "GiveBack",
    "advance",
    "end_calm",
    "expire",
    "give_back_removed",
    "pause",
    "press",
    "press_calm",
    "reconfigure",
    "resume",
    "rewind",
    "select",
    "set_override",
    "settle",
    "start",
    "start_ritual",
    "take_back",
]
