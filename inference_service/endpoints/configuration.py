"""Endpoint settings: validated strictly from a request, loaded leniently from a stored row.

Requests (PUT, ``_update``, per-request ``task_settings``) are parsed strictly, as
Elasticsearch's REQUEST parse context does: every field problem of the request in one
``validation_exception`` and leftover keys refused. Stored rows are parsed leniently (its
PERSISTENT context): a key that this version no longer knows is dropped, so a row written by an
older version still loads. Either way the result is typed: an
:class:`~inference_service.providers.base.EndpointConfig` of the provider's own Structs.

Elasticsearch reports every field problem of a request in one ``validation_exception``
("Validation Failed: 1: …;2: …;") and leftover keys as "Configuration contains settings
[{k=v}] unknown to the [x] service". msgspec stops at the first error, so this module walks the
provider's Structs field by field, converting each value with msgspec (strict types, the
Struct's constraints) and collecting the messages, then builds the Struct once all pass.

Secrets arrive inside ``service_settings`` (as in Elasticsearch) and are split out here, so
nothing downstream ever sees them mixed with public settings. Messages never echo a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from inference_service.endpoints.chunking import (
    CHUNKING_FIELDS,
    DEFAULT_CHUNKING,
    NO_STRATEGY,
    ChunkingSettings,
    chunking_problems,
)
from inference_service.errors import InvalidRequestError, UnsupportedError, validation_failed
from inference_service.model.endpoint import INTERNAL_SETTINGS, Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.schema import CHECK_MARKER, URL_MARKER, SettingsStruct, field_extra
from inference_service.providers.spec import ProviderSpec
from inference_service.providers.url_policy import origins

log = logging.getLogger("inference_service.endpoints")
S = TypeVar("S", bound=SettingsStruct)


class EndpointSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Validated settings of one endpoint, as plain JSON-ready maps (what is stored)."""

    service_settings: dict[str, Any]
    task_settings: dict[str, Any]
    secrets: dict[str, Any]
    chunking_settings: dict[str, Any] | None


def java_map(value: Any) -> str:
    """Render a value the way Elasticsearch prints a Java map: ``{foo=bar, n=1}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={java_map(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_map(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Collector:
    """Accumulates field errors and unknown keys across all settings scopes."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.errors: list[str] = []
        self.unknown: dict[str, Any] = {}

    def struct(
        self,
        scope: str,
        struct: type[S],
        data: Mapping[str, Any],
        *,
        secret: bool = False,
    ) -> S | None:
        """Validate the keys of ``data`` that ``struct`` declares; return it if all pass."""
        values: dict[str, Any] = {}
        ok = True
        for field in msgspec.structs.fields(struct):
            if field.name in INTERNAL_SETTINGS:
                continue
            if field.name not in data or data[field.name] is None:
                if field.required:
                    self.errors.append(f"[{scope}] does not contain the required setting [{field.name}]")
                    ok = False
                continue
            value = data[field.name]
            check = field_extra(field.type, CHECK_MARKER)
            problems = check(value) if check is not None else []
            if problems:
                self.errors.extend(problems)
                ok = False
                continue
            if value == "":
                self.errors.append(
                    f"[{scope}] Invalid value empty string. [{field.name}] must be a non-empty string"
                )
                ok = False
                continue
            try:
                converted = msgspec.convert(value, field.type)
            except msgspec.ValidationError as exc:
                shown = "" if secret else f" [{java_map(value)}]"
                detail = str(exc).replace(" - at `$`", "").replace("`$", f"`$.{field.name}")
                self.errors.append(f"[{scope}] Invalid value{shown} for setting [{field.name}]: {detail}")
                ok = False
                continue
            if _is_url(field.type) and not _valid_url(converted):
                self.errors.append(f"[{scope}] Invalid url [{value}] received for field [{field.name}]")
                ok = False
                continue
            values[field.name] = value
        if not ok:
            return None
        try:
            return msgspec.convert(values, struct)
        except msgspec.ValidationError as exc:  # cross-field rules in a Struct's __post_init__
            self.errors.append(f"[{scope}] {exc}")
            return None

    def leftover(self, data: Mapping[str, Any], known: frozenset[str]) -> None:
        self.unknown.update({k: v for k, v in data.items() if k not in known})

    def raise_if_any(self) -> None:
        if self.errors:
            if self.unknown:
                self.errors.append(self._unknown_message())
            raise InvalidRequestError(validation_failed(self.errors))
        if self.unknown:
            raise UnsupportedError(self._unknown_message())

    def _unknown_message(self) -> str:
        settings = java_map(self.unknown)
        return f"Configuration contains settings [{settings}] unknown to the [{self.service}] service"


