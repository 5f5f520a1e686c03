"""The OpenAI-compatible face's route table (``/v1``)."""

from __future__ import annotations

from inference_service.api.openai.chat import create_chat_completion
from inference_service.api.openai.completions import create_completion
from inference_service.api.openai.embeddings import create_embeddings
from inference_service.api.openai.models import get_model, list_models
from inference_service.api.openai.rerank import create_rerank
from inference_service.api.routing import resource

ROUTES = [
    resource("/v1/chat/completions", POST=create_chat_completion),
    resource("/v1/completions", POST=create_completion),
    resource("/v1/models", GET=list_models),
    resource("/v1/models/{model:endpoint_id}", GET=get_model),
    resource("/v1/embeddings", POST=create_embeddings),
    resource("/v1/rerank", POST=create_rerank),
]
