"""Persistence: the endpoint table, its engine, the secret cipher and the repository."""
