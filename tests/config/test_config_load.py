"""Loading cocoon.yaml: values, YAML 1.1 quirks, and problems reported with their place."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoon.config.load import load_config
from cocoon.config.schema import Setpoint
from cocoon.errors import CocoonError, ConfigError, Located

from .texts import MINIMAL, Config, Write


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_minimal_config_loads(config: Config) -> None:
    cfg = load_config(config(""))

    assert cfg.home.timezone == "Europe/Brussels"
    assert set(cfg.devices) == {"sofa_lamp", "desk_lamp", "living_heat"}
    assert cfg.devices["living_heat"].kind == "thermostat"


def test_accepts_a_str_path(config: Config) -> None:
    assert load_config(str(config(""))).home.latitude == 51.05


def test_unquoted_clock_times_stay_clock_times(config: Config) -> None:
    cfg = load_config(
        config(
            """\
            scenes:
              tea: {lights: {sofa_lamp: {brightness: 40}}}
            rituals:
              morning_tea: {at: 07:15, until: 7:45, scene: tea}
              evening: {at: 22:30, duration: 1:30, scene: tea}
            """
        )
    )

    assert str(cfg.rituals["morning_tea"].at) == "07:15"
    assert str(cfg.rituals["morning_tea"].until) == "07:45"
    assert str(cfg.rituals["evening"].at) == "22:30"
    # 1:30 is an hour and a half, as the text says, not YAML 1.1's 90 (seconds).
    assert cfg.rituals["evening"].duration is not None
    assert cfg.rituals["evening"].duration.total_seconds() == 5400


def test_off_and_on_for_a_light(config: Config) -> None:
    cfg = load_config(
        config(
            """\
            scenes:
              calm: {lights: {sofa_lamp: off, desk_lamp: on}}
            """
        )
    )

    assert cfg.scenes["calm"].lights["sofa_lamp"].on is False
    assert cfg.scenes["calm"].lights["desk_lamp"].on is True


def test_signed_setpoints_are_relative_and_plain_ones_absolute(config: Config) -> None:
    cfg = load_config(
        config(
            """\
            scenes:
              warm: {heat: {living_heat: +0.5}}
              cool: {heat: {living_heat: -1}}
              fixed: {heat: {living_heat: 21}}
            """
        )
    )

    assert cfg.scenes["warm"].heat["living_heat"] == Setpoint(0.5, relative=True)
    assert cfg.scenes["cool"].heat["living_heat"] == Setpoint(-1.0, relative=True)
    assert cfg.scenes["fixed"].heat["living_heat"] == Setpoint(21.0, relative=False)


def test_zigbee_addresses_stay_text(write: Write) -> None:
    path = write(
        "cocoon.yaml",
        """\
        home: {latitude: -33.9, longitude: 18.4, timezone: Africa/Johannesburg}
        mqtt: {}
        devices:
          lamp: {zigbee2mqtt: 0x00158d0001a2b3c4}
        """,
    )

    cfg = load_config(path)

    assert cfg.devices["lamp"].zigbee2mqtt == "0x00158d0001a2b3c4"
    assert cfg.home.latitude == -33.9


def test_merge_keys(config: Config) -> None:
    cfg = load_config(
        config(
            """\
            scenes:
              evening: {lights: {sofa_lamp: &warm {brightness: 35, kelvin: 2200}}}
              late: {lights: {sofa_lamp: {<<: *warm, brightness: 10}}}
            """
        )
    )

    late = cfg.scenes["late"].lights["sofa_lamp"]
    assert (late.brightness, late.kelvin) == (10, 2200)


def test_misspelt_device_in_scene_names_place_field_and_fix(config: Config) -> None:
    path = config(
        """\
        scenes:
          evening:
            lights:
              sofa_lmap: {brightness: 35}
        """
    )

    assert _problems(path) == [
        f"{path}:14:7: scenes.evening.lights.sofa_lmap: unknown device 'sofa_lmap'"
        " — did you mean 'sofa_lamp'?"
    ]


def test_two_calm_modes_of_the_same_name_are_refused(config: Config) -> None:
    # Home Assistant's Mode select offers them by name: it could not tell them apart.
    path = config(
        """\
        scenes:
          calm: {lights: {sofa_lamp: {brightness: 20}}}
        calm_modes:
          calm_now: {scene: calm, button: Calm}
          calm: {scene: calm}
          "off": {scene: calm}
        """
    )

    assert _problems(path) == [
        f"{path}:15:3: calm_modes.calm: 'Calm' is already the name of calm mode 'calm_now';"
        " give each its own",
        f"{path}:16:3: calm_modes.off: 'Off' is already the name of the select's Off;"
        " give each its own",
    ]


def test_unknown_key_is_named_with_a_suggestion(config: Config) -> None:
    path = config(
        """\
        scenes:
          evening: {lights: {sofa_lamp: {brigthness: 35}}}
        """
    )

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:12:34: scenes.evening.lights.sofa_lamp.brigthness: ")
    assert problem.endswith("unknown key 'brigthness' — did you mean 'brightness'?")


def test_unknown_key_without_a_close_match_lists_the_valid_ones(config: Config) -> None:
    path = config("weather: sunny\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:11:1: weather: unknown key 'weather' (valid keys: home,")


def test_missing_key_and_wrong_types(write: Write) -> None:
    path = write(
        "cocoon.yaml",
        """\
        home: {latitude: north, longitude: 3.72}
        mqtt: {port: 99999}
        devices: [sofa]
        """,
    )

    assert _problems(path) == [
        f"{path}:1:1: home: missing required key 'timezone'",
        f"{path}:1:8: home.latitude: expected a number, not 'north'",
        f"{path}:2:8: mqtt.port: must be at most 65535",
        f"{path}:3:1: devices: expected a mapping of names to settings, not a list",
    ]


@pytest.mark.usefixtures("secrets")
def test_device_without_address_says_what_to_add(write: Write) -> None:
    # Appended to the devices section, the last one of the minimal home.
    path = write("cocoon.yaml", MINIMAL + "  lamp: {name: Lamp}\n")

    assert _problems(path) == [
        f"{path}:11:3: devices.lamp: give exactly one of entity (Home Assistant) or zigbee2mqtt"
    ]


@pytest.mark.usefixtures("secrets")
def test_invalid_names_are_explained(write: Write) -> None:
    # Appended to the devices section, the last one of the minimal home.
    path = write("cocoon.yaml", MINIMAL + "  Big_Lamp: {entity: light.big}\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:11:3: devices.Big_Lamp: 'Big_Lamp' is not a valid name")


def test_names_that_would_break_mqtt_topics_are_errors_with_their_place(
    write: Write, secrets: Path
) -> None:
    path = write(
        "cocoon.yaml",
        MINIMAL
        + "  desk: {zigbee2mqtt: 'desk/#'}\n"
        + "  hall: {zigbee2mqtt: 'hall+1'}\n"
        + "  shelf: {zigbee2mqtt: 'living//shelf'}\n"
        + "  porch: {zigbee2mqtt: 'porch/'}\n"
        + "  attic: {zigbee2mqtt: 'upstairs/attic'}\n"
        + "mqtt:\n"
        + "  base_topic: /cocoon\n"
        + "  discovery_prefix: ''\n"
        + "  zigbee2mqtt_topic: z2m/+\n",
    )

    problems = _problems(path)

    assert problems == [
        f"{path}:11:10: devices.desk.zigbee2mqtt: 'desk/#' has an MQTT wildcard (# or +),"
        " which no topic may contain: leave it out",
        f"{path}:12:10: devices.hall.zigbee2mqtt: 'hall+1' has an MQTT wildcard (# or +),"
        " which no topic may contain: leave it out",
        f"{path}:13:11: devices.shelf.zigbee2mqtt: 'living//shelf' has an empty level (//):"
        " write one /",
        f"{path}:14:11: devices.porch.zigbee2mqtt: 'porch/' must not be empty,"
        " nor start or end with /",
        f"{path}:17:3: mqtt.base_topic: '/cocoon' must not be empty, nor start or end with /",
        f"{path}:18:3: mqtt.discovery_prefix: '' must not be empty, nor start or end with /",
        f"{path}:19:3: mqtt.zigbee2mqtt_topic: 'z2m/+' has an MQTT wildcard (# or +),"
        " which no topic may contain: leave it out",
    ]  # a name in levels (upstairs/attic) is a good Zigbee2MQTT name


def test_yaml_syntax_error_gives_line_and_column(write: Write) -> None:
    path = write("cocoon.yaml", "home:\n  latitude: 51\n longitude: 3\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:3:2: YAML syntax error:")


@pytest.mark.usefixtures("secrets")
def test_duplicate_keys_are_errors(write: Write) -> None:
    # Appended to the devices section, the last one of the minimal home.
    path = write("cocoon.yaml", MINIMAL + "  sofa_lamp: {entity: light.other}\n")

    assert _problems(path) == [
        f"{path}:11:3: devices.sofa_lamp: 'sofa_lamp' is given twice (first on line 8)"
    ]


def test_unknown_tag(config: Config) -> None:
    path = config("mqtt: !env_var MQTT\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:11:7: mqtt: unknown tag !env_var")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- home\n- devices\n", "the top level must be a mapping (home:, devices:, …), not a list"),
        ("just text\n", "the top level must be a mapping (home:, devices:, …), not text"),
    ],
)
def test_empty_or_non_mapping_file(write: Write, text: str, message: str) -> None:
    path = write("cocoon.yaml", text)

    (problem,) = _problems(path)

    assert problem.startswith(str(path))
    assert message in problem


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert _problems(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}: cannot read the configuration: no such file"
    ]
    assert _problems(tmp_path) == [
        f"{tmp_path}: cannot read the configuration: it is a directory, not a file"
    ]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cocoon.yaml"
    path.write_bytes(b"home:\n  name: \xff\n")

    assert _problems(path) == [f"{path}: cannot read the configuration: not UTF-8 text (line 2)"]


def test_config_error_is_a_cocoon_error(tmp_path: Path) -> None:
    with pytest.raises(CocoonError):
        load_config(tmp_path / "nope.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(alphabet=" :-[]{}!&*#,|>'\"\n\tabhome7", max_size=60),
        st.lists(st.sampled_from(MINIMAL.splitlines(keepends=True)), max_size=12).map("".join),
    )
)
def test_any_text_gives_a_config_or_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "cocoon.yaml"
    path.write_text(text, encoding="utf-8")
    (path.parent / "secrets.yaml").write_text("ha_token: x\n", encoding="utf-8")

    problems: tuple[Located, ...] = ()
    try:
        load_config(path)
    except ConfigError as exc:
        problems = exc.problems
    # Either it loads, or every problem is a line naming a file of this configuration.
    assert all(str(p).startswith(str(path.parent)) for p in problems)


def test_on_as_a_key_is_the_key_on(config: Config) -> None:
    # YAML 1.1 would read the key `on` as true; keys are names, so it stays "on".
    cfg = load_config(config("scenes:\n  dark: {lights: {sofa_lamp: {on: false}}}\n"))

    assert cfg.scenes["dark"].lights["sofa_lamp"].on is False


def test_too_long_names_are_explained(config: Config) -> None:
    name = "lamp_" + "x" * 70
    path = config(f"scenes:\n  {name}: {{}}\n")

    assert _problems(path) == [
        f"{path}:12:3: scenes.{name}: the name must be at most 64 characters long"
    ]


def test_tab_indentation_is_explained(write: Write) -> None:
    path = write("cocoon.yaml", "home:\n\tname: Flat\n")

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}:2:1: YAML syntax error: ")
    assert problem.endswith("(indent with spaces, not tabs)")


def test_alias_inside_itself_is_an_error(write: Write) -> None:
    path = write("cocoon.yaml", "home: &home [*home]\n")

    assert _problems(path) == [f"{path}:1:7: home[0]: an alias refers to the value it is in"]


def test_alias_bomb_is_stopped(write: Write) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write("cocoon.yaml", "\n".join(lines) + "\n")

    (problem,) = _problems(path)

    assert "values once aliases are expanded" in problem
