"""Layers: everything that can have a say over devices for a while, as one kind of value.

Lowest to highest: the snapshot (what the person left) < rituals < plant cues < calm
modes < manual override < hands off. Rituals, cues and calm modes are `Layer`s built
from the runtime state; the snapshot, overrides and hands off live in the state's holds
(see `core/targets.py` for how they weigh in). Each layer blends into the one below
with its weight, so starting and ending a layer are fades, never jumps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cocoon.config.schema import CocoonConfig, LightSetting, Setpoint
from cocoon.core.model import LightState, Reason
from cocoon.core.scenes import Envelope
from cocoon.core.state import RuntimeState

RITUAL, CUE, CALM = 1, 2, 3
"""Ranks: a layer of a higher rank is laid over one of a lower rank."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One thing with a say over some devices for a while."""

    name: str
    rank: int
    envelope: Envelope
    lights: dict[str, LightSetting]
    heat: dict[str, Setpoint]

    why: Reason = field(init=False)
    looks: dict[str, LightState] = field(init=False)
    """The whole look a setting asks for, where it names one (light, with its colour)."""

    def __post_init__(self) -> None:
        looks = {
            device: LightState(setting.brightness or 0.0, setting.kelvin)
            for device, setting in self.lights.items()
            if setting.on and setting.brightness and setting.kelvin is not None
        }
        object.__setattr__(self, "why", Reason(self.name))
        object.__setattr__(self, "looks", looks)


def build_layers(cfg: CocoonConfig, state: RuntimeState) -> list[Layer]:
    """Every layer the state knows of, lowest priority first."""
    found: list[Layer] = []
    for run in state.runs.values():
        ritual = cfg.rituals.get(run.ritual)
        if run.missed or ritual is None:
            continue
        scene = cfg.scenes[ritual.scene]
        envelope = Envelope(run.start, run.end, ritual.fade, ritual.give_back_fade)
        found.append(Layer(f"ritual {run.ritual}", RITUAL, envelope, scene.lights, scene.heat))
        for plant in run.cues:
            cue = cfg.plants[plant].cue
            if cue is None:
                continue
            end = min(run.start + cue.duration, run.end)
            setting = LightSetting(brightness=cue.brightness, kelvin=cue.kelvin)
            cue_envelope = Envelope(run.start, end, cue.fade, cue.fade)
            found.append(Layer(f"plant {plant} cue", CUE, cue_envelope, {cue.light: setting}, {}))
    for calm in state.calm.values():
        mode = cfg.calm_modes.get(calm.mode)
        if mode is None:
            continue
        scene = cfg.scenes[mode.scene]
        envelope = Envelope(calm.start, calm.end, mode.fade, mode.give_back_fade)
        found.append(Layer(calm.mode, CALM, envelope, scene.lights, scene.heat))
    found.sort(key=lambda layer: (layer.rank, layer.envelope.start))
    return found
