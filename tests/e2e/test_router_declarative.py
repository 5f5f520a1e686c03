"""Routers in ``endpoints apply`` and ``endpoints delete``: a plan or a delete may not leave a
router with a target that is gone or of another task type."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_command_line import Cli

FILE = """
[[endpoints]]
inference_id = "chat-a"
task_type = "{task_type}"
service = "openai"
service_settings = {{ model_id = "gpt-4o-mini", api_key = "env:TEST_OPENAI_KEY" }}

[[endpoints]]
inference_id = "chat-router"
task_type = "chat_completion"
service = "router"
service_settings = {{ strategy = "priority", targets = [{{ inference_id = "chat-a" }}] }}
"""


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.env["PYTHONPATH"] = str(
        Path(__file__).resolve().parents[2]
    )  # this checkout's code, wherever installed
    return cli


def test_apply_and_delete_keep_routers_targets_valid(cli: Cli, tmp_path: Path) -> None:
    cli.run("db", "upgrade")
    declared = tmp_path / "endpoints.toml"
    declared.write_text(FILE.format(task_type="chat_completion"))
    assert "Plan: 2 to create" in cli.run("endpoints", "apply", str(declared)).stdout
    retyped = tmp_path / "retyped.toml"
    retyped.write_text(FILE.format(task_type="completion"))
    refused = cli.run("endpoints", "apply", str(retyped), check=False)
    assert refused.returncode == 1
    assert "target [chat-a] has task type [completion], not the router's [chat_completion]" in refused.stderr
    alone = tmp_path / "alone.toml"
    alone.write_text(
        FILE.format(task_type="chat_completion").split("[[endpoints]]")[2].join(["[[endpoints]]", ""])
    )
    pruned = cli.run("endpoints", "apply", str(alone), "--prune", check=False)
    assert pruned.returncode == 1 and "target [chat-a] does not exist" in pruned.stderr
    deleted = cli.run("endpoints", "delete", "chat-a", check=False)
    assert deleted.returncode == 1 and "is referenced by routers [chat-router]" in deleted.stderr
    cli.run("endpoints", "delete", "chat-a", "--force")
