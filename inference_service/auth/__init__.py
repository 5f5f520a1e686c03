"""The service's own API keys: roles, credentials, the per-worker key ring, refusals.

A request is authenticated once, in front of its handler (:mod:`inference_service.api.auth`),
against the worker's in-memory :class:`~inference_service.auth.keyring.KeyRing`: no database
query per request. Keys are created and invalidated by
:class:`~inference_service.auth.manager.ApiKeyManager` (the REST API and the CLI).
"""
