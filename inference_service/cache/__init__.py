"""The response cache: opt-in per endpoint (its ``cache`` object), for every task type."""
