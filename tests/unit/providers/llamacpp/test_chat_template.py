"""Which chat template a GGUF file is prompted with: its own, else Gemma's for Gemma files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inference_service.local_models.gguf_metadata import GgufInfo
from inference_service.providers.llamacpp import engine as engine_module
from inference_service.providers.llamacpp.engine import (
    CHAT_TEMPLATE,
    EngineConfig,
    LlamaCppEngine,
    chat_template_for,
)
from tests.support.gguf_files import write_gguf


def info(arch: str, template: str | None) -> GgufInfo:
    return GgufInfo(architecture=arch, chat_template=template, context_length=None, pooling_type=None)


def test_a_file_with_its_own_template_keeps_it() -> None:
    assert chat_template_for(info("llama", "{{ chatml }}")) is None
    assert chat_template_for(info("qwen2", "{{ qwen }}")) is None
    assert chat_template_for(info("gemma3", "{{ gemma's own }}")) is None


def test_gemma_without_a_template_gets_gemma_turns() -> None:
    assert chat_template_for(info("gemma3", None)) == CHAT_TEMPLATE
    assert chat_template_for(info("gemma", None)) == CHAT_TEMPLATE


def test_other_files_without_a_template_get_llama_cpp_s_fallback() -> None:
    assert chat_template_for(info("llama", None)) is None


class _Params:
    """Stands in for xllamacpp's CommonParams: records what the engine sets."""

    def __init__(self) -> None:
        self.model = type("Model", (), {"path": ""})()
        self.cpuparams = type("Cpu", (), {})()
        self.cpuparams_batch = type("Cpu", (), {})()
        self.chat_template = ""


class _FakeXllamacpp:
    def __init__(self) -> None:
        self.params: list[_Params] = []

    def CommonParams(self) -> _Params:
        return _Params()

    def Server(self, params: _Params) -> object:
        self.params.append(params)
        return object()


@pytest.mark.parametrize(
    ("arch", "template", "expected"), [("llama", "{{ own }}", ""), ("gemma3", None, CHAT_TEMPLATE)]
)
def test_the_engine_imposes_a_template_only_when_the_file_lacks_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arch: str, template: str | None, expected: str
) -> None:
    fake = _FakeXllamacpp()
    fake_module: Any = fake
    monkeypatch.setattr(engine_module, "_import_xllamacpp", lambda: fake_module)
    path = write_gguf(tmp_path / "user.gguf", arch=arch, template=template)
    LlamaCppEngine(EngineConfig(str(path), 1024, 1, 1))._create_server()
    [params] = fake.params
    assert params.model.path == str(path) and params.chat_template == expected
