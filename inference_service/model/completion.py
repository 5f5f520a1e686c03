"""The body of ``POST /_inference/{task_type}/{id}`` and ``completion/…/_stream``."""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import ActionValidationError, validation_failed
from inference_service.model.embedding import InputType, parse_input_type
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

    def parsed_input_type(self) -> InputType | None:
        return parse_input_type(self.input_type) if self.input_type is not None else None

    @property
    def inputs(self) -> list[str]:
        """``input`` as a list (a single string is one input)."""
        if isinstance(self.input, str):
            return [self.input]
        return list(self.input or ())


def validate_inference_request(request: InferenceRequest, task_type: TaskType, max_inputs: int) -> None:
    """Elasticsearch's ``InferenceAction.Request`` validation, all problems in one 400, plus the
    limits Elasticsearch leaves to providers (``top_n`` >= 1, at most ``max_inputs`` inputs)."""
    problems: list[str] = []
    if request.input is None:
        problems.append("Field [input] cannot be null")
    elif isinstance(request.input, list) and not request.input:
        problems.append("Field [input] cannot be an empty array")
    elif isinstance(request.input, list) and len(request.input) > max_inputs:
        problems.append(
            f"Field [input] has [{len(request.input)}] inputs, more than the [{max_inputs}] allowed in one "
            "request (setting max_inputs_per_request)"
        )
    if task_type == TaskType.RERANK:
        if request.query is None:
            problems.append("Field [query] cannot be null for task type [rerank]")
        elif not request.query:
            problems.append("Field [query] cannot be empty for task type [rerank]")
        if request.top_n is not None and request.top_n < 1:
            problems.append(f"Field [top_n] must be at least 1, got [{request.top_n}]")
    else:
        for name in ("return_documents", "top_n", "query"):
            if getattr(request, name) is not None:
                problems.append(f"Field [{name}] cannot be specified for task type [{task_type}]")
    if request.input_type is not None and task_type != TaskType.TEXT_EMBEDDING:
        problems.append(f"Field [input_type] cannot be specified for task type [{task_type}]")
    elif request.input_type is not None:
        try:
            parse_input_type(request.input_type)
        except ActionValidationError:
            problems.append(f"Unrecognized input_type [{request.input_type}]")
    if problems:
        raise ActionValidationError(validation_failed(problems))
