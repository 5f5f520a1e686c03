"""``inference-service api-keys`` as admins use it (subprocesses, offline against the store),
the start-up refusal on a network address without a key, and a CLI-made key reaching a
running service within the refresh interval."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.conftest import make_settings
from tests.e2e.test_command_line import Cli, assert_startup_failure, free_port
from tests.support.service import run_service


def _create(cli: Cli, *args: str) -> dict[str, object]:
    made = json.loads(cli.run("api-keys", "create", *args).stdout)
    assert isinstance(made, dict)
    return made


def test_create_list_invalidate(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    admin = _create(cli, "--name", "admin", "--role", "manage")
    assert list(admin) == ["id", "name", "api_key", "encoded", "role", "expiration"]
    assert (admin["name"], admin["role"], admin["expiration"]) == ("admin", "manage", None)
    bot = _create(cli, "--name", "bot", "--role", "infer", "--endpoints", "chat-*, e5", "--expiration", "30d")
    assert isinstance(bot["expiration"], int) and bot["expiration"] > time.time() * 1000 + 29 * 86_400_000
    listed = cli.run("api-keys", "list").stdout
    for secret in (admin["api_key"], admin["encoded"], bot["api_key"], bot["encoded"]):
        assert str(secret) not in listed
    keys = json.loads(listed)["api_keys"]
    assert [(k["name"], k["role"], k["endpoints"], k["active"]) for k in keys] == [
        ("admin", "manage", None, True),
        ("bot", "infer", ["chat-*", "e5"], True),
    ]
    assert cli.run("api-keys", "invalidate", str(bot["id"])).stdout == f"invalidated {bot['id']}\n"
    assert (
        cli.run("api-keys", "invalidate", str(bot["id"])).stdout == f"was already invalidated {bot['id']}\n"
    )
    assert [k["active"] for k in json.loads(cli.run("api-keys", "list").stdout)["api_keys"]] == [True, False]
    unknown = cli.run("api-keys", "invalidate", "no-such-id", check=False)
    assert (unknown.returncode, unknown.stderr) == (1, "error: no API key has the id [no-such-id]\n")


def test_create_refuses_bad_input(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    role = cli.run("api-keys", "create", "--name", "x", "--role", "root", check=False)
    assert role.returncode == 2 and "invalid choice: 'root'" in role.stderr
    pattern = cli.run(
        "api-keys", "create", "--name", "x", "--role", "infer", "--endpoints", "a*b", check=False
    )
    assert pattern.returncode == 1 and "invalid endpoint pattern [a*b]" in pattern.stderr
    expiry = cli.run(
        "api-keys", "create", "--name", "x", "--role", "infer", "--expiration", "30", check=False
    )
    assert expiry.returncode == 1 and "failed to parse setting [expiration] with value [30]" in expiry.stderr
    assert json.loads(cli.run("api-keys", "list").stdout) == {"api_keys": []}


def test_serve_on_a_network_address_needs_a_key(tmp_path: Path) -> None:
    """Refused before binding anything (no socket outside loopback is ever opened here)."""
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    refused = cli.run("serve", "--host", "0.0.0.0", "--port", str(free_port()), check=False)
    assert_startup_failure(refused, "inference-service api-keys create")
    assert "no usable API key exists" in refused.stderr
    cli.env["INFERENCE_SERVICE_AUTH"] = "required"
    again = cli.run("serve", "--host", "::", "--port", str(free_port()), check=False)
    assert_startup_failure(again, "auth = required")


def test_serve_on_a_network_address_needs_a_usable_key(tmp_path: Path) -> None:
    """Keys that are all invalidated or expired authenticate nothing: refused as if none existed."""
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    gone = _create(cli, "--name", "gone", "--role", "manage")
    cli.run("api-keys", "invalidate", str(gone["id"]))
    _create(cli, "--name", "brief", "--role", "manage", "--expiration", "1ms")
    time.sleep(0.01)
    refused = cli.run("serve", "--host", "0.0.0.0", "--port", str(free_port()), check=False)
    assert_startup_failure(refused, "inference-service api-keys create")
    assert "every one is invalidated or expired" in refused.stderr


def test_a_key_made_offline_reaches_the_running_service(tmp_path: Path) -> None:
    """The service runs open (loopback, no key); a key made by the CLI turns auth on and
    works within the refresh interval, without a restart."""
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    settings = make_settings(cli.data, catalog_refresh_interval=0.1)
    with run_service(settings) as service:
        assert httpx.get(f"{service.url}/_inference").status_code == 200
        made = _create(cli, "--name", "ops", "--role", "monitor")
        headers = {"authorization": f"ApiKey {made['encoded']}"}
        deadline = time.monotonic() + 5
        while httpx.get(f"{service.url}/_inference").status_code != 401:
            assert time.monotonic() < deadline, "the CLI's key never turned auth on"
            time.sleep(0.05)
        assert httpx.get(f"{service.url}/_inference", headers=headers).status_code == 200
        cli.run("api-keys", "invalidate", str(made["id"]))
        while httpx.get(f"{service.url}/_inference", headers=headers).status_code != 401:
            assert time.monotonic() < deadline, "the CLI's invalidation never arrived"
            time.sleep(0.05)
