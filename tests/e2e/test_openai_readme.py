"""The README's "OpenAI-compatible API" example runs as written (the issue's snippet, with its
``KEY`` and ``msgs`` defined) against the real service, whose endpoints ``support-chat`` and
``docs-embed`` (named as in the README) call fake providers."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import inference_service
from inference_service.client import InferenceClient
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

README = Path(inference_service.__file__).resolve().parent.parent / "README.md"
ISSUE_SNIPPET = """\
client = openai.OpenAI(base_url="http://127.0.0.1:9280/v1", api_key=KEY)
resp = client.chat.completions.create(model="support-chat", messages=[{"role": "user", "content": "Hi"}])
print(resp.choices[0].message.content, resp.usage.total_tokens)
for chunk in client.chat.completions.create(model="support-chat", messages=msgs, stream=True):
    print(chunk.choices[0].delta.content or "", end="")
vectors = client.embeddings.create(model="docs-embed", input=["a", "b"]).data
"""


def openai_block() -> str:
    text = README.read_text("utf-8")
    section = text.split("\n## OpenAI-compatible API (`/v1`)\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    return str(block)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[RunningService]:
    with (
        FakeProvider() as chat,
        FakeProvider(default=fake_embeddings.reply([[0.5, 0.25, 0.125], [1.5, 1.25, 1.125]])) as embed,
        migrated_service(tmp_path / "data") as running,
        InferenceClient(running.url) as client,
    ):
        chat.enqueue(
            Reply.sse(fake_openai.stream(["Hello", "!"])),
            Reply.sse(fake_openai.stream(["Why", " not?"], include_usage=False)),
        )
        openai = {"api_key": "sk", "model_id": "gpt-4o-mini", "url": chat.url + "/v1/chat/completions"}
        client.endpoints.create(
            "support-chat", task_type="chat_completion", service="openai", service_settings=openai
        )
        embed_settings = {
            "api_key": "sk",
            "model_id": fake_embeddings.MODEL,
            "url": embed.url + "/v1/embeddings",
        }
        client.endpoints.create(
            "docs-embed", task_type="text_embedding", service="openai", service_settings=embed_settings
        )
        yield running


def test_the_readme_example_is_the_issue_snippet_and_runs(svc: RunningService) -> None:
    block = openai_block()
    assert ISSUE_SNIPPET in block  # unchanged
    code = block.replace("http://127.0.0.1:9280", svc.url)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), namespace)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Hello! 21"  # the content and usage.total_tokens
    assert lines[1].startswith("Why not?[")  # the stream, then the models list
    assert "'support-chat'" in lines[1] and "'docs-embed'" in lines[1]
    vectors = namespace["vectors"]
    assert isinstance(vectors, list)
    assert [v.embedding for v in vectors] == [[0.5, 0.25, 0.125], [1.5, 1.25, 1.125]]
