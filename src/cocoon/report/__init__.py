"""What the home will do on a day, for people: the text timeline and its picture."""

from cocoon.report.day import DayView, build_day
from cocoon.report.segments import Segment
from cocoon.report.timeline import day_timeline, timeline_rows

__all__ = ["DayView", "Segment", "build_day", "day_timeline", "timeline_rows"]
