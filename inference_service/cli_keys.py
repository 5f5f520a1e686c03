"""``inference-service api-keys``: create, list and invalidate the service's API keys offline,
against the database (how the first key is made). Running workers pick the change up within
``catalog_refresh_interval``.

``create`` prints one JSON object ``{"id", "name", "api_key", "encoded", "role",
"expiration"}`` (``expiration`` in epoch milliseconds, as the REST API gives it, or null); the
secret is shown this once and stored only as a hash. ``list`` never shows secrets.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from inference_service.auth.keys import ApiKey, epoch_ms
from inference_service.auth.manager import ApiKeyManager
from inference_service.auth.roles import ROLES, Role
from inference_service.settings import Settings
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import ensure_schema_current

T = TypeVar("T")


class KeyCommandError(Exception):
    """An invalidation that found nothing to invalidate (exit code 1)."""


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``api-keys`` on the top-level subparsers."""
    keys = sub.add_parser("api-keys", parents=[common], help="the service's own API keys")
    keys_sub = keys.add_subparsers(dest="api_keys_command", required=True)
    create = keys_sub.add_parser("create", parents=[common], help="create a key and print it once, as JSON")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--endpoints", help="comma-separated inference ids or prefix* patterns the key may use (default: all)"
    )
    create.add_argument("--expiration", help="a time value such as 30d or 12h (default: never)")
    keys_sub.add_parser("list", parents=[common], help="print every key as JSON (never the secrets)")
    invalidate = keys_sub.add_parser("invalidate", parents=[common], help="invalidate a key by id")
    invalidate.add_argument("id", help="the key id (write `-- ID` for an id that starts with -)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.api_keys_command
    if command == "create":
        endpoints = [e.strip() for e in args.endpoints.split(",")] if args.endpoints is not None else None

        async def create(manager: ApiKeyManager) -> dict[str, Any]:
            created = await manager.create(
                name=args.name, role=Role(args.role), endpoints=endpoints, expiration=args.expiration
            )
            return {
                "id": created.key.id,
                "name": created.key.name,
                "api_key": created.secret,
                "encoded": created.encoded,
                "role": created.key.role.value,
                "expiration": epoch_ms(created.key.expiration),
            }

        _print(await _with_manager(settings, create))
    elif command == "list":
        keys = await _with_manager(settings, lambda m: m.find())
        _print({"api_keys": [shown(k) for k in keys]})
    else:
        outcome = await _with_manager(settings, lambda m: m.invalidate(ids=[args.id]))
        if outcome.not_found:
            raise KeyCommandError(f"no API key has the id [{args.id}]")
        state = "invalidated" if outcome.invalidated else "was already invalidated"
        print(f"{state} {args.id}")
    return 0


def shown(key: ApiKey) -> dict[str, Any]:
    """A key as ``list`` prints it: no secret, no hash."""
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role.value,
        "endpoints": list(key.endpoints) if key.endpoints is not None else None,
        "created": epoch_ms(key.created_at),
        "expiration": epoch_ms(key.expiration),
        "invalidated": epoch_ms(key.invalidated_at),
        "active": key.active(datetime.now(UTC)),
    }


async def _with_manager(settings: Settings, action: Callable[[ApiKeyManager], Awaitable[T]]) -> T:
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        await ensure_schema_current(engine, settings)
        return await action(ApiKeyManager(create_sessionmaker(engine)))
    finally:
        await engine.dispose()


async def count_usable_keys(settings: Settings) -> int:
    """How many keys could authenticate now (neither invalidated nor expired), for the start-up
    check: with none, nothing could use a service that requires a key."""
    return await _with_manager(settings, lambda m: m.count_usable())


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2))
