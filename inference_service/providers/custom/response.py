"""A ``custom`` endpoint's upstream answer -> results, through its ``json_parser`` paths (pure).

Each path is applied with :mod:`~inference_service.providers.custom.paths` (nested lists kept,
as Elasticsearch keeps them). An answer that is not JSON, lacks a path's field, or has values of
the wrong kind is a 502 naming the path and the problem. A non-2xx answer passes its status
through (5xx become 502) with Elasticsearch's wording for the custom service and the body's text
as the message: the API is unknown, so its error body is shown as it came.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import msgspec

from inference_service.errors import MalformedUpstreamError, UpstreamError
from inference_service.model.embedding import (
    ElementType,
    SparseEmbedding,
    SparseEmbeddingResult,
    TextEmbeddingResult,
)
from inference_service.model.rerank import RankedDocument, RerankResult
from inference_service.providers.custom.paths import PathError, compile_path, extract
from inference_service.providers.custom.settings import (
    CompletionJsonParser,
    RerankJsonParser,
    SparseEmbeddingJsonParser,
    TextEmbeddingJsonParser,
)
from inference_service.providers.http import upstream_status

MAX_ERROR_TEXT = 2000
T = TypeVar("T")
_ELEMENT_TYPES: dict[str, ElementType] = {"float": "float", "byte": "byte", "bit": "bit", "binary": "bit"}


class _Failure(ValueError):
    """A value of the wrong kind; becomes the 502 naming the path."""


def parse_custom_embeddings(
    raw: bytes, parser: TextEmbeddingJsonParser, inference_id: str
) -> TextEmbeddingResult:
    """One vector per entry of ``text_embeddings``; ``byte``/``bit`` vectors are signed int8 values."""
    path = parser.text_embeddings
    element_type = _ELEMENT_TYPES[parser.embedding_type or "float"]
    entries = _list(_extract(raw, path, inference_id), path, inference_id)
    vectors: list[list[float]] = []
    for i, entry in enumerate(entries):
        try:
            values = _items(entry, "an array of numbers")
            vectors.append(
                [_number(v) for v in values] if element_type == "float" else [_int8(v) for v in values]
            )
        except _Failure as exc:
            raise _malformed(inference_id, path, f"text embedding entry [{i}]: {exc}") from None
    return TextEmbeddingResult(embeddings=vectors, element_type=element_type)


def parse_custom_sparse_embeddings(
    raw: bytes, parser: SparseEmbeddingJsonParser, inference_id: str
) -> SparseEmbeddingResult:
    """Tokens and weights, one list of each per input, paired by position."""
    document = _decode(raw, inference_id)
    tokens = _list(_apply(document, parser.token_path, inference_id), parser.token_path, inference_id)
    weights = _list(_apply(document, parser.weight_path, inference_id), parser.weight_path, inference_id)
    both = f"{parser.token_path}] and [{parser.weight_path}"
    if len(tokens) != len(weights):
        raise _malformed(inference_id, both, _sizes("tokens", len(tokens), "weights", len(weights)))
    embeddings: list[SparseEmbedding] = []
    for i, (token_list, weight_list) in enumerate(zip(tokens, weights, strict=True)):
        try:
            names = _items(token_list, "an array of tokens")
            values = _items(weight_list, "an array of weights")
            if len(names) != len(values):
                raise _Failure(_sizes("tokens", len(names), "weights", len(values)))
            embedding = {_token(name): _number(weight) for name, weight in zip(names, values, strict=True)}
        except _Failure as exc:
            raise _malformed(inference_id, both, f"sparse embedding entry [{i}]: {exc}") from None
        embeddings.append(SparseEmbedding(embedding=embedding))
    return SparseEmbeddingResult(embeddings=embeddings)


def parse_custom_rerank(raw: bytes, parser: RerankJsonParser, inference_id: str) -> RerankResult:
    """Scores, with their input positions (else in input order) and texts when the paths are set."""
    document = _decode(raw, inference_id)
    scores = _values(document, parser.relevance_score, inference_id, _number)
    indexes = (
        _values(document, parser.reranked_index, inference_id, _index)
        if parser.reranked_index is not None
        else list(range(len(scores)))
    )
    texts: list[str | None] = [None] * len(scores)
    if parser.document_text is not None:
        texts = list(_values(document, parser.document_text, inference_id, _text))
    for name, found in (("index", len(indexes)), ("document", len(texts))):
        if found != len(scores):
            raise _malformed(
                inference_id,
                parser.relevance_score,
                f"the number of {name} fields [{found}] is not the number of scores [{len(scores)}]",
            )
    return RerankResult(
        ranked=[
            RankedDocument(index=index, relevance_score=score, text=text)
            for index, score, text in zip(indexes, scores, texts, strict=True)
        ]
    )


def parse_custom_completion(raw: bytes, parser: CompletionJsonParser, inference_id: str) -> str:
    """The one answer: a string, or an array holding one string."""
    path = parser.completion_result
    found = _extract(raw, path, inference_id)
    if isinstance(found, list):
        if len(found) != 1:
            raise _malformed(inference_id, path, f"expected one completion, found [{len(found)}] values")
        found = found[0]
    if not isinstance(found, str):
        raise _malformed(inference_id, path, f"expected a string, found {_kind(found)}")
    return found


def parse_custom_error(status: int, body: bytes, inference_id: str) -> UpstreamError:
    """A non-2xx answer: its status (5xx -> 502) and body text, in Elasticsearch's words."""
    text = body.decode("utf-8", "replace").strip()[:MAX_ERROR_TEXT] or f"HTTP {status}"
    if status >= 500:
        prefix = "Received a server error status code"
    elif status == 429:
        prefix = "Received a rate limit status code"
    elif status == 401:
        prefix = "Received an authentication error status code"
    elif 300 <= status < 400:
        prefix = "Unhandled redirection"
    else:
        prefix = "Received an unsuccessful status code"
    return UpstreamError(
        f"{prefix} for request from inference entity id [{inference_id}] status [{status}]. "
        f"Error message: [{text}]",
        status=upstream_status(status),
    )


