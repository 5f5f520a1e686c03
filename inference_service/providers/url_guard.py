"""The provider URL guard in action: on PUT/``_update`` and on every connection the client opens.

:class:`UrlGuard` holds the :class:`~inference_service.providers.url_policy.UrlPolicy` and the
one name resolver of the process, and applies the policy twice:

- when an endpoint is stored, :meth:`UrlGuard.url_problem` checks a URL the user gave: scheme,
  host spelling, the literal address, or every address its host name resolves to now
  (asynchronously, through the resolver; never a blocking lookup);
- when the upstream client connects, :class:`GuardedResolver` (the connector's resolver) refuses
  a name that resolves to a blocked address, so a name that pointed at a public address on PUT
  and is re-pointed at an internal one later (DNS rebinding) is refused all the same, and
  :meth:`UrlGuard.middleware` refuses literal addresses, which aiohttp never hands to a
  resolver. Both raise :class:`BlockedAddressError`, which
  :func:`~inference_service.providers.http.map_client_errors` turns into a 502 naming the URL.

Tests hand :func:`~inference_service.app.create_app` their own base resolver (test names mapped
to blocked addresses), the only seam: what it returns goes through the same checks.
"""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_middlewares import ClientHandlerType
from yarl import URL

from inference_service.providers.url_policy import (
    ALLOWLIST_SETTING,
    SCHEMES,
    UrlPolicy,
    host_problem,
    parse_ip,
)

_LITERAL_CACHE_SIZE = 1024


class BlockedAddressError(OSError):
    """A connection the guard refused; the message names the host and why, never a secret."""


def blocked_message(host: str, address: str, problem: str) -> str:
    """``[10.0.0.1] is a private address; …`` or ``[db.test] resolves to [10.0.0.1], a private …``."""
    shown = f"[{host}] is" if host == address else f"[{host}] resolves to [{address}],"
    return (
        f"{shown} {problem}; provider URLs may not reach internal addresses unless the setting "
        f"[{ALLOWLIST_SETTING}] allows them"
    )


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver interface around a base resolver: a name any of whose addresses is
    blocked is refused (:class:`BlockedAddressError`), unless the name is allow-listed."""

    def __init__(self, policy: UrlPolicy, base: AbstractResolver) -> None:
        self._policy = policy
        self._base = base

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._base.resolve(host, port, family)
        if self._policy.name_allowed(host):
            return results
        for result in results:
            problem = self._policy.address_problem(result["host"])
            if problem is not None:
                raise BlockedAddressError(blocked_message(host, result["host"], problem))
        return results

    async def close(self) -> None:
        await self._base.close()


class UrlGuard:
    """The policy and the resolver, shared by the endpoint manager and the upstream client."""

    def __init__(self, policy: UrlPolicy, base: AbstractResolver, *, lookup_timeout: float = 10.0) -> None:
        self.policy = policy
        self.resolver = GuardedResolver(policy, base)
        self._lookup_timeout = lookup_timeout
        self._literals: dict[str, str | None] = {}

    async def url_problem(self, url: str) -> str | None:
        """What makes ``url`` unacceptable as a provider URL (the scheme, the host, or an address
        it reaches), or None. A host name that does not resolve now is accepted: the
        connect-time check still stands guard over whatever it resolves to later."""
        try:
            parsed = URL(url)
        except ValueError as exc:
            return f"[{url}] is not a valid URL: {exc}"
        if parsed.scheme not in SCHEMES:
            return f"the scheme [{parsed.scheme}] is not allowed; provider URLs use http or https"
        host = parsed.host
        if not host:
            return "the URL has no host"
        written = host_problem(host)
        if written is not None:
            return written
        if parse_ip(host) is not None:
            problem = self.policy.address_problem(host)
            return None if problem is None else blocked_message(host, host, problem)
        if self.policy.name_allowed(host):
            return None
        try:
            async with asyncio.timeout(self._lookup_timeout):
                await self.resolver.resolve(host, parsed.port or 0, socket.AF_UNSPEC)
        except BlockedAddressError as exc:
            return str(exc)
        except (OSError, TimeoutError):
            return None
        return None

    def literal_problem(self, host: str) -> str | None:
        """The verdict on a literal address host (None for names and allowed addresses); cached,
        as the same few hosts come back on every request."""
        try:
            return self._literals[host]
        except KeyError:
            pass
        ip = parse_ip(host)
        problem = None
        if ip is not None:
            found = self.policy.address_problem(ip)
            problem = None if found is None else blocked_message(host, host, found)
        if len(self._literals) >= _LITERAL_CACHE_SIZE:
            self._literals.clear()
        self._literals[host] = problem
        return problem

    async def middleware(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        """The client middleware that refuses literal blocked addresses before connecting."""
        host = request.url.host
        if host is not None:
            problem = self.literal_problem(host)
            if problem is not None:
                raise BlockedAddressError(problem)
        return await handler(request)
