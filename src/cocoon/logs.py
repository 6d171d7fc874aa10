"""Logging setup for the command line: readable text, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

from cocoon.ports import CURRENT_HOME

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

_HANDLER_NAME = "cocoon"
_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(home_prefix)s%(message)s"


class HomeFilter(logging.Filter):
    """Names the home a record is about (`CURRENT_HOME`): `home`, and `[flat_07] ` as
    `home_prefix` (both empty for a home of its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the home to the record; every record passes."""
        home = CURRENT_HOME.get()
        record.home = home
        record.home_prefix = f"[{home}] " if home else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, with the exception when there is one."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        home = getattr(record, "home", "")
        if home:
            entry["home"] = home
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: int, fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Send log records at `level` and above to `stream` (stderr) in the format `fmt`.

    Calling it again replaces the handler it installed before, and leaves others alone.
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(HomeFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler says "Added job" on every re-arm; only its warnings are news.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
