"""The preconfigured local endpoints: which exist, that they validate, and the missing-model line."""

from __future__ import annotations

import logging
from importlib.util import find_spec
from pathlib import Path

import pytest

from inference_service.endpoints import preconfigured
from inference_service.endpoints.configuration import load_config
from inference_service.local_models import packages
from inference_service.local_models.packages import BundledModel
from inference_service.providers.llamacpp.settings import LlamaCppEmbeddingSettings
from inference_service.providers.registry import builtin_registry
from tests.conftest import make_settings

pytestmark = pytest.mark.skipif(find_spec("xllamacpp") is None, reason="the local extra is not installed")

ALL = [
    ".all-minilm-l6-v2-llamacpp",
    ".all-minilm-l6-v2-llamacpp-rerank",
    ".gemma-3-270m-llamacpp",
    ".gemma-3-270m-llamacpp-completion",
    ".smollm2-135m-instruct-llamacpp",
    ".smollm2-135m-instruct-llamacpp-completion",
    ".splade-tiny-splade",
]


def installed_only(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    def fake(model: BundledModel) -> bool:
        return model.name in names

    monkeypatch.setattr(packages, "installed", fake)


def test_every_model_installed_gives_every_endpoint_and_each_validates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    installed_only(monkeypatch, *(m.name for m in packages.BUNDLED_MODELS))
    with caplog.at_level(logging.WARNING):
        endpoints = preconfigured.preconfigured_endpoints(make_settings(tmp_path, local_model_threads=3))
    assert sorted(endpoints) == ALL and caplog.records == []
    assert preconfigured.CHAT_ID == ".smollm2-135m-instruct-llamacpp"
    registry = builtin_registry()
    for endpoint in endpoints.values():
        load_config(registry.get(endpoint.service), endpoint)  # raises if a setting were refused
    dense = load_config(registry.get("llamacpp"), endpoints[preconfigured.EMBEDDING_ID])
    settings = dense.service(LlamaCppEmbeddingSettings)
    assert (settings.dimensions, settings.similarity, settings.max_input_tokens) == (384, "cosine", 256)
    assert settings.threads == 3


def test_missing_packages_leave_their_endpoints_out_and_say_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    installed_only(monkeypatch, "gemma-3-270m")
    with caplog.at_level(logging.WARNING):
        endpoints = preconfigured.preconfigured_endpoints(make_settings(tmp_path))
    assert sorted(endpoints) == [".gemma-3-270m-llamacpp", ".gemma-3-270m-llamacpp-completion"]
    [record] = caplog.records
    assert record.getMessage() == (
        "local models not installed: smollm2-135m-instruct, all-minilm-l6-v2, splade-tiny; "
        "run `inference-service models install` for their preconfigured endpoints"
    )


def test_they_can_be_turned_off(tmp_path: Path) -> None:
    assert preconfigured.preconfigured_endpoints(make_settings(tmp_path, local_model_endpoints=False)) == {}
