"""The service layer every API face calls: resolve the endpoint, apply per-request task
settings, the deadline and the wrappers around the provider call (rate-limit gate, ...)."""
