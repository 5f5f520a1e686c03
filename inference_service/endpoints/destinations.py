"""Where an endpoint's calls (and with them its stored secrets) go: the two rules on it.

- **Provider URLs cannot reach internal addresses.** :func:`check_provider_urls` runs the
  provider URL guard over every URL the user chose (the spec's
  :meth:`~inference_service.providers.spec.ProviderSpec.user_urls`) on PUT and ``_update``,
  before the validation call could send anything there; each refusal names its setting.
- **A stored secret cannot be moved.** :func:`check_secrets_resupplied`: an ``_update`` that
  changes a destination setting (a ``Url``, an Azure resource name, a custom service's
  templates) or the URL the calls go to must send the endpoint's secrets again. Otherwise
  whoever may update endpoints could point a stored provider key at a server they control and
  read it there; with the rule they can only point a key they already know.

Endpoints that call no URL (the bundled local models, ``.``-prefixed endpoints) have no
destination settings and pass both rules untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inference_service.endpoints.configuration import load_config
from inference_service.errors import InvalidRequestError, validation_failed
from inference_service.model.endpoint import Endpoint
from inference_service.providers.spec import ProviderSpec
from inference_service.providers.url_guard import UrlGuard
from inference_service.providers.url_policy import origins


async def check_provider_urls(guard: UrlGuard, spec: ProviderSpec, endpoint: Endpoint) -> None:
    """Refuse ``endpoint`` (400, one message per setting) when a URL it calls is not allowed."""
    urls = spec.user_urls(load_config(spec, endpoint))
    problems: list[str] = []
    for setting, url in urls.items():
        problem = await guard.url_problem(url)
        if problem is not None:
            problems.append(f"[service_settings] Invalid url for setting [{setting}]: {problem}")
    if problems:
        raise InvalidRequestError(validation_failed(problems))


def moved_settings(spec: ProviderSpec, current: Endpoint, updated: Endpoint) -> list[str]:
    """The settings whose change moves ``current``'s calls: its destination settings that differ,
    and the settings whose URL, filled in from other settings (a custom template's parameters),
    now goes to another origin (scheme, host, port)."""
    names = spec.destination_settings(current.task_type)
    moved = [n for n in names if current.service_settings.get(n) != updated.service_settings.get(n)]
    before = origins(spec.user_urls(load_config(spec, current)))
    after = origins(spec.user_urls(load_config(spec, updated)))
    moved += [n for n in sorted(before.keys() | after.keys()) if before.get(n) != after.get(n)]
    return list(dict.fromkeys(moved))


def check_secrets_resupplied(
    spec: ProviderSpec, current: Endpoint, updated: Endpoint, changes: Mapping[str, Any]
) -> None:
    """Refuse an ``_update`` (400) that moves where the calls go without sending, in its
    ``service_settings`` (``changes``), every secret the updated endpoint will hold."""
    if not updated.secrets:
        return
    moved = moved_settings(spec, current, updated)
    missing = [name for name in updated.secrets if name not in changes]
    if moved and missing:
        raise InvalidRequestError(
            validation_failed(
                [
                    f"[service_settings] changing [{', '.join(moved)}] changes where the endpoint's "
                    f"secrets are sent, so the secrets must be sent again in the same request: "
                    f"[{', '.join(missing)}]"
                ]
            )
        )
