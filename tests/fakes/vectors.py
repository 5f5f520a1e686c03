"""Deterministic distinct vectors the embedding fakes answer with.

Input ``i`` becomes ``[i + 0.5, i + 0.25, ...]``. :func:`vector_of` derives ``i`` from the text
itself (its trailing number: ``"t7"``, ``"text 7"``), so a fake that answers each request from
its own inputs (:meth:`tests.fakes.server.FakeProvider.respond_by`) gives the same vectors as
:func:`vectors_for` whatever order concurrent batches arrive in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TRAILING_NUMBER = re.compile(r"(\d+)$")


def vector(i: int, dims: int = 3) -> list[float]:
    return [i + 1 / (2 ** (d + 1)) for d in range(dims)]


def vectors_for(inputs: Sequence[str], dims: int = 3) -> list[list[float]]:
    """One vector per input, by position."""
    return [vector(i, dims) for i in range(len(inputs))]


def vector_of(text: str, dims: int = 3) -> list[float]:
    """The vector of the input whose text ends in its position (``"t7"`` -> input 7)."""
    found = _TRAILING_NUMBER.search(text)
    if found is None:
        raise ValueError(f"input [{text}] does not end in its position")
    return vector(int(found.group(1)), dims)
