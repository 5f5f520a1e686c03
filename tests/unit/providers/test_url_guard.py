"""The provider URL guard at PUT time and its connect-time resolver, with a test resolver
(inference_service.providers.url_guard): nothing here is looked up or connected."""

from __future__ import annotations

import asyncio
import socket

import pytest

from inference_service.providers.url_guard import BlockedAddressError, UrlGuard
from inference_service.providers.url_policy import UrlPolicy
from tests.support.resolver import MapResolver

METADATA = "[169.254.169.254], a link-local address (cloud metadata lives there)"
NAMES = {
    "metadata.test": ["169.254.169.254"],
    "internal.test": ["10.0.0.1"],
    "v6internal.test": ["fd00::7"],
    "mixed.test": ["93.184.215.14", "192.168.0.4"],
    "public.test": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "allowed.test": ["127.0.0.1"],
    "vllm.internal": ["10.9.9.9"],
}


def guard(allowlist: str = "127.0.0.0/8,vllm.internal") -> tuple[UrlGuard, MapResolver]:
    resolver = MapResolver(NAMES)
    return UrlGuard(UrlPolicy.parse(allowlist), resolver, lookup_timeout=1), resolver


def problem(url: str, allowlist: str = "127.0.0.0/8,vllm.internal") -> str | None:
    return asyncio.run(guard(allowlist)[0].url_problem(url))


SUFFIX = (
    "; provider URLs may not reach internal addresses unless the setting [provider_url_allowlist] allows them"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://169.254.169.254/latest/meta-data",
            "[169.254.169.254] is a link-local address (cloud metadata lives there)",
        ),
        (
            "http://[::ffff:169.254.169.254]/",
            "[::ffff:a9fe:a9fe] is a link-local address (cloud metadata lives there)",
        ),
        ("http://[fe80::1%25eth0]:8080/", "[fe80::1%eth0] is a link-local address"),
        ("https://10.0.0.1/v1", "[10.0.0.1] is a private address"),
        ("http://[fd12::1]/", "[fd12::1] is a private address (unique local)"),
        ("http://100.64.1.1/", "[100.64.1.1] is a shared (carrier-grade NAT) address"),
        ("http://0.0.0.0:9280/", '[0.0.0.0] is a "this network" address'),
        ("http://[::]/", "[::] is the unspecified address"),
        ("http://224.0.0.251/", "[224.0.0.251] is a multicast address"),
        ("http://①⓪.0.0.1/", "[10.0.0.1] is a private address"),  # the client's parser normalises it
        (
            "http://metadata.test/",
            "[metadata.test] resolves to " + METADATA,
        ),
        (
            "http://METADATA.test./x",
            "[metadata.test.] resolves to " + METADATA,
        ),
        ("https://internal.test:8443/v1", "[internal.test] resolves to [10.0.0.1], a private address"),
        (
            "https://v6internal.test/",
            "[v6internal.test] resolves to [fd00::7], a private address (unique local)",
        ),
        ("https://mixed.test/", "[mixed.test] resolves to [192.168.0.4], a private address"),
        ("http://user:pw@10.0.0.1@public.test/", None),  # the host is public.test, as the client sees it
    ],
)
def test_blocked_urls(url: str, expected: str | None) -> None:
    assert problem(url) == (None if expected is None else expected + SUFFIX)


@pytest.mark.parametrize(
    "url",
    [
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://127.1/",
    ],
)
def test_odd_ip_spellings_are_refused_before_any_lookup(url: str) -> None:
    checker, resolver = guard()
    found = asyncio.run(checker.url_problem(url))
    assert found is not None and "is not a canonical IPv4 address" in found
    assert resolver.lookups == []


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("ftp://files.test/x", "ftp"), ("file:///etc/passwd", "file"), ("gopher://a.test/", "gopher")],
)
def test_only_http_and_https(url: str, scheme: str) -> None:
    assert problem(url) == f"the scheme [{scheme}] is not allowed; provider URLs use http or https"


def test_allowed_urls() -> None:
    assert problem("http://127.0.0.1:8080/v1") is None  # allow-listed CIDR
    assert problem("http://[::ffff:127.0.0.1]/v1") is None
    assert problem("http://allowed.test/v1") is None  # resolves into the allow-listed CIDR
    assert problem("https://public.test/v1") is None
    assert problem("https://nowhere.test/v1") is None  # does not resolve now: the connect check stands guard


def test_an_allowlisted_name_is_not_even_resolved() -> None:
    checker, resolver = guard()
    assert asyncio.run(checker.url_problem("http://VLLM.internal:8000/v1")) is None
    assert resolver.lookups == []


def test_without_an_allowlist_loopback_is_blocked() -> None:
    assert problem("http://127.0.0.1:8080/", "") == "[127.0.0.1] is a loopback address" + SUFFIX
    assert (
        problem("http://allowed.test/", "")
        == "[allowed.test] resolves to [127.0.0.1], a loopback address" + SUFFIX
    )


def test_the_connect_time_resolver_refuses_blocked_names_and_passes_others() -> None:
    checker, _ = guard()

    async def run() -> None:
        with pytest.raises(BlockedAddressError, match=r"\[internal.test\] resolves to \[10.0.0.1\]"):
            await checker.resolver.resolve("internal.test", 443, socket.AF_INET)
        ok = await checker.resolver.resolve("public.test", 443, socket.AF_UNSPEC)
        assert [r["host"] for r in ok] == NAMES["public.test"]
        named = await checker.resolver.resolve("vllm.internal", 8000)  # allow-listed by name
        assert [r["host"] for r in named] == ["10.9.9.9"]

    asyncio.run(run())


def test_literal_addresses_are_judged_once_and_cached() -> None:
    checker, _ = guard()
    assert checker.literal_problem("10.0.0.1") == "[10.0.0.1] is a private address" + SUFFIX
    assert checker.literal_problem("127.0.0.1") is None
    assert checker.literal_problem("public.test") is None  # names are the resolver's
    assert checker._literals == {
        "10.0.0.1": "[10.0.0.1] is a private address" + SUFFIX,
        "127.0.0.1": None,
        "public.test": None,
    }
