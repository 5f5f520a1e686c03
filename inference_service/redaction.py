"""Credentials cut out of text before it reaches a response or a log line.

Providers echo what they were sent: OpenAI-compatible servers quote the API key they refused,
Google puts ``?key=`` in the URLs of its messages, HTTP client errors repeat the URL, and a
traceback may carry a header dict. Two layers keep those values in:

- :func:`redact` with the endpoint's own secret values (:func:`secret_values` of its secrets
  Struct) at the one place upstream errors are built (:mod:`inference_service.providers.http`):
  exact values, whatever their shape.
- The patterns below, applied there too and by :class:`RedactingFilter` on every log record
  (:mod:`inference_service.logs`) as a backstop for secrets nobody told us about:
  credential-looking query parameters (``key=``, ``api_key=``, ``token=``, ``sig=`` …),
  credential header values (``Authorization``, ``x-api-key``, ``api-key``,
  ``x-goog-api-key`` …), ``Bearer``/``Basic``/``ApiKey`` credentials and the key formats of
  well-known providers (``sk-…``, ``AIza…``, ``hf_…``), masked ones included.

All of this runs only on failure paths and log lines, never per request or per chunk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from inference_service.errors import InferenceServiceError

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 4
"""Shorter secret values are not searched for: they would cut ordinary words out of messages,
and a credential that short protects nothing anyway."""

_VALUE = r"(?!\$\{)[^\s&#'\"<>\[\](){},;]+"
"""A credential's value; a custom service's ``${placeholder}`` is not one (its URL template is
what messages name)."""
_QUERY_PARAMETER = re.compile(
    r"(?i)([?&;](?:[a-z0-9_.-]*(?:key|token|secret|password|passwd|credential|signature)"
    r"|sig|code|auth)=)" + _VALUE
)
"""A query parameter whose name says it is a credential (Azure's SAS ``sig=`` and Functions'
``code=`` included); the name is kept, the value replaced."""
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization|\b(?:x-)?(?:goog-)?api[-_]?key|\bx-auth-token"
    r"|\bocp-apim-subscription-key)(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?:bearer|basic|apikey|token)\s+)?+" + _VALUE
)
"""``name: value`` or ``name=value`` (also quoted, as in a dict's repr or a JSON body) for the
credential headers and fields. The scheme is taken possessively (``?+``), so that
``Bearer ${api_key}``, a template, does not match as the value ``Bearer``."""
_SCHEME = re.compile(r"(?i)\b(bearer|basic|apikey)(\s+)[A-Za-z0-9._~+/-]{8,}=*")
"""An HTTP credential after its scheme (``Bearer sk-…``); short words (``Bearer auth``) stay."""
_KEY_FORMATS = re.compile(r"\b(?:sk-[A-Za-z0-9_*-]{12,}|AIza[A-Za-z0-9_*-]{20,}|hf_[A-Za-z0-9*]{20,})")
"""OpenAI, Anthropic and DeepSeek (``sk-``), Google (``AIza``) and Hugging Face (``hf_``) keys,
also as providers mask them (``sk-***…abcd``: the visible characters are still the key's)."""

E = TypeVar("E", bound=InferenceServiceError)


def secret_values(secrets: msgspec.Struct) -> tuple[str, ...]:
    """Every string a provider's secrets Struct holds (nested maps and lists too), longest
    first so that a secret containing another is replaced whole."""
    found: set[str] = set()
    _collect(msgspec.to_builtins(secrets), found)
    return tuple(sorted(found, key=len, reverse=True))


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        if len(value) >= MIN_SECRET_LENGTH:
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secret values and without anything that looks like a
    credential (see the module docstring). Idempotent."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    text = _QUERY_PARAMETER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _HEADER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _SCHEME.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return _KEY_FORMATS.sub(REDACTED, text)


def redact_error(error: E, secrets: Iterable[str] = ()) -> E:
    """``error`` with its reason (and the nested errors' reasons) redacted, in place: the
    reason is what responses show, ``args`` what a traceback in a log shows."""
    values = tuple(secrets)
    current: InferenceServiceError | None = error
    while current is not None:
        current.reason = redact(current.reason, values)
        current.args = (current.reason,)
        current = current.caused_by
    return error


class RedactingFilter(logging.Filter):
    """Redacts a record's message, exception text and stack before any handler formats it.

    The message is rendered (``msg % args``) and the exception formatted here, once, so that
    the formatter finds the redacted ``exc_text`` and uses it as is.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "safe", False):
            return True  # built from vetted values only (the request log line)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
