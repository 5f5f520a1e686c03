"""An API face: the routes it serves and how it shows errors.

The app mounts each face's routes and, for every error, asks the face that owns the request's
path to render it, so one error hierarchy looks like Elasticsearch under ``/_inference`` and
(later) like OpenAI under ``/v1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from inference_service.errors import InferenceServiceError


@dataclass(frozen=True, slots=True, kw_only=True)
class Face:
    name: str
    prefix: str
    """The path prefix the face owns; the longest matching prefix wins."""
    routes: Sequence[BaseRoute]
    render_error: Callable[[Request, InferenceServiceError], Response]
    routing_error: Callable[[Request, HTTPException], InferenceServiceError]
    """Starlette's 404/405 as the face's own error."""


def face_for(path: str, faces: Sequence[Face]) -> Face:
    """The face owning ``path`` (``faces`` must include one with prefix ``/``)."""
    return max((f for f in faces if path.startswith(f.prefix)), key=lambda f: len(f.prefix))
