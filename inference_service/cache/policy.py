"""An endpoint's ``cache`` object, and the key of one request in its cache.

``"cache": {"ttl": "10m"}`` (an extension beyond Elasticsearch) turns the response cache on
for an endpoint: identical requests within the TTL are answered from the cache instead of the
provider. It is validated strictly on PUT and ``_update`` (``null`` in an ``_update`` turns
caching off) and returned by GET.

The key is a SHA-256 over everything that changes the answer: the endpoint's whole
definition (id, service, task type, service and task settings, secrets and the ``cache``
object itself, so an ``_update`` that changes anything, or a new PUT of a deleted id with
other settings, never serves an old answer), the task settings of this request (the
endpoint's with the request's merged over them) and the whole decoded request with its
defaults. The definition rather than the row's version: the version and timestamps are the
database's, and every worker must derive the same key whether it learnt of the endpoint from
its own write or from the database (the secrets enter only the digest, never a stored key).
Dictionaries are encoded with sorted keys, so the order in which a client wrote its JSON does
not matter. The request's ``timeout`` is not part of it: it does not change the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from inference_service.errors import InvalidRequestError, ParseError, validation_failed
from inference_service.model.endpoint import Endpoint
from inference_service.model.time_value import parse_time_value
from inference_service.providers.base import EndpointConfig

_FIELDS = frozenset({"ttl"})
_CANONICAL = msgspec.msgpack.Encoder(order="deterministic")


def parse_cache(value: Any) -> dict[str, Any] | None:
    """A request's ``cache`` object as stored (None: no cache); one 400 lists every problem."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequestError(validation_failed(['[cache] must be an object such as {"ttl": "10m"}']))
    problems = [f"[cache] unknown setting [{name}]" for name in value if name not in _FIELDS]
    ttl = value.get("ttl")
    if ttl is None:
        problems.append("[cache] does not contain the required setting [ttl]")
    elif not isinstance(ttl, str):
        problems.append(f'[cache] [ttl] must be a time value such as "10m", got [{ttl!r}]')
    else:
        try:
            seconds = parse_time_value(ttl, "cache.ttl")
        except ParseError as exc:
            problems.append(f"[cache] {exc.reason}")
        else:
            if seconds is None:
                problems.append("[cache] [ttl] must be positive; remove the cache object to turn caching off")
    if problems:
        raise InvalidRequestError(validation_failed(problems))
    return {"ttl": ttl}


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How one stored version of an endpoint is cached."""

    ttl_s: float
    namespace: bytes
    """A digest of the endpoint's definition: every key of this version starts from it."""

    def key(self, config: EndpointConfig, request: msgspec.Struct) -> str:
        """The cache key (hex SHA-256) of ``request`` under this request's configuration."""
        digest = hashlib.sha256(self.namespace)
        digest.update(_CANONICAL.encode(config.task_settings))
        digest.update(_CANONICAL.encode(request))
        return digest.hexdigest()


def policy_for(endpoint: Endpoint) -> CachePolicy | None:
    """The cache policy of ``endpoint`` (None when it has no ``cache`` object)."""
    if endpoint.cache is None:
        return None
    ttl = parse_time_value(str(endpoint.cache["ttl"]), "cache.ttl")
    if ttl is None:
        return None
    identity = [
        endpoint.inference_id,
        endpoint.service,
        str(endpoint.task_type),
        endpoint.service_settings,
        endpoint.task_settings,
        endpoint.secrets,
        endpoint.cache,
    ]
    return CachePolicy(ttl_s=ttl, namespace=hashlib.sha256(_CANONICAL.encode(identity)).digest())
