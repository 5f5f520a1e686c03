"""The task types an inference endpoint can serve."""

from __future__ import annotations

from enum import StrEnum

from inference_service.errors import BadRequestError


class TaskType(StrEnum):
    CHAT_COMPLETION = "chat_completion"
    COMPLETION = "completion"
    TEXT_EMBEDDING = "text_embedding"
    SPARSE_EMBEDDING = "sparse_embedding"
    RERANK = "rerank"

    @property
    def is_embedding(self) -> bool:
        return self in (TaskType.TEXT_EMBEDDING, TaskType.SPARSE_EMBEDDING)


def parse_task_type(value: str) -> TaskType:
    """Case-insensitive, as Elasticsearch parses the path segment."""
    try:
        return TaskType(value.lower())
    except ValueError:
        raise BadRequestError(f"Unknown task_type [{value}]") from None
