"""What a provider declares about itself: its name, task types and settings schemas.

A :class:`ProviderSpec` is data: all the management API needs to accept, validate and store an
endpoint for the provider, plus ``build`` to make the provider that serves it.
``providers/__init__.py`` lists one per built-in provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import msgspec

from inference_service.model.task_type import TaskType
from inference_service.providers.base import Provider, ProviderContext
from inference_service.providers.schema import SettingsStruct


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSpec:
    """A provider's declaration. ``name`` is the wire ``service`` value."""

    name: str
    build: Callable[[ProviderContext], Provider]
    """Makes the provider once per process, with the shared HTTP client."""
    service_settings: Mapping[TaskType, type[SettingsStruct]]
    """Service settings Struct per supported task type; its keys are the supported task types."""
    secrets: type[SettingsStruct]
    """Secret settings (sent inside ``service_settings``, stored encrypted, never returned)."""
    task_settings: Mapping[TaskType, type[SettingsStruct]] = field(default_factory=dict)
    default_rate_limit: Mapping[TaskType, int] = field(default_factory=dict)
    """``rate_limit.requests_per_minute`` materialised when not given (reference §6)."""

    @property
    def task_types(self) -> frozenset[TaskType]:
        return frozenset(self.service_settings)

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(f.name for f in msgspec.structs.fields(self.secrets))
