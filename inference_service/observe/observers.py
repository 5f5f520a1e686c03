"""What happens to each request's record when it starts and when it is over: the metrics,
the request log line, the usage accounts (when present). One object, so the middleware makes
one call each way."""

from __future__ import annotations

from inference_service.inference.record import RequestRecord
from inference_service.observe.metrics import Metrics
from inference_service.observe.request_log import log_request
from inference_service.usage.accounts import UsageAccounts


class Observers:
    def __init__(self, metrics: Metrics, usage: UsageAccounts | None = None) -> None:
        self.metrics = metrics
        self.usage = usage

    def started(self, record: RequestRecord) -> None:
        self.metrics.started(record)

    def finished(self, record: RequestRecord) -> None:
        self.metrics.observe(record)
        if self.usage is not None:
            self.usage.add(record)
        log_request(record)
