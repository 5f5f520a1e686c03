"""TLS settings are checked at start-up and handed to hypercorn (files in a temporary directory)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from inference_service.server import hypercorn_config
from inference_service.settings import Settings, SettingsError, load_settings
from inference_service.tls import check_tls
from tests.support.certificates import Certificates, make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def settings(tmp_path: Path, **values: Any) -> Settings:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    return load_settings(config_file=empty, environ={}, overrides={"data_dir": str(tmp_path), **values})


def refused(tmp_path: Path, **values: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        check_tls(settings(tmp_path, **values))
    return str(caught.value)


def test_off_by_default(tmp_path: Path) -> None:
    plain = settings(tmp_path)
    assert check_tls(plain) is None and plain.scheme == "http"
    config = hypercorn_config(plain)
    assert not config.ssl_enabled and config.tls_note == ""


def test_on_with_client_certificates_required(tmp_path: Path, certs: Certificates) -> None:
    on = settings(
        tmp_path,
        tls_certfile=str(certs.server.cert),
        tls_keyfile=str(certs.server.key),
        tls_ca_certs=str(certs.ca.cert),
    )
    assert on.scheme == "https"
    config = hypercorn_config(on)
    assert config.ssl_enabled
    assert (config.certfile, config.keyfile, config.ca_certs) == tuple(
        str(p) for p in (certs.server.cert, certs.server.key, certs.ca.cert)
    )
    assert config.verify_mode == ssl.CERT_REQUIRED
    assert config.tls_note == (
        f"TLS on: certificate {certs.server.cert}, client certificates required (CAs in {certs.ca.cert})"
    )
    context = config.create_ssl_context()  # what each worker does: it must work
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED


def test_without_client_certificates(tmp_path: Path, certs: Certificates) -> None:
    config = hypercorn_config(
        settings(tmp_path, tls_certfile=str(certs.server.cert), tls_keyfile=str(certs.server.key))
    )
    assert config.ssl_enabled and config.ca_certs is None and config.verify_mode is None
    assert config.tls_note.endswith(", no client certificates")


def test_relative_paths_become_absolute(
    tmp_path: Path, certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(certs.server.cert.parent)
    files = check_tls(settings(tmp_path, tls_certfile="server.pem", tls_keyfile="server.key"))
    assert files is not None and files.certfile == str(certs.server.cert)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"tls_certfile": "c.pem"},
            "tls_certfile is set but tls_keyfile is not: set both (https) or neither",
        ),
        ({"tls_keyfile": "k.pem"}, "tls_keyfile is set but tls_certfile is not: set both (https) or neither"),
        ({"tls_ca_certs": "ca.pem"}, "tls_ca_certs (client certificates) needs tls_certfile and tls_keyfile"),
    ],
)
def test_incomplete_settings(tmp_path: Path, given: dict[str, str], message: str) -> None:
    assert message in refused(tmp_path, **given)


def test_unreadable_files(tmp_path: Path, certs: Certificates) -> None:
    missing = tmp_path / "missing.pem"
    message = refused(tmp_path, tls_certfile=str(missing), tls_keyfile=str(certs.server.key))
    assert message == f"cannot read tls_certfile {missing}: No such file or directory"
    message = refused(
        tmp_path,
        tls_certfile=str(certs.server.cert),
        tls_keyfile=str(certs.server.key),
        tls_ca_certs=str(missing),
    )
    assert message == f"cannot read tls_ca_certs {missing}: No such file or directory"
    assert refused(tmp_path, tls_certfile=str(tmp_path), tls_keyfile=str(certs.server.key)).startswith(
        f"cannot read tls_certfile {tmp_path}: "
    )


def test_a_key_that_is_not_the_certificates(tmp_path: Path, certs: Certificates) -> None:
    message = refused(tmp_path, tls_certfile=str(certs.server.cert), tls_keyfile=str(certs.client.key))
    assert message.startswith(
        f"tls_certfile {certs.server.cert} and tls_keyfile {certs.client.key} are not a PEM "
        "certificate and its private key: "
    )


def test_files_that_are_not_pem(tmp_path: Path, certs: Certificates) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    message = refused(tmp_path, tls_certfile=str(garbage), tls_keyfile=str(certs.server.key))
    assert "are not a PEM certificate and its private key" in message
    message = refused(
        tmp_path,
        tls_certfile=str(certs.server.cert),
        tls_keyfile=str(certs.server.key),
        tls_ca_certs=str(garbage),
    )
    assert message.startswith(f"tls_ca_certs {garbage} is not a PEM file of CA certificates: ")


def test_an_encrypted_key_is_refused_not_prompted_for(tmp_path: Path, certs: Certificates) -> None:
    key = serialization.load_pem_private_key(certs.server.key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    message = refused(tmp_path, tls_certfile=str(certs.server.cert), tls_keyfile=str(encrypted))
    assert (
        message
        == f"tls_keyfile {encrypted} is encrypted: give an unencrypted key (protect it with file permissions)"
    )


@pytest.mark.parametrize("key", ["certfile", "keyfile", "ca_certs", "verify_mode", "keyfile_password"])
def test_the_hypercorn_file_cannot_set_tls(tmp_path: Path, key: str) -> None:
    toml = tmp_path / "hypercorn.toml"
    toml.write_text(f'{key} = "x"\n')
    with pytest.raises(SettingsError) as caught:
        hypercorn_config(settings(tmp_path, hypercorn_config=str(toml)))
    assert f"sets what the service settings own ({key}: " in str(caught.value)
