"""Idempotency keys: a request's outcome stored under the client's key and replayed on retry.

:mod:`.keys` validates the header and computes the request fingerprint, :mod:`.store` defines
the claim protocol and its outcomes, :mod:`.sql` and :mod:`.redis_store` implement it, and
:mod:`inference_service.api.idempotency` wires it into the ASGI application.
"""
