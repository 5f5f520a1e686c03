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
then closes as soon as any request still running ends. Everything else is hypercorn's own code.

hypercorn has no hook for the connection class, so :func:`use_closing_tcp_server` replaces the
name its asyncio worker looks up for each accepted connection; it runs in every worker, from
the app factory hypercorn calls there (``app.create_app_from_encoded``). The e2e test
``tests/e2e/test_connection_lifetime.py`` fails if a hypercorn upgrade changes the internals
this relies on (``_read_data``, ``protocol_send``, ``idle_task``).
"""

from __future__ import annotations

import hypercorn.asyncio.run as hypercorn_run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.events import Event, Updated


class ClosingTCPServer(TCPServer):
    """hypercorn's TCPServer that stops its keep-alive timer once the client has gone."""

    _peer_gone = False

    async def _read_data(self) -> None:
        await super()._read_data()  # returns on EOF or a read error, after telling the protocol
        self._peer_gone = True
        await self.idle_task.stop()

    async def protocol_send(self, event: Event) -> None:
        if self._peer_gone and isinstance(event, Updated) and event.idle:
            return  # the next request can never come: no keep-alive timer to wait for
        await super().protocol_send(event)


def use_closing_tcp_server() -> None:
    """Make hypercorn's asyncio (and uvloop) worker serve connections with :class:`ClosingTCPServer`.

    Idempotent; affects only connections accepted afterwards."""
    # the worker's ``_server_callback`` reads this module global for every accepted connection
    vars(hypercorn_run)["TCPServer"] = ClosingTCPServer
