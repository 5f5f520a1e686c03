"""The Elasticsearch face: ``/_inference`` as Elasticsearch serves it, and its error formats."""

from inference_service.api.es.errors import render_error, routing_error
from inference_service.api.es.routes import ROUTES
from inference_service.api.face import Face

FACE = Face(
    name="elasticsearch", prefix="/", routes=ROUTES, render_error=render_error, routing_error=routing_error
)
