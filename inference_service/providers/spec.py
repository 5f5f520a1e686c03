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
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.schema import NoTaskSettings, SettingsStruct, destination_fields, url_fields

SettingsCheck = Callable[[TaskType, SettingsStruct, SettingsStruct, SettingsStruct], list[str]]
"""Rules across settings scopes: ``(task_type, service_settings, task_settings, secrets)`` ->
problems (empty when the combination is fine)."""

CallUrls = Callable[[TaskType, SettingsStruct, SettingsStruct, SettingsStruct], Mapping[str, str]]
"""``(task_type, service_settings, task_settings, secrets)`` -> the URLs the user chose that the
provider will call, keyed by the setting that gives each."""


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
    call_urls: CallUrls | None = None
    """For a provider whose URLs are not simply its :data:`~inference_service.providers.schema.Url`
    settings (``custom``: its URL template filled in); see :meth:`user_urls`."""

    @property
    def task_types(self) -> frozenset[TaskType]:
        return frozenset(self.service_settings)

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(f.name for f in msgspec.structs.fields(self.secrets))

    def user_urls(self, config: EndpointConfig) -> dict[str, str]:
        """The URLs the user chose that ``config``'s calls go to, by setting: what the provider
        URL guard checks on PUT/``_update``. The ``Url`` service settings that are set, unless the
        spec has :attr:`call_urls`. Built-in default URLs (public provider hosts) are not the
        user's and are not listed."""
        if self.call_urls is not None:
            return dict(
                self.call_urls(
                    config.task_type, config.service_settings, config.task_settings, config.secrets
                )
            )
        service = config.service_settings
        found = {name: getattr(service, name) for name in url_fields(type(service))}
        return {name: value for name, value in found.items() if isinstance(value, str)}

    def destination_settings(self, task_type: TaskType) -> tuple[str, ...]:
        """The service settings of ``task_type`` that decide where the secrets are sent (its
        ``Url`` and destination settings): an ``_update`` changing one must re-supply the secrets."""
        return destination_fields(self.service_settings[task_type])

    def similarity_for(self, element_type: ElementType) -> str:
        """The default ``similarity`` of an endpoint whose vectors have ``element_type``."""
        return self.element_similarity.get(element_type, self.default_similarity)

    def task_settings_for(self, task_type: TaskType) -> type[SettingsStruct]:
        return self.task_settings.get(task_type, NoTaskSettings)
