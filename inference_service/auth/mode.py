"""The ``auth`` setting: when requests must carry a key.

``required``: always. ``off``: never (a warning at start-up). ``auto`` (the default): required
unless the service binds only to loopback and no key has been created yet, so a fresh local
install works without ceremony and turns itself on with the first key (invalidating keys
later never turns it off again). ``serve`` on another address with auth not ``off`` refuses to
start until a usable key exists (one neither invalidated nor expired: with none, nothing could
use the service).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

AuthSetting = Literal["auto", "required", "off"]
CREATE_COMMAND = "inference-service api-keys create --name admin --role manage"


def loopback_only(host: str) -> bool:
    """Whether binding ``host`` listens on loopback only (``0.0.0.0``, ``::`` and names other
    than ``localhost`` do not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def open_without_keys(setting: AuthSetting, host: str) -> bool:
    """Whether the service serves requests without a key while none exists."""
    return setting == "auto" and loopback_only(host)


def startup_refusal(setting: AuthSetting, host: str, usable_keys: int) -> str | None:
    """Why ``serve`` must not start, or None; ``usable_keys``: how many keys could authenticate."""
    if setting == "off" or usable_keys > 0 or loopback_only(host):
        return None
    return (
        f"authentication is on (auth = {setting}) and no usable API key exists (none was made, or "
        f"every one is invalidated or expired), so nothing could use the "
        f'service on [{host}]: create one with `{CREATE_COMMAND}` (or set auth = "off")'
    )
