"""A device's minute-by-minute states folded into segments: "holds 35 %", "fades 0 % → 35 %"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeAlias

from cocoon.core.model import ClimateTarget, LightState, LightTarget, Target

State: TypeAlias = LightState | float | None
"""A light's look, a thermostat's setpoint, or None when cocoon leaves the device alone."""

# Shorter than this, a segment is an artefact of sampling (a layer's first instant at weight 0).
_INSTANT = timedelta(seconds=30)
# The sampling step of a day plan.
_SAMPLE = timedelta(minutes=1)
# A fade or hold shorter than this is folded into its neighbour.
_SLIVER = timedelta(minutes=2)
# A segment boundary this close to a ritual's boundary is moved onto it.
_SNAP = timedelta(minutes=1)
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time in which one device holds still or moves one way, for one reason."""

    device: str
    start: datetime
    end: datetime
    moving: bool
    first: LightState | float
    last: LightState | float
    reason: str

    @property
    def light(self) -> bool:
        """Whether this is a light's segment (else a thermostat's)."""
        return isinstance(self.first, LightState)

    @property
    def length(self) -> timedelta:
        """How long the segment lasts."""
        return self.end - self.start


def state_of(target: Target | None) -> State:
    """The state a target asks for; a light at brightness 0 is plain off."""
    if isinstance(target, LightTarget):
        state = target.state
        return LightState(0.0) if state.brightness <= _EPSILON else state
    if isinstance(target, ClimateTarget):
        return target.setpoint
    return None


def differs(a: State, b: State) -> bool:
    """Whether a device visibly changes from `a` to `b` (a release is no change)."""
    if isinstance(a, LightState) and isinstance(b, LightState):
        if abs(a.brightness - b.brightness) > _EPSILON:
            return True
        return a.on and b.on and abs((a.kelvin or 0) - (b.kelvin or 0)) > 0.5
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) > _EPSILON
    return False


def segments_of(
    device: str,
    samples: list[tuple[datetime, State, str]],
    boundaries: Iterable[datetime] = (),
) -> list[Segment]:
    """Fold one device's samples (instant, state, layer) into tidy segments.

    The last sample only closes the range: it gives the value a fade has reached at the
    end. `boundaries` are instants where layers start or stop; segment edges within a
    minute of one are moved onto it.
    """
    found: list[Segment] = []
    run: tuple[int, bool, str, float | None] | None = None  # first, moving, reason, setpoint

    def close(last: int) -> None:
        if run is None:
            return
        first, moving, reason, _ = run
        state, final, end = samples[first][1], samples[last][1], samples[last][0]
        if final is None:
            # Given back: its last targeted instant is the layer's last (the give-back).
            final, end = samples[last - 1][1], samples[last - 1][0]
        assert state is not None
        assert final is not None
        start = samples[first][0]
        found.append(Segment(device, start, end, moving, state, final, reason))

    for i in range(len(samples) - 1):
        _, state, reason = samples[i]
        moving = isinstance(state, LightState) and differs(state, samples[i + 1][1])
        setpoint = state if isinstance(state, float) else None
        if run is not None and state is not None and (moving, reason, setpoint) == run[1:]:
            continue
        close(i)
        run = None if state is None else (i, moving, reason, setpoint)
    close(len(samples) - 1)
    return tidy(found, sorted(set(boundaries)))


def tidy(segments: list[Segment], boundaries: list[datetime]) -> list[Segment]:
    """Fold away what minute sampling leaves behind, so each segment means something."""
    segments = _drop_instants(segments)
    segments = _merge(segments, _join_holds)
    segments = _merge(segments, _join_fades)
    segments = _drop_tails(segments)
    return _snap(segments, boundaries)


def _adjacent(a: Segment, b: Segment) -> bool:
    return a.end == b.start


def _drop_instants(segments: list[Segment]) -> list[Segment]:
    """A layer's first instant (at weight 0, so nothing changes yet) joins what follows.

    That instant is a few seconds before the next sample, or a whole minute when the
    layer starts on the minute: a hold that short, right before something else, is it.
    """
    kept: list[Segment] = []
    for i, segment in enumerate(segments):
        following = segments[i + 1] if i + 1 < len(segments) else None
        limit = _INSTANT if segment.moving else _SAMPLE
        if following is not None and segment.length <= limit and _adjacent(segment, following):
            first = segment.first if following.moving else following.first
            segments[i + 1] = replace(following, start=segment.start, first=first)
            continue
        kept.append(segment)
    return kept


def _merge(
    segments: list[Segment], join: Callable[[Segment, Segment], Segment | None]
) -> list[Segment]:
    """One pass that replaces each adjacent pair `join` accepts by what it returns."""
    kept: list[Segment] = []
    for segment in segments:
        joined = join(kept[-1], segment) if kept and _adjacent(kept[-1], segment) else None
        if joined is None:
            kept.append(segment)
        else:
            kept[-1] = joined
    return kept


def _join_holds(previous: Segment, segment: Segment) -> Segment | None:
    """Two holds of the same state in a row are one (a layer ending while the light is off)."""
    if previous.moving or segment.moving or differs(previous.first, segment.first):
        return None
    return replace(previous, end=segment.end)


def _join_fades(previous: Segment, segment: Segment) -> Segment | None:
    """A fade cut at a layer's last instant (a minute of 'evening', then 'night') is one."""
    if not (previous.moving and segment.moving):
        return None
    if min(previous.length, segment.length) >= _SLIVER:
        return None
    reason = segment.reason if previous.length < segment.length else previous.reason
    return replace(previous, end=segment.end, last=segment.last, reason=reason)


def _drop_tails(segments: list[Segment]) -> list[Segment]:
    """A short hold right after a fade, at the value the fade reached, before a release."""
    kept: list[Segment] = []
    for i, segment in enumerate(segments):
        previous = kept[-1] if kept else None
        following = segments[i + 1] if i + 1 < len(segments) else None
        if (
            previous is not None
            and _adjacent(previous, segment)
            and previous.moving
            and not segment.moving
            and segment.length < _SLIVER
            and not differs(previous.last, segment.first)
            and (following is None or not _adjacent(segment, following))
        ):
            continue
        kept.append(segment)
    return kept


def _snap(segments: list[Segment], boundaries: list[datetime]) -> list[Segment]:
    """Move an edge between two segments onto a layer boundary less than a minute away."""
    if not boundaries:
        return segments
    result = list(segments)
    for i in range(1, len(result)):
        previous, segment = result[i - 1], result[i]
        if not _adjacent(previous, segment):
            continue
        edge = segment.start
        near = min(boundaries, key=lambda b: abs(b - edge))
        if near != edge and abs(near - edge) <= _SNAP and previous.start < near < segment.end:
            result[i - 1] = replace(previous, end=near)
            result[i] = replace(segment, start=near)
    return result
