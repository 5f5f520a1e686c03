"""The ``router`` service: an endpoint that serves each request with one of its target
endpoints, failing over between them (see :mod:`inference_service.routing.router`)."""
