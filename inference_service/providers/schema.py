"""Building blocks for provider settings Structs, shared by every provider's ``settings.py``.

A provider declares its settings as msgspec Structs inheriting :class:`SettingsStruct`.
Field types carry their constraints (``msgspec.Meta``); :data:`Url` marks a field that must
hold an absolute http(s) URL (checked against the provider URL guard on PUT and ``_update``);
:data:`DESTINATION_MARKER` (:data:`Destination`) marks any other setting that decides where the
endpoint's secrets are sent (an Azure resource name, a custom service's header templates). A
change to a ``Url`` or destination setting must re-supply the endpoint's secrets. A secret
lives in the provider's ``Secrets`` Struct and nowhere else.
:mod:`inference_service.endpoints.configuration` walks these Structs to produce
Elasticsearch's validation messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from inference_service.errors import InvalidRequestError

URL_MARKER = "url"
DESTINATION_MARKER = "destination"
"""``msgspec.Meta(extra={DESTINATION_MARKER: True})``: changing this setting changes where (or in
which part of a request) the endpoint's secrets are sent, so an ``_update`` that changes it must
send the secrets again. Every :data:`Url` setting is one too."""
CHECK_MARKER = "check"
"""``msgspec.Meta(extra={CHECK_MARKER: check})`` on a settings field: ``check(raw_value)`` returns
the value's problems (a list of messages, empty when it is fine) before it is converted, for rules
whose wording msgspec cannot give (Elasticsearch's own messages)."""

Url = Annotated[str, msgspec.Meta(extra={URL_MARKER: True})]
"""A string that must be an absolute ``http``/``https`` URL."""

Destination = Annotated[str, msgspec.Meta(extra={DESTINATION_MARKER: True})]
"""A string setting that is a destination (:data:`DESTINATION_MARKER`) but not a URL."""

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]

HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$(?!\n)"
"""An HTTP field name (RFC 9110's ``token``). ``(?!\\n)``: msgspec matches with ``re.search``,
whose ``$`` also matches before a final line break (JSON Schema's does not)."""
HEADER_VALUE_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f]*$(?!\n)"
"""An HTTP field value: no control character but tab (RFC 9110 5.5), what aiohttp refuses to
send (a ``ValueError`` mid-request, once a 500): a CR/LF here would be header injection."""
HeaderName = Annotated[str, msgspec.Meta(pattern=HEADER_NAME_PATTERN)]
HeaderValue = Annotated[str, msgspec.Meta(pattern=HEADER_VALUE_PATTERN)]
"""A setting or secret the provider sends in a header (an API key, extra headers)."""
HeaderMap = dict[HeaderName, HeaderValue]
_HEADER_NAME = re.compile(HEADER_NAME_PATTERN)
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_headers(headers: Mapping[str, str]) -> None:
    """Headers aiohttp can send: a control character in one (a secret or a template filled in,
    which the settings patterns cannot see) is the endpoint's configuration at fault, a 400
    naming the header but never its value, not aiohttp's ``ValueError`` (a 500)."""
    for name, value in headers.items():
        if not _HEADER_NAME.search(name):
            raise InvalidRequestError("a header name built from the endpoint's settings is not a valid name")
        if _HEADER_CONTROL.search(value) is not None:
            raise InvalidRequestError(
                f"the [{name}] header built from the endpoint's settings and secrets contains a control "
                "character; fix them with _update"
            )


def field_extra(annotation: Any, marker: str) -> Any:
    """What a field type's ``msgspec.Meta(extra=...)`` holds under ``marker`` (None without it)."""
    info = msgspec.inspect.type_info(annotation)
    members = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    for t in members:
        if isinstance(t, msgspec.inspect.Metadata) and marker in (t.extra or {}):
            return (t.extra or {})[marker]
    return None


def url_fields(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """The names of ``struct``'s :data:`Url` fields."""
    return tuple(f.name for f in msgspec.structs.fields(struct) if field_extra(f.type, URL_MARKER))


def destination_fields(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """The names of ``struct``'s fields that decide where secrets go: :data:`Url` and destination ones."""
    return tuple(
        f.name
        for f in msgspec.structs.fields(struct)
        if field_extra(f.type, URL_MARKER) or field_extra(f.type, DESTINATION_MARKER)
    )


class SettingsStruct(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of all provider settings.

    ``forbid_unknown_fields``: an unknown key is a user mistake, never ignored.
    ``omit_defaults``: the stored/returned JSON carries only what was set or materialised.
    """

    @classmethod
    def merged(cls, stored: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
        """The settings ``override`` (a request's or an update's) gives over ``stored``: key by key."""
        return {**stored, **override}


class RateLimit(SettingsStruct):
    requests_per_minute: PositiveInt


MAX_UPSTREAM_RETRIES = 10
UpstreamRetries = Annotated[int, msgspec.Meta(ge=0, le=MAX_UPSTREAM_RETRIES)]


class ServiceSettings(SettingsStruct):
    """Base of every provider's service settings Struct: the settings every endpoint has,
    declared once here rather than in each provider (the router's settings are not one: its
    targets retry, each by its own).

    ``upstream_max_retries`` overrides the service's setting of that name for this endpoint
    (:mod:`inference_service.inference.retries`; 0 disables retries); unset, the service's
    applies, so changing it reaches every endpoint that did not choose.
    """

    upstream_max_retries: UpstreamRetries | None = None


Similarity = Literal["cosine", "dot_product", "l2_norm"]


class EmbeddingSettings(ServiceSettings, kw_only=True):
    """The settings every dense-embedding endpoint has: the base of a provider's own Struct.

    ``dimensions`` and ``similarity`` are filled by the PUT validation call when not given;
    ``dimensions_set_by_user`` is internal (never accepted or returned): only dimensions the
    user chose are sent upstream.
    """

    dimensions: PositiveInt | None = None
    similarity: Similarity | None = None
    max_input_tokens: PositiveInt | None = None
    dimensions_set_by_user: bool | None = None


class ApiKeySecrets(SettingsStruct):
    """The secret of every provider that authenticates with one API key (sent in a header)."""

    api_key: HeaderValue


class NoSecrets(SettingsStruct):
    """For providers that need no secret (a local model)."""


class NoTaskSettings(SettingsStruct):
    """For task types that take no task settings: any key is refused as unknown."""
