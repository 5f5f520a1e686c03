"""Shared test machinery: databases and a real service under hypercorn."""
