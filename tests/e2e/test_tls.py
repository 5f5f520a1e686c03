"""TLS as users turn it on: ``inference-service serve`` as a subprocess with the ``tls_*``
settings (from the environment, and from a ``--config`` file), certificates made for the test
(:mod:`tests.support.certificates`), driven over https by the official ``elasticsearch``
client (``ca_certs=``) and the ``openai`` SDK (its httpx client verifying against the CA).
Plain http to the TLS port fails; with ``tls_ca_certs`` a client without a certificate signed by
that CA is refused in the handshake. The service's own stderr is read back: its start-up lines
say https, and a provider's refusal that quotes the API key is logged without it."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.certificates import Certificates, make_certificates

API_KEY = "sk-tls-test-0123456789abcdef"
ECHOING_KEY = "tenant-key-7f3a"  # a key of no known format: only the exact value can catch it


CHECKOUT = Path(__file__).resolve().parents[2]


def clean_environment() -> dict[str, str]:
    """The test's environment without ``INFERENCE_SERVICE_*`` settings, importing the code under
    test (this checkout) whatever the installed package points at."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), env.get("PYTHONPATH")]))
    return env


@dataclass
class Served:
    url: str
    port: int
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def trusting(certs: Certificates, client: bool = False) -> ssl.SSLContext:
    """What a client verifying the service against the test CA uses (with its certificate)."""
    context = ssl.create_default_context(cafile=str(certs.ca.cert))
    if client:
        context.load_cert_chain(str(certs.client.cert), str(certs.client.key))
    return context


