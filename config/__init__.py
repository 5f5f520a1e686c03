"""Shipped in the distribution as ``inference_service._config`` (see setup.py).

This file makes the directory a regular package, so ``importlib.resources`` finds the default
``service.toml`` and ``hypercorn.toml`` through an editable install's import hook as well as in
a wheel.
"""
