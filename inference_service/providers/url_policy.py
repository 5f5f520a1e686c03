"""Which addresses a provider URL may reach: the blocked ranges and the admin's allow-list.

A stored provider key is only as safe as the URL it is sent to: a URL aimed at the cloud
metadata service (169.254.169.254), at a database on the private network or at the service's
own loopback port turns the gateway into a proxy into the network it runs in (SSRF). So every
address a provider call may reach is checked here, pure and synchronous, by
:class:`UrlPolicy`; :mod:`inference_service.providers.url_guard` applies it on PUT/``_update``
and again when the HTTP client connects.

Blocked: loopback, link-local (169.254.0.0/16, where cloud metadata lives, and fe80::/10),
the private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), shared address space 100.64/10,
"this network" 0.0.0.0/8, multicast, and the reserved, documentation, benchmarking and
unspecified ranges. An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is judged as the IPv4
address it is, and a NAT64 (64:ff9b::/96), 6to4 or Teredo address by the IPv4 address it
carries. The explicit table below is the rule (its labels make the messages); ``ipaddress``'s
properties are a second net (their ranges differ between Python versions, so they are never
the only check).

Allowed anyway: addresses inside a CIDR of the setting ``provider_url_allowlist`` and, by name,
the host names it lists (``127.0.0.0/8,::1,vllm.internal``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWLIST_SETTING = "provider_url_allowlist"
SCHEMES = frozenset({"http", "https"})

_BLOCKED: tuple[tuple[str, str], ...] = (
    ("127.0.0.0/8", "a loopback address"),
    ("::1/128", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (cloud metadata lives there)"),
    ("fe80::/10", "a link-local address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("fc00::/7", "a private address (unique local)"),
    ("fec0::/10", "a private address (site-local)"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("0.0.0.0/8", 'a "this network" address'),
    ("::/128", "the unspecified address"),
    ("224.0.0.0/4", "a multicast address"),
    ("ff00::/8", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
    ("192.0.0.0/24", "a reserved address (IETF protocol assignments)"),
    ("192.0.2.0/24", "a reserved address (documentation)"),
    ("198.51.100.0/24", "a reserved address (documentation)"),
    ("203.0.113.0/24", "a reserved address (documentation)"),
    ("198.18.0.0/15", "a reserved address (benchmarking)"),
    ("192.88.99.0/24", "a reserved address (6to4 relay)"),
    ("64:ff9b:1::/48", "a reserved address (local NAT64)"),  # inside ::/8: listed before it
    ("::/8", "a reserved address"),
    ("100::/64", "a reserved address (discard-only)"),
    ("2001::/23", "a reserved address (IETF protocol assignments)"),
    ("2001:db8::/32", "a reserved address (documentation)"),
)
BLOCKED_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), label) for cidr, label in _BLOCKED
)
"""Each blocked range with the words a message uses for it, most specific label first."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")
_NUMBER = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class AllowlistError(ValueError):
    """The ``provider_url_allowlist`` setting has an entry that is neither a CIDR nor a host name."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """The blocked ranges minus the admin's allow-list (see the module docstring)."""

    networks: tuple[IPNetwork, ...] = ()
    """Allow-listed CIDRs: addresses inside them are never blocked."""
    names: frozenset[str] = frozenset()
    """Allow-listed host names (lower case, no trailing dot): not resolved at PUT, and not
    checked when connecting, whatever they resolve to."""

    @classmethod
    def parse(cls, text: str) -> UrlPolicy:
        """The policy of a ``provider_url_allowlist`` value (comma-separated CIDRs and host names)."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(_network(entry))
                continue
            except ValueError:
                pass
            name = entry.lower().rstrip(".")
            if not _HOST_NAME.match(name) or ends_in_number(name) or "/" in entry:
                raise AllowlistError(
                    f"{ALLOWLIST_SETTING}: [{entry}] is neither a CIDR (10.0.0.0/8, fd00::/8, 10.1.2.3) "
                    "nor a host name (vllm.internal)"
                )
            names.add(name)
        return cls(networks=tuple(networks), names=frozenset(names))

    def name_allowed(self, host: str) -> bool:
        """Whether ``host`` (a name, any case, trailing dot or not) is allow-listed by name."""
        return bool(self.names) and host.lower().rstrip(".") in self.names

    def address_problem(self, address: str | IPAddress) -> str | None:
        """Why ``address`` may not be reached (``"a private address"``), or None when it may."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address):
            ip = ip.ipv4_mapped or ipaddress.IPv6Address(ip.packed)  # mapped: as IPv4; no zone id
        if self._allowed(ip):
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
            return self._embedding(ipaddress.IPv4Address(ip.packed[-4:]))
        problem = _blocked(ip)
        if problem is None and isinstance(ip, ipaddress.IPv6Address):
            embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
            if embedded is not None:
                problem = self._embedding(embedded)
        return problem

    def _allowed(self, ip: IPAddress) -> bool:
        return any(ip in network for network in self.networks)

    def _embedding(self, embedded: ipaddress.IPv4Address) -> str | None:
        """The verdict on an IPv6 address that carries ``embedded`` (traffic to it reaches that one)."""
        if self._allowed(embedded):
            return None
        inner = _blocked(embedded)
        return None if inner is None else f"an address embedding [{embedded}], {inner}"


def _network(entry: str) -> IPNetwork:
    network = ipaddress.ip_network(entry, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:10.0.0.0/104 allows what it would allow as IPv4
            return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    return network


def _blocked(ip: IPAddress) -> str | None:
    for network, label in BLOCKED_RANGES:
        if ip.version == network.version and ip in network:
            return label
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a non-public address"
    return None


def parse_ip(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (an IPv6 zone id is allowed), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def ends_in_number(host: str) -> bool:
    """Whether a URL parser following the WHATWG URL standard reads ``host`` as an IPv4 address
    (its last label is a number: ``2852039166``, ``0xa9fea9fe``, ``169.254.43518``); the
    resolver then reads these legacy spellings as addresses too."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_NUMBER.match(last))


def host_problem(host: str) -> str | None:
    """What is wrong with ``host`` as written (not what it resolves to), or None.

    Legacy numeric spellings (``2852039166`` for 169.254.169.254, ``0251.0376.0251.0376``) are
    refused outright rather than decoded: the only IPv4 spelling accepted is the dotted quad.
    """
    if parse_ip(host) is not None:
        return None
    name = host.lower()
    if ends_in_number(name):
        return f"[{host}] is not a canonical IPv4 address (write it as four decimal numbers, a.b.c.d)"
    if not _HOST_NAME.match(name):
        return f"[{host}] is not a valid host name"
    return None


def origins(urls: Mapping[str, str]) -> dict[str, tuple[str, str | None, int | None]]:
    """Each URL's origin (scheme, host, port): where a call goes, whatever its path and query."""
    found: dict[str, tuple[str, str | None, int | None]] = {}
    for name, url in urls.items():
        try:
            parsed = URL(url)
        except ValueError:
            found[name] = (url, None, None)
            continue
        found[name] = (parsed.scheme, parsed.host, parsed.port)
    return found
