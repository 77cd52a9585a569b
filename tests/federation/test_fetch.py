"""The guarded fetch: no SSRF through actor or key URLs, bounded in size, time and redirects."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from siarkan.config import FederationSettings
from siarkan.federation import fetch
from siarkan.federation.fetch import FetchError, address_allowed, fetch_document, pinned_url
from tests.helpers import free_port, serve_app


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", False),
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("ff02::1", False),
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_address_rules(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address)) is allowed


class Origin:
    """A loopback server whose answers each test shapes."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.hits: list[Mapping[str, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/actor", self.actor)
        self.app.router.add_get("/loop", self.loop)
        self.app.router.add_get("/big", self.big)
        self.app.router.add_get("/slow", self.slow)
        self.app.router.add_get("/elsewhere", self.elsewhere)

    async def actor(self, request: web.Request) -> web.Response:
        self.hits.append(dict(request.headers))
        return web.json_response({"id": f"{self.base}/actor", "inbox": f"{self.base}/inbox"})

    async def loop(self, request: web.Request) -> web.Response:
        self.hits.append(dict(request.headers))
        raise web.HTTPFound("/loop")

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"{" + b" " * 5000 + b"}", content_type="application/json")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.hits.append(dict(request.headers))
        raise web.HTTPFound(f"http://127.0.0.2:{self.port}/actor")


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    async with serve_app(server.app, server.port):
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


OPEN = FederationSettings(allow_private_addresses=True, fetch_timeout=0.5, max_fetch_bytes=2048)
GUARDED = FederationSettings(allow_private_addresses=False, fetch_timeout=0.5)


async def test_production_guard_refuses_loopback(
    origin: Origin, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(FetchError, match="non-public"):
        await fetch_document(session, f"{origin.base}/actor", GUARDED)
    assert origin.hits == []  # refused before connecting


async def test_tests_may_allow_loopback(origin: Origin, session: aiohttp.ClientSession) -> None:
    fetched = await fetch_document(session, f"{origin.base}/actor", OPEN)
    assert fetched.json()["id"] == f"{origin.base}/actor"
    (headers,) = origin.hits
    assert headers["Host"] == f"127.0.0.1:{origin.port}"
    assert "application/activity+json" in headers["Accept"]


async def test_every_resolved_address_is_checked(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    with pytest.raises(FetchError, match=r"non-public address \(10\.0\.0\.5\)"):
        await fetch_document(session, "https://rebind.example/users/x", GUARDED)


async def test_redirects_are_checked_again(
    origin: Origin, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend 127.0.0.1 were public so the first hop is allowed; the redirect to another
    # loopback address must still be refused before any request is made there.
    real = fetch.address_allowed
    monkeypatch.setattr(fetch, "address_allowed", lambda a: str(a) == "127.0.0.1" or real(a))
    with pytest.raises(FetchError, match=r"non-public address \(127\.0\.0\.2\)"):
        await fetch_document(session, f"{origin.base}/elsewhere", GUARDED)
    assert len(origin.hits) == 1


async def test_redirect_limit(origin: Origin, session: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="redirects"):
        await fetch_document(session, f"{origin.base}/loop", OPEN)
    assert len(origin.hits) == fetch.MAX_REDIRECTS + 1


async def test_size_limit(origin: Origin, session: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="larger than 2048"):
        await fetch_document(session, f"{origin.base}/big", OPEN)


async def test_time_limit(origin: Origin, session: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="no answer within"):
        await fetch_document(session, f"{origin.base}/slow", OPEN)


async def test_non_http_and_credentials_are_refused(session: aiohttp.ClientSession) -> None:
    for url in ("file:///etc/passwd", "gopher://x.example/", "https://user:pw@x.example/a"):
        with pytest.raises(FetchError):
            await fetch_document(session, url, OPEN)


async def test_signed_fetch(origin: Origin, session: aiohttp.ClientSession) -> None:
    async def signer(method: str, url: str, headers: Mapping[str, str]) -> Mapping[str, str]:
        assert (method, url) == ("GET", f"{origin.base}/actor")
        return {"Signature": 'keyId="k",signature="x"', "Date": "now"}

    await fetch_document(session, f"{origin.base}/actor", OPEN, signer=signer)
    assert origin.hits[0]["Signature"] == 'keyId="k",signature="x"'


def test_a_checked_address_is_put_in_the_url_ipv6_included() -> None:
    parts = urlsplit("https://news.example/ap/users/a?page=%2F2")
    assert str(pinned_url(parts, "203.0.113.7", 443)) == "https://203.0.113.7/ap/users/a?page=%2F2"
    assert str(pinned_url(parts, "2001:db8::7", 8443)) == (
        "https://[2001:db8::7]:8443/ap/users/a?page=%2F2"
    )
