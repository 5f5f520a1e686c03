"""Declarative endpoint files for ``inference-service endpoints apply``: load, plan, converge.

A file (TOML or YAML) lists endpoints under ``endpoints``; secrets are ``env:VAR`` references,
never literals, so the file can live in version control. :func:`plan` compares the file with
the store; :func:`converge` applies the plan in one transaction (all or nothing). Applying the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inference_service.model.endpoint import Endpoint
from inference_service.providers.registry import ProviderRegistry

ENV_PREFIX = "env:"
_ENTRY_KEYS = frozenset(
    {
        "inference_id",
        "task_type",
        "service",
        "service_settings",
        "task_settings",
        "chunking_settings",
        "cache",
    }
)


class DeclarationError(Exception):
    """The file is unreadable or an entry is invalid; the message names the entry."""


def load_file(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DeclarationError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text.decode("utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise DeclarationError(f"{path}: use a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DeclarationError(f"{path} cannot be parsed: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"endpoints"}:
        raise DeclarationError(f"{path}: the file must contain only an [[endpoints]] list")
    entries = data.get("endpoints") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DeclarationError(f"{path}: [endpoints] must be a list of tables")
    return entries


def resolve_secrets(
    entry: Mapping[str, Any], registry: ProviderRegistry, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Replace ``env:VAR`` secret references by their values; refuse literal secrets."""
    env = os.environ if environ is None else environ
    name = entry.get("inference_id", "?")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise DeclarationError(f"endpoint [{name}]: unknown keys {sorted(unknown)}")
    settings = dict(entry.get("service_settings") or {})
    spec = registry.get(str(entry.get("service")))
    for secret in spec.secret_names & set(settings):
        ref = settings[secret]
        if not isinstance(ref, str) or not ref.startswith(ENV_PREFIX):
            raise DeclarationError(
                f"endpoint [{name}]: secret [{secret}] must be an env:VAR reference, not a literal"
            )
        var = ref[len(ENV_PREFIX) :]
        if var not in env:
            raise DeclarationError(f"endpoint [{name}]: environment variable [{var}] is not set")
        settings[secret] = env[var]
    return {**entry, "service_settings": settings}


@dataclass
class Plan:
    create: list[Endpoint] = field(default_factory=list)
    update: list[tuple[Endpoint, Endpoint, list[str]]] = field(default_factory=list)
    replace: list[Endpoint] = field(default_factory=list)
    delete: list[Endpoint] = field(default_factory=list)
    unchanged: list[Endpoint] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update or self.replace or self.delete)

    def render(self) -> str:
        lines = [f"+ create {e.inference_id} ({e.task_type}, {e.service})" for e in self.create]
        lines += [f"~ update {new.inference_id} ({', '.join(why)})" for _, new, why in self.update]
        lines += [
            f"! replace {e.inference_id} (task type or service changed: delete and create)"
            for e in self.replace
        ]
        lines += [f"- delete {e.inference_id}" for e in self.delete]
        lines += [f"= unchanged {e.inference_id}" for e in self.unchanged]
        lines.append(
            f"Plan: {len(self.create)} to create, {len(self.update)} to update, "
            f"{len(self.replace)} to replace, {len(self.delete)} to delete, "
            f"{len(self.unchanged)} unchanged."
        )
        return "\n".join(lines)


def _differences(old: Endpoint, new: Endpoint) -> list[str]:
    changed = [
        name
        for name in ("service_settings", "task_settings", "chunking_settings", "cache")
        if getattr(old, name) != getattr(new, name)
    ]
    if old.secrets != new.secrets:
        changed.append("secrets")
    return changed


def make_plan(desired: list[Endpoint], current: list[Endpoint], *, prune: bool) -> Plan:
    plan = Plan()
    existing = {e.inference_id: e for e in current}
    for new in desired:
        old = existing.pop(new.inference_id, None)
        if old is None:
            plan.create.append(new)
        elif (old.task_type, old.service) != (new.task_type, new.service):
            plan.replace.append(new)
        elif why := _differences(old, new):
            plan.update.append((old, new, why))
        else:
            plan.unchanged.append(old)
    if prune:
        plan.delete.extend(e for e in existing.values() if not e.inference_id.startswith("."))
    return plan
