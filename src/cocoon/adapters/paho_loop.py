"""One paho client driven by the asyncio loop (paho's external-loop API).

The loop watches the client's socket and calls `loop_read` / `loop_write`; a task calls
`loop_misc` every second (keepalive pings and their timeout); only the blocking TCP (and
TLS) connect runs in a short-lived thread of its own. There is no network thread of
paho's that could die silently (a dead thread would leave cocoon deaf), and a message
written from the loop leaves in the same loop turn: no hand-over between threads on the
way in or out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from paho.mqtt.client import Client
from paho.mqtt.enums import MQTTErrorCode

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

_LOGGER = logging.getLogger(__name__)

RECONNECT_DELAY = (1.0, 10.0)
"""Backoff between connection attempts, first and longest, in seconds."""
ANSWER_WAIT = 10.0
"""Seconds a broker may take to answer CONNECT before the attempt counts as failed."""
_MISC_INTERVAL = 1.0
"""Seconds between two calls of paho's `loop_misc`."""
_READS_PER_WAKE = 100
"""Packets read at most each time the socket is readable."""


class NoAnswer(ConnectionError):
    """The broker took the TCP connection but never answered CONNECT."""


class PahoLoop:
    """Runs `client` on the running loop: connects, reads, writes, keeps alive, reconnects.

    `on_burst` runs after each burst of packets read (hand over what they brought);
    `on_connect_failed` after each failed connection attempt. Both run on the loop.
    """

    def __init__(
        self,
        client: Client,
        *,
        on_burst: Callable[[], None],
        on_connect_failed: Callable[[Exception], None],
    ) -> None:
        self.client = client
        self._on_burst = on_burst
        self._on_connect_failed = on_connect_failed
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self._answered = asyncio.Event()
        self._delay = RECONNECT_DELAY[0]
        self._reading = False
        self._stopping = False
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write

    def start(self) -> None:
        """Connect in the background, and again whenever the connection ends."""
        self._tasks = [
            asyncio.create_task(self._keep_connected(), name="mqtt-connect"),
            asyncio.create_task(self._tick(), name="mqtt-keepalive"),
        ]

    def connected(self) -> None:
        """The broker accepted us: the next lost connection is retried after the first delay."""
        self._delay = RECONNECT_DELAY[0]
        self._answered.set()

    def back_off(self, seconds: float) -> None:
        """Wait at least `seconds` before the next connection attempt (once)."""
        self._delay = max(self._delay, seconds)

    def write_now(self) -> None:
        """Write what paho holds at once (from the loop, outside paho's own reading)."""
        if not self._reading and threading.get_ident() == self._thread:
            self._write()

    async def stop(self, timeout: float) -> None:
        """Wait up to `timeout` for paho to close the socket (after a DISCONNECT), then stop."""
        self._stopping = True
        if self.client.socket() is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), max(0.0, timeout))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _keep_connected(self) -> None:
        while not self._stopping:
            self._closed.clear()
            self._answered.clear()
            try:
                # A TCP connect to a host that is gone blocks for seconds, and TLS shakes
                # hands: both in a thread of their own, so the loop never waits.
                await _in_thread(self.client.reconnect)
            except (OSError, ssl.SSLError, ValueError) as exc:
                self._on_connect_failed(exc)
            except Exception:
                # Whatever went wrong, this loop must live on: it is the only reconnect.
                _LOGGER.exception("Connecting to the MQTT broker failed; retrying")
            else:
                await self._await_answer()
                await self._closed.wait()
            if self._stopping:
                return
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, RECONNECT_DELAY[1])

    async def _await_answer(self) -> None:
        """Give up on a broker that took the connection but does not answer CONNECT.

        Left alone, paho would wait for its keepalive (a minute) in silence; a broker
        that does not speak the protocol asked for can behave like that.
        """
        try:
            await asyncio.wait_for(self._answered.wait(), ANSWER_WAIT)
        except TimeoutError:
            self._on_connect_failed(NoAnswer(f"no answer to CONNECT in {ANSWER_WAIT:g} s"))
            # paho closes the socket once its DISCONNECT is written.
            self.client.disconnect()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_MISC_INTERVAL)
            try:
                self.client.loop_misc()
            except Exception:
                _LOGGER.exception("The MQTT keepalive failed; carrying on")

    def _on_loop(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the loop: now when on it (paho's socket callbacks also run
        on the connecting thread), else as soon as the loop can."""
        if threading.get_ident() == self._thread:
            callback()
        else:
            # A closed loop means cocoon is shutting down: nothing is left to watch.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(callback)

    def _socket_open(self, client: Client, userdata: object, sock: SocketLike) -> None:
        # paho leaves Nagle's algorithm on: a command written right after the broker's
        # acknowledgement would wait for a delayed ACK (40 ms on Linux) before leaving.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
        self._on_loop(lambda: self._watch(sock))

    def _watch(self, sock: SocketLike) -> None:
        if self.client.socket() is sock:
            self._loop.add_reader(sock, self._readable)

    def _socket_close(self, client: Client, userdata: object, sock: SocketLike) -> None:
        # Called just before paho closes it: the descriptor is still valid here.
        descriptor = sock.fileno()
        self._on_loop(lambda: self._forget(descriptor))

    def _forget(self, descriptor: int) -> None:
        if descriptor >= 0:
            self._loop.remove_reader(descriptor)
            self._loop.remove_writer(descriptor)
        self._closed.set()
        self._answered.set()

    def _register_write(self, client: Client, userdata: object, sock: SocketLike) -> None:
        self._on_loop(lambda: self._add_writer(sock))

    def _add_writer(self, sock: SocketLike) -> None:
        if self.client.socket() is sock:
            self._loop.add_writer(sock, self._write)

    def _unregister_write(self, client: Client, userdata: object, sock: SocketLike) -> None:
        descriptor = sock.fileno()
        if descriptor >= 0:
            self._on_loop(lambda: self._loop.remove_writer(descriptor))

    def _readable(self) -> None:
        """The socket has data: read the whole burst, then hand it over at once."""
        self._reading = True
        try:
            for _ in range(_READS_PER_WAKE):
                if self.client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                sock = self.client.socket()
                if sock is None or not _more_to_read(sock):
                    break
        except Exception:
            _LOGGER.exception("Failed to read from the MQTT broker; carrying on")
        finally:
            self._reading = False
        self._on_burst()

    def _write(self) -> None:
        try:
            self.client.loop_write()
        except Exception:
            _LOGGER.exception("Failed to write to the MQTT broker; carrying on")


def _more_to_read(sock: SocketLike) -> bool:
    """Whether the socket has more bytes now (TLS may hold decrypted ones the loop
    cannot see)."""
    pending = getattr(sock, "pending", None)
    if callable(pending) and pending():
        return True
    readable, _, _ = select.select([sock.fileno()], [], [], 0)
    return bool(readable)


async def _in_thread(function: Callable[[], object]) -> None:
    """Run `function` in a daemon thread and wait for it (a loop that stops never waits)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def work() -> None:
        error: BaseException | None = None
        try:
            function()
        except BaseException as exc:  # handed to the waiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=work, name="mqtt-connect", daemon=True).start()
    await done
