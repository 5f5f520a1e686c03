"""TLS on the service's own port: the settings checked at start-up, then handed to hypercorn.

hypercorn loads the certificate in each worker, after the port is bound; a bad file there is a
traceback per worker. :func:`check_tls` loads the files first, into the same kind of context
(an ``ssl`` server context), so that a missing file, a key that does not match its
certificate, an encrypted key or a CA file that is not PEM is one ``error:`` line and exit
code 2 before anything starts.

Client certificates: with ``tls_ca_certs`` set they are *required* (``ssl.CERT_REQUIRED``, a
handshake without a certificate signed by one of those CAs fails). Optional ones
(``CERT_OPTIONAL``) would let every client in while looking like mutual TLS, and nothing in the
service reads a certificate it could not insist on.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypercorn.config import Config

from inference_service.settings import Settings, SettingsError

OWNED_KEYS = {
    "certfile": "tls_certfile",
    "keyfile": "tls_keyfile",
    "keyfile_password": "none: tls_keyfile must not be encrypted",
    "ca_certs": "tls_ca_certs",
    "verify_mode": "tls_ca_certs (client certificates are then required)",
}
"""hypercorn's TLS keys, set from the service settings only (one place for each)."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The checked files, as absolute paths (workers may resolve them from elsewhere)."""

    certfile: str
    keyfile: str
    ca_certs: str | None

    def describe(self) -> str:
        """The start-up log line."""
        clients = (
            f"client certificates required (CAs in {self.ca_certs})"
            if self.ca_certs
            else "no client certificates"
        )
        return f"TLS on: certificate {self.certfile}, {clients}"


def check_tls(settings: Settings) -> TlsFiles | None:
    """The TLS files of ``settings``, loaded once to prove they work; None when TLS is off.
    Any problem is a :class:`SettingsError` naming the setting and the file."""
    cert, key, cas = settings.tls_certfile, settings.tls_keyfile, settings.tls_ca_certs
    if not cert and not key:
        if cas:
            raise SettingsError("tls_ca_certs (client certificates) needs tls_certfile and tls_keyfile")
        return None
    if not cert or not key:
        given, missing = ("tls_certfile", "tls_keyfile") if cert else ("tls_keyfile", "tls_certfile")
        raise SettingsError(f"{given} is set but {missing} is not: set both (https) or neither (http)")
    files = TlsFiles(_readable("tls_certfile", cert), _readable("tls_keyfile", key), None)
    if cas:
        files = TlsFiles(files.certfile, files.keyfile, _readable("tls_ca_certs", cas))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(files.certfile, files.keyfile, password=_refuse_encrypted(files.keyfile))
    except ssl.SSLError as exc:
        raise SettingsError(
            f"tls_certfile {files.certfile} and tls_keyfile {files.keyfile} are not a PEM certificate "
            f"and its private key: {exc.reason or exc}"
        ) from None
    if files.ca_certs:
        try:
            context.load_verify_locations(files.ca_certs)
        except ssl.SSLError as exc:
            raise SettingsError(
                f"tls_ca_certs {files.ca_certs} is not a PEM file of CA certificates: {exc.reason or exc}"
            ) from None
    return files


def apply_tls(config: Config, files: TlsFiles | None) -> None:
    """Hand the checked files to hypercorn (nothing when TLS is off)."""
    if files is None:
        return
    config.certfile = files.certfile
    config.keyfile = files.keyfile
    if files.ca_certs:
        config.ca_certs = files.ca_certs
        config.verify_mode = ssl.CERT_REQUIRED


def _readable(setting: str, name: str) -> str:
    path = Path(name).resolve()
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise SettingsError(f"cannot read {setting} {path}: {exc.strerror or exc}") from None
    return str(path)


def _refuse_encrypted(keyfile: str) -> Callable[[], str]:
    """OpenSSL would prompt on the terminal for an encrypted key's password; refuse instead."""

    def password() -> str:
        raise SettingsError(
            f"tls_keyfile {keyfile} is encrypted: give an unencrypted key (protect it with file permissions)"
        )

    return password
