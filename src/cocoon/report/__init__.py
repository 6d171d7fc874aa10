"""For people: what the home will do on a day (timeline, picture), and what it does now."""

from cocoon.report.day import DayView, build_day
from cocoon.report.segments import Segment
from cocoon.report.status import render_status
from cocoon.report.timeline import day_timeline, timeline_rows

__all__ = ["DayView", "Segment", "build_day", "day_timeline", "render_status", "timeline_rows"]
