"""The names people read in Home Assistant for cocoon's ids (pure).

The "Mode" select offers the calm modes by their configured names (a button label,
or the id made readable), and the "Active scene" sensor names what is in force the
same way. Ids stay what cocoon works with: a name chosen on the select is turned
back into its id, and the id itself is still accepted for automations that send it.
"""

from __future__ import annotations

from cocoon.config.schema import CocoonConfig
from cocoon.core.names import layer_name

MODE_OFF = "off"
"""The id of "no calm mode": choosing it ends every calm mode."""
MODE_OFF_LABEL = "Off"
NOTHING = "none"
"""What the core calls an instant with no layer in force."""
NOTHING_LABEL = "Nothing"


def mode_label(cfg: CocoonConfig, mode: str) -> str:
    """The select's option for a calm mode id (or `off`)."""
    if mode == MODE_OFF:
        return MODE_OFF_LABEL
    return cfg.display_name("calm_modes", mode) if mode in cfg.calm_modes else mode


def mode_options(cfg: CocoonConfig) -> list[str]:
    """Every option of the select, "Off" first, then the calm modes in config order."""
    return [mode_label(cfg, mode) for mode in (MODE_OFF, *cfg.calm_modes)]


def mode_from_option(cfg: CocoonConfig, text: str) -> str | None:
    """The calm mode id (or `off`) an option or an id stands for; None when unknown.

    Ids win over names, so an automation's `calm_now` always means that mode. Names
    are matched without regard to case, as a person would type them.
    """
    if text == MODE_OFF or text in cfg.calm_modes:
        return text
    wanted = text.casefold()
    for mode in (MODE_OFF, *cfg.calm_modes):
        if mode_label(cfg, mode).casefold() == wanted:
            return mode
    return None


def active_label(cfg: CocoonConfig, active_scene: str) -> str:
    """The "Active scene" sensor's state: what is in force, by name, highest first."""
    if active_scene == NOTHING:
        return NOTHING_LABEL
    return ", ".join(layer_name(cfg, layer) for layer in active_scene.split(", "))


def button_id(cfg: CocoonConfig, text: str) -> str | None:
    """The calm mode or ritual that `text` names, by its id or, whatever the case, by the
    name it shows (a calm mode's button, a ritual's name); None when none does."""
    if text in cfg.calm_modes or text in cfg.rituals:
        return text
    wanted = text.casefold()
    for section in ("calm_modes", "rituals"):
        for identifier in getattr(cfg, section):
            if cfg.display_name(section, identifier).casefold() == wanted:
                return str(identifier)
    return None
