"""configure_logging puts the redacting backstop on every line the service writes (pure)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from inference_service.logs import HANDLER_NAME, HYPERCORN_LOGGERS, ROOT_LOGGER, configure_logging
from inference_service.redaction import RedactingFilter


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide loggers; put them back for the other tests
    (caplog needs ``inference_service`` records to propagate)."""
    names = (ROOT_LOGGER, *HYPERCORN_LOGGERS)
    saved = [
        (logger, logger.level, logger.propagate, list(logger.handlers), list(logger.filters))
        for logger in map(logging.getLogger, names)
    ]
    yield
    for logger, level, propagate, handlers, filters in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers
        logger.filters[:] = filters


def test_the_service_handler_redacts_what_it_writes() -> None:
    configure_logging("info")
    configure_logging("info")  # idempotent: still one handler, one filter
    logger = logging.getLogger(ROOT_LOGGER)
    (handler,) = [h for h in logger.handlers if h.get_name() == HANDLER_NAME]
    assert isinstance(handler, logging.StreamHandler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    stream = io.StringIO()
    # not setStream: it flushes the old stream, which an earlier test's capture may have closed
    previous, handler.stream = handler.stream, stream
    try:
        logging.getLogger("inference_service.anything").warning(
            "calling %s", "https://p/v1?key=AIzaSyD-0123456789abcdefghij"
        )
    finally:
        handler.stream = previous
    line = stream.getvalue()
    assert "AIzaSyD" not in line and "calling https://p/v1?key=<redacted>" in line


def test_hypercorn_logs_are_filtered_too() -> None:
    configure_logging("info")
    configure_logging("debug")
    for name in HYPERCORN_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactingFilter) for f in filters) == 1, name
