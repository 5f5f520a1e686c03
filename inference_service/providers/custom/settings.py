"""Settings of the ``custom`` service, with Elasticsearch's names.

One ``service_settings`` Struct per task type: they share the request template (``url``,
``headers``, ``query_parameters``, ``request``), ``input_type``, ``batch_size`` and
``rate_limit``, and differ in ``response.json_parser`` (the keys of each task);
``text_embedding`` adds the dense-embedding settings. Defaults Elasticsearch shows on GET are
materialised: ``embedding_type`` ``float``, ``input_type`` ``{"translation": {}, "default": ""}``,
``batch_size`` 10. Null ``headers`` and ``parameters`` values are dropped, as Elasticsearch drops
them (null means "not set").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from inference_service.model.embedding import REST_INPUT_TYPES
from inference_service.providers.custom.paths import check_path
from inference_service.providers.schema import (
    CHECK_MARKER,
    DESTINATION_MARKER,
    EmbeddingSettings,
    PositiveInt,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)

DEFAULT_BATCH_SIZE = 10

Scalar = str | int | float | bool
EmbeddingType = Literal["float", "byte", "bit", "binary"]
_REST_NAMES = tuple(t.value for t in REST_INPUT_TYPES)


def _paths(*paths: str | None) -> None:
    for path in paths:
        problem = check_path(path) if path is not None else None
        if problem is not None:
            raise ValueError(problem)


class TextEmbeddingJsonParser(SettingsStruct):
    text_embeddings: str
    """The path of the vectors, one per input (``$.data[*].embedding``)."""
    embedding_type: EmbeddingType | None = None
    """``float`` (default), ``byte`` (signed int8 per dimension), ``bit``/``binary`` (packed bits)."""

    def __post_init__(self) -> None:
        _paths(self.text_embeddings)
        if self.embedding_type is None:
            self.embedding_type = "float"


class SparseEmbeddingJsonParser(SettingsStruct):
    token_path: str
    """The tokens, one list per input (``$.result[*].embedding[*].token_id``)."""
    weight_path: str
    """Their weights, in the same shape."""

    def __post_init__(self) -> None:
        _paths(self.token_path, self.weight_path)


class RerankJsonParser(SettingsStruct):
    relevance_score: str
    """The scores (``$.results[*].relevance_score``)."""
    reranked_index: str | None = None
    """The input position of each score; without it the scores are in input order."""
    document_text: str | None = None
    """The text of each ranked document."""

    def __post_init__(self) -> None:
        _paths(self.relevance_score, self.reranked_index, self.document_text)


class CompletionJsonParser(SettingsStruct):
    completion_result: str
    """The answer: a string, or a list of one (``$.choices[*].message.content``)."""

    def __post_init__(self) -> None:
        _paths(self.completion_result)


class TextEmbeddingResponse(SettingsStruct):
    json_parser: TextEmbeddingJsonParser


class SparseEmbeddingResponse(SettingsStruct):
    json_parser: SparseEmbeddingJsonParser


class RerankResponse(SettingsStruct):
    json_parser: RerankJsonParser


class CompletionResponse(SettingsStruct):
    json_parser: CompletionJsonParser


class InputTypeTranslation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``input_type``: what ``${input_type}`` becomes per input type, and otherwise.

    Both fields are always written (Elasticsearch shows ``{"translation": {}, "default": ""}``).
    """

    translation: dict[str, str] = {}
    """Keyed by ``ingest``, ``search``, ``classification``, ``clustering`` (case-insensitive)."""
    default: str = ""

    def __post_init__(self) -> None:
        self.translation = {k.strip().lower(): v for k, v in self.translation.items()}

    def translate(self, input_type: str | None) -> str:
        if input_type is None:
            return self.default
        return self.translation.get(input_type, self.default)


