"""The Text Embeddings Inference fakes reproduce the recorded answers byte for byte, and the
recorded answers have TEI's documented shape (``router/src/http/types.rs``). No sockets."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import hugging_face as tei

JSON = Path(__file__).parents[2] / "fixtures" / "json"


def recorded(name: str) -> bytes:
    return (JSON / f"hugging_face_{name}.json").read_bytes()


def test_embed_answer() -> None:
    vectors = [[0.0008421829, -0.013275508, 0.04517931], [-0.032417495, 0.0061542946, 0.021339174]]
    assert tei.embeddings(vectors) == recorded("embeddings")
    assert json.loads(recorded("embeddings")) == vectors


def test_rerank_answer() -> None:
    texts = ["Paris is the capital of France.", "Deep Learning is a subset of machine learning."]
    built = tei.scores_for(texts, [0.0012089817, 0.99891484], return_text=True)
    assert built.body == recorded("rerank")
    ranks = json.loads(recorded("rerank"))
    assert [list(r) for r in ranks] == [["index", "text", "score"]] * 2
    assert [r["index"] for r in ranks] == [1, 0]


def test_rerank_answer_without_text_has_no_text_key() -> None:
    assert tei.rerank([tei.rank(0, 0.5)]) == b'[{"index":0,"score":0.5}]'


def test_error_answer() -> None:
    reply = tei.error_reply("batch size 40 > maximum allowed batch size 32", "Validation")
    assert reply.body == recorded("error")
    assert reply.status == 422
    assert list(json.loads(recorded("error"))) == ["error", "error_type"]


def test_unauthorized_is_a_bare_401() -> None:
    reply = tei.unauthorized()
    assert (reply.status, reply.body) == (401, b"")
