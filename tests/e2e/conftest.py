"""Shared e2e fixtures: one fake provider server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import FakeProvider


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def fresh_upstream(upstream: FakeProvider) -> Iterator[FakeProvider]:
    """The module's fake with no scripted reply or recorded request left from another test
    (``pytestmark = pytest.mark.usefixtures("fresh_upstream")`` for a whole module)."""
    upstream.clear()
    yield upstream
    upstream.clear()