def check_input_type(value: Any) -> list[str]:
    """Elasticsearch's messages for ``input_type.translation`` (the first problem, as it stops there)."""
    translation = value.get("translation") if isinstance(value, dict) else None
    if not isinstance(translation, dict):
        return []  # msgspec names the wrong type
    for key, item in translation.items():
        if not isinstance(item, str) or not item:
            return [
                f"Input type translation value for key [{key}] must be a String that is not null and not "
                f"empty, received: [{_java(item)}], type: [{_java_type(item)}]."
            ]
        if not isinstance(key, str) or key.strip().lower() not in _REST_NAMES:
            return [
                f"Invalid input type translation for key: [{key}], is not a valid value. Must be one of "
                f"[{', '.join(_REST_NAMES)}]"
            ]
    return []


def _java(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_type(value: Any) -> str:
    if value is None:
        return "null"
    names = {
        bool: "Boolean",
        int: "Integer",
        float: "Double",
        str: "String",
        list: "ArrayList",
        dict: "HashMap",
    }
    return names.get(type(value), type(value).__name__)


_DESTINATION = msgspec.Meta(extra={DESTINATION_MARKER: True})
Headers = Annotated[dict[str, str | None], _DESTINATION]
"""Header templates: ``${secret}`` placeholders put secrets in them, so they are destinations."""
QueryParameters = Annotated[list[tuple[str, str]], _DESTINATION]
RequestTemplate = Annotated[str, _DESTINATION]
"""The body template: ``${secret}`` in it sends the secret in the body (an echoing API would
show it), so it is a destination too."""

CheckedInputType = Annotated[InputTypeTranslation, msgspec.Meta(extra={CHECK_MARKER: check_input_type})]


class _Template(ServiceSettings, kw_only=True):
    """The request every task type builds, and how it is batched and limited."""

    url: Url
    headers: Headers | None = None
    query_parameters: QueryParameters | None = None
    request: RequestTemplate
    input_type: CheckedInputType | None = None
    batch_size: PositiveInt | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _materialise(self)


class CustomSparseEmbeddingSettings(_Template, kw_only=True):
    response: SparseEmbeddingResponse


class CustomRerankSettings(_Template, kw_only=True):
    response: RerankResponse


class CustomCompletionSettings(_Template, kw_only=True):
    response: CompletionResponse


class CustomTextEmbeddingSettings(EmbeddingSettings, kw_only=True):
    """The same template fields as :class:`_Template` (a Struct has one base with fields)."""

    url: Url
    headers: Headers | None = None
    query_parameters: QueryParameters | None = None
    request: RequestTemplate
    response: TextEmbeddingResponse
    input_type: CheckedInputType | None = None
    batch_size: PositiveInt | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _materialise(self)


CustomSettings = (
    CustomTextEmbeddingSettings
    | CustomSparseEmbeddingSettings
    | CustomRerankSettings
    | CustomCompletionSettings
)
CUSTOM_SETTINGS = (
    CustomTextEmbeddingSettings,
    CustomSparseEmbeddingSettings,
    CustomRerankSettings,
    CustomCompletionSettings,
)


def _materialise(settings: _Template | CustomTextEmbeddingSettings) -> None:
    if settings.headers is not None:
        settings.headers = {k: v for k, v in settings.headers.items() if v is not None}
    if settings.input_type is None:
        settings.input_type = InputTypeTranslation()
    if settings.batch_size is None:
        settings.batch_size = DEFAULT_BATCH_SIZE


class CustomSecrets(SettingsStruct):
    """``secret_parameters``: values for ``${name}`` placeholders, stored encrypted, never returned."""

    secret_parameters: dict[str, str]


class CustomTaskSettings(SettingsStruct):
    """``parameters``: scalar values for ``${name}`` placeholders; a request's merge over these."""

    parameters: dict[str, Scalar | None] | None = None

    def __post_init__(self) -> None:
        if self.parameters is not None:
            self.parameters = {k: v for k, v in self.parameters.items() if v is not None}

    @classmethod
    def merged(cls, stored: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
        """``parameters`` merge key by key (a request's null leaves the stored value)."""
        merged = {**stored, **override}
        old, new = stored.get("parameters"), override.get("parameters")
        if isinstance(old, dict) and isinstance(new, dict):
            merged["parameters"] = {**old, **{k: v for k, v in new.items() if v is not None}}
        return merged

    def values(self) -> dict[str, Scalar]:
        return {k: v for k, v in (self.parameters or {}).items() if v is not None}
