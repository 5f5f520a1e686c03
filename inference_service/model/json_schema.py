"""JSON Schema for ``response_format: json_schema``: is a schema valid, does a value match it.

Checked with the ``jsonschema`` library, so the rules are the specification's, not ours:

- :func:`schema_problem` checks a schema against the metaschema of its draft: the one its
  ``$schema`` names (drafts 3, 4, 6, 7, 2019-09 and 2020-12), else 2020-12 (what OpenAI's
  structured outputs and llama.cpp read). A ``$schema`` naming no known draft is a problem
  too, rather than a silent guess.
- :func:`first_violation` validates a decoded value and names the most relevant violation
  (``jsonschema.exceptions.best_match``) with its JSON path.

Only requests that carry a schema pay for this; nothing here runs on the hot path of the
others.
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators
from jsonschema.protocols import Validator

DEFAULT_DRAFT: type[Validator] = validators.Draft202012Validator
DRAFTS: tuple[type[Validator], ...] = (
    validators.Draft3Validator,
    validators.Draft4Validator,
    validators.Draft6Validator,
    validators.Draft7Validator,
    validators.Draft201909Validator,
    validators.Draft202012Validator,
)


def _key(uri: str) -> str:
    """A metaschema URI without its scheme and empty fragment: ``http://json-schema.org/draft-07/schema#``
    and ``https://json-schema.org/draft-07/schema`` name the same draft."""
    return uri.partition("://")[2].rstrip("#") if "://" in uri else uri.rstrip("#")


_BY_URI: dict[str, type[Validator]] = {_key(str(draft.META_SCHEMA["$schema"])): draft for draft in DRAFTS}


def draft_of(schema: dict[str, Any]) -> type[Validator] | None:
    """The validator class of the draft ``schema`` declares (2020-12 when it declares none);
    None for a ``$schema`` that names no draft we know."""
    uri = schema.get("$schema")
    if uri is None:
        return DEFAULT_DRAFT
    if not isinstance(uri, str):
        return None
    return _BY_URI.get(_key(uri))


def draft_name(draft: type[Validator]) -> str:
    """``Draft202012Validator`` -> ``2020-12``; ``Draft7Validator`` -> ``7``."""
    digits = draft.__name__.removeprefix("Draft").removesuffix("Validator")
    return f"{digits[:4]}-{digits[4:]}" if len(digits) == 6 else digits


def schema_problem(schema: dict[str, Any]) -> str | None:
    """What makes ``schema`` an invalid JSON Schema (the location inside it and the
    metaschema's complaint), or None when it is valid."""
    draft = draft_of(schema)
    if draft is None:
        known = ", ".join(str(each.META_SCHEMA["$schema"]) for each in DRAFTS)
        uri = schema.get("$schema")
        return f"names no known JSON Schema draft in [$schema] [{uri}]; use one of [{known}]"
    try:
        draft.check_schema(schema)
    except exceptions.SchemaError as error:
        return f"is not a valid JSON Schema (draft {draft_name(draft)}): {_located(error)}"
    return None


def validator(schema: dict[str, Any]) -> Validator:
    """A validator of ``schema`` (which :func:`schema_problem` accepted)."""
    draft = draft_of(schema) or DEFAULT_DRAFT
    return draft(schema)


def first_violation(check: Validator, value: Any) -> str | None:
    """The most relevant way ``value`` violates the schema, with its path; None when it matches."""
    error = exceptions.best_match(check.iter_errors(value))
    return None if error is None else _located(error)


def _located(error: exceptions.ValidationError | exceptions.SchemaError) -> str:
    return f"at [{error.json_path}]: {error.message}"
