"""The OpenAI-compatible face: ``/v1`` as the OpenAI API serves it, ``model`` = inference id."""

from inference_service.api.face import Face
from inference_service.api.openai.errors import render_error, routing_error
from inference_service.api.openai.routes import ROUTES

FACE = Face(
    name="openai", prefix="/v1/", routes=ROUTES, render_error=render_error, routing_error=routing_error
)