def _is_url(annotation: Any) -> bool:
    return bool(field_extra(annotation, URL_MARKER))


def _valid_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _names(struct: type[SettingsStruct]) -> frozenset[str]:
    return frozenset(f.name for f in msgspec.structs.fields(struct))


def _request_names(struct: type[SettingsStruct]) -> frozenset[str]:
    """The settings a request may give (the service's internal ones are not among them)."""
    return _names(struct) - INTERNAL_SETTINGS


def parse_endpoint_settings(
    spec: ProviderSpec,
    task_type: TaskType,
    service_settings: Mapping[str, Any],
    task_settings: Mapping[str, Any] | None,
    chunking_settings: Mapping[str, Any] | None,
    *,
    dimensions_set_by_user: bool | None = None,
) -> EndpointSettings:
    """Validate a PUT's settings for ``spec``/``task_type``; raise one error listing all problems.

    Embedding settings that have ``dimensions_set_by_user`` record whether the request gave
    ``dimensions`` (or ``dimensions_set_by_user`` when the caller knows better: an update that
    keeps dimensions the validation call filled in); providers send dimensions upstream only
    when the user chose them.
    """
    if task_type not in spec.task_types:
        raise UnsupportedError(f"The [{spec.name}] service does not support task type [{task_type}]")
    collect = _Collector(spec.name)
    service_struct = spec.service_settings[task_type]
    service = collect.struct("service_settings", service_struct, service_settings)
    secrets = collect.struct("secret_settings", spec.secrets, service_settings, secret=True)
    collect.leftover(service_settings, _request_names(service_struct) | _names(spec.secrets))

    task_struct = spec.task_settings_for(task_type)
    task = collect.struct("task_settings", task_struct, task_settings or {})
    collect.leftover(task_settings or {}, _request_names(task_struct))

    chunking = _parse_chunking(collect, task_type, chunking_settings)
    collect.raise_if_any()
    assert service is not None and secrets is not None and task is not None  # raise_if_any saw no errors
    _check_across(spec, task_type, service, task, secrets)

    public = msgspec.to_builtins(service)
    fields = _names(service_struct)
    if "rate_limit" in fields and "rate_limit" not in public:
        public["rate_limit"] = {"requests_per_minute": spec.default_rate_limit[task_type]}
    if "dimensions_set_by_user" in fields:
        chosen = (
            "dimensions" in service_settings if dimensions_set_by_user is None else dimensions_set_by_user
        )
        public["dimensions_set_by_user"] = chosen
    return EndpointSettings(
        service_settings=public,
        task_settings=msgspec.to_builtins(task),
        secrets=msgspec.to_builtins(secrets),
        chunking_settings=chunking,
    )


def override_task_settings(
    spec: ProviderSpec, endpoint: Endpoint, config: EndpointConfig, override: Mapping[str, Any]
) -> EndpointConfig:
    """``config`` with a request's ``task_settings`` merged over the endpoint's, validated as on PUT."""
    collect = _Collector(spec.name)
    task_struct = spec.task_settings_for(endpoint.task_type)
    merged = task_struct.merged(known_only(task_struct, endpoint.task_settings), override)
    task = collect.struct("task_settings", task_struct, merged)
    collect.leftover(merged, _request_names(task_struct))
    collect.raise_if_any()
    assert task is not None
    _check_across(spec, endpoint.task_type, config.service_settings, task, config.secrets)
    overridden = EndpointConfig(
        inference_id=config.inference_id,
        task_type=config.task_type,
        service_settings=config.service_settings,
        task_settings=task,
        secrets=config.secrets,
    )
    if spec.call_urls is not None and origins(spec.user_urls(overridden)) != origins(spec.user_urls(config)):
        # A URL filled in from task parameters: a request may not aim the stored secrets at
        # another host (its path and query it may change).
        raise InvalidRequestError(
            validation_failed(
                [
                    "[task_settings] the parameters of a request may not change the host the endpoint "
                    "calls (its secrets are sent there); change the endpoint with _update instead"
                ]
            )
        )
    return overridden


