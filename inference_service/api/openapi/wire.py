"""The answers' shapes, as msgspec Structs the OpenAPI document is generated from.

Most handlers build their answers as plain dicts (they mirror Elasticsearch and OpenAI field
for field, with conditional keys); these Structs describe those dicts for
:mod:`inference_service.api.openapi.document`, which turns them into JSON Schema with
``msgspec.json.schema_components`` like the request Structs the handlers decode with. They are
not used on the wire, so a dict that drifts from its Struct would go unnoticed here: the
schemathesis run (``tests/e2e/test_openapi_fuzz.py``) validates every answer against them.

A key a handler writes only sometimes is ``X | UnsetType`` (optional, never null); ``X | None``
is a key always written that may be null. No Struct forbids unknown fields: an answer that
gains a field stays valid.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from inference_service.auth.roles import Role
from inference_service.model.chat import ChatCompletion, ChatCompletionChunk, Usage
from inference_service.model.task_type import TaskType


class Answer(msgspec.Struct, kw_only=True):
    """Base of the documented answers: unknown fields allowed. (``kw_only`` is not inherited:
    each subclass says it, so optional fields may come before required ones.)"""


# --- errors ---------------------------------------------------------------------------------


class EsErrorCause(Answer, kw_only=True):
    type: str
    reason: str
    caused_by: EsErrorCause | UnsetType = UNSET
    header: dict[str, list[str]] | UnsetType = UNSET
    """On a 401: ``{"WWW-Authenticate": ["ApiKey"]}``, as Elasticsearch writes it."""
    additional_unsuccessful_credentials: str | UnsetType = UNSET


class EsError(EsErrorCause, kw_only=True):
    root_cause: list[EsErrorCause]


class EsErrorBody(Answer, kw_only=True):
    """Elasticsearch's error envelope: the management, security and non-chat inference API."""

    error: EsError
    status: int


class OpenAiError(Answer, kw_only=True):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAiErrorBody(Answer, kw_only=True):
    """OpenAI's error object: every error of ``/v1``."""

    error: OpenAiError


class UnifiedError(Answer, kw_only=True):
    code: str
    message: str
    type: str
    param: str | UnsetType = UNSET


class UnifiedErrorBody(Answer, kw_only=True):
    """The OpenAI-style body of Elasticsearch's ``chat_completion`` path (``param`` omitted
    when null)."""

    error: UnifiedError


# --- the Elasticsearch face -----------------------------------------------------------------


class VersionInfo(Answer, kw_only=True):
    number: str
    build_flavor: str
    inference_service_version: str
    minimum_wire_compatibility_version: str


class RootInfo(Answer, kw_only=True):
    name: str
    cluster_name: str
    version: VersionInfo
    tagline: str


class Live(Answer, kw_only=True):
    status: Literal["live"]


class HealthChecks(Answer, kw_only=True):
    """Each check: ``ok`` or why it fails."""

    database: str
    catalog: str
    local_models: str
    draining: str


class Ready(Answer, kw_only=True):
    """200: ``ready``; 503: ``not_ready`` with the failing checks named."""

    status: Literal["ready", "not_ready"]
    failing: list[str] | None = None
    checks: HealthChecks


class ServiceSetting(Answer, kw_only=True):
    """One setting of a service, as ``_services`` describes it."""

    default_value: Any = None
    description: str
    label: str
    required: bool
    sensitive: bool
    updatable: bool
    type: str
    supported_task_types: list[TaskType]


class ServiceDescription(Answer, kw_only=True):
    """``GET /_inference/_services``: one service, its task types and its settings."""

    service: str
    name: str
    task_types: list[TaskType]
    configurations: dict[str, ServiceSetting]


class UsageCounts(Answer, kw_only=True):
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int


class UsageEntry(UsageCounts, kw_only=True):
    """One period, endpoint and key (``api_key_id`` null: requests made without a key)."""

    period: str | None
    inference_id: str
    api_key_id: str | None


class UsageReport(Answer, kw_only=True):
    """``GET /_inference/_usage``: the entries, then their totals."""

    interval: Literal["hour", "day"] | None
    since: str | None
    until: str | None
    usage: list[UsageEntry]
    totals: UsageCounts


class EndpointInfo(Answer, kw_only=True):
    """An endpoint as Elasticsearch returns it: never its secrets."""

    inference_id: str
    task_type: TaskType
    service: str
    service_settings: dict[str, Any]
    task_settings: dict[str, Any] | UnsetType = UNSET
    chunking_settings: dict[str, Any] | UnsetType = UNSET
    cache: dict[str, Any] | UnsetType = UNSET


class EndpointList(Answer, kw_only=True):
    endpoints: list[EndpointInfo]


class Deletion(Answer, kw_only=True):
    acknowledged: bool
    pipelines: list[str]
    indexes: list[str]
    routers: list[str] | UnsetType = UNSET
    """The routers targeting the endpoint, when there are some."""
    routers_outside_api_key: int | UnsetType = UNSET
    """How many more routers target it outside the calling key's endpoints (never named)."""


