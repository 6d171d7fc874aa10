"""Why Home Assistant cannot be had, in a person's words: one line, with what to check."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest

from cocoon.adapters.ha_wire import TokenRefused, describe_failure

URL = "http://homeassistant.local:8123"


def _wrapped(cause: BaseException) -> Exception:
    """An error of a library that carries `cause`, as HTTP clients raise them."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError(
                "AsyncHTTPConnectionPool(host='homeassistant.local', port=8123): Max retries"
                " exceeded with url: /api/websocket (Caused by NameResolutionError(...))"
            ) from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (
            socket.gaierror(-2, "Name or service not known"),
            "Home Assistant at homeassistant.local:8123 not reachable: its name is not found"
            " (check home_assistant.url)",
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "Home Assistant at homeassistant.local:8123 not reachable: nothing answers on that"
            " port (is it running?)",
        ),
        (
            TimeoutError(),
            "Home Assistant at homeassistant.local:8123 not reachable: no answer in time",
        ),
    ],
)
def test_a_wrapped_network_failure_is_named_by_its_cause(
    cause: BaseException, expected: str
) -> None:
    assert describe_failure(_wrapped(cause), URL) == expected


def test_a_refused_token_says_what_to_do() -> None:
    text = describe_failure(TokenRefused("Invalid access token"), "https://ha.example:8443")
    assert text.startswith("Home Assistant at ha.example:8443 refused the token")
    assert "long-lived access token" in text


def test_tls_failures_and_anything_else_stay_one_short_line() -> None:
    tls = describe_failure(ssl.SSLError(1, "CERTIFICATE_VERIFY_FAILED"), "https://ha:8123")
    assert tls.startswith("Home Assistant at ha:8123: TLS failed")
    other = describe_failure(RuntimeError("x" * 500 + "\nsecond line"), URL)
    assert other == f"Home Assistant at homeassistant.local:8123: {'x' * 117}..."


@pytest.mark.parametrize(
    "cause",
    [
        http.client.RemoteDisconnected("Remote end closed connection without response"),
        http.client.BadStatusLine("\x20\x02\x00\x00"),
    ],
    ids=["closed", "not-http"],
)
def test_something_that_is_not_home_assistant_is_named_so(cause: BaseException) -> None:
    # home_assistant.url pointing at another program (the MQTT broker's port, say).
    assert describe_failure(_wrapped(cause), URL) == (
        "Home Assistant at homeassistant.local:8123: what answers there is not Home"
        " Assistant (check home_assistant.url)"
    )
