"""The service as a user installs it: the wheel built from this checkout, installed (not
editable) into a throw-away virtual environment, run from an empty directory with a fresh HOME.

Nothing is downloaded: the wheel is built offline with this environment's setuptools, and the
throw-away environment sees this environment's dependencies through a ``.pth`` line (Python does
not run the ``.pth`` files of a directory added that way, so this checkout's editable install
stays out of it; the tests check that the wheel's copy of the package is the one imported).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.wheel]

REPO = Path(__file__).resolve().parents[2]
# What building the wheel needs: the same list the Containerfile's build stage copies.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "inference_service", "migrations", "config")
OFFLINE_PIP = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", "PIP_NO_CACHE_DIR": "1"}
BODY = {"service": "openai", "service_settings": {"api_key": "sk-wheel", "model_id": "gpt-4o-mini"}}


def _run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


@dataclass
class User:
    """One user of the installed wheel: own HOME and XDG_DATA_HOME, an empty working directory."""

    venv: Path
    env: dict[str, str]
    data_dir: Path
    cwd: Path

    def run(self, *args: str) -> str:
        return _run([str(self.venv / "bin" / "inference-service"), *args], self.env, self.cwd)

    def python(self, code: str) -> str:
        return _run([str(self.venv / "bin" / "python"), "-c", code], self.env, self.cwd)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away virtual environment with the wheel built from this checkout installed."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    # Built from a copy so the checkout gets no build/ or *.egg-info (and parallel runs do not race).
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    env = {**os.environ, **OFFLINE_PIP}
    pip = [sys.executable, "-m", "pip", "--quiet"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(source)], env)
    [wheel] = dist.glob("inference_service-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env)
    _run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)], env)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(_run([str(venv / "bin" / "python"), "-c", purelib], env).strip())
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.fixture
def user(venv: Path, tmp_path: Path) -> User:
    home, xdg, cwd = tmp_path / "home", tmp_path / "xdg", tmp_path / "cwd"
    for directory in (home, xdg, cwd):
        directory.mkdir()
    drop = ("INFERENCE_SERVICE_", "PYTHON", "VIRTUAL_ENV", "XDG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(HOME=str(home), XDG_DATA_HOME=str(xdg), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    return User(venv, env, xdg / "inference-service", cwd)


def test_the_wheel_is_what_runs(user: User) -> None:
    paths = user.python(
        "import inference_service, inference_service.cli, inference_service.resources as r\n"
        "print(inference_service.__file__)\n"
        "print(r.default_service_config(), r.default_hypercorn_config(), r.packaged_migrations())"
    ).split()
    assert len(paths) == 4
    for path in map(Path, paths):
        assert path.is_relative_to(user.venv), path
    assert (Path(paths[3]) / "versions").is_dir()
    assert (Path(paths[0]).parent / "py.typed").is_file()  # the SDK's type information ships


def test_db_commands_from_an_empty_directory(user: User) -> None:
    assert user.run("db", "current") == ""  # a new, empty database in the per-user data dir
    user.run("db", "upgrade")
    assert "0005 (head)" in user.run("db", "current")
    assert "0001" in user.run("db", "history")
    assert user.run("endpoints", "list").strip().startswith('{\n  "endpoints": [')
    assert (user.data_dir / "inference.db").is_file()
    assert list(user.cwd.iterdir()) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(user: User, tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """``inference-service serve --migrate`` from the empty directory: URL, port, stderr file."""
    port = _free_port()
    stderr = tmp_path / "serve.stderr"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [str(user.venv / "bin" / "inference-service"), "serve", "--migrate", "--port", str(port)],
            env=user.env,
            cwd=user.cwd,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.05)
        yield url, port, stderr
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, stderr.read_text()
    assert "Traceback" not in stderr.read_text()


def test_serve_migrate_from_an_empty_directory(user: User, served: tuple[str, int, Path]) -> None:
    url, port, stderr = served
    root = httpx.get(url + "/")
    assert root.status_code == 200 and root.json()["tagline"] == "You Know, for Search"
    put = httpx.put(url + "/_inference/chat_completion/wheel-chat", params={"validate": "false"}, json=BODY)
    assert put.status_code == 200, put.text
    got = httpx.get(url + "/_inference/wheel-chat")
    assert got.status_code == 200 and got.json()["endpoints"] == [put.json()]
    # the admin page's files are in the wheel
    for page in ("/_ui/", "/_ui/js/app.js", "/_ui/app.css", "/_ui/vendor/uplot-1.6.32/uPlot.esm.js"):
        assert httpx.get(url + page).status_code == 200, page
    # hypercorn's tuning came from the packaged hypercorn.toml ...
    packaged = user.venv.glob("lib/python*/site-packages/inference_service/_config/hypercorn.toml")
    assert f"hypercorn settings from {next(packaged)}" in stderr.read_text()
    # ... as the kernel confirms: its backlog (2048) is on the listening socket (hypercorn's own
    # default is 100). ``ss`` shows a listening socket's backlog as Send-Q.
    listening = _run(["ss", "-Hltn", f"sport = :{port}"], user.env).split()
    assert listening[:1] == ["LISTEN"] and listening[2] == "2048", listening
    # The data went to the per-user data directory, nothing to the working directory.
    assert (user.data_dir / "inference.db").is_file()
    assert stat.S_IMODE((user.data_dir / "secrets.key").stat().st_mode) == 0o600
    assert list(user.cwd.iterdir()) == []
