"""The ``inference-service`` command as admins use it: subprocesses on a temporary SQLite store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        config = tmp_path / "service.toml"
        config.write_text("")
        self.env = {
            **os.environ,
            "INFERENCE_SERVICE_DATA_DIR": str(self.data),
            "INFERENCE_SERVICE_CONFIG": str(config),
            "TEST_OPENAI_KEY": "sk-from-env-123",
        }
        self.env.pop("INFERENCE_SERVICE_SECRETS_KEY", None)

    def run(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "inference_service", *args],
            env=self.env,
            cwd=REPO,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{args} failed ({result.returncode}): {result.stderr}")
        return result


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_refuses_an_unmigrated_database_then_migrates(cli: Cli) -> None:
    refused = cli.run("serve", "--port", str(free_port()), check=False)
    assert refused.returncode == 2
    assert "inference-service db upgrade" in refused.stderr
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "inference_service", "serve", "--migrate", "--port", str(port)],
        env=cli.env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "serve --migrate did not start"
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.headers["x-elastic-product"] == "Elasticsearch"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0


def test_db_commands(cli: Cli) -> None:
    cli.run("db", "upgrade")
    assert "0002 (head)" in cli.run("db", "current").stdout
    history = cli.run("db", "history").stdout
    assert "0001" in history and "0002" in history


def test_endpoints_put_get_list_delete(cli: Cli) -> None:
    cli.run("db", "upgrade")
    body = {"service": "openai", "service_settings": {"model_id": "m", "api_key": "env:TEST_OPENAI_KEY"}}
    created = json.loads(
        cli.run(
            "endpoints", "put", "cli-chat", "-", "--task-type", "chat_completion", input=json.dumps(body)
        ).stdout
    )
    assert created["inference_id"] == "cli-chat" and "api_key" not in created["service_settings"]
    assert json.loads(cli.run("endpoints", "get", "cli-chat").stdout)["task_type"] == "chat_completion"
    listed = json.loads(cli.run("endpoints", "list").stdout)["endpoints"]
    assert "cli-chat" in [e["inference_id"] for e in listed]
    assert "sk-from-env-123" not in cli.run("endpoints", "list").stdout
    cli.run("endpoints", "delete", "cli-chat")
    missing = cli.run("endpoints", "get", "cli-chat", check=False)
    assert missing.returncode == 1 and "Inference endpoint not found [cli-chat]" in missing.stderr


ENDPOINTS_TOML = """
[[endpoints]]
inference_id = "support-chat"
task_type = "chat_completion"
service = "openai"
service_settings = { model_id = "gpt-4o-mini", api_key = "env:TEST_OPENAI_KEY" }
task_settings = { user = "support" }

[[endpoints]]
inference_id = "summaries"
task_type = "completion"
service = "anthropic"
service_settings = { model_id = "claude-x", api_key = "env:TEST_OPENAI_KEY" }
task_settings = { max_tokens = 100 }
"""

ENDPOINTS_YAML = """
endpoints:
  - inference_id: support-chat
    task_type: chat_completion
    service: openai
    service_settings: {model_id: gpt-4o, api_key: "env:TEST_OPENAI_KEY"}
    task_settings: {user: support}
"""


def test_apply_plans_converges_and_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    cli.run("db", "upgrade")
    toml_file = tmp_path / "endpoints.toml"
    toml_file.write_text(ENDPOINTS_TOML)
    dry = cli.run("endpoints", "apply", str(toml_file), "--dry-run").stdout
    assert "+ create support-chat (chat_completion, openai)" in dry and "+ create summaries" in dry
    assert "support-chat" not in cli.run("endpoints", "list").stdout  # --dry-run wrote nothing
    applied = cli.run("endpoints", "apply", str(toml_file)).stdout
    assert "Plan: 2 to create" in applied and "Applied." in applied
    again = cli.run("endpoints", "apply", str(toml_file)).stdout
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 2 unchanged." in again
    assert "Applied." not in again
    yaml_file = tmp_path / "endpoints.yaml"
    yaml_file.write_text(ENDPOINTS_YAML)
    changed = cli.run("endpoints", "apply", str(yaml_file), "--prune").stdout
    assert "~ update support-chat (service_settings)" in changed
    assert "- delete summaries" in changed
    listed = [e["inference_id"] for e in json.loads(cli.run("endpoints", "list").stdout)["endpoints"]]
    assert "summaries" not in listed and "support-chat" in listed


def test_apply_refuses_literal_secrets_and_missing_variables(cli: Cli, tmp_path: Path) -> None:
    cli.run("db", "upgrade")
    literal = tmp_path / "literal.toml"
    literal.write_text(ENDPOINTS_TOML.replace('"env:TEST_OPENAI_KEY"', '"sk-literal"', 1))
    refused = cli.run("endpoints", "apply", str(literal), check=False)
    assert refused.returncode == 1 and "must be an env:VAR reference" in refused.stderr
    assert "sk-literal" not in refused.stderr
    missing = tmp_path / "missing.toml"
    missing.write_text(ENDPOINTS_TOML.replace("TEST_OPENAI_KEY", "NOT_SET_ANYWHERE_42"))
    refused = cli.run("endpoints", "apply", str(missing), check=False)
    assert refused.returncode == 1 and "[NOT_SET_ANYWHERE_42] is not set" in refused.stderr


def test_rotate_key_reencrypts_everything(cli: Cli, tmp_path: Path) -> None:
    cli.run("db", "upgrade")
    toml_file = tmp_path / "endpoints.toml"
    toml_file.write_text(ENDPOINTS_TOML)
    cli.run("endpoints", "apply", str(toml_file))
    key_file = cli.data / "secrets.key"
    old_key = key_file.read_text().strip()
    out = cli.run("secrets", "rotate-key").stdout
    assert "re-encrypted 2 endpoint(s)" in out
    new_key = key_file.read_text().strip()
    assert new_key != old_key and old_key not in key_file.read_text()
    # Still readable with the new key alone; the declared secrets are unchanged.
    again = cli.run("endpoints", "apply", str(toml_file)).stdout
    assert "2 unchanged" in again
    # The old key alone no longer opens the rows.
    cli.env["INFERENCE_SERVICE_SECRETS_KEY"] = old_key
    stale = cli.run("endpoints", "apply", str(toml_file), check=False)
    assert stale.returncode == 1 and "not configured" in stale.stderr


def test_module_entry_point_help(cli: Cli) -> None:
    help_text = cli.run("--help").stdout
    for command in ("serve", "db", "endpoints", "secrets"):
        assert command in help_text
