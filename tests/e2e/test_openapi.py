"""``GET /openapi.json`` on a running service, and the regressions the OpenAPI work found.

The fuzz run itself is ``test_openapi_fuzz.py``; each bug it (or the probing around it) found
has its own plain test here.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.service import RunningService, migrated_service


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """Authentication required and no key: only the public routes answer."""
    with migrated_service(tmp_path_factory.mktemp("openapi"), auth="required") as running:
        yield running


def test_the_document_is_served_without_a_key(locked: RunningService) -> None:
    response = httpx.get(locked.url + "/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert "/v1/chat/completions" in document["paths"]
    assert httpx.get(locked.url + "/_inference").status_code == 401


def test_the_document_takes_the_elasticsearch_query_parameters(locked: RunningService) -> None:
    pretty = httpx.get(locked.url + "/openapi.json?pretty")
    assert pretty.status_code == 200 and pretty.text.startswith("{\n")
    filtered = httpx.get(locked.url + "/openapi.json?filter_path=openapi")
    assert filtered.json() == {"openapi": "3.1.0"}
    unknown = httpx.get(locked.url + "/openapi.json?nope=1")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["type"] == "illegal_argument_exception"


@pytest.mark.parametrize("path", ["/_inference", "/v1/models"])
@pytest.mark.parametrize("credential", [b"ApiKey \xff\xfe", b"Bearer caf\xe9"])
def test_a_non_ascii_credential_is_a_401_not_a_500(
    locked: RunningService, path: str, credential: bytes
) -> None:
    """Was a 500: ``base64.b64decode`` refuses a non-ASCII str with a plain ValueError, which
    ``parse_authorization`` did not catch (HTTP headers are latin-1, so such a header arrives)."""
    response = httpx.get(locked.url + path, headers={b"authorization": credential})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] in ("ApiKey", "Bearer")


def test_an_expiration_past_the_calendar_is_a_400(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Was a 500 (OverflowError in ``parse_expiration``)."""
    with migrated_service(tmp_path_factory.mktemp("expiration")) as svc:
        response = httpx.post(
            svc.url + "/_security/api_key", json={"name": "k", "expiration": "99999999999999d"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation_exception"
    assert "too far in the future" in response.json()["error"]["reason"]


@pytest.mark.parametrize(
    ("settings", "task_settings"),
    [({"api_key": "sk-1\r\nX-Injected: 1"}, None), ({"api_key": "sk-1"}, {"headers": {"x-a": "b\r\nc: d"}})],
)
def test_a_header_setting_with_a_line_break_is_a_400_not_a_500(
    tmp_path_factory: pytest.TempPathFactory,
    settings: dict[str, str],
    task_settings: dict[str, object] | None,
) -> None:
    """Was a 500: aiohttp refused the header with ``ValueError`` when the provider was called;
    now PUT refuses the setting, and so does a request's ``task_settings``."""
    with migrated_service(tmp_path_factory.mktemp("headers")) as svc:
        service_settings = {"model_id": "m", "url": "http://127.0.0.1:9/v1/embeddings", **settings}
        body: dict[str, object] = {"service": "openai", "service_settings": service_settings}
        put = httpx.put(svc.url + "/_inference/text_embedding/h", json=body)
        if task_settings is None:
            assert put.status_code == 400
            assert "api_key" in put.json()["error"]["reason"]
            return
        assert put.status_code == 200, put.text
        inference = httpx.post(
            svc.url + "/_inference/text_embedding/h", json={"input": "x", "task_settings": task_settings}
        )
    assert inference.status_code == 400
    assert inference.json()["error"]["type"] == "validation_exception"
