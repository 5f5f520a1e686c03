"""Whether tracing can start with the ``OTEL_*`` variables as they are: ``serve`` asks before
it binds a port, so a bad exporter setting is one start-up error line, not a worker's
traceback. Imports the OpenTelemetry code only when asked (tracing on)."""

from __future__ import annotations


def tracing_problem() -> str | None:
    """Why tracing cannot start (None: it can)."""
    from inference_service.observe.tracing import TracingError, exporter_from_environment

    try:
        exporter = exporter_from_environment()
    except TracingError as exc:
        return str(exc)
    if exporter is not None:
        exporter.shutdown()
    return None
