"""The Google AI Studio fakes reproduce the recorded answers byte for byte, in the documented
``batchEmbedContents`` and google.rpc.Status shapes. No sockets."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import googleaistudio as google

JSON = Path(__file__).parents[2] / "fixtures" / "json"


def test_batch_embed_contents_answer() -> None:
    vectors = [[0.013168523, -0.008711934, -0.046782676], [-0.0106284, 0.0276315, -0.0189041]]
    recorded = (JSON / "googleaistudio_embeddings.json").read_bytes()
    assert google.embeddings(vectors) == recorded
    assert recorded.startswith(b'{\n  "embeddings": [\n    {\n      "values": [\n        0.013168523,\n')
    assert json.loads(recorded) == {"embeddings": [{"values": v} for v in vectors]}


def test_error_answer() -> None:
    recorded = (JSON / "googleaistudio_error.json").read_bytes()
    reply = google.invalid_api_key()
    assert reply.body == recorded and reply.status == 400
    status = json.loads(recorded)["error"]
    assert list(status) == ["code", "message", "status", "details"]
    assert status["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert dict(reply.headers)["content-type"] == "application/json; charset=UTF-8"


def test_not_found_has_no_details() -> None:
    body = json.loads(google.model_not_found("nope").body or b"")
    assert body["error"]["status"] == "NOT_FOUND" and "details" not in body["error"]
