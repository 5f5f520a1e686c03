"""The OpenAI-compatible face's route table (``/v1``), each method with the action it performs.

Inference routes learn the inference id from the body's ``model``: their handlers check it
against the key's endpoints once decoded (:func:`~inference_service.api.auth.authorize_endpoint`).
"""

from __future__ import annotations

from inference_service.api.openai.chat import create_chat_completion
from inference_service.api.openai.completions import create_completion
from inference_service.api.openai.embeddings import create_embeddings
from inference_service.api.openai.models import get_model, list_models
from inference_service.api.openai.rerank import create_rerank
from inference_service.api.routing import resource
from inference_service.auth.roles import GET_MODEL, INFER_BY_MODEL, LIST_MODELS

ROUTES = [
    resource("/v1/chat/completions", POST=(create_chat_completion, INFER_BY_MODEL)),
    resource("/v1/completions", POST=(create_completion, INFER_BY_MODEL)),
    resource("/v1/models", GET=(list_models, LIST_MODELS)),
    resource("/v1/models/{model:endpoint_id}", GET=(get_model, GET_MODEL)),
    resource("/v1/embeddings", POST=(create_embeddings, INFER_BY_MODEL)),
    resource("/v1/rerank", POST=(create_rerank, INFER_BY_MODEL)),
]
