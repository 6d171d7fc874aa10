"""The names people read (in reports, the demo, Home Assistant) for the ids the core works with."""

from __future__ import annotations

import re

from cocoon.config.schema import CocoonConfig

# A layer is named after what it comes from ("ritual evening", "plant monstera cue",
# "calm_now"), then what it is doing ("ending", ", taking over again", " (held within …)").
_ID = "([a-z][a-z0-9_]*)"
_LAYER = re.compile(f"ritual {_ID}|plant {_ID} cue|{_ID}")


def device_name(cfg: CocoonConfig, device: str) -> str:
    """A device's configured `name`, else its id made readable (`sofa_lamp` → `Sofa lamp`)."""
    return cfg.display_name("devices", device)


def layer_name(cfg: CocoonConfig, layer: str) -> str:
    """A layer's reason in people's words: `ritual morning_tea ending` → `Morning tea ending`.

    Rituals, plant cues and calm modes take their configured names (`name`, a calm
    mode's `button`); anything else (`back to how it was`) is already in words.
    """
    found = _LAYER.match(layer)
    if found is None:
        return layer
    ritual, plant, calm = found.groups()
    rest = layer[found.end() :]
    if ritual is not None and ritual in cfg.rituals:
        return cfg.display_name("rituals", ritual) + rest
    if plant is not None and plant in cfg.plants:
        return f"{cfg.display_name('plants', plant)} cue{rest}"
    if calm is not None and calm in cfg.calm_modes:
        return cfg.display_name("calm_modes", calm) + rest
    return layer
