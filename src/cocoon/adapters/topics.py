"""cocoon's own MQTT topics: one place that names them all."""

from __future__ import annotations

from dataclasses import dataclass, replace

from cocoon.config.schema import CocoonConfig, Mqtt

HA_STATUS = "homeassistant/status"


def home_id(cfg: CocoonConfig) -> str:
    """The home's id: `home.id` (a site's key for it), else its name as an id
    (`Brussels flat` → `brussels_flat`)."""
    return cfg.home.ident


@dataclass(frozen=True, slots=True)
class Topics:
    """Where cocoon publishes its state and listens for presses."""

    base: str
    discovery_prefix: str
    node_id: str
    ha_status: str = HA_STATUS
    process: str | None = None
    """In a building, the availability of the process serving every home (its last will):
    a home's entities are available while both it and the home's own say `online`."""
    fleet: bool = False
    """Whether the home is served by a worker of a fleet (`for_worker`)."""

    @classmethod
    def for_config(cls, cfg: CocoonConfig) -> Topics:
        """The topics of a configured home (`cocoon/<home>/…`)."""
        base_topic = cfg.mqtt.base_topic if cfg.mqtt else "cocoon"
        prefix = cfg.mqtt.discovery_prefix if cfg.mqtt else "homeassistant"
        home = home_id(cfg)
        return cls(f"{base_topic}/{home}", prefix, f"cocoon_{home}", f"{prefix}/status")

    @classmethod
    def for_building(cls, cfg: CocoonConfig) -> Topics:
        """The topics of a home in a building: its own, and the process's availability."""
        own = cls.for_config(cfg)
        return replace(own, process=cls.of_process(cfg.mqtt).availability)

    @classmethod
    def for_worker(cls, cfg: CocoonConfig, worker: str) -> Topics:
        """The topics of a home served by a worker of a fleet: its own, and the worker's
        availability (the worker's last will), which goes with the home to its next owner."""
        own = cls.for_config(cfg)
        return replace(own, process=cls.of_worker(cfg.mqtt, worker).availability, fleet=True)

    @classmethod
    def of_worker(cls, mqtt: Mqtt | None, worker: str) -> Topics:
        """The topics of a worker of a fleet (`cocoon/workers/<worker>/status`)."""
        process = cls.of_process(mqtt)
        return replace(process, base=f"{process.base}/workers/{worker}")

    @classmethod
    def of_process(cls, mqtt: Mqtt | None) -> Topics:
        """The topics of a process serving a building (`cocoon/status`, `cocoon/owner`)."""
        base_topic = mqtt.base_topic if mqtt else "cocoon"
        prefix = mqtt.discovery_prefix if mqtt else "homeassistant"
        return cls(base_topic, prefix, "cocoon", f"{prefix}/status")

    @property
    def availability(self) -> str:
        """`online` / `offline`, retained; the last will says `offline` (a home of its own)."""
        return f"{self.base}/status"

    @property
    def availabilities(self) -> list[str]:
        """Every topic that must say `online` for the home's entities to be available."""
        return [self.availability] if self.process is None else [self.process, self.availability]

    def button(self, name: str) -> str:
        """A calm mode's or ritual's press topic."""
        return f"{self.base}/button/{name}/press"

    @property
    def mode(self) -> str:
        """The active calm mode, or `off` (retained)."""
        return f"{self.base}/mode"

    @property
    def mode_set(self) -> str:
        """Where the mode select sends a new mode."""
        return f"{self.base}/mode/set"

    @property
    def hands_off(self) -> str:
        """`ON` while paused, else `OFF` (retained)."""
        return f"{self.base}/hands_off"

    @property
    def hands_off_set(self) -> str:
        """Where the "Hands off" switch sends `ON` / `OFF`."""
        return f"{self.base}/hands_off/set"

    @property
    def next_ritual(self) -> str:
        """The next ritual's start as an ISO 8601 timestamp (retained)."""
        return f"{self.base}/next_ritual"

    @property
    def active_scene(self) -> str:
        """The name of what is in force now (retained)."""
        return f"{self.base}/active_scene"

    @property
    def plants_needing_care(self) -> str:
        """How many plants need care (retained)."""
        return f"{self.base}/plants_needing_care"

    def plant(self, name: str) -> str:
        """`ON` when the plant needs care, else `OFF` (retained)."""
        return f"{self.base}/plant/{name}"

    @property
    def problems(self) -> str:
        """What keeps cocoon from its work, as `{"problems": [...]}` (retained)."""
        return f"{self.base}/problems"

    @property
    def state(self) -> str:
        """The whole status as JSON, for `cocoon status` (retained)."""
        return f"{self.base}/state"

    @property
    def owner(self) -> str:
        """Which cocoon runs this home: its instance, host, pid and start (retained JSON)."""
        return f"{self.base}/owner"

    @property
    def owner_waiting(self) -> str:
        """Where a second cocoon for this home says it waits (JSON, not retained)."""
        return f"{self.base}/owner/waiting"

    @property
    def owner_here(self) -> str:
        """Where the running cocoon answers a waiting one: it is alive (JSON)."""
        return f"{self.base}/owner/here"

    def commands(self, cfg: CocoonConfig) -> list[str]:
        """Every command topic cocoon listens on, exactly (never a wildcard)."""
        buttons = [self.button(name) for name in (*cfg.calm_modes, *cfg.rituals)]
        return [*buttons, self.mode_set, self.hands_off_set, self.ha_status]
