"""``inference-service chat | embed | rerank`` as people run them: real subprocesses against the
real service and fake providers; the interactive chat through a pseudo-terminal (pexpect)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pexpect
import pytest

import inference_service
from inference_service.client import InferenceClient
from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider
from tests.fakes.vectors import vectors_for
from tests.support.service import RunningService, migrated_service

ROOT = Path(inference_service.__file__).resolve().parent.parent
"""The checkout under test: the subprocesses import it, not whatever else is installed."""


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, upstream: FakeProvider) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("cli")) as running, InferenceClient(running.url) as client:
        chat = {"api_key": "sk", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
        client.endpoints.create(
            "cli-chat", task_type="chat_completion", service="openai", service_settings=chat
        )
        embed = {"api_key": "sk", "model_id": fake_embeddings.MODEL, "url": upstream.url + "/v1/embeddings"}
        client.endpoints.create(
            "cli-embed", task_type="text_embedding", service="openai", service_settings=embed
        )
        rerank = {"api_key": "co", "model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
        client.endpoints.create("cli-rerank", task_type="rerank", service="cohere", service_settings=rerank)
        yield running


@pytest.fixture(autouse=True)
def fresh(upstream: FakeProvider) -> None:
    upstream.clear()


@pytest.fixture
def env(svc: RunningService, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    path = base.get("PYTHONPATH")
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([path] if path else [])])
    base["INFERENCE_SERVICE_URL"] = svc.url
    base["HOME"] = str(tmp_path)  # readline's history file, if any, stays here
    return base


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inference_service", *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_one_prompt_streams_its_answer(env: dict[str, str], upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(["Hi", " there"]))
    done = run(env, "chat", "cli-chat", "Say hi", "--system", "Be brief.", "--max-tokens", "20")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Hi there\n", "")
    sent = upstream.last_request.json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hi"},
    ]
    assert sent["max_completion_tokens"] == 20


def test_errors_and_bad_usage(env: dict[str, str], svc: RunningService) -> None:
    missing = run(env, "chat", "nope", "hello")
    assert missing.returncode == 1
    assert missing.stderr == "error: 404 resource_not_found_exception: Inference endpoint not found [nope]\n"
    bad_url = run(env, "chat", "cli-chat", "hello", "--url", "ftp://x")
    assert bad_url.returncode == 2 and "http:// or https://" in bad_url.stderr
    usage = run(env, "chat", "cli-chat", "hi", "--max-tokens", "0")
    assert usage.returncode == 2 and "must be at least 1" in usage.stderr


def test_embed_and_rerank(env: dict[str, str], upstream: FakeProvider) -> None:
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(fake_embeddings.reply(vectors), fake_embeddings.reply(vectors))
    lines = run(env, "embed", "cli-embed", "a", "b").stdout.splitlines()
    assert [json.loads(line) for line in lines] == vectors
    assert run(env, "embed", "cli-embed", "a", "b", "--dims").stdout == "3\n3\n"
    upstream.enqueue(cohere.rerank_reply([(1, 0.9), (0, 0.25)]))
    ranked = run(env, "rerank", "cli-rerank", "--query", "bread", "a bike", "rye bread", "--top-n", "2")
    assert ranked.stdout == "0.9000\t1\trye bread\n0.2500\t0\ta bike\n"
    assert upstream.last_request.json["top_n"] == 2


def test_interactive_chat_in_a_terminal(
    env: dict[str, str], svc: RunningService, upstream: FakeProvider
) -> None:
    upstream.enqueue(
        fake_openai.stream_reply(["Hi", " there"]),
        fake_openai.stream_reply(["Again?"]),
        fake_openai.stream_reply([f"w{i} " for i in range(100)], gap=0.1),
        fake_openai.stream_reply(["Fresh."]),
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "inference_service", "chat", "cli-chat", "--system", "Be brief.", "--url", svc.url],
        env=env,
        cwd=env["HOME"],
        encoding="utf-8",
        timeout=15,
    )
    try:
        child.expect_exact("Chatting with [cli-chat].")
        child.expect_exact("> ")
        child.sendline("Hello")
        child.expect_exact("Hi there")
        child.expect_exact("> ")
        child.sendline("Once more")
        child.expect_exact("Again?")
        child.expect_exact("> ")
        history = upstream.last_request.json["messages"]
        assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]
        assert history[2]["content"] == "Hi there"

        child.sendline("Talk for long")
        child.expect_exact("w1 ")
        child.sendintr()  # Ctrl-C: stops this answer, not the program
        child.expect_exact("(stopped)")
        child.expect_exact("> ")
        assert upstream.wait_for_disconnect(timeout=3).aborted

        child.sendline("/reset")
        child.expect_exact("(conversation reset)")
        child.sendline("New topic")
        child.expect_exact("Fresh.")
        child.expect_exact("> ")
        fresh = upstream.last_request.json["messages"]
        assert fresh == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "New topic"}]

        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_service_failures_exit_1_with_one_line(env: dict[str, str], upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.model_not_found("gpt-4o-mini"))
    refused = run(env, "chat", "cli-chat", "hello")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("error: 404 ") and len(refused.stderr.splitlines()) == 1
    missing = run(env, "embed", "nope", "a")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "error: 404 resource_not_found_exception: Inference endpoint not found [nope]\n"
    wrong = run(env, "rerank", "cli-embed", "--query", "q", "a")
    assert wrong.returncode == 1 and wrong.stderr.startswith("error: 400 ") and wrong.stdout == ""
    unreachable = run(env, "embed", "cli-embed", "a", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 1 and "could not reach the service" in unreachable.stderr


def test_the_api_key_from_the_flag_or_the_environment(
    env: dict[str, str], upstream: FakeProvider, tmp_path: Path
) -> None:
    with migrated_service(tmp_path / "locked") as locked, InferenceClient(locked.url) as client:
        chat = {"api_key": "sk", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
        client.endpoints.create(
            "key-chat", task_type="chat_completion", service="openai", service_settings=chat
        )
        made = httpx.post(f"{locked.url}/_security/api_key", json={"name": "cli"}, timeout=30)
        assert made.status_code == 200, made.text
        key = made.json()["encoded"]
        env = {**env, "INFERENCE_SERVICE_URL": locked.url}
        no_key = run(env, "chat", "key-chat", "hi")
        assert no_key.returncode == 1 and no_key.stderr.startswith("error: 401 security_exception: ")
        upstream.enqueue(fake_openai.stream_reply(["With", " the flag"]))
        flag = run(env, "chat", "key-chat", "hi", "--api-key", key)
        assert (flag.returncode, flag.stdout, flag.stderr) == (0, "With the flag\n", "")
        upstream.enqueue(fake_openai.stream_reply(["From", " the environment"]))
        from_env = run({**env, "INFERENCE_SERVICE_API_KEY": key}, "chat", "key-chat", "hi")
        assert (from_env.returncode, from_env.stdout) == (0, "From the environment\n")
        assert key not in flag.stderr + from_env.stderr + no_key.stderr


def spawn(env: dict[str, str], *args: str) -> pexpect.spawn[str]:
    """The command in a pseudo-terminal (generous timeouts: the CLI imports the whole package
    at start-up, slow on a loaded machine)."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "inference_service", *args],
        env=env,
        cwd=env["HOME"],
        encoding="utf-8",
        timeout=30,
    )


