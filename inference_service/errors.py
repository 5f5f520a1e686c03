"""The one exception hierarchy of the service.

Every failure a client can see is an :class:`InferenceServiceError`. Each class carries its
HTTP status and its Elasticsearch exception type as class attributes, so code that raises
only says *what* went wrong; each API face renders it in its own format, in one place
(``api/<face>/errors.py``)::

    InferenceServiceError              500 status_exception
    ├─ BadRequestError                 400 status_exception
    │  ├─ InvalidRequestError          400 validation_exception (settings validation)
    │  ├─ ActionValidationError        400 action_request_validation_exception ("Validation Failed: 1: …;")
    │  ├─ ParseError                   400 parse_exception (missing body, bad time value)
    │  ├─ ContentParseError            400 x_content_parse_exception (malformed or mistyped JSON)
    │  ├─ IllegalArgumentError         400 illegal_argument_exception (unknown parameter, no route)
    │  ├─ MediaTypeError               400 media_type_header_exception (unsupported compat version)
    │  ├─ UnsupportedError             400 status_exception (the service or provider cannot do it)
    │  ├─ TaskTypeMismatchError        400 status_exception
    │  └─ EndpointExistsError          400 resource_already_exists_exception
    ├─ AuthenticationError             401 security_exception (no, bad, expired or invalidated key)
    │  └─ MissingCredentialsError      401 (no ``Authorization`` header)
    ├─ AuthorizationError              403 security_exception (the key's role or endpoints do not allow it)
    ├─ NotFoundError                   404 resource_not_found_exception
    │  └─ EndpointNotFoundError        404 (an inference id no endpoint has)
    ├─ MethodNotAllowedError           405 status_exception
    ├─ NotAcceptableError              406 media_type_header_exception (unsupported Content-Type)
    ├─ RequestTimeoutError             408 status_exception
    ├─ VersionConflictError            409 version_conflict_engine_exception
    ├─ ConflictError                   409 status_exception (the endpoint is in use: routers target it)
    │  └─ IdempotencyKeyInFlightError  409 (the key's first request still runs; ``Retry-After: 1``)
    ├─ ContentTooLongError             413 content_too_long_exception
    ├─ IdempotencyKeyReusedError       422 status_exception (the key was used for another request)
    ├─ AuthenticationRateLimitError    429 security_exception (too many failed attempts from one address)
    ├─ ServiceUnavailableError         503 status_exception (the idempotency store cannot be reached)
    │  ├─ ShuttingDownError            503 (a stream still open when ``shutdown_grace`` ends)
    │  └─ DatabaseUnreachableError     503 (a management call while the database is down)
    └─ UpstreamError                   the provider's status and type (5xx become 502)
       ├─ MalformedUpstreamError       502 x_content_parse_exception (a frame we cannot parse)
       ├─ UpstreamConnectionError      502
       ├─ UpstreamTimeoutError         504
       └─ StructuredOutputError        502 (an answer that breaks its strict response_format)

Only :class:`UpstreamError` takes its status and type per instance: they are the provider's,
known only when it answers. Any error may carry ``retry_after`` (seconds, as the header's text):
both faces send it as ``Retry-After``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar


class InferenceServiceError(Exception):
    """Base of every client-visible error. ``reason`` is safe to show: never a secret.

    ``code`` and ``param`` are the OpenAI-style fields of the chat error body (``param`` names
    the JSON path of the offending field); ``caused_by`` nests an underlying error the way
    Elasticsearch's envelope does; ``retry_after`` is the ``Retry-After`` the faces send with
    it (a provider's advice, the failed-attempt limit's, an idempotency key in flight), kept on
    the base class so rendering needs no list of the classes that have one.
    """

    http_status: ClassVar[int] = 500
    es_type: ClassVar[str] = "status_exception"

    def __init__(
        self,
        reason: str,
        *,
        caused_by: InferenceServiceError | None = None,
        code: str | None = None,
        param: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.caused_by = caused_by
        self.code = code
        self.param = param
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return self.http_status

    @property
    def error_type(self) -> str:
        return self.es_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, reason={self.reason!r})"


class BadRequestError(InferenceServiceError):
    """A request Elasticsearch refuses with a plain 400 ``status_exception``."""

    http_status = 400


class InvalidRequestError(BadRequestError):
    """Settings that fail validation (the reason names the field)."""

    es_type = "validation_exception"


class ActionValidationError(BadRequestError):
    """Request rules beyond types; the reason is :func:`validation_failed`'s numbered list."""

    es_type = "action_request_validation_exception"


