"""The exception tree and how configuration problems are rendered."""

from __future__ import annotations

import pickle

from cocoon.errors import BusError, CocoonError, ConfigError, GatewayError, Located


def test_tree() -> None:
    assert issubclass(ConfigError, CocoonError)
    assert issubclass(GatewayError, CocoonError)
    assert issubclass(BusError, CocoonError)


def test_problems_render_one_per_line() -> None:
    error = ConfigError(
        [
            Located("cocoon.yaml", 3, 5, "scenes.evening", "unknown device 'x'"),
            Located("cocoon.yaml", 7, None, "", "YAML syntax error: here"),
            Located("cocoon.yaml", None, None, "", "no such file"),
        ]
    )

    assert str(error) == (
        "cocoon.yaml:3:5: scenes.evening: unknown device 'x'\n"
        "cocoon.yaml:7: YAML syntax error: here\n"
        "cocoon.yaml: no such file"
    )


def test_config_error_survives_pickling() -> None:
    error = ConfigError.at("c.yaml", "bad", line=1, column=2, field="home")

    copy = pickle.loads(pickle.dumps(error))

    assert copy.problems == error.problems
    assert str(copy) == "c.yaml:1:2: home: bad"
