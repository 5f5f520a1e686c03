"""A name resolver for tests: test names mapped to addresses, nothing looked up anywhere.

Handed to ``create_app(settings, resolver=...)`` it replaces the resolver under the provider URL
guard, so a test can make ``metadata.test`` resolve to 169.254.169.254 (and re-point a name
between a PUT and a call) without any traffic: the guard refuses before anything connects.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult


class MapResolver(AbstractResolver):
    """``names``: host name -> its addresses; any other name does not resolve."""

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names: dict[str, list[str]] = dict(names or {})
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.names.get(host.lower().rstrip("."))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"test resolver: [{host}] is not a known name")
        results: list[ResolveResult] = []
        for address in addresses:
            ip_family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
            results.append(
                ResolveResult(hostname=host, host=address, port=port, family=ip_family, proto=0, flags=0)
            )
        return results

    async def close(self) -> None:
        pass