class ParseError(BadRequestError):
    es_type = "parse_exception"


class ContentParseError(BadRequestError):
    """A body that is not JSON, or not of the expected shape (msgspec's message and path)."""

    es_type = "x_content_parse_exception"


class IllegalArgumentError(BadRequestError):
    es_type = "illegal_argument_exception"


class MediaTypeError(BadRequestError):
    es_type = "media_type_header_exception"


class UnsupportedError(BadRequestError):
    """Well-formed, but the service or provider cannot do it."""


class TaskTypeMismatchError(BadRequestError):
    pass


class EndpointExistsError(BadRequestError):
    es_type = "resource_already_exists_exception"

    def __init__(self, inference_id: str) -> None:
        super().__init__(f"Inference endpoint [{inference_id}] already exists")


class AuthenticationError(InferenceServiceError):
    """The credentials do not identify a usable API key. The reason never contains them;
    ``detail`` says why a key whose secret was right cannot be used (expired, invalidated),
    which only the holder of the secret can learn."""

    http_status = 401
    es_type = "security_exception"

    def __init__(
        self, reason: str = "unable to authenticate with provided credentials", *, detail: str | None = None
    ) -> None:
        super().__init__(reason, code="invalid_api_key")
        self.detail = detail


class MissingCredentialsError(AuthenticationError):
    def __init__(self, path: str) -> None:
        super().__init__(f"missing authentication credentials for REST request [{path}]")


class AuthorizationError(InferenceServiceError):
    """The key is valid but may not do this: its role is too low for ``action`` (an
    Elasticsearch action name), or ``inference_id`` is outside its endpoints; ``reason``
    replaces the Elasticsearch wording where neither applies."""

    http_status = 403
    es_type = "security_exception"

    def __init__(
        self,
        key_id: str,
        action: str,
        *,
        summary: str,
        granted_by: str = "",
        inference_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        if reason is None and inference_id is None:
            reason = (
                f"action [{action}] is unauthorized for API key id [{key_id}], "
                f"this action is granted by the roles [{granted_by}]"
            )
        elif reason is None:
            reason = (
                f"action [{action}] is unauthorized for API key id [{key_id}] on inference endpoint "
                f"[{inference_id}], which is not among the key's endpoints"
            )
        super().__init__(reason, code="insufficient_permissions")
        self.key_id = key_id
        self.summary = summary
        """What was refused, in words (``create inference endpoints``), for faces without
        Elasticsearch action names."""
        self.inference_id = inference_id


class NotFoundError(InferenceServiceError):
    http_status = 404
    es_type = "resource_not_found_exception"


class EndpointNotFoundError(NotFoundError):
    def __init__(self, inference_id: str) -> None:
        super().__init__(f"Inference endpoint not found [{inference_id}]")


class MethodNotAllowedError(InferenceServiceError):
    http_status = 405


class NotAcceptableError(InferenceServiceError):
    http_status = 406
    es_type = "media_type_header_exception"


class RequestTimeoutError(InferenceServiceError):
    http_status = 408


class VersionConflictError(InferenceServiceError):
    http_status = 409
    es_type = "version_conflict_engine_exception"


class ConflictError(InferenceServiceError):
    """The request conflicts with what uses the resource (routers targeting an endpoint)."""

    http_status = 409


class IdempotencyKeyInFlightError(ConflictError):
    """Another request with the same idempotency key is still running. The client is told to
    retry in a second rather than attached to the running request: a replay then answers it
    once the first is done, and no connection is held open on another one's behalf."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still in flight; retry after it completes",
            code="idempotency_key_in_flight",
            retry_after="1",
        )


class IdempotencyKeyReusedError(InferenceServiceError):
    """The idempotency key was first used for a request with another method, path, query or
    body: replaying that one's answer would answer a question the client did not ask."""

    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key conflict: this key was already used for a different request "
            "(method, path, query parameters or body differ); use a new key for a new request",
            code="idempotency_key_reused",
        )