def test_ctrl_c_stops_a_one_shot_answer_with_130(env: dict[str, str], upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply([f"w{i} " for i in range(100)], gap=0.1))
    child = spawn(env, "chat", "cli-chat", "Talk for long")
    try:
        child.expect_exact("w1 ")
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 130 and "Traceback" not in (child.before or "")
    assert upstream.wait_for_disconnect(timeout=3).aborted


def test_a_failed_turn_leaves_the_conversation_going(env: dict[str, str], upstream: FakeProvider) -> None:
    """An error is reported and the turn is dropped; Ctrl-C at the prompt discards the line."""
    upstream.enqueue(fake_openai.model_not_found("gpt-4o-mini"), fake_openai.stream_reply(["Still here."]))
    child = spawn(env, "chat", "cli-chat")
    try:
        child.expect_exact("> ")
        child.sendline("First try")
        child.expect_exact("error: 404 ")
        child.expect_exact("> ")
        child.send("half a line")
        child.sendintr()  # at the prompt: the line is dropped, the program goes on
        child.expect_exact("> ")
        child.sendline("Second try")
        child.expect_exact("Still here.")
        child.expect_exact("> ")
        sent = upstream.last_request.json["messages"]
        assert sent == [{"role": "user", "content": "Second try"}]
        child.sendeof()  # Ctrl-D quits too
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
