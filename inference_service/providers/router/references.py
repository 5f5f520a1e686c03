"""The rules between routers and their targets, checked by endpoint management.

A router's targets must exist, must not be routers themselves (the simplest rule that rules
out cycles) and must have the router's task type: checked on PUT and ``_update``, against the
store. The other way round, an endpoint that routers target cannot be deleted (or replaced by
one of another task type) while they do, unless the request forces it: Elasticsearch's 409
for an endpoint that pipelines use, listing the routers. A forced delete leaves the routers
with a missing target, which they skip (and log) at call time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from inference_service.errors import ConflictError, InvalidRequestError, validation_failed
from inference_service.model.endpoint import Endpoint
from inference_service.providers.router.provider import ROUTER_SERVICE

Lookup = Callable[[str], Awaitable[Endpoint | None]]


def targets_of(endpoint: Endpoint) -> list[str]:
    """The inference ids ``endpoint`` routes to (none when it is not a router)."""
    if endpoint.service != ROUTER_SERVICE:
        return []
    targets = endpoint.service_settings.get("targets") or []
    return [t["inference_id"] for t in targets if isinstance(t, dict) and "inference_id" in t]


async def check_targets(router: Endpoint, lookup: Lookup) -> None:
    """One 400 listing every target that does not exist, is a router or has another task type."""
    problems: list[str] = []
    for inference_id in targets_of(router):
        target = None if inference_id == router.inference_id else await lookup(inference_id)
        if inference_id == router.inference_id or (target is not None and target.service == ROUTER_SERVICE):
            problems.append(
                f"[service_settings] target [{inference_id}] is a router; the targets of a router cannot "
                "be routers"
            )
        elif target is None:
            problems.append(f"[service_settings] target [{inference_id}] does not exist")
        elif target.task_type != router.task_type:
            problems.append(
                f"[service_settings] target [{inference_id}] has task type [{target.task_type}], not the "
                f"router's [{router.task_type}]"
            )
    if problems:
        raise InvalidRequestError(validation_failed(problems))


def routers_targeting(endpoints: Iterable[Endpoint], inference_id: str) -> list[str]:
    """The ids of the routers among ``endpoints`` that target ``inference_id``, sorted."""
    return sorted(e.inference_id for e in endpoints if inference_id in targets_of(e))


def referenced(inference_id: str, routers: list[str], hidden: int = 0) -> ConflictError:
    """The 409 for deleting a target; ``hidden`` routers the caller's key may not see are
    counted, not named."""
    named = [f"routers [{', '.join(routers)}]"] if routers else []
    if hidden:
        named.append(f"{hidden} router{'s' if hidden > 1 else ''} outside this API key's endpoints")
    return ConflictError(
        f"Inference endpoint [{inference_id}] is referenced by {' and '.join(named)} and cannot "
        "be deleted. Use `force` to delete it anyway, or use `dry_run` to list the routers that "
        "reference it."
    )
