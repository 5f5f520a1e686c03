"""Shipped in the distribution as ``inference_service._migrations`` (see setup.py).

This file makes the directory a regular package, so ``importlib.resources`` finds it through
an editable install's import hook as well as in a wheel; alembic itself ignores it.
"""