class ServiceUnavailableError(InferenceServiceError):
    """A dependency the request needs cannot be reached (the idempotency store): the request
    is refused rather than served without the guarantee the client asked for."""

    http_status = 503


class ShuttingDownError(ServiceUnavailableError):
    """The worker is shutting down (SIGTERM, ``shutdown_grace`` over): a stream still open
    ends with this as its error frame, never with a silent cut."""

    def __init__(self) -> None:
        super().__init__("The service is shutting down; the stream was ended. Retry the request")


class DatabaseUnreachableError(ServiceUnavailableError):
    """A management call needs the database and it cannot be reached: 503 with the reason,
    not a 500 with a traceback. Inference does not need it (the catalog is in memory)."""

    def __init__(self) -> None:
        super().__init__("The database is unreachable; management calls are refused until it is back")


class ContentTooLongError(InferenceServiceError):
    http_status = 413
    es_type = "content_too_long_exception"


class AuthenticationRateLimitError(InferenceServiceError):
    """Too many failed authentication attempts from one client address; ``retry_after`` is
    the number of seconds until the next attempt is accepted."""

    http_status = 429
    es_type = "security_exception"

    def __init__(self, client: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed authentication attempts from [{client}]; retry in [{retry_after}s]",
            code="rate_limit_exceeded",
            retry_after=str(retry_after),
        )


class UpstreamError(InferenceServiceError):
    """The provider failed. Keeps its status (4xx pass through), ``type``, ``code`` and ``param``."""

    http_status = 502

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(reason, code=code, param=param)
        self._status = status if status is not None else self.http_status
        self._error_type = error_type or self.es_type
        # retry_after (the base class's): the provider's ``Retry-After`` (a 429 or 503)
        self.provider_status: int | None = None
        """The HTTP status the provider answered with (its 5xx are reported as 502; this keeps
        which), None when it did not answer with one."""
        self.retryable = False
        """A transient failure before the provider answered anything usable (a failed or reset
        connection, a 429, 502, 503 or 504): the same call may succeed when tried again
        (:mod:`inference_service.inference.retries`). Set where transport failures and provider
        statuses are mapped (:mod:`inference_service.providers.http`)."""

    @property
    def status(self) -> int:
        return self._status

    @property
    def error_type(self) -> str:
        return self._error_type


class MalformedUpstreamError(UpstreamError):
    es_type = "x_content_parse_exception"


class UpstreamConnectionError(UpstreamError):
    http_status = 502


class UpstreamTimeoutError(UpstreamError):
    http_status = 504


class StructuredOutputError(UpstreamError):
    """The provider answered, but not with what ``response_format`` (``strict: true``) asked
    for: its content is not JSON, or breaks the schema. The provider's fault, hence a 502."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="response_format_violation", param="response_format")


INTERNAL_ERROR_REASON = "Internal error; see the service log for details"


def validation_failed(problems: list[str]) -> str:
    """Elasticsearch's numbered list of problems: ``Validation Failed: 1: a;2: b;``."""
    return "Validation Failed: " + "".join(f"{n}: {p};" for n, p in enumerate(problems, start=1))


def status_code_name(status: int) -> str:
    """``408`` -> ``request_timeout``: the ``code`` Elasticsearch derives from a status
    (``UnifiedCompletionException.fromThrowable``); the OpenAI face names codes the same way."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "internal_server_error"