@contextmanager
def serve(
    directory: Path, *, env: Mapping[str, str] = {}, config: str = "", probe: ssl.SSLContext
) -> Iterator[Served]:
    """``inference-service serve --migrate`` until the block exits; stderr goes to a file."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = directory / "service.toml"
    settings.write_text(
        f'data_dir = "{directory / "data"}"\nvalidate_on_put = false\n'
        'provider_url_allowlist = "127.0.0.0/8"\n'  # the fake provider
        f"{config}"
    )
    port = free_port()
    stderr = directory / "stderr.log"
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--port", str(port)]
    base = clean_environment()
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--config", str(settings)],
            env={**base, **env},
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    served = Served(f"https://127.0.0.1:{port}", port, stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(served.url + "/", verify=probe, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"service did not start: {served.log()}") from None
                time.sleep(0.05)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=Reply.sse(fake_openai.stream(["over ", "https"]))) as fake:
        yield fake


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator[Served]:
    """TLS from the environment, as a container would set it; no client certificates."""
    env = {
        "INFERENCE_SERVICE_TLS_CERTFILE": str(certs.server.cert),
        "INFERENCE_SERVICE_TLS_KEYFILE": str(certs.server.key),
    }
    with serve(tmp_path_factory.mktemp("tls"), env=env, probe=trusting(certs)) as served:
        yield served


@pytest.fixture(scope="module")
def mutual(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator[Served]:
    """TLS with client certificates, from a ``--config`` file."""
    config = (
        f'tls_certfile = "{certs.server.cert}"\ntls_keyfile = "{certs.server.key}"\n'
        f'tls_ca_certs = "{certs.ca.cert}"\n'
    )
    probe = trusting(certs, client=True)
    with serve(tmp_path_factory.mktemp("mtls"), config=config, probe=probe) as served:
        yield served


def chat_config(upstream: FakeProvider, api_key: str = API_KEY) -> dict[str, object]:
    return {
        "service": "openai",
        "service_settings": {
            "api_key": api_key,
            "model_id": "gpt-4o-mini",
            "url": upstream.url + "/v1/chat/completions",
        },
    }


def test_start_up_lines_say_https(tls: Served, mutual: Served, certs: Certificates) -> None:
    log = tls.log()
    assert f"Running on https://127.0.0.1:{tls.port}" in log
    assert f"TLS on: certificate {certs.server.cert}, no client certificates" in log
    assert f"client certificates required (CAs in {certs.ca.cert})" in mutual.log()
    assert "http://" not in log.replace("https://", "")


def test_official_client_over_https(tls: Served, certs: Certificates, upstream: FakeProvider) -> None:
    # Closed clients: an idle TLS connection left open would hold up the server's shutdown (its
    # close waits for the peer's close_notify).
    with Elasticsearch(tls.url, ca_certs=str(certs.ca.cert), request_timeout=30) as client:
        assert client.info()["tagline"] == "You Know, for Search"
        config = chat_config(upstream)
        client.inference.put(task_type="completion", inference_id="tls-completion", inference_config=config)
        answer = client.inference.completion(inference_id="tls-completion", input="hi")
    assert answer["completion"] == [{"result": "over https"}]
    assert upstream.last_request.headers["authorization"] == f"Bearer {API_KEY}"


def test_openai_sdk_over_https(tls: Served, certs: Certificates, upstream: FakeProvider) -> None:
    created = httpx.put(
        f"{tls.url}/_inference/chat_completion/tls-chat", json=chat_config(upstream), verify=trusting(certs)
    )
    assert created.status_code == 200, created.text
    http = openai.DefaultHttpxClient(verify=trusting(certs))  # the SDK's own client class
    with openai.OpenAI(base_url=tls.url + "/v1", api_key="unused", max_retries=0, http_client=http) as sdk:
        answer = sdk.chat.completions.create(model="tls-chat", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "over https"
        streamed = sdk.chat.completions.create(
            model="tls-chat", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "over https"


def test_localhost_matches_the_certificate(tls: Served, certs: Certificates) -> None:
    response = httpx.get(f"https://localhost:{tls.port}/", verify=trusting(certs), timeout=5)
    assert response.status_code == 200


def test_plain_http_to_the_tls_port_fails(tls: Served) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls.port}/", timeout=5)


def test_a_client_that_does_not_trust_the_ca_is_refused(tls: Served) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(tls.url + "/", timeout=5)  # the system's CAs only


def test_client_certificates_are_required(mutual: Served, certs: Certificates) -> None:
    with httpx.Client(verify=trusting(certs, client=True)) as good:
        assert good.get(mutual.url + "/").status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(mutual.url + "/", verify=trusting(certs), timeout=5)  # no certificate
    stranger = trusting(certs)
    stranger.load_cert_chain(str(certs.other_client.cert), str(certs.other_client.key))
    with pytest.raises(httpx.TransportError):
        httpx.get(mutual.url + "/", verify=stranger, timeout=5)  # signed by a CA not trusted


def test_official_client_with_a_client_certificate(mutual: Served, certs: Certificates) -> None:
    with Elasticsearch(
        mutual.url,
        ca_certs=str(certs.ca.cert),
        client_cert=str(certs.client.cert),
        client_key=str(certs.client.key),
        request_timeout=30,
    ) as client:
        assert client.inference.get()["endpoints"] is not None


def test_an_echoed_key_never_reaches_the_answer_or_the_log(
    tls: Served, certs: Certificates, upstream: FakeProvider
) -> None:
    """The service's real log handler (``serve``'s stderr), not a test's: the refusal is logged,
    without the key the provider quoted back."""
    created = httpx.put(
        f"{tls.url}/_inference/completion/tls-echo",
        json=chat_config(upstream, ECHOING_KEY),
        verify=trusting(certs),
    )
    assert created.status_code == 200, created.text
    message = f"Invalid API key: {ECHOING_KEY} (sent as Authorization: Bearer {ECHOING_KEY})"
    upstream.enqueue(fake_openai.error_reply(401, message, "invalid_request_error", "invalid_api_key"))
    refused = httpx.post(
        f"{tls.url}/_inference/completion/tls-echo", json={"input": "hi"}, verify=trusting(certs)
    )
    assert refused.status_code == 401
    assert ECHOING_KEY not in refused.text and "Invalid API key: <redacted>" in refused.text
    assert upstream.last_request.headers["authorization"] == f"Bearer {ECHOING_KEY}"
    deadline = time.monotonic() + 5
    while "provider call failed (401)" not in tls.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = tls.log()
    assert "provider call failed (401)" in log and "Invalid API key: <redacted>" in log
    assert ECHOING_KEY not in log and API_KEY not in log


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"INFERENCE_SERVICE_TLS_CERTFILE": "cert.pem"}, "tls_certfile is set but tls_keyfile is not"),
        (
            {"INFERENCE_SERVICE_TLS_CERTFILE": "missing.pem", "INFERENCE_SERVICE_TLS_KEYFILE": "missing.key"},
            "cannot read tls_certfile ",
        ),
    ],
)
def test_unusable_tls_settings_stop_the_start(tmp_path: Path, settings: dict[str, str], message: str) -> None:
    base = clean_environment()
    config = tmp_path / "service.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inference_service",
            "serve",
            "--port",
            str(free_port()),
            "--config",
            str(config),
        ],
        env={**base, **settings},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: " + message) and result.stderr.count("\n") == 1


def test_an_idle_client_that_never_answers_the_close_does_not_hold_up_the_shutdown(
    tmp_path: Path, certs: Certificates
) -> None:
    """SIGTERM closes idle keep-alive connections. Over TLS the server's ``close_notify`` then
    waits for the client's, which an idle client never sends (it does not read): the service
    gives it a moment (``connections.CLOSE_NOTIFY_WAIT_S``) instead of asyncio's 30 s, so it
    still exits within ``serve``'s 20 s (hypercorn's ``graceful_timeout`` is 10 s)."""
    env = {
        "INFERENCE_SERVICE_TLS_CERTFILE": str(certs.server.cert),
        "INFERENCE_SERVICE_TLS_KEYFILE": str(certs.server.key),
    }
    clients: list[ssl.SSLSocket] = []
    try:
        with serve(tmp_path, env=env, probe=trusting(certs)) as served:
            raw = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            clients.append(trusting(certs).wrap_socket(raw, server_hostname="localhost"))
            clients[0].sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += clients[0].recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 ")
        # leaving ``serve`` sent SIGTERM and saw exit code 0 within 20 s; the client stayed silent
    finally:
        for client in clients:
            client.close()
