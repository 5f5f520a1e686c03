"""The README's "Python SDK" section runs as written: its Python blocks, in order and in one
namespace, against the real service whose endpoints (named as in the README) call fake providers."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import inference_service
from inference_service.client import InferenceClient
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, migrated_service

README = Path(inference_service.__file__).resolve().parent.parent / "README.md"


def sdk_blocks() -> list[str]:
    text = README.read_text("utf-8")
    section = text.split("\n## Python SDK\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeProvider]]:
    with (
        FakeProvider() as chat,
        FakeProvider(default=fake_anthropic.stream_reply(["Fewer bugs."])) as writer,
        FakeProvider(default=fake_embeddings.reply([[0.5, 0.25, 0.125], [1.5, 1.25, 1.125]])) as embed,
        FakeProvider(default=cohere.rerank_reply([(0, 0.9)])) as rerank,
    ):
        yield {"chat": chat, "writer": writer, "embed": embed, "rerank": rerank}


@pytest.fixture
def svc(tmp_path: Path, fakes: dict[str, FakeProvider]) -> Iterator[RunningService]:
    with migrated_service(tmp_path / "data") as running, InferenceClient(running.url) as client:
        openai = {
            "api_key": "sk",
            "model_id": "gpt-4o-mini",
            "url": fakes["chat"].url + "/v1/chat/completions",
        }
        client.endpoints.create(
            "support-chat", task_type="chat_completion", service="openai", service_settings=openai
        )
        claude = {"api_key": "sk-ant", "model_id": "claude-sonnet-4-5", "url": fakes["writer"].url}
        client.endpoints.create(
            "writer",
            task_type="completion",
            service="anthropic",
            service_settings=claude,
            task_settings={"max_tokens": 256},
        )
        embed = {
            "api_key": "sk",
            "model_id": fake_embeddings.MODEL,
            "url": fakes["embed"].url + "/v1/embeddings",
        }
        client.endpoints.create(
            "docs-embed", task_type="text_embedding", service="openai", service_settings=embed
        )
        rerank = {"api_key": "co", "model_id": cohere.RERANK_MODEL, "url": fakes["rerank"].url + "/v2/rerank"}
        client.endpoints.create("docs-rerank", task_type="rerank", service="cohere", service_settings=rerank)
        yield running


def test_the_readme_sdk_section_runs(
    svc: RunningService, fakes: dict[str, FakeProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = sdk_blocks()
    assert len(blocks) == 5
    monkeypatch.setenv("INFERENCE_SERVICE_URL", svc.url)
    monkeypatch.delenv("INFERENCE_SERVICE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
    weather = fake_openai.ToolCall("call_1", "get_weather", ['{"city":', ' "Paris"}'])
    fakes["chat"].enqueue(
        fake_openai.stream_reply(["Gradient descent", " walks downhill."]),
        fake_openai.stream_reply(["It ", "walks downhill."]),
        fake_openai.stream_reply(tool_calls=[weather]),
        fake_openai.stream_reply(["Clear skies in Paris."]),
        fake_openai.stream_reply(["First.", " Second.", " Third."], gap=0.2),
    )
    namespace: dict[str, object] = {"__name__": "readme"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
        client = namespace["client"]
        assert isinstance(client, InferenceClient)
        client.close()
    assert out.getvalue().splitlines() == [
        "Gradient descent walks downhill. 21",
        "It walks downhill.",
        "Fewer bugs.",
        "2 0 0.9",
        "get_weather {'city': 'Paris'}",
        "Clear skies in Paris.",
        "First.",
        "my-chat gpt-4o-mini",
        "{'user': 'docs'}",
        "True",
        "404 resource_not_found_exception Inference endpoint not found [no-such-endpoint]",
    ]
    assert fakes["writer"].last_request.json["max_tokens"] == 150
    assert fakes["chat"].wait_for_disconnect(timeout=2).aborted  # the async stream left early
