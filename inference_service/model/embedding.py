"""What the service asks a provider to embed, and what comes back (dense and sparse).

These are the provider contract's types for ``text_embedding`` and ``sparse_embedding``; each
API face renders them in its own wire format.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from inference_service.errors import ActionValidationError, InvalidRequestError, validation_failed


class InputType(StrEnum):
    """How the embedded text will be used (Elasticsearch's ``input_type``).

    ``internal_*`` are what Elasticsearch itself sends for semantic_text (and what our PUT
    validation call sends); providers without the notion accept them and send nothing, and
    refuse the REST values with Elasticsearch's 400.
    """

    INGEST = "ingest"
    SEARCH = "search"
    CLASSIFICATION = "classification"
    CLUSTERING = "clustering"
    INTERNAL_INGEST = "internal_ingest"
    INTERNAL_SEARCH = "internal_search"

    @property
    def is_internal(self) -> bool:
        return self in (InputType.INTERNAL_INGEST, InputType.INTERNAL_SEARCH)

    @property
    def public(self) -> InputType:
        """The REST value an internal one stands for."""
        if self == InputType.INTERNAL_INGEST:
            return InputType.INGEST
        if self == InputType.INTERNAL_SEARCH:
            return InputType.SEARCH
        return self


REST_INPUT_TYPES = (InputType.INGEST, InputType.SEARCH, InputType.CLASSIFICATION, InputType.CLUSTERING)


def parse_input_type(value: str) -> InputType:
    """A REST ``input_type`` (case-insensitive, trimmed); the internal values are not REST values."""
    try:
        parsed = InputType(value.strip().lower())
    except ValueError:
        parsed = None
    if parsed is None or parsed.is_internal:
        raise ActionValidationError(validation_failed([f"Unrecognized input_type [{value}]"]))
    return parsed


def refuse_rest_input_type(input_type: InputType | None) -> None:
    """For providers with no notion of input type: a REST value is refused as Elasticsearch
    refuses it; the internal values (semantic_text, the PUT validation call) pass."""
    if input_type is not None and not input_type.is_internal:
        raise InvalidRequestError(
            validation_failed(
                [f"Invalid input_type [{input_type}]. The input_type option is not supported by this service"]
            )
        )


@dataclass(frozen=True, slots=True)
class JsonVector:
    """A vector kept as the provider's own JSON bytes (``[0.1,-0.2,...]``), checked to be an
    array of ``length`` numbers.

    Decoding millions of floats into Python objects and printing them again costs several
    times the transfer itself (measured in ``benchmarks/embeddings.py``); a JSON face writes
    these bytes through unchanged, and :meth:`values` decodes them for a face that needs the
    numbers.
    """

    raw: msgspec.Raw
    length: int

    def values(self) -> list[float]:
        return msgspec.json.decode(self.raw, type=list[float])


Vector = Sequence[float] | JsonVector


def vector_length(vector: Vector) -> int:
    return vector.length if isinstance(vector, JsonVector) else len(vector)


def check_input_type(input_type: InputType | None, allowed: Collection[InputType], service: str) -> None:
    """For providers that take some input types only: a value outside ``allowed`` is refused
    with Elasticsearch's 400 naming the service (its ``validateInputTypeAgainstAllowlist``)."""
    if input_type is not None and input_type not in allowed:
        raise InvalidRequestError(
            validation_failed([f"Input type [{input_type}] is not supported for [{service}]"])
        )


ElementType = Literal["float", "byte", "bit"]
"""``float`` vectors, ``byte`` (signed int8 per dimension) or ``bit`` (packed bits as signed
int8, dims/8 values)."""

Int8 = Annotated[int, msgspec.Meta(ge=-128, le=127)]
"""One value of a ``byte`` or ``bit`` vector, as providers send them: a signed byte."""


class EmbeddingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Texts to embed, in order, and how they will be used."""

    input: list[str]
    input_type: InputType | None = None


class TextEmbeddingResult(msgspec.Struct, frozen=True, kw_only=True):
    """One dense vector per input, in input order: floats, or for ``byte``/``bit`` element types
    the signed int8 values."""

    embeddings: Sequence[Vector]
    element_type: ElementType = "float"
    input_tokens: int | None = None
    """Tokens the provider counted for the inputs, when it reports them."""


class SparseEmbedding(msgspec.Struct, frozen=True, kw_only=True):
    embedding: dict[str, float]
    """Token -> weight."""
    is_truncated: bool = False


class SparseEmbeddingResult(msgspec.Struct, frozen=True, kw_only=True):
    """One sparse vector per input, in input order."""

    embeddings: list[SparseEmbedding]
