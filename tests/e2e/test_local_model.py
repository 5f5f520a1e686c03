"""The bundled local chat models (SmolLM2 135M Instruct, the default, and Gemma 3 270M) through
llama.cpp, end to end with real tokens.

Marked ``model``: ``make fast`` skips these, CI always runs them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.shared_params import ResponseFormatJSONSchema

from inference_service.endpoints.preconfigured import (
    CHAT_ID,
    COMPLETION_ID,
    GEMMA_CHAT_ID,
    available,
    local_extra_installed,
)
from inference_service.local_models import packages
from inference_service.local_models.packages import SMOLLM2_135M_INSTRUCT
from inference_service.model.task_type import TaskType
from inference_service.providers.llamacpp.engine import LlamaCppEngine
from inference_service.providers.llamacpp.provider import LlamaCppProvider
from tests.support.service import RunningService, migrated_service

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        not local_extra_installed() or not available(SMOLLM2_135M_INSTRUCT),
        reason="the local extra or its models are not installed (inference-service models install)",
    ),
]

CHATML_PROMPT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n"
)
"""SmolLM2's own template (its file's ``tokenizer.chat_template``) applied to :data:`QUESTION`."""
GEMMA_PROMPT = "<start_of_turn>user\nName a color.<end_of_turn>\n<start_of_turn>model\n"

SMOLLM2, GEMMA = SMOLLM2_135M_INSTRUCT, packages.GEMMA_3_270M
QUESTION = {"messages": [{"role": "user", "content": "Name a color."}], "max_completion_tokens": 8}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    data = tmp_path_factory.mktemp("local")
    with migrated_service(data, local_model_context_size=2048, local_model_max_tokens=16) as running:
        yield running


def events(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        if block:
            kind, data = block.split("\n")
            payload = data.removeprefix("data: ")
            out.append(
                (kind.removeprefix("event: "), payload if payload == "[DONE]" else json.loads(payload))
            )
    return out


def chat(svc: RunningService, body: dict[str, Any], query: str = "") -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/chat_completion/{CHAT_ID}/_stream{query}", json=body, timeout=60)


def test_preconfigured_endpoints_are_listed_and_read_only(svc: RunningService) -> None:
    listed = {e["inference_id"]: e for e in httpx.get(f"{svc.url}/_inference").json()["endpoints"]}
    assert {CHAT_ID, COMPLETION_ID, GEMMA_CHAT_ID} <= set(listed)
    assert listed[CHAT_ID]["service"] == "llamacpp" and listed[CHAT_ID]["task_type"] == "chat_completion"
    assert listed[CHAT_ID]["service_settings"]["model"] == "smollm2-135m-instruct"
    assert listed[COMPLETION_ID]["task_type"] == "completion"
    preconfigured = [i for i in listed if i.startswith(".")]
    for inference_id in preconfigured:
        task_type = listed[inference_id]["task_type"]
        body = {"service": listed[inference_id]["service"], "service_settings": {}}
        for response in (
            httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body),
            httpx.put(f"{svc.url}/_inference/{inference_id}/_update", json={"task_settings": {}}),
            httpx.delete(f"{svc.url}/_inference/{inference_id}"),
        ):
            assert response.status_code == 400, (inference_id, response.text)
            assert "preconfigured inference endpoint" in response.json()["error"]["reason"]
        assert httpx.get(f"{svc.url}/_inference/{inference_id}").status_code == 200


def test_streamed_chat_has_real_tokens_and_usage(svc: RunningService) -> None:
    response = chat(svc, QUESTION)
    assert response.status_code == 200
    got = events(response.text)
    assert got[-1] == ("message", "[DONE]")
    text = "".join(d["choices"][0]["delta"].get("content", "") for k, d in got[:-1] if d["choices"])
    assert text.strip()
    usage = got[-2][1]["usage"]
    assert usage["completion_tokens"] >= 1 and usage["prompt_tokens"] > 1
    assert got[0][1]["model"] == "smollm2-135m-instruct"


def test_non_streaming_chat_from_the_local_model(svc: RunningService) -> None:
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{CHAT_ID}", json=QUESTION, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["object"] == "chat.completion"
    (choice,) = answer["choices"]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")
    assert answer["usage"]["completion_tokens"] > 0


def test_completion(svc: RunningService) -> None:
    response = httpx.post(
        f"{svc.url}/_inference/completion/{COMPLETION_ID}", json={"input": "The sky is"}, timeout=60
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["completion"]
    assert result["result"].strip()


def test_concurrent_streams_share_one_model(svc: RunningService) -> None:
    results: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: results.append(chat(svc, QUESTION))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200, 200, 200]
    assert all(events(r.text)[-1] == ("message", "[DONE]") for r in results)
    provider = svc.app.state.services.providers["llamacpp"]
    assert isinstance(provider, LlamaCppProvider)
    chats = [e for e in provider.engines if isinstance(e, LlamaCppEngine)]
    assert [e.config.model for e in chats].count(SMOLLM2.name) == 1


def test_the_gemma_base_model_is_still_served(svc: RunningService) -> None:
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{GEMMA_CHAT_ID}/_stream", json=QUESTION, timeout=60
    )
    assert response.status_code == 200, response.text
    got = events(response.text)
    assert got[-1] == ("message", "[DONE]") and got[0][1]["model"] == "gemma-3-270m"
    # Its file has no chat template: the prompt is Gemma's turn format.
    assert got[-2][1]["usage"]["prompt_tokens"] == raw_prompt_tokens(
        packages.chat_model_file(GEMMA), GEMMA_PROMPT
    )


def raw_prompt_tokens(path: Path, prompt: str) -> int:
    """How many tokens llama.cpp makes of ``prompt`` as a plain completion prompt of ``path``."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = 512
    params.n_parallel = 1
    params.fit_params = False
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.ui = False
    params.verbosity = -1
    answer = xllamacpp.Server(params).handle_completions({"prompt": prompt, "n_predict": 1})
    return int(answer["usage"]["prompt_tokens"])


