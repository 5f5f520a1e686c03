"""What a provider declares about itself: its name, task types and settings schemas.

A :class:`ProviderSpec` is data: all the management API needs to accept, validate and store an
endpoint for the provider, plus the :class:`~inference_service.providers.base.Provider` class
that serves it. ``providers/__init__.py`` lists one per built-in provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import msgspec

from inference_service.model.embedding import ElementType
from inference_service.model.task_type import TaskType
from inference_service.providers.base import Provider
from inference_service.providers.schema import NoTaskSettings, SettingsStruct

SettingsCheck = Callable[[TaskType, SettingsStruct, SettingsStruct, SettingsStruct], list[str]]
"""Rules across settings scopes: ``(task_type, service_settings, task_settings, secrets)`` ->
problems (empty when the combination is fine)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSpec:
    """A provider's declaration. ``name`` is the wire ``service`` value."""

    name: str
    provider: type[Provider]
    """Built once per process with the shared HTTP client."""
    service_settings: Mapping[TaskType, type[SettingsStruct]]
    """Service settings Struct per supported task type; its keys are the supported task types."""
    secrets: type[SettingsStruct]
    """Secret settings (sent inside ``service_settings``, stored encrypted, never returned)."""
    task_settings: Mapping[TaskType, type[SettingsStruct]] = field(default_factory=dict)
    """Task settings Struct per task type; task types not listed take none."""
    default_similarity: str = "dot_product"
    """What the PUT validation call fills in for a text_embedding endpoint without ``similarity``."""
    element_similarity: Mapping[ElementType, str] = field(default_factory=dict)
    """``default_similarity`` overridden for the vectors of one element type (``jinaai``:
    ``l2_norm`` for ``bit`` vectors); the element type is the one the validation call's answer
    has, so it follows the endpoint's own settings (``embedding_type``)."""
    default_rate_limit: Mapping[TaskType, int] = field(default_factory=dict)
    """``rate_limit.requests_per_minute`` materialised when not given (Elasticsearch's defaults)."""
    check_settings: SettingsCheck | None = None
    """Rules no single settings Struct can check (a task setting against a secret, a template
    against the parameters that fill it): run once all scopes are valid, on PUT/``_update`` and
    on every request's ``task_settings``."""

    @property
    def task_types(self) -> frozenset[TaskType]:
        return frozenset(self.service_settings)

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(f.name for f in msgspec.structs.fields(self.secrets))

    def similarity_for(self, element_type: ElementType) -> str:
        """The default ``similarity`` of an endpoint whose vectors have ``element_type``."""
        return self.element_similarity.get(element_type, self.default_similarity)

    def task_settings_for(self, task_type: TaskType) -> type[SettingsStruct]:
        return self.task_settings.get(task_type, NoTaskSettings)
