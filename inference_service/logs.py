"""Logging of the service's own loggers (``inference_service.*``) at the ``log_level`` setting.

One stderr handler in hypercorn's error-log format (``log_format = "text"``), so the service's
lines and hypercorn's read as one log, or one JSON object per line (``"json"``: ``time``,
``level``, ``logger``, ``message``, and the request log's fields). The CLI calls
:func:`configure_logging` once per process and so does each hypercorn worker; calling it again
only changes the level and format. ``create_app`` does not call it: an embedding application
(or a test) keeps its own logging setup.

The event loop never writes a log line itself: the service's loggers put each record on a
queue, and a :class:`logging.handlers.QueueListener` thread formats, redacts and writes it
(a write to a full pipe would otherwise stall every request of the worker).

Every record that handler writes, and every record of hypercorn's error and access logs, first
passes a :class:`~inference_service.redaction.RedactingFilter`: a backstop that cuts
credential-shaped text (``?key=``, ``Authorization: …``, ``Bearer …``, well-known key formats)
out of whatever a log line carries, tracebacks included.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any

import msgspec

from inference_service.redaction import RedactingFilter

ROOT_LOGGER = "inference_service"
HANDLER_NAME = "inference_service.queue"
# hypercorn.logging's format, so that both loggers' lines look alike.
_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
HYPERCORN_LOGGERS = ("hypercorn.error", "hypercorn.access")
_FILTER = RedactingFilter()
_RECORDS: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
_listener: QueueListener | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a request line's fields (its ``request`` attribute) inline."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "request", None) or {}
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": "request" if fields else record.getMessage(),
            **fields,
        }
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return msgspec.json.encode(out).decode()


class _Enqueue(QueueHandler):
    """Puts the record itself on the queue: formatting (and redacting) happen in the listener's
    thread, not on the event loop. The queue is in-process, so nothing needs pickling."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return logging.Formatter(_FORMAT, _DATE_FORMAT)


def configure_logging(level: str, log_format: str = "text") -> None:
    """``level`` is a validated ``log_level`` setting (``debug`` … ``critical``), ``log_format``
    a validated ``log_format`` (``text`` or ``json``)."""
    global _listener
    logger = logging.getLogger(ROOT_LOGGER)
    logger.setLevel(level.upper())
    if _listener is None:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.addFilter(_FILTER)
        _listener = QueueListener(_RECORDS, stderr, respect_handler_level=False)
        _listener.start()
        atexit.register(stop_logging)
    if not any(handler.get_name() == HANDLER_NAME for handler in logger.handlers):
        enqueue = _Enqueue(_RECORDS)
        enqueue.set_name(HANDLER_NAME)
        logger.addHandler(enqueue)
    for handler in _listener.handlers:
        handler.setFormatter(_formatter(log_format))
    logger.propagate = False
    for name in HYPERCORN_LOGGERS:
        # A logger's filter sees the records logged on it (hypercorn logs on these directly).
        other = logging.getLogger(name)
        if _FILTER not in other.filters:
            other.addFilter(_FILTER)


def stop_logging() -> None:
    """Write what is still queued and stop the listener (at exit)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None
