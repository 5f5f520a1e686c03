"""The hypercorn adaptation is installed where every worker builds its app (behaviour: e2e
``tests/e2e/test_connection_lifetime.py``)."""

from __future__ import annotations

from pathlib import Path

import hypercorn.asyncio.run as hypercorn_run
import pytest
from hypercorn.asyncio.tcp_server import TCPServer

from inference_service.app import create_app_from_encoded
from inference_service.connections import ClosingTCPServer
from inference_service.settings import encode_settings
from tests.conftest import make_settings


def test_the_worker_entry_point_installs_the_closing_connection_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(vars(hypercorn_run), "TCPServer", TCPServer)  # as hypercorn ships it
    create_app_from_encoded(encode_settings(make_settings(tmp_path)))
    assert vars(hypercorn_run)["TCPServer"] is ClosingTCPServer
    assert issubclass(ClosingTCPServer, TCPServer)
