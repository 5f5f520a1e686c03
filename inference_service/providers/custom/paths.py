"""``response.json_parser`` paths: JSONPath evaluated so that nested lists stay nested.

Elasticsearch's ``MapPathExtractor`` differs from JSONPath in one way that matters: every ``[*]``
keeps its own list level. For ``{"result": [{"key": [{"a": 1}, {"a": 2}]}, {"key": [{"a": 3}]}]}``
the path ``$.result[*].key[*].a`` gives ``[[1, 2], [3]]`` (one list of tokens per input, as a
sparse embedding needs) where JSONPath gives the flat ``[1, 2, 3]``; ``$.data[*].embedding`` gives
one vector per item either way.

Parsing and selection are python-jsonpath's (RFC 9535, strict mode): it is typed, maintained, and
exposes the parsed segments of a path, which is what nesting needs (jsonpath-ng and python-jsonpath
both flatten, and jsonpath-ng's grammar is not RFC 9535). A compiled path is a list of steps, one
query per segment: a segment that selects one node (a name, an index) descends; a segment that may
select many (``[*]``, slices, filters, unions, ``..``) becomes a step of its own that makes one
list level, each node it selects followed by the rest of the path. So an input whose inner list is
empty keeps an empty list, and the n-th entry always belongs to the n-th item. Paths use the full
RFC syntax (``$['a b']``, ``[0]``, filters), a superset of Elasticsearch's ``$``, ``.field`` and
``[*]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jsonpath import JSONPath, JSONPathEnvironment, JSONPathError

_ENV = JSONPathEnvironment(strict=True)


class PathError(ValueError):
    """A path that does not compile, or that does not fit the document it is applied to."""


@dataclass(frozen=True, slots=True)
class _Step:
    query: JSONPath
    text: str
    """The segment in normalized form, for messages (``['data']``, ``[*]``)."""
    singular: bool


@dataclass(frozen=True, slots=True)
class CompiledPath:
    text: str
    steps: tuple[_Step, ...]


def check_path(text: str) -> str | None:
    """The problem of ``text`` as a path, or None when it compiles."""
    try:
        compile_path(text)
    except PathError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=4096)
def compile_path(text: str) -> CompiledPath:
    """``text`` compiled once (paths come from stored settings, so the cache stays small)."""
    cleaned = text.strip()
    if not cleaned.startswith("$"):
        raise PathError(f"Path [{cleaned}] must start with a dollar sign ($)")
    try:
        query = _ENV.compile(cleaned)
    except JSONPathError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PathError(f"Invalid path [{cleaned}]: {detail}") from None
    if not isinstance(query, JSONPath):  # strict mode compiles no compound (``|``) paths
        raise PathError(f"Invalid path [{cleaned}]: one path expected")
    steps = []
    for segment in query.segments:
        text = str(segment)
        step = _query("$" + text)
        steps.append(_Step(query=step, text=text, singular=step.singular_query()))
    return CompiledPath(cleaned, tuple(steps))


def _query(text: str) -> JSONPath:
    """A path rebuilt from normalized segments (always one plain path)."""
    query = _ENV.compile(text)
    assert isinstance(query, JSONPath)
    return query


def extract(path: CompiledPath, document: object) -> object:
    """What ``path`` selects in ``document``, one list level per multi-node segment.

    A name or index that is not there is an error naming it (an upstream answer without the
    expected field must not pass as an empty result).
    """
    return _walk(document, path.steps, path)


def _walk(value: object, steps: tuple[_Step, ...], path: CompiledPath) -> object:
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    # Only containers go to the library: python-jsonpath reads a ``str`` argument as JSON text.
    if not isinstance(value, dict | list):
        raise PathError(
            f"Unable to apply {step.text} of path [{path.text}]: found a value of type "
            f"[{_kind(value)}], not an object or array"
        )
    if step.singular:
        match = step.query.match(value)
        if match is None:
            raise PathError(f"Unable to find field {step.text} of path [{path.text}]")
        return _walk(match.obj, rest, path)
    return [_walk(match.obj, rest, path) for match in step.query.finditer(value)]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
