"""Name -> provider lookup, validated once at start-up."""

from __future__ import annotations

from collections.abc import Iterable

from inference_service.errors import InvalidRequestError
from inference_service.providers.spec import ProviderSpec


class ProviderRegistry:
    """The providers this process serves. A duplicate name is a start-up error, not a warning."""

    def __init__(self, specs: Iterable[ProviderSpec]) -> None:
        self._specs: dict[str, ProviderSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"provider [{spec.name}] is registered twice")
            if not spec.task_types:
                raise ValueError(f"provider [{spec.name}] declares no task types")
            missing = set(spec.task_types) - set(spec.default_rate_limit)
            if missing and any("rate_limit" in s.__struct_fields__ for s in spec.service_settings.values()):
                raise ValueError(f"provider [{spec.name}] has no default rate limit for {sorted(missing)}")
            self._specs[spec.name] = spec

    def get(self, service: str) -> ProviderSpec:
        spec = self._specs.get(service)
        if spec is None:
            raise InvalidRequestError(f"Unknown service [{service}]", es_type="status_exception")
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
