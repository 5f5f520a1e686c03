"""The change listener when PostgreSQL cannot be reached: it says so once, keeps trying with
backoff, and never wakes the watcher for a connection it does not have. (Listening itself, and
reconnecting after a lost connection, are in tests/integration/test_revision_listener.py.)"""

from __future__ import annotations

import asyncio
import logging

import pytest

from inference_service import revision_listener
from inference_service.revision_listener import RevisionListener


def test_an_unreachable_database_is_retried_and_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=revision_listener.log.name)
    attempts = 0
    wakes: list[None] = []

    async def drop(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        listener = RevisionListener(
            {"host": "127.0.0.1", "port": port, "user": "u", "database": "d", "ssl": False},
            lambda: wakes.append(None),
        )
        listener.start()
        try:
            for _ in range(500):  # the second attempt comes after RECONNECT_FIRST_S
                if attempts >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            await listener.close()
            server.close()
            await server.wait_closed()
        assert attempts >= 2
        assert not listener.listening.is_set()

    asyncio.run(scenario())
    assert wakes == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("cannot listen for changes (")
    assert "the revision poll keeps the caches current meanwhile" in warnings[0]