def test_a_user_gguf_file_is_prompted_with_its_own_chat_template(svc: RunningService) -> None:
    """The defect: every file used to get Gemma's turn format, whatever its own template."""
    path = packages.chat_model_file(SMOLLM2)
    body = {"service": "llamacpp", "service_settings": {"model": str(path), "context_size": 1024}}
    created = httpx.put(
        f"{svc.url}/_inference/{TaskType.CHAT_COMPLETION}/my-smollm2?validate=true", json=body
    )
    assert created.status_code == 200, created.text
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/my-smollm2/_stream",
        json={**QUESTION, "max_completion_tokens": 1},
    )
    assert response.status_code == 200, response.text
    prompt_tokens = events(response.text)[-2][1]["usage"]["prompt_tokens"]
    own, gemma = raw_prompt_tokens(path, CHATML_PROMPT), raw_prompt_tokens(path, GEMMA_PROMPT)
    assert own != gemma
    assert prompt_tokens == own


def test_tools_are_refused(svc: RunningService) -> None:
    body = {
        **QUESTION,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    }
    response = chat(svc, body)
    assert response.status_code == 400
    error = events(response.text)[0][1]["error"]
    assert "cannot call tools" in error["message"] and error["param"] == "$.tools"


def test_timeout_before_first_token(svc: RunningService) -> None:
    response = chat(svc, QUESTION, "?timeout=1nanos")
    assert response.status_code == 408
    assert events(response.text)[0][1]["error"]["message"] == "Request timed out after [1nanos]"
    assert chat(svc, QUESTION).status_code == 200  # the model is still usable afterwards


