"""Logging of the service's own loggers (``inference_service.*``) at the ``log_level`` setting.

One stderr handler in hypercorn's error-log format, so the service's lines and hypercorn's read
as one log. The CLI calls :func:`configure_logging` once per process and so does each hypercorn
worker; calling it again only changes the level. ``create_app`` does not call it: an embedding
application (or a test) keeps its own logging setup.

Every record that handler writes, and every record of hypercorn's error and access logs, first
passes a :class:`~inference_service.redaction.RedactingFilter`: a backstop that cuts
credential-shaped text (``?key=``, ``Authorization: …``, ``Bearer …``, well-known key formats)
out of whatever a log line carries, tracebacks included.
"""

from __future__ import annotations

import logging
import sys

from inference_service.redaction import RedactingFilter

ROOT_LOGGER = "inference_service"
HANDLER_NAME = "inference_service.stderr"
# hypercorn.logging's format, so that both loggers' lines look alike.
_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
HYPERCORN_LOGGERS = ("hypercorn.error", "hypercorn.access")
_FILTER = RedactingFilter()


def configure_logging(level: str) -> None:
    """``level`` is a validated ``log_level`` setting (``debug`` … ``critical``)."""
    logger = logging.getLogger(ROOT_LOGGER)
    logger.setLevel(level.upper())
    if not any(handler.get_name() == HANDLER_NAME for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
        handler.addFilter(_FILTER)
        logger.addHandler(handler)
    logger.propagate = False
    for name in HYPERCORN_LOGGERS:
        # A logger's filter sees the records logged on it (hypercorn logs on these directly).
        other = logging.getLogger(name)
        if _FILTER not in other.filters:
            other.addFilter(_FILTER)
