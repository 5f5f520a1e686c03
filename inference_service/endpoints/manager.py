"""Endpoint management: create / read / update / delete in the store, each change in its own
transaction, so a failed request writes nothing.

Bodies arrive as already-decoded JSON maps; :mod:`inference_service.endpoints.rules` validates
them. Every write bumps the catalog revision in the same transaction (so other workers'
caches notice) and, once committed, tells the listener (this worker's cache) what changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.endpoints.configuration import java_map
from inference_service.endpoints.declarative import DeclarationError, Plan, make_plan
from inference_service.endpoints.destinations import check_provider_urls
from inference_service.endpoints.rules import (
    build_endpoint,
    check_task_type,
    check_writable,
    merge_update,
    resolve_task_type,
)
from inference_service.errors import EndpointNotFoundError, InferenceServiceError, VersionConflictError
from inference_service.model.endpoint import PRECONFIGURED_PREFIX, Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.registry import ProviderRegistry
from inference_service.providers.router.references import (
    check_targets,
    referenced,
    routers_targeting,
    targets_of,
)
from inference_service.providers.url_guard import UrlGuard
from inference_service.store.endpoints import EndpointRepository
from inference_service.store.revisions import ENDPOINTS, changed
from inference_service.store.secret_box import SecretBox

UPDATE_ATTEMPTS = 8

Validator = Callable[[Endpoint], Awaitable[Endpoint]]
"""Checks an endpoint against its provider before it is stored (raises to refuse it) and
returns it completed with what the provider told (embedding dimensions and similarity)."""
TargetCheck = Callable[[Sequence[str]], None]
"""Refuses (raises) router targets the caller may not use: given the targets a write adds (all of
a new router's, those an ``_update`` adds), so a key restricted to some endpoints cannot reach
others through a router it writes."""


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a delete did: whether it deleted, and the routers that target the endpoint (those
    the caller may see by name; the others counted in ``hidden_routers``)."""

    deleted: bool
    routers: list[str] = field(default_factory=list)
    hidden_routers: int = 0


class ChangeListener(Protocol):
    """Told about each committed change (the worker's endpoint cache)."""

    def stored(self, endpoint: Endpoint) -> None: ...

    def removed(self, inference_id: str) -> None: ...


class EndpointManager:
    """The operations on stored endpoints (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        registry: ProviderRegistry,
        guard: UrlGuard,
        listener: ChangeListener | None = None,
        preconfigured: Mapping[str, Endpoint] | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._registry = registry
        self._guard = guard
        self._listener = listener
        self._preconfigured = dict(preconfigured or {})

    def build(self, inference_id: str, url_task_type: TaskType | None, body: Mapping[str, Any]) -> Endpoint:
        """Validate a PUT body into an :class:`Endpoint` without touching the store."""
        return build_endpoint(self._registry, inference_id, url_task_type, body)

    async def create(
        self,
        inference_id: str,
        url_task_type: TaskType | None,
        body: Mapping[str, Any],
        validate: Validator | None = None,
        check_new_targets: TargetCheck | None = None,
    ) -> Endpoint:
        """Create an endpoint; its URLs are checked (the provider URL guard), then ``validate``
        (the provider call) runs, before anything is written."""
        endpoint = self.build(inference_id, url_task_type, body)
        if check_new_targets is not None:
            check_new_targets(targets_of(endpoint))
        await self._check_urls(endpoint)
        await self._check_targets(endpoint)
        if validate is not None:
            endpoint = await validate(endpoint)
        async with self._sessions.begin() as session:
            await EndpointRepository(session, self._box).insert(endpoint)
            await self._changed(session)
        self._stored(endpoint)
        return endpoint

    async def list_endpoints(self, task_type: TaskType | None = None) -> list[Endpoint]:
        """Preconfigured endpoints first (their ids start with ``.``), then stored ones, by id."""
        async with self._sessions() as session:
            stored = await EndpointRepository(session, self._box).list_all()
        endpoints = sorted(self._preconfigured.values(), key=lambda e: e.inference_id) + stored
        return [e for e in endpoints if task_type is None or e.task_type == task_type]

    async def get(
        self, inference_id: str, task_type: TaskType | None = None, *, with_secrets: bool = False
    ) -> Endpoint:
        endpoint = self._preconfigured.get(inference_id)
        if endpoint is None:
            async with self._sessions() as session:
                endpoint = await EndpointRepository(session, self._box).get(
                    inference_id, with_secrets=with_secrets
                )
        if endpoint is None:
            raise EndpointNotFoundError(inference_id)
        check_task_type(endpoint, task_type)
        return endpoint

    async def delete(
        self,
        inference_id: str,
        task_type: TaskType | None,
        *,
        dry_run: bool,
        force: bool = False,
        visible: Callable[[str], bool] | None = None,
    ) -> Deletion:
        """Delete (or with ``dry_run`` only check) an endpoint. One that routers target is
        refused with a 409 naming them unless ``force`` (``dry_run`` lists them). Routers
        ``visible`` refuses (outside a restricted key's endpoints) are counted, never named."""
        if inference_id.startswith(PRECONFIGURED_PREFIX):
            check_writable(inference_id)
        async with self._sessions.begin() as session:
            repo = EndpointRepository(session, self._box)
            endpoint = await repo.get(inference_id)
            if endpoint is None:
                raise EndpointNotFoundError(inference_id)
            check_task_type(endpoint, task_type)
            routers = routers_targeting(await repo.list_all(), inference_id)
            shown = routers if visible is None else [r for r in routers if visible(r)]
            hidden = len(routers) - len(shown)
            if dry_run:
                return Deletion(False, shown, hidden)
            if routers and not force:
                raise referenced(inference_id, shown, hidden)
            await repo.delete(inference_id)
            await self._changed(session)
        self._removed(inference_id)
        return Deletion(True, shown, hidden)

    async def update(
        self,
        inference_id: str,
        url_task_type: TaskType | None,
        body: Mapping[str, Any],
        validate: Validator | None = None,
        check_new_targets: TargetCheck | None = None,
    ) -> Endpoint:
        """Merge new settings/secrets into an endpoint.

        Concurrent updates never lose a write: each attempt reads the row, merges, validates
        (outside any transaction: no lock is held during a provider call) and writes only if
        the row's version is unchanged; on a lost race the merge is redone on the newer row.
        After :data:`UPDATE_ATTEMPTS` lost races the client gets 409
        ``version_conflict_engine_exception``.
        """
        check_writable(inference_id)
        if url_task_type is not None and body.get("task_type") is not None:
            resolve_task_type(url_task_type, body.get("task_type"))
        for _ in range(UPDATE_ATTEMPTS):
            async with self._sessions() as session:
                current = await EndpointRepository(session, self._box).get(inference_id, with_secrets=True)
            if current is None:
                raise EndpointNotFoundError(inference_id)
            check_task_type(current, url_task_type)
            updated = merge_update(self._registry, current, body)
            if check_new_targets is not None:
                kept = targets_of(current)
                check_new_targets([t for t in targets_of(updated) if t not in kept])
            if _config(updated) != _config(current):
                await self._check_urls(updated)
                await self._check_targets(updated)
                if validate is not None:
                    updated = await validate(updated)
            async with self._sessions.begin() as session:
                repo = EndpointRepository(session, self._box)
                written = await repo.replace(updated, expected_version=current.version)
                if written:
                    await self._changed(session)
            if written:
                self._stored(updated)
                return updated
        raise VersionConflictError(
            f"[{inference_id}]: version conflict, the endpoint changed {UPDATE_ATTEMPTS} times "
            "while this update was being applied; retry the request"
        )

    async def plan(self, entries: Sequence[Mapping[str, Any]], *, prune: bool) -> Plan:
        """Validate declared endpoints (already secret-resolved) and compare them with the store."""
        desired: list[Endpoint] = []
        for entry in entries:
            inference_id = entry.get("inference_id")
            if not isinstance(inference_id, str):
                raise DeclarationError(f"an endpoint has no string inference_id: {java_map(entry)}")
            if any(e.inference_id == inference_id for e in desired):
                raise DeclarationError(f"endpoint [{inference_id}] is declared twice")
            body = {k: v for k, v in entry.items() if k != "inference_id"}
            try:
                endpoint = self.build(inference_id, None, body)
                await self._check_urls(endpoint)
                desired.append(endpoint)
            except InferenceServiceError as exc:
                raise DeclarationError(f"endpoint [{inference_id}]: {exc.reason}") from None
        async with self._sessions() as session:
            current = await EndpointRepository(session, self._box).list_all(with_secrets=True)
        plan = make_plan(desired, current, prune=prune)
        await self._check_planned_routes(plan, current)
        return plan

    async def converge(self, plan: Plan) -> None:
        """Apply ``plan`` in one transaction; a concurrent change to a planned row aborts it all."""
        async with self._sessions.begin() as session:
            repo = EndpointRepository(session, self._box)
            for endpoint in plan.create:
                await repo.insert(endpoint)
            for old, new, _ in plan.update:
                if not await repo.replace(new, expected_version=old.version):
                    raise VersionConflictError(
                        f"[{new.inference_id}] changed while the plan was applied; run apply again"
                    )
            for endpoint in plan.replace:
                await repo.delete(endpoint.inference_id)
                await repo.insert(endpoint)
            for endpoint in plan.delete:
                await repo.delete(endpoint.inference_id)
            await self._changed(session)
        self._stored(*plan.create, *(new for _, new, _ in plan.update), *plan.replace)
        self._removed(*(endpoint.inference_id for endpoint in plan.delete))

    async def _check_targets(self, endpoint: Endpoint) -> None:
        """A router's targets exist, are not routers and share its task type (400 otherwise)."""
        if not targets_of(endpoint):
            return

        async def lookup(inference_id: str) -> Endpoint | None:
            found = self._preconfigured.get(inference_id)
            if found is not None:
                return found
            async with self._sessions() as session:
                return await EndpointRepository(session, self._box).get(inference_id)

        await check_targets(endpoint, lookup)

    async def _check_planned_routes(self, plan: Plan, current: Sequence[Endpoint]) -> None:
        """Every router as the plan leaves the store has valid targets: a plan may not delete or
        retype (replace) an endpoint a remaining router targets."""
        after = {e.inference_id: e for e in current}
        for endpoint in plan.delete:
            after.pop(endpoint.inference_id, None)
        for endpoint in (*plan.create, *plan.replace, *(new for _, new, _ in plan.update)):
            after[endpoint.inference_id] = endpoint

        async def lookup(inference_id: str) -> Endpoint | None:
            return after.get(inference_id) or self._preconfigured.get(inference_id)

        for endpoint in after.values():
            try:
                await check_targets(endpoint, lookup)
            except InferenceServiceError as exc:
                raise DeclarationError(f"endpoint [{endpoint.inference_id}]: {exc.reason}") from None

    async def _check_urls(self, endpoint: Endpoint) -> None:
        await check_provider_urls(self._guard, self._registry.get(endpoint.service), endpoint)

    @staticmethod
    async def _changed(session: AsyncSession) -> None:
        await changed(session, ENDPOINTS)

    def _stored(self, *endpoints: Endpoint) -> None:
        if self._listener is not None:
            for endpoint in endpoints:
                self._listener.stored(endpoint)

    def _removed(self, *inference_ids: str) -> None:
        if self._listener is not None:
            for inference_id in inference_ids:
                self._listener.removed(inference_id)


def _config(endpoint: Endpoint) -> tuple[Any, ...]:
    return (endpoint.service_settings, endpoint.task_settings, endpoint.secrets)