def _check_across(
    spec: ProviderSpec,
    task_type: TaskType,
    service: SettingsStruct,
    task: SettingsStruct,
    secrets: SettingsStruct,
) -> None:
    """The provider's rules across scopes (:attr:`ProviderSpec.check_settings`), in one 400."""
    if spec.check_settings is None:
        return
    problems = spec.check_settings(task_type, service, task, secrets)
    if problems:
        raise InvalidRequestError(validation_failed(problems))


def load_config(spec: ProviderSpec, endpoint: Endpoint) -> EndpointConfig:
    """The typed configuration of a stored endpoint (lenient: keys this version dropped are ignored).

    Raises :class:`InvalidRequestError` when the row cannot be read even so (a setting that
    became required, a value that no longer validates): the endpoint is then unusable until
    it is updated, and its requests say why.
    """
    task_type = endpoint.task_type
    service_struct = spec.service_settings.get(task_type)
    if service_struct is None:
        raise UnsupportedError(f"The [{spec.name}] service does not support task type [{task_type}]")
    return EndpointConfig(
        inference_id=endpoint.inference_id,
        task_type=task_type,
        service_settings=_lenient(service_struct, endpoint.service_settings, endpoint, "service_settings"),
        task_settings=_lenient(
            spec.task_settings_for(task_type), endpoint.task_settings, endpoint, "task_settings"
        ),
        secrets=_lenient(spec.secrets, endpoint.secrets, endpoint, "secret_settings"),
    )


def _lenient(struct: type[S], data: Mapping[str, Any], endpoint: Endpoint, scope: str) -> S:
    dropped: list[str] = []
    known = known_only(struct, data, dropped)
    if dropped:
        log.info("[%s] ignores stored %s %s unknown to this version", endpoint.inference_id, scope, dropped)
    try:
        return msgspec.convert(known, struct)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(
            f"The stored configuration of inference endpoint [{endpoint.inference_id}] cannot be read "
            f"by this version ([{scope}] {exc}); update the endpoint"
        ) from None


def known_only(
    struct: type[SettingsStruct], data: Mapping[str, Any], dropped: list[str] | None = None, prefix: str = ""
) -> dict[str, Any]:
    """``data`` without the keys ``struct`` does not declare, at every level of nested settings
    Structs (``rate_limit``...): how a stored row written by another version is read. The
    dropped keys' dotted names are appended to ``dropped``."""
    fields = {f.name: f.type for f in msgspec.structs.fields(struct)}
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            if dropped is not None:
                dropped.append(prefix + key)
            continue
        nested = _nested_struct(fields[key])
        if nested is not None and isinstance(value, Mapping):
            value = known_only(nested, value, dropped, f"{prefix}{key}.")
        kept[key] = value
    return kept


def _nested_struct(annotation: Any) -> type[SettingsStruct] | None:
    info = msgspec.inspect.type_info(annotation)
    members = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    for member in members:
        if isinstance(member, msgspec.inspect.StructType) and issubclass(member.cls, SettingsStruct):
            return member.cls
    return None


def stored_request_settings(spec: ProviderSpec, endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """An endpoint's stored service settings (secrets included) and task settings as a request
    would give them: without internal settings and without keys this version dropped, so that
    merging a change over them validates only what the request brought."""
    task_type = endpoint.task_type
    service = known_only(spec.service_settings[task_type], endpoint.service_settings)
    public = {k: v for k, v in service.items() if k not in INTERNAL_SETTINGS}
    secrets = known_only(spec.secrets, endpoint.secrets)
    return {**public, **secrets}, known_only(spec.task_settings_for(task_type), endpoint.task_settings)


def _parse_chunking(
    collect: _Collector, task_type: TaskType, data: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Chunking applies to embedding task types only; defaults are materialised there."""
    if not task_type.is_embedding:
        if data:
            collect.errors.append(f"[chunking_settings] are not supported for task type [{task_type}]")
        return None
    if not data:
        return dict(DEFAULT_CHUNKING)
    if data.get("strategy") is None:
        collect.errors.append(f"[chunking_settings] {NO_STRATEGY}")
        collect.leftover(data, CHUNKING_FIELDS)
        return None
    parsed = collect.struct("chunking_settings", ChunkingSettings, data)
    collect.leftover(data, CHUNKING_FIELDS)
    if parsed is None:
        return None
    problems = chunking_problems(parsed)
    collect.errors.extend(f"[chunking_settings] {p}" for p in problems)
    return msgspec.to_builtins(parsed) if not problems else None
