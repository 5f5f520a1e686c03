"""hypercorn's per-connection server, made to let go of a connection its client has closed.

Why this exists: hypercorn (0.17, 0.18 and its main branch as of this writing) runs each
connection as one task holding a task group, and arms a keep-alive timer task in that group
whenever the connection goes idle between requests. When the client closes an idle connection,
the read loop sees EOF and tells the protocol, but nothing stops that timer: the task group
(and with it the connection task, its reader/writer, h11 state, the socket in ``CLOSE_WAIT``
and a scheduled timer) stays alive until ``keep_alive_timeout`` expires. With the 75 s the
service ships (load balancers keep idle connections for 60 s or more), every connection a
client pool closes lingers for 75 s: after a burst of 1,000 streams that is 1,000 dead
connections and some 3,000 tasks per burst, which slows every later request (bigger timer
heap, longer garbage-collector passes) and grows memory — the steady slowdown of issue 15.
Shortening the keep-alive only hides it.

The fix: once the peer has gone (EOF or a read error), stop the idle timer, and never re-arm
it for that connection (a response that finishes afterwards asks for it again). The connection
then closes as soon as any request still running ends. Over TLS, a close the server starts no
longer waits 30 s for a ``close_notify`` an idle client never sends (see
:meth:`ClosingTCPServer._abort_if_unanswered`). Everything else is hypercorn's own code.

hypercorn has no hook for the connection class, so :func:`use_closing_tcp_server` replaces the
name its asyncio worker looks up for each accepted connection; it runs in every worker, from
the app factory hypercorn calls there (``app.create_app_from_encoded``). The e2e test
``tests/e2e/test_connection_lifetime.py`` fails if a hypercorn upgrade changes the internals
this relies on (``_read_data``, ``protocol_send``, ``idle_task``).
"""

from __future__ import annotations

import asyncio

import hypercorn.asyncio.run as hypercorn_run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.events import Event, Updated

CLOSE_NOTIFY_WAIT_S = 2.0
"""How long a TLS connection the server closes waits for the client's ``close_notify``."""


class ClosingTCPServer(TCPServer):
    """hypercorn's TCPServer that stops its keep-alive timer once the client has gone, and
    does not wait on a TLS client that never answers the server's close."""

    _peer_gone = False
    _abort: asyncio.TimerHandle | None = None

    async def _read_data(self) -> None:
        await super()._read_data()  # returns on EOF or a read error, after telling the protocol
        self._peer_gone = True
        await self.idle_task.stop()

    async def protocol_send(self, event: Event) -> None:
        if self._peer_gone and isinstance(event, Updated) and event.idle:
            return  # the next request can never come: no keep-alive timer to wait for
        await super().protocol_send(event)

    async def _initiate_server_close(self) -> None:
        """The keep-alive timer fired, or the worker is shutting down."""
        self._abort_if_unanswered()
        await super()._initiate_server_close()

    async def _close(self) -> None:
        self._abort_if_unanswered()
        try:
            await super()._close()
        finally:
            if self._abort is not None:
                self._abort.cancel()

    def _abort_if_unanswered(self) -> None:
        """Closing TLS sends ``close_notify`` and then waits for the client's (asyncio and uvloop:
        up to 30 s), and until then the connection stays open — and holds up a shutdown past
        ``graceful_timeout``. An idle client's pool does not read, so it never answers: after
        :data:`CLOSE_NOTIFY_WAIT_S` the transport is aborted (hypercorn issue #170: the socket
        stays ESTABLISHED after ``keep_alive_timeout``). Only when everything was sent: an abort
        drops what is still buffered, and a slow reader of a last answer must get all of it."""
        transport = self.writer.transport
        if (
            self._abort is None
            and self.writer.get_extra_info("ssl_object") is not None
            and transport.get_write_buffer_size() == 0
        ):
            self._abort = self.loop.call_later(CLOSE_NOTIFY_WAIT_S, transport.abort)


def use_closing_tcp_server() -> None:
    """Make hypercorn's asyncio (and uvloop) worker serve connections with :class:`ClosingTCPServer`.

    Idempotent; affects only connections accepted afterwards."""
    # the worker's ``_server_callback`` reads this module global for every accepted connection
    vars(hypercorn_run)["TCPServer"] = ClosingTCPServer
