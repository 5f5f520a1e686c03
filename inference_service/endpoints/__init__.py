"""Endpoint lifecycle: rules, settings parsing, the manager, the per-worker catalog,
declarative files and preconfigured endpoints."""
