"""The blocked ranges, the allow-list and host spellings (inference_service.providers.url_policy)."""

from __future__ import annotations

import pytest

from inference_service.providers.url_policy import (
    BLOCKED_RANGES,
    AllowlistError,
    IPNetwork,
    UrlPolicy,
    host_problem,
    origins,
)

BLOCKED = [
    ("127.0.0.1", "a loopback address"),
    ("127.255.0.9", "a loopback address"),
    ("::1", "a loopback address"),
    ("169.254.169.254", "a link-local address (cloud metadata lives there)"),
    ("fe80::1", "a link-local address"),
    ("fe80::1%eth0", "a link-local address"),
    ("10.0.0.1", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address (unique local)"),
    ("fc00::1", "a private address (unique local)"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("100.127.255.254", "a shared (carrier-grade NAT) address"),
    ("0.0.0.0", 'a "this network" address'),
    ("0.1.2.3", 'a "this network" address'),
    ("::", "the unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("192.0.2.1", "a reserved address (documentation)"),
    ("198.18.0.1", "a reserved address (benchmarking)"),
    ("2001:db8::1", "a reserved address (documentation)"),
    ("2001::1", "a reserved address (IETF protocol assignments)"),
    ("64:ff9b:1::a9fe:a9fe", "a reserved address (local NAT64)"),
    # IPv4-mapped IPv6 is judged as the IPv4 address it is.
    ("::ffff:169.254.169.254", "a link-local address (cloud metadata lives there)"),
    ("::ffff:a9fe:a9fe", "a link-local address (cloud metadata lives there)"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("::ffff:10.1.2.3", "a private address"),
    # IPv4-compatible (deprecated) addresses sit in ::/8.
    ("::10.0.0.1", "a reserved address"),
    # NAT64 and 6to4 reach the IPv4 address they embed.
    (
        "64:ff9b::a9fe:a9fe",
        "an address embedding [169.254.169.254], a link-local address (cloud metadata lives there)",
    ),
    ("64:ff9b::10.0.0.1", "an address embedding [10.0.0.1], a private address"),
    (
        "2002:a9fe:a9fe::1",
        "an address embedding [169.254.169.254], a link-local address (cloud metadata lives there)",
    ),
    ("2002:7f00:1::", "an address embedding [127.0.0.1], a loopback address"),
]


@pytest.mark.parametrize(("address", "problem"), BLOCKED)
def test_blocked_ranges(address: str, problem: str) -> None:
    assert UrlPolicy().address_problem(address) == problem


@pytest.mark.parametrize(("network", "label"), BLOCKED_RANGES, ids=[str(n) for n, _ in BLOCKED_RANGES])
def test_every_blocked_range_is_blocked_throughout_and_named(network: IPNetwork, label: str) -> None:
    """Its first, middle and last addresses are refused, and at least one with its own words
    (a range listed after a wider one with other words would never be named)."""
    middle = network.network_address + network.num_addresses // 2
    problems = [
        UrlPolicy().address_problem(a) for a in (network.network_address, middle, network.broadcast_address)
    ]
    assert None not in problems
    assert label in problems, problems


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert UrlPolicy().address_problem(address) is None


def test_allowlisted_cidrs_pass_and_nothing_else() -> None:
    policy = UrlPolicy.parse(" 127.0.0.0/8 , ::1, 10.1.0.0/16,fd00::/8 ")
    for allowed in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "10.1.200.3", "fd00::5"]:
        assert policy.address_problem(allowed) is None, allowed
    assert policy.address_problem("10.2.0.1") == "a private address"
    assert policy.address_problem("169.254.169.254") is not None
    assert policy.address_problem("fc00::1") == "a private address (unique local)"


def test_a_single_address_and_a_mapped_cidr_in_the_allowlist() -> None:
    policy = UrlPolicy.parse("10.0.0.5,::ffff:192.168.0.0/112")
    assert policy.address_problem("10.0.0.5") is None
    assert policy.address_problem("10.0.0.6") == "a private address"
    assert policy.address_problem("192.168.7.7") is None  # the mapped CIDR allows the IPv4 range


def test_allowlisted_names_match_case_and_trailing_dot_insensitively() -> None:
    policy = UrlPolicy.parse("vllm.internal,Models.Corp.")
    assert policy.names == frozenset({"vllm.internal", "models.corp"})
    assert policy.name_allowed("VLLM.internal.")
    assert policy.name_allowed("models.corp")
    assert not policy.name_allowed("other.internal")
    assert not policy.name_allowed("internal")
    assert policy.networks == ()


def test_empty_allowlist() -> None:
    assert UrlPolicy.parse("") == UrlPolicy()
    assert UrlPolicy.parse(" , ,") == UrlPolicy()


@pytest.mark.parametrize(
    "entry", ["10.0.0.0/33", "not a host", "http://x.test", "a..b", "-x.test", "2852039166", "10.0.0/8"]
)
def test_bad_allowlist_entries_are_refused(entry: str) -> None:
    with pytest.raises(AllowlistError, match=r"provider_url_allowlist: \[.*\] is neither a CIDR"):
        UrlPolicy.parse(f"127.0.0.0/8,{entry}")


@pytest.mark.parametrize(
    "host",
    [
        "2852039166",  # 169.254.169.254 as one decimal number
        "0xa9fea9fe",  # ... as hex
        "0251.0376.0251.0376",  # ... as octal
        "169.254.43518",  # ... a.b.c with c 16 bits
        "0x7f.1",
        "127.1",
        "1.2.3.4.5",
        "metadata.0x10",
        "%31%30.0.0.1",  # percent-encoded digits end in a number too
    ],
)
def test_legacy_numeric_spellings_are_refused(host: str) -> None:
    assert (
        host_problem(host)
        == f"[{host}] is not a canonical IPv4 address (write it as four decimal numbers, a.b.c.d)"
    )


@pytest.mark.parametrize(
    "host", ["api.openai.com", "vllm.internal", "10.0.0.1", "::1", "fe80::1%eth0", "a_b.test"]
)
def test_hosts_written_properly_have_no_problem(host: str) -> None:
    assert host_problem(host) is None


@pytest.mark.parametrize("host", ["%31%30.example", "exa mple.test", "-bad.test", "a..test"])
def test_hosts_that_are_no_names(host: str) -> None:
    assert host_problem(host) == f"[{host}] is not a valid host name"


def test_origins_ignore_path_and_query() -> None:
    assert origins({"url": "https://a.test/x?k=1"}) == origins({"url": "https://a.test:443/y"})
    assert origins({"url": "https://a.test/x"}) != origins({"url": "https://b.test/x"})
    assert origins({"url": "http://a.test/x"}) != origins({"url": "https://a.test/x"})