def test_disconnect_frees_the_only_slot(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("one-slot")
    with migrated_service(data, local_model_parallel_slots=1, local_model_context_size=1024) as one:
        long = {"messages": [{"role": "user", "content": "Tell a long story."}], "max_completion_tokens": 900}
        with httpx.stream(
            "POST", f"{one.url}/_inference/chat_completion/{CHAT_ID}/_stream", json=long, timeout=60
        ) as response:
            assert response.status_code == 200
            next(response.iter_raw())
        # 900 tokens take ~12 s on this machine; if the slot were still busy this would 408.
        second = httpx.post(
            f"{one.url}/_inference/chat_completion/{CHAT_ID}/_stream?timeout=5s", json=QUESTION, timeout=60
        )
        assert second.status_code == 200, second.text


def test_preload_loads_the_model_at_start_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("preload")
    with migrated_service(data, local_model_preload=True, local_model_context_size=1024) as preloaded:
        services = preloaded.app.state.services
        engines = [*services.providers["llamacpp"].engines, *services.providers["splade"].engines]
        # One per installed model: SmolLM2, Gemma, all-MiniLM-L6-v2 (embedding and rerank share it), SPLADE
        assert len(engines) == sum(available(model) for model in packages.BUNDLED_MODELS)
        assert all(engine.loaded for engine in engines)  # before any request


def test_prompt_longer_than_a_slot_is_a_clear_400(svc: RunningService) -> None:
    long = {"messages": [{"role": "user", "content": "word " * 3000}], "max_completion_tokens": 4}
    response = chat(svc, long)
    assert response.status_code == 400, response.text
    error = events(response.text)[0][1]["error"]
    assert error["type"] == "exceed_context_size_error"
    assert "exceeds the available context size" in error["message"]


COLOR_SCHEMA = {
    "type": "object",
    "properties": {
        "color": {"type": "string", "enum": ["red", "green", "blue"]},
        "bright": {"type": "boolean"},
    },
    "required": ["color", "bright"],
    "additionalProperties": False,
}
COLOR_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {"name": "color", "schema": COLOR_SCHEMA, "strict": True},
}


def test_json_schema_constrains_the_local_model(svc: RunningService) -> None:
    """llama.cpp's grammar: whatever the tiny model would say, the output is the schema's."""
    with openai.OpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0, timeout=60) as sdk:
        answer = sdk.chat.completions.create(
            model=CHAT_ID,
            messages=[{"role": "user", "content": "Name a color."}],
            response_format=COLOR_FORMAT,
            max_tokens=48,
            seed=1,
        )
    content = answer.choices[0].message.content or ""
    jsonschema.validate(json.loads(content), COLOR_SCHEMA)  # strict: the service checked it too


def test_json_schema_streams_from_the_local_model(svc: RunningService) -> None:
    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
            stream = await sdk.chat.completions.create(
                model=CHAT_ID,
                messages=[{"role": "user", "content": "Describe the sky."}],
                response_format=COLOR_FORMAT,
                max_tokens=48,
                stream=True,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    jsonschema.validate(json.loads(asyncio.run(run())), COLOR_SCHEMA)


def test_json_object_on_the_es_face(svc: RunningService) -> None:
    """Free-form JSON has no length bound, so the answer is made deterministic (greedy, seeded)
    and given room to finish: a cut-off answer would be invalid JSON for a reason of its own."""
    body = {
        "messages": [{"role": "user", "content": 'Answer in JSON with the key "color": name a color.'}],
        "max_completion_tokens": 200,
        "temperature": 0,
        "seed": 1,
        "response_format": {"type": "json_object"},
    }
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{CHAT_ID}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop", choice
    assert isinstance(json.loads(choice["message"]["content"]), dict)


def test_an_image_part_is_refused_by_the_text_only_model(svc: RunningService) -> None:
    with (
        openai.OpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk,
        pytest.raises(openai.BadRequestError) as refused,
    ):
        sdk.chat.completions.create(
            model=CHAT_ID,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    ],
                }
            ],
        )
    assert refused.value.param == "$.messages[0].content[1]"
    assert "reads text only, not [image_url]" in refused.value.message


def test_penalties_reach_llama_cpps_sampler(svc: RunningService) -> None:
    """Greedy, so the only difference between the answers is the penalty: without one the tiny
    model lists the numbers one per line; with both penalties at their maximum every token it
    has used is penalised, the line breaks first, so the list falls apart."""

    def answer(**penalties: Any) -> str:
        with openai.OpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0, timeout=60) as sdk:
            reply = sdk.chat.completions.create(
                model=CHAT_ID,
                messages=[{"role": "user", "content": "List the numbers from 1 to 30."}],
                max_tokens=40,
                temperature=0,
                seed=1,
                **penalties,
            )
        return reply.choices[0].message.content or ""

    plain = answer()
    assert answer(frequency_penalty=0, presence_penalty=0) == plain  # 0 is no penalty
    penalised = answer(frequency_penalty=2, presence_penalty=2)
    assert plain.count("\n") >= 5, plain
    assert penalised.count("\n") < plain.count("\n") / 2, (plain, penalised)