class DenseVector(Answer, kw_only=True):
    embedding: list[float]


class ByteVector(Answer, kw_only=True):
    embedding: list[int]


class TextEmbeddingAnswer(Answer, kw_only=True):
    text_embedding: list[DenseVector]


class TextEmbeddingBytesAnswer(Answer, kw_only=True):
    text_embedding_bytes: list[ByteVector]


class TextEmbeddingBitsAnswer(Answer, kw_only=True):
    text_embedding_bits: list[ByteVector]


class SparseVector(Answer, kw_only=True):
    is_truncated: bool
    embedding: dict[str, float]


class SparseEmbeddingAnswer(Answer, kw_only=True):
    sparse_embedding: list[SparseVector]


class RankedDocument(Answer, kw_only=True):
    index: int
    relevance_score: float
    text: str | UnsetType = UNSET


class RerankAnswer(Answer, kw_only=True):
    rerank: list[RankedDocument]


class CompletionResult(Answer, kw_only=True):
    result: str


class CompletionAnswer(Answer, kw_only=True):
    completion: list[CompletionResult]


class CompletionDelta(Answer, kw_only=True):
    delta: str


class CompletionEvent(Answer, kw_only=True):
    """One ``completion`` stream event's data."""

    completion: list[CompletionDelta]


INFERENCE_ANSWERS = (
    TextEmbeddingAnswer,
    TextEmbeddingBytesAnswer,
    TextEmbeddingBitsAnswer,
    SparseEmbeddingAnswer,
    RerankAnswer,
    CompletionAnswer,
    ChatCompletion,
)
"""``POST /_inference/…``: one of these, by the endpoint's task type (and element type)."""


# --- the security API -----------------------------------------------------------------------


class CreatedApiKey(Answer, kw_only=True):
    id: str
    name: str
    expiration: int | UnsetType = UNSET
    """Epoch milliseconds."""
    api_key: str
    encoded: str
    """``base64(id:api_key)``: what ``Authorization: ApiKey …`` carries."""


class ApiKeyInfo(Answer, kw_only=True):
    id: str
    name: str
    type: str
    creation: int
    expiration: int | UnsetType = UNSET
    invalidated: bool
    invalidation: int | UnsetType = UNSET
    username: str
    realm: str
    metadata: dict[str, Any]
    role_descriptors: dict[str, Any]
    role: Role
    endpoints: list[str] | None


class ApiKeyList(Answer, kw_only=True):
    api_keys: list[ApiKeyInfo]


class Invalidation(Answer, kw_only=True):
    invalidated_api_keys: list[str]
    previously_invalidated_api_keys: list[str]
    error_count: int
    error_details: list[EsErrorCause] | UnsetType = UNSET


class Realm(Answer, kw_only=True):
    name: str
    type: str


class KeyIdentity(Answer, kw_only=True):
    id: str
    name: str
    role: Role
    endpoints: list[str] | None


class Authentication(Answer, kw_only=True):
    username: str
    roles: list[str]
    full_name: str | None
    email: str | None
    metadata: dict[str, Any]
    enabled: bool
    authentication_type: str
    authentication_realm: Realm | UnsetType = UNSET
    lookup_realm: Realm | UnsetType = UNSET
    api_key: KeyIdentity | UnsetType = UNSET


# --- the OpenAI face ------------------------------------------------------------------------


class OpenAiChatCompletion(ChatCompletion, kw_only=True):
    """``chat.completion`` with OpenAI's ``created`` (Unix seconds)."""

    created: int


class OpenAiChatCompletionChunk(ChatCompletionChunk, kw_only=True):
    """One ``chat.completion.chunk`` event's data on ``/v1``."""

    created: int


class TextChoice(Answer, kw_only=True):
    text: str
    index: int
    logprobs: None
    finish_reason: str | None


class TextCompletion(Answer, kw_only=True):
    """``text_completion``: the answer of ``/v1/completions``, and each of its stream events."""

    id: str
    object: str
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | UnsetType = UNSET


class EmbeddingItem(Answer, kw_only=True):
    object: str
    index: int
    embedding: list[float] | str
    """Floats, or with ``encoding_format: base64`` little-endian float32 in base64."""


class EmbeddingsUsage(Answer, kw_only=True):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Answer, kw_only=True):
    object: str
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingsUsage | UnsetType = UNSET


class Model(Answer, kw_only=True):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(Answer, kw_only=True):
    object: str
    data: list[Model]


class RerankedText(Answer, kw_only=True):
    text: str


class RerankResult(Answer, kw_only=True):
    index: int
    relevance_score: float
    document: RerankedText | UnsetType = UNSET


class RerankList(Answer, kw_only=True):
    model: str
    results: list[RerankResult]
