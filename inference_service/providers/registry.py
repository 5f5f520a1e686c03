"""Name -> provider lookup, validated once at start-up."""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from inference_service.errors import BadRequestError
from inference_service.model.task_type import TaskType
from inference_service.providers.base import TASK_METHODS, implemented_task_types
from inference_service.providers.schema import destination_fields
from inference_service.providers.spec import ProviderSpec

_LOOKS_LIKE_DESTINATION = re.compile(r"(^|_)(url|uri|urls|host|hostname|endpoint|address|resource_name)$")
"""Setting names that say "where the call goes": such a setting must be declared a ``Url`` or
a ``Destination``, so the URL guard and the secret re-supply rule cannot be forgotten."""


class ProviderSpecError(ValueError):
    """A provider declaration contradicts itself; the service refuses to start."""


def check_spec(spec: ProviderSpec) -> None:
    """Declared task types, settings schemas and implemented methods must agree."""
    declared = spec.task_types
    if not declared:
        raise ProviderSpecError(f"provider [{spec.name}] declares no task types")
    implemented = implemented_task_types(spec.provider)
    # One method may serve several task types (``stream_chat``: chat_completion and completion):
    # a provider must implement every task type it declares, and declare one of each method's.
    unused = {
        method
        for task, method in TASK_METHODS.items()
        if task in implemented and not any(TASK_METHODS[t] == method for t in declared)
    }
    if not declared <= implemented or unused:
        raise ProviderSpecError(
            f"provider [{spec.name}] declares task types {_names(declared)} but "
            f"{spec.provider.__name__} implements {_names(implemented)}"
        )
    for what, keys in (
        ("task settings", spec.task_settings),
        ("default rate limits", spec.default_rate_limit),
    ):
        extra = set(keys) - declared
        if extra:
            raise ProviderSpecError(
                f"provider [{spec.name}] has {what} for undeclared task types {_names(extra)}"
            )
    limited = {t for t, s in spec.service_settings.items() if "rate_limit" in s.__struct_fields__}
    missing = limited - set(spec.default_rate_limit)
    if missing:
        raise ProviderSpecError(f"provider [{spec.name}] has no default rate limit for {_names(missing)}")
    for task_type, struct in spec.service_settings.items():
        declared_destinations = set(destination_fields(struct))
        for f in msgspec.structs.fields(struct):
            if _LOOKS_LIKE_DESTINATION.search(f.name) and f.name not in declared_destinations:
                raise ProviderSpecError(
                    f"provider [{spec.name}] setting [{f.name}] of task type [{task_type}] names where "
                    "calls go but is neither a Url nor a Destination (providers.schema)"
                )


def _names(task_types: Iterable[TaskType]) -> str:
    return "[" + ", ".join(sorted(str(t) for t in task_types)) + "]"


class ProviderRegistry:
    """The providers this process serves. A bad or duplicate declaration is a start-up error."""

    def __init__(self, specs: Iterable[ProviderSpec]) -> None:
        self._specs: dict[str, ProviderSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ProviderSpecError(f"provider [{spec.name}] is registered twice")
            check_spec(spec)
            self._specs[spec.name] = spec

    def get(self, service: str) -> ProviderSpec:
        spec = self._specs.get(service)
        if spec is None:
            raise BadRequestError(f"Unknown service [{service}]")
        return spec

    @property
    def names(self) -> list[str]:
        return sorted(self._specs)

    @property
    def specs(self) -> list[ProviderSpec]:
        return [self._specs[name] for name in self.names]


def builtin_registry() -> ProviderRegistry:
    from inference_service.providers import BUILTIN_PROVIDERS

    return ProviderRegistry(BUILTIN_PROVIDERS)
