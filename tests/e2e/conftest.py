"""Shared e2e fixtures: one fake provider server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import FakeProvider


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake
