"""Rate-limited reporting: say a thing once a while per key, and how often it was held back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Throttle:
    """Lets one report per key through every `interval` seconds of the given clock."""

    interval: float = 60.0
    _last: dict[str, float] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> int | None:
        """None when the report is held back; else how many were held back since the last one."""
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)
