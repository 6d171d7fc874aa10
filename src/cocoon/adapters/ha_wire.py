"""A websocket to Home Assistant of cocoon's own: open, authenticate, JSON in and out.

Why not homeassistant-api's `AsyncWebsocketClient` (6.1): its public interface cannot
carry a daemon. It reads the socket only inside a call that waits for one particular
answer, so `state_changed` events arrive only while someone iterates `listen_events`,
and two callers waiting at once read the same socket side by side; a failed answer is
raised in whichever caller happened to read it, while its own caller waits on;
`trigger_service` drops the context of the call, which is what tells cocoon's own
changes from a person's; and it keeps an entry for every message id for the life of
the connection. Using it anyway meant reaching into its private members, which any
release may change.

The protocol itself is small and documented
(https://developers.home-assistant.io/docs/api/websocket): the server says
`auth_required`, the client answers `auth` with its token, the server says `auth_ok`
or `auth_invalid`; after that every message is a JSON object carrying an `id` the
client chose, and the server's answers and events carry it back. This module speaks
it over niquests, the HTTP client with websockets that homeassistant-api is built on,
through niquests' public interface (a GET to a `ws://` address, then the response's
`extension`). `adapters/ha_link.py` keeps a session up; `read_states` reads once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import niquests

from cocoon.config.schema import HomeAssistant as HomeAssistantSettings
from cocoon.errors import GatewayError

# Closing is bounded: a peer that is gone must not hold up a reconnect or a stop.
CLOSE_WITHIN = 2.0
_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


class TokenRefused(GatewayError):
    """Home Assistant refused the access token (`auth_invalid`)."""


class _Payloads(Protocol):
    """What niquests' websocket extension offers: whole messages in and out."""

    async def next_payload(self) -> str | bytes | None: ...

    async def send_payload(self, buf: str | bytes) -> None: ...

    async def close(self) -> None: ...


class Wire:
    """One authenticated websocket to Home Assistant: message ids, JSON in and out."""

    def __init__(self, payloads: _Payloads) -> None:
        self._payloads = payloads
        self._last_id = 0
        self.version = ""

    def next_id(self) -> int:
        """A new message id; ids keep increasing on a connection, as the API asks."""
        self._last_id += 1
        return self._last_id

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        await self._payloads.send_payload(json.dumps(message))

    async def receive(self) -> list[dict[str, Any]]:
        """The next message (a list when Home Assistant sent several in one frame)."""
        payload = await self._payloads.next_payload()
        if payload is None:
            raise GatewayError("WebSocket connection closed")
        data = json.loads(payload)
        messages = data if isinstance(data, list) else [data]
        return [message for message in messages if isinstance(message, dict)]

    async def authenticate(self, token: str) -> None:
        """The authentication phase; raises TokenRefused when the token is not accepted."""
        hello = await self._one()
        if hello.get("type") != "auth_required":
            raise GatewayError(f"unexpected message before authentication: {hello}")
        await self.send({"type": "auth", "access_token": token})
        answer = await self._one()
        if answer.get("type") == "auth_invalid":
            raise TokenRefused(str(answer.get("message") or "invalid access token"))
        if answer.get("type") != "auth_ok":
            raise GatewayError(f"unexpected answer to authentication: {answer}")
        self.version = str(answer.get("ha_version") or "")

    async def _one(self) -> dict[str, Any]:
        messages = await self.receive()
        if len(messages) != 1:
            raise GatewayError("unexpected message during authentication")
        return messages[0]


@contextlib.asynccontextmanager
async def open_wire(settings: HomeAssistantSettings) -> AsyncIterator[Wire]:
    """An authenticated websocket to Home Assistant, closed on leaving.

    Opening and authenticating take at most `settings.timeout`.
    """
    url = websocket_url(settings.url)
    session = niquests.AsyncSession()
    payloads: _Payloads | None = None
    try:
        async with asyncio.timeout(settings.timeout.total_seconds()):
            response = await session.get(url)
            response.raise_for_status()
            payloads = response.extension
            if payloads is None:
                raise GatewayError("the server did not open a websocket")
            wire = Wire(payloads)
            await wire.authenticate(settings.token.get_secret_value().strip())
        yield wire
    finally:
        # A refused token ends after the socket was opened: it is closed here too.
        if payloads is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(payloads.close(), CLOSE_WITHIN)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.close(), CLOSE_WITHIN)


def websocket_url(url: str) -> str:
    """The websocket API's address for Home Assistant at `url`."""
    scheme, netloc, path, query, fragment = urlsplit(f"{url.rstrip('/')}/api/websocket")
    if scheme not in _SCHEMES:
        raise GatewayError(f"unknown scheme {scheme!r} in {url!r}")
    return urlunsplit((_SCHEMES[scheme], netloc, path, query, fragment))


async def command(settings: HomeAssistantSettings, message_type: str, **data: Any) -> Any:
    """Send one command on a websocket of its own; its result.

    An error result raises GatewayError with Home Assistant's message.
    """
    async with asyncio.timeout(settings.timeout.total_seconds() * 2):
        async with open_wire(settings) as wire:
            ident = wire.next_id()
            await wire.send({**data, "id": ident, "type": message_type})
            return await _result(wire, ident)


async def read_states(settings: HomeAssistantSettings) -> dict[str, dict[str, Any]]:
    """Every entity's state in Home Assistant now, by entity id, read once.

    Raises GatewayError saying in a person's words why Home Assistant cannot be had.
    """
    try:
        states = await command(settings, "get_states")
    except Exception as exc:  # whatever went wrong, said in words
        raise GatewayError(describe_failure(exc, settings.url)) from exc
    return {
        state["entity_id"]: {
            "state": state.get("state"),
            "attributes": dict(state.get("attributes") or {}),
        }
        for state in states or []
        if isinstance(state, dict) and isinstance(state.get("entity_id"), str)
    }


async def _result(wire: Wire, ident: int) -> Any:
    while True:
        for message in await wire.receive():
            if message.get("id") == ident and message.get("type") == "result":
                if not message.get("success"):
                    error = message.get("error") or {}
                    raise GatewayError(str(error.get("message", error)))
                return message.get("result")


def describe_failure(exc: BaseException, url: str) -> str:
    """Why a session with Home Assistant at `url` failed, in a person's words."""
    where = f"Home Assistant at {_host(url)}"
    if isinstance(exc, TokenRefused):
        return (
            f"{where} refused the token (expired or revoked?): create a new "
            "long-lived access token and put it in secrets.yaml"
        )
    # Libraries wrap the cause a person can act on in errors of their own.
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror) or "NameResolution" in type(cause).__name__:
            return f"{where} not reachable: its name is not found (check home_assistant.url)"
        if isinstance(cause, ConnectionRefusedError):
            return f"{where} not reachable: nothing answers on that port (is it running?)"
        if isinstance(cause, TimeoutError):
            return f"{where} not reachable: no answer in time"
        if isinstance(cause, ssl.SSLError):
            return f"{where}: TLS failed ({getattr(cause, 'reason', None) or cause})"
        if isinstance(cause, ConnectionResetError) or type(cause).__name__ in _NOT_HTTP:
            # Something listens there, but it is no web server: another port, another program.
            return f"{where}: what answers there is not Home Assistant (check home_assistant.url)"
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    return f"{where}: {text if len(text) <= 120 else text[:117] + '...'}"


_NOT_HTTP = frozenset({"RemoteDisconnected", "BadStatusLine"})
"""What HTTP clients raise when the other end does not speak HTTP."""


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _host(url: str) -> str:
    parsed = urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.hostname}:{port}"
