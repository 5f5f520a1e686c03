"""The ``inference-service`` command as admins use it: subprocesses on a temporary SQLite store,
run from an empty directory (nothing may depend on the working directory)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        self.cwd = tmp_path / "cwd"
        self.cwd.mkdir()
        config = tmp_path / "service.toml"
        config.write_text("")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")},
            "INFERENCE_SERVICE_DATA_DIR": str(self.data),
            "INFERENCE_SERVICE_CONFIG": str(config),
            "TEST_OPENAI_KEY": "sk-from-env-123",
        }

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "inference_service", *args],
            env=self.env,
            cwd=self.cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
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
        cwd=cli.cwd,
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
    assert "0005 (head)" in cli.run("db", "current").stdout
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


def assert_startup_failure(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit code 2 and exactly one ``error: ...`` line on stderr: no traceback, no log noise."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]


def _world_readable_key(cli: Cli) -> None:
    cli.run("db", "upgrade")
    key = cli.data / "secrets.key"
    key.write_text(cli.run("secrets", "generate-key").stdout)
    key.chmod(0o644)


def _key_file_is_a_directory(cli: Cli) -> None:
    cli.run("db", "upgrade")
    (cli.data / "key-dir").mkdir(mode=0o700)
    cli.env["INFERENCE_SERVICE_SECRETS_KEY_FILE"] = str(cli.data / "key-dir")


def _hypercorn_file(cli: Cli, text: str) -> None:
    path = cli.data / "hypercorn.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    cli.env["INFERENCE_SERVICE_HYPERCORN_CONFIG"] = str(path)


STARTUP_FAILURES: dict[str, tuple[dict[str, str], list[str], str]] = {
    # case: (environment, extra arguments, expected part of the one error line)
    "missing config file": ({}, ["--config", "/nonexistent/service.toml"], "config file not found"),
    "bad setting": ({"INFERENCE_SERVICE_WORKERS": "zero"}, [], "invalid settings: Expected `int`"),
    "bad log level": ({"INFERENCE_SERVICE_LOG_LEVEL": "loud"}, [], "log_level must be one of debug, info"),
    "no migrations": ({"INFERENCE_SERVICE_MIGRATIONS_DIR": "/"}, ["--migrate"], "has no env.py"),
    "outdated schema": ({}, [], "run `inference-service db upgrade`"),
    "unreachable database": (
        {"INFERENCE_SERVICE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
        [],
        "cannot connect to the database postgresql+asyncpg://nobody@127.0.0.1:1/none",
    ),
    "missing hypercorn file": (
        {"INFERENCE_SERVICE_HYPERCORN_CONFIG": "/nonexistent/hypercorn.toml"},
        [],
        "config file not found: /nonexistent/hypercorn.toml",
    ),
}


@pytest.mark.parametrize("case", list(STARTUP_FAILURES))
def test_serve_startup_failures_are_one_line_and_exit_code_2(cli: Cli, case: str) -> None:
    environ, extra, message = STARTUP_FAILURES[case]
    cli.env.update(environ)
    result = cli.run("serve", "--port", str(free_port()), *extra, check=False, timeout=30)
    assert_startup_failure(result, message)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (_world_readable_key, "is readable by other users (mode 644); run: chmod 600"),
        (_key_file_is_a_directory, "cannot read the secrets key file"),
        (lambda cli: _hypercorn_file(cli, 'bind = ["0.0.0.0:80"]\n'), "sets what the service settings own"),
        (lambda cli: _hypercorn_file(cli, "backlg = 10\n"), "has unknown settings: backlg"),
    ],
    ids=["world-readable key file", "unreadable key file", "hypercorn file sets bind", "hypercorn typo"],
)
def test_serve_refuses_bad_secrets_and_hypercorn_files(
    cli: Cli, prepare: Callable[[Cli], None], message: str
) -> None:
    prepare(cli)
    assert_startup_failure(cli.run("serve", "--port", str(free_port()), check=False, timeout=30), message)


def test_serve_refuses_an_otel_exporter_it_cannot_run(cli: Cli) -> None:
    cli.run("db", "upgrade")
    cli.env.update({"INFERENCE_SERVICE_TRACING": "true", "OTEL_TRACES_EXPORTER": "zipkin"})
    result = cli.run("serve", "--port", str(free_port()), check=False, timeout=30)
    assert_startup_failure(result, "OTEL_TRACES_EXPORTER [zipkin] is not supported: use otlp, console")


def test_serve_refuses_a_port_in_use(cli: Cli) -> None:
    cli.run("db", "upgrade")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli.run("serve", "--port", str(port), check=False, timeout=30)
    assert_startup_failure(result, f"cannot listen on 127.0.0.1:{port}")


def test_other_commands_share_the_startup_checks(cli: Cli) -> None:
    assert_startup_failure(cli.run("endpoints", "list", check=False), "inference-service db upgrade")
    cli.env["INFERENCE_SERVICE_MIGRATIONS_DIR"] = str(cli.cwd)
    assert_startup_failure(cli.run("db", "upgrade", check=False), "has no env.py")
    assert_startup_failure(cli.run("db", "current", check=False), "has no env.py")
    del cli.env["INFERENCE_SERVICE_MIGRATIONS_DIR"]
    _world_readable_key(cli)
    assert_startup_failure(cli.run("endpoints", "list", check=False), "is readable by other users")
    assert_startup_failure(cli.run("secrets", "rotate-key", check=False), "is readable by other users")


def test_operation_failures_keep_exit_code_1(cli: Cli) -> None:
    cli.run("db", "upgrade")
    unknown_revision = cli.run("db", "upgrade", "no-such-revision", check=False)
    assert unknown_revision.returncode == 1 and "Traceback" not in unknown_revision.stderr
    assert "Can't locate revision identified by 'no-such-revision'" in unknown_revision.stderr
    missing = cli.run("endpoints", "delete", "nothing-here", check=False)
    assert missing.returncode == 1 and "Inference endpoint not found [nothing-here]" in missing.stderr


def test_the_data_dir_defaults_to_the_per_user_data_directory(cli: Cli, tmp_path: Path) -> None:
    del cli.env["INFERENCE_SERVICE_DATA_DIR"]
    cli.env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    cli.run("db", "upgrade")
    assert (tmp_path / "xdg" / "inference-service" / "inference.db").is_file()
    assert list(cli.cwd.iterdir()) == []
