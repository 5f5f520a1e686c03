"""An inference endpoint as stored, and its public (secret-free) form."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from inference_service.errors import ActionValidationError, validation_failed
from inference_service.model.task_type import TaskType

_ID_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?")
PRECONFIGURED_PREFIX = "."
INTERNAL_SETTINGS = frozenset({"dimensions_set_by_user"})
"""Service settings the service keeps for itself (as Elasticsearch does): stored, never
accepted from a request and never returned."""


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A stored endpoint. ``secrets`` is decrypted and must never be rendered."""

    inference_id: str
    task_type: TaskType
    service: str
    service_settings: dict[str, Any]
    task_settings: dict[str, Any]
    chunking_settings: dict[str, Any] | None
    cache: dict[str, Any] | None = None
    """The response cache's settings (``{"ttl": "10m"}``, an extension); None: not cached."""
    secrets: dict[str, Any] = msgspec.field(default_factory=dict)
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """The endpoint info Elasticsearch returns: no secrets, no empty task settings."""
        info: dict[str, Any] = {
            "inference_id": self.inference_id,
            "task_type": str(self.task_type),
            "service": self.service,
            "service_settings": {
                k: v for k, v in self.service_settings.items() if k not in INTERNAL_SETTINGS
            },
        }
        if self.task_settings:
            info["task_settings"] = self.task_settings
        if self.chunking_settings is not None:
            info["chunking_settings"] = self.chunking_settings
        if self.cache is not None:
            info["cache"] = self.cache
        return info

    @property
    def internal_settings(self) -> dict[str, Any]:
        return {k: v for k, v in self.service_settings.items() if k in INTERNAL_SETTINGS}


def validate_inference_id(inference_id: str) -> None:
    """Elasticsearch's id rule: lowercase alphanumerics, ``_ - .``, alphanumeric at both ends."""
    if inference_id == "_all" or not _ID_PATTERN.fullmatch(inference_id):
        raise ActionValidationError(
            validation_failed(
                [
                    f"Invalid inference_id; '{inference_id}' can contain lowercase alphanumeric "
                    "(a-z and 0-9), hyphens or underscores; must start and end with alphanumeric"
                ]
            )
        )
