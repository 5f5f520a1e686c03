"""inference-service: a standalone, Elasticsearch-compatible ``_inference`` service."""

__version__ = "0.1.0"
