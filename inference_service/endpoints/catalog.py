"""The in-process endpoint cache: the hot path resolves an endpoint without a database query.

Every worker keeps all endpoints ready to serve (:class:`ResolvedEndpoint`: secrets decrypted,
settings parsed into the provider's typed Structs, the provider instance) in a dict. Parsing
happens once per change, never per request; an entry survives a reload when its row did not
change (so per-entry state such as a rate-limit bucket survives too). It stays correct by:

- this worker's own writes: the manager tells it what it stored or removed once committed;
- other workers' (and other nodes', and migrations') writes: every write bumps the
  endpoints' row of ``catalog_revision`` in its transaction; the worker's
  :class:`~inference_service.refresh.RevisionWatcher` reads the counters every
  ``catalog_refresh_interval`` seconds and calls :meth:`EndpointCatalog.reload` when this one
  moved. Another worker's update is therefore visible here within one interval;
- a miss (an id created elsewhere moments ago) falls through to one query, and is cached.

A failed refresh (database down) is logged and retried by the watcher; the last good state
keeps serving. A row this version cannot serve (unknown service, settings that no longer parse) does not stop
the others: its requests get the reason.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.cache.policy import CachePolicy, policy_for
from inference_service.endpoints.configuration import load_config
from inference_service.errors import EndpointNotFoundError, InferenceServiceError
from inference_service.model.endpoint import Endpoint
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.registry import ProviderRegistry
from inference_service.providers.spec import ProviderSpec
from inference_service.store.endpoints import READ_REVISION, EndpointRepository
from inference_service.store.revisions import ENDPOINTS
from inference_service.store.secret_box import SecretBox

log = logging.getLogger("inference_service.catalog")


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class ResolvedEndpoint:
    """An endpoint ready to serve. Compared and hashed by identity: one object per stored
    version, so wrappers can keep per-endpoint state keyed weakly on it."""

    endpoint: Endpoint
    spec: ProviderSpec
    config: EndpointConfig
    provider: Provider
    cache: CachePolicy | None = None
    """How its answers are cached (None: they are not)."""


Entry = ResolvedEndpoint | InferenceServiceError
"""What the catalog holds per id: the ready endpoint, or why this version cannot serve it."""


class EndpointCatalog:
    counter = ENDPOINTS
    description = "endpoints"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        registry: ProviderRegistry,
        providers: Mapping[str, Provider],
        *,
        preconfigured: Mapping[str, Endpoint] | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._registry = registry
        self._providers = providers
        self._preconfigured = dict(preconfigured or {})
        self._entries: dict[str, Entry] = {
            e.inference_id: self._entry(e) for e in self._preconfigured.values()
        }
        self._revision: int | None = None

    def _entry(self, endpoint: Endpoint, previous: Entry | None = None) -> Entry:
        """Resolve ``endpoint``, reusing ``previous`` when it is the same stored version."""
        if isinstance(previous, ResolvedEndpoint) and previous.endpoint == endpoint:
            return previous
        try:
            spec = self._registry.get(endpoint.service)
            config = load_config(spec, endpoint)
            cache = policy_for(endpoint)
        except InferenceServiceError as exc:
            log.error("endpoint [%s] cannot be served: %s", endpoint.inference_id, exc.reason)
            return exc
        return ResolvedEndpoint(endpoint, spec, config, self._providers[spec.name], cache)

    @property
    def revision(self) -> int | None:
        return self._revision

    async def reload(self) -> None:
        async with self._sessions() as session:
            revision = (await session.execute(READ_REVISION)).scalar_one()
            stored = await EndpointRepository(session, self._box).list_all(with_secrets=True)
        old = self._entries
        entries = {e.inference_id: self._entry(e, old.get(e.inference_id)) for e in stored}
        entries.update({i: old[i] for i in self._preconfigured})
        self._entries = entries
        self._revision = revision

    async def resolve(self, inference_id: str) -> ResolvedEndpoint:
        """The endpoint ready to serve; a query only on a cache miss."""
        entry = self._entries.get(inference_id)
        if entry is None:
            async with self._sessions() as session:
                endpoint = await EndpointRepository(session, self._box).get(inference_id, with_secrets=True)
            if endpoint is None:
                raise EndpointNotFoundError(inference_id)
            entry = self._entries[inference_id] = self._entry(endpoint)
        if isinstance(entry, InferenceServiceError):
            raise copy.copy(entry)  # a fresh object per request: no shared traceback
        return entry

    @property
    def endpoints(self) -> list[ResolvedEndpoint]:
        return [e for e in self._entries.values() if isinstance(e, ResolvedEndpoint)]

    def stored(self, endpoint: Endpoint) -> None:
        self._entries[endpoint.inference_id] = self._entry(endpoint)

    def removed(self, inference_id: str) -> None:
        self._entries.pop(inference_id, None)
