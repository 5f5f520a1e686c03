"""Observability: every request counted, timed and logged once, when it is over.

:class:`~inference_service.observe.middleware.ObserveMiddleware` begins each request's
:class:`~inference_service.inference.record.RequestRecord`, the layers below fill it in (the
service layer the endpoint, authentication the key, the pipeline tokens and attempts, the
faces the errors), and when the last byte has gone the middleware hands it to the
:class:`~inference_service.observe.observers.Observers`: the Prometheus metrics, the usage
accounts and the request log line. Nothing is written per chunk, nothing blocks the loop.
"""
