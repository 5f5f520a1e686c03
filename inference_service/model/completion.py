"""The body of ``POST /_inference/{task_type}/{id}`` and ``completion/…/_stream``."""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import ActionValidationError, validation_failed
from inference_service.model.task_type import TaskType


class InferenceRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Strict, as Elasticsearch's parser: an unknown field is a 400."""

    input: str | list[str] | None = None
    query: str | None = None
    input_type: str | None = None
    task_settings: dict[str, Any] | None = None
    return_documents: bool | None = None
    top_n: int | None = None
    timeout: str | None = None

    @property
    def inputs(self) -> list[str]:
        """``input`` as a list (a single string is one input)."""
        if isinstance(self.input, str):
            return [self.input]
        return list(self.input or ())


def validate_inference_request(request: InferenceRequest, task_type: TaskType) -> None:
    """Elasticsearch's ``InferenceAction.Request`` validation, all problems in one 400."""
    problems: list[str] = []
    if request.input is None:
        problems.append("Field [input] cannot be null")
    elif isinstance(request.input, list) and not request.input:
        problems.append("Field [input] cannot be an empty array")
    if task_type == TaskType.RERANK:
        if request.query is None:
            problems.append("Field [query] cannot be null for task type [rerank]")
        elif not request.query:
            problems.append("Field [query] cannot be empty for task type [rerank]")
    else:
        for name in ("return_documents", "top_n", "query"):
            if getattr(request, name) is not None:
                problems.append(f"Field [{name}] cannot be specified for task type [{task_type}]")
    if request.input_type is not None and task_type != TaskType.TEXT_EMBEDDING:
        problems.append(f"Field [input_type] cannot be specified for task type [{task_type}]")
    if problems:
        raise ActionValidationError(validation_failed(problems))