def _decode(raw: bytes, inference_id: str) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedUpstreamError(
            f"The provider's answer for inference entity id [{inference_id}] is not JSON: {exc}"
        ) from None


def _extract(raw: bytes, path: str, inference_id: str) -> object:
    return _apply(_decode(raw, inference_id), path, inference_id)


def _apply(document: object, path: str, inference_id: str) -> object:
    try:
        return extract(compile_path(path), document)
    except PathError as exc:
        raise _malformed(inference_id, path, str(exc)) from None


def _list(found: object, path: str, inference_id: str) -> list[object]:
    if not isinstance(found, list):
        raise _malformed(inference_id, path, f"expected an array, found {_kind(found)}")
    return found


def _values(document: object, path: str, inference_id: str, convert: Callable[[object], T]) -> list[T]:
    found = _list(_apply(document, path, inference_id), path, inference_id)
    try:
        return [convert(v) for v in found]
    except _Failure as exc:
        raise _malformed(inference_id, path, str(exc)) from None


def _items(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise _Failure(f"expected {what}, found {_kind(value)}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Failure(f"expected a number, found {_kind(value)}")
    return value


def _int8(value: object) -> float:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -128 <= value <= 127:
        raise _Failure(f"expected an integer from -128 to 127, found {_kind(value)}")
    return value


def _index(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Failure(f"expected an integer index, found {_kind(value)}")
    return value


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        raise _Failure(f"expected a string, found {_kind(value)}")
    return value


def _token(value: object) -> str:
    """Tokens may be ids (numbers) or strings; ids become their decimal text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Failure(f"expected a token string or id, found {_kind(value)}")


def _sizes(a: str, na: int, b: str, nb: int) -> str:
    return f"the {a} list has [{na}] entries but the {b} list [{nb}]; they must be equal"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean [{'true' if value else 'false'}]"
    if isinstance(value, int | float):
        return f"the number [{value}]"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _malformed(inference_id: str, path: str, problem: str) -> MalformedUpstreamError:
    return MalformedUpstreamError(
        f"Failed to parse the response for inference entity id [{inference_id}] with path [{path}]: {problem}"
    )
