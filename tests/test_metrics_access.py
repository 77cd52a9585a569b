"""Who may read /metrics, over real loopback HTTP: loopback by default, a proxy never stands
for its clients, a bearer token admits from anywhere; /healthz stays public."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from siarkan.config import Settings, parse_settings
from siarkan.web import ops
from siarkan.web.app import create_app
from siarkan.web.keys import DB
from siarkan.web.ops import metrics_refusal, public_hostname
from tests.conftest import TEST_CONFIG
from tests.helpers import serve_app

SECRET = "rahasia-metrik-42"


@pytest.fixture
def configure(tmp_path: Path, port: int) -> Callable[..., Settings]:
    def build(metrics: str = "", env: dict[str, str] | None = None) -> Settings:
        text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "siarkan.db") + metrics
        return parse_settings(text, "test.yaml", env=env or {})

    return build


@asynccontextmanager
async def serving(settings: Settings, port: int) -> AsyncIterator[str]:
    app = create_app(settings, roles={"web"})
    async with serve_app(app, port) as base:
        yield base


async def get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, dict(response.headers), await response.text()


async def test_by_default_loopback_reads_metrics_and_a_proxy_does_not(
    configure: Callable[..., Settings], port: int
) -> None:
    """A reverse proxy on the same host connects from 127.0.0.1 for every client it relays:
    a request that says it was forwarded is not let in by its (the proxy's) address."""
    async with serving(configure(), port) as base:
        status, headers, text = await get(f"{base}/metrics")
        assert status == 200 and "siarkan_deliveries_total" in text
        assert headers["Content-Type"].startswith("text/plain")
        for forwarded in (
            {"X-Forwarded-For": "203.0.113.9"},
            {"X-Forwarded-For": "127.0.0.1"},  # the header is nobody's word for an address
            {"Forwarded": "for=203.0.113.9;proto=https"},
            {"X-Real-IP": "203.0.113.9"},
        ):
            status, _, text = await get(f"{base}/metrics", **forwarded)
            assert status == 403, forwarded
            assert "metrics.allow" in text
            assert "siarkan_" not in text
            status, _, _ = await get(f"{base}/healthz", **forwarded)
            assert status == 200


async def test_a_proxy_that_sends_no_client_address_is_still_a_proxy(
    configure: Callable[..., Settings], port: int
) -> None:
    """nginx adds no forwarding header unless told to, and configs often set only
    X-Forwarded-Proto; any X-Forwarded-* or Via says a proxy relayed the request. And a proxy in
    front of a federating siarkan must pass the public Host on (the inbox refuses any other), so
    a request for the site's public name came through it, whatever headers it added."""
    settings = configure(env={"SIARKAN_SITE_BASE_URL": "https://berita.example"})
    async with serving(settings, port) as base:
        assert (await get(f"{base}/metrics"))[0] == 200  # Host: 127.0.0.1:<port>
        assert (await get(f"{base}/metrics", Host=f"localhost:{port}"))[0] == 200
        for relayed in (
            {"X-Forwarded-Proto": "https"},
            {"X-Forwarded-Host": "berita.example"},
            {"Via": "1.1 cache.example"},
            {"Host": "berita.example"},
            {"Host": "Berita.Example:443"},
        ):
            status, _, text = await get(f"{base}/metrics", **relayed)
            assert status == 403 and "siarkan_" not in text, relayed
            assert (await get(f"{base}/healthz", **relayed))[0] == 200


async def test_an_address_outside_the_allow_list_is_refused(
    configure: Callable[..., Settings], port: int
) -> None:
    settings = configure("metrics:\n  allow: [10.0.0.0/8, 192.168.0.0/16]\n")
    async with serving(settings, port) as base:
        status, headers, _ = await get(f"{base}/metrics")
        assert status == 403 and "WWW-Authenticate" not in headers
        # No token is configured, so none can be sent: an Authorization header changes nothing.
        assert (await get(f"{base}/metrics", Authorization=f"Bearer {SECRET}"))[0] == 403
        assert (await get(f"{base}/healthz"))[0] == 200


async def test_a_token_admits_from_anywhere_and_a_wrong_one_nowhere(
    configure: Callable[..., Settings], port: int
) -> None:
    settings = configure(
        "metrics:\n  token: ${METRICS_TOKEN}\n  allow: []\n", env={"METRICS_TOKEN": SECRET}
    )
    async with serving(settings, port) as base:
        status, headers, text = await get(f"{base}/metrics")
        assert status == 401 and "siarkan_" not in text
        assert headers["WWW-Authenticate"].startswith("Bearer ")
        assert (await get(f"{base}/metrics", Authorization="Bearer wrong"))[0] == 401
        assert (await get(f"{base}/metrics", Authorization=f"Basic {SECRET}"))[0] == 401
        for scheme in ("Bearer", "bearer"):  # RFC 9110 section 11.1: case-insensitive
            status, _, text = await get(f"{base}/metrics", Authorization=f"{scheme} {SECRET}")
            assert status == 200 and "siarkan_deliveries_total" in text
        # Through a proxy, the token is the way in.
        relayed = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {SECRET}"}
        assert (await get(f"{base}/metrics", **relayed))[0] == 200


async def test_with_a_token_loopback_still_reads_without_one(
    configure: Callable[..., Settings], port: int
) -> None:
    """The token adds a way in; the default allow list (loopback) keeps working, so a local
    Prometheus needs no change. A wrong token is refused even from loopback."""
    settings = configure(env={"SIARKAN_METRICS_TOKEN": SECRET})
    async with serving(settings, port) as base:
        assert (await get(f"{base}/metrics"))[0] == 200
        assert (await get(f"{base}/metrics", Authorization="Bearer wrong"))[0] == 401
        assert (await get(f"{base}/metrics", **{"X-Forwarded-For": "203.0.113.9"}))[0] == 401


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("127.0.0.1", {}, None),
        ("127.8.9.10", {}, None),
        ("::1", {}, None),
        ("::ffff:127.0.0.1", {}, None),  # a dual-stack listener's IPv4 peer
        ("10.1.2.3", {}, 403),  # private networks are not in the default
        ("172.17.0.1", {}, 403),  # Docker's gateway: what a published port may show
        ("203.0.113.9", {}, 403),
        ("fe80::1%eth0", {}, 403),
        (None, {}, 403),  # a Unix socket: no address to match
        ("not an address", {}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, 403),
        ("127.0.0.1", {"x-forwarded-proto": "https"}, 403),
        ("127.0.0.1", {"Via": "1.1 nginx"}, 403),
        ("127.0.0.1", {"Host": "x.example"}, 403),  # the site's public name: via its proxy
        ("127.0.0.1", {"Host": "x.example.:8080"}, 403),
        ("127.0.0.1", {"Host": "127.0.0.1:8080"}, None),
        ("127.0.0.1", {"Host": "metrics.x.example"}, None),
    ],
)
def test_default_allow_list(peer: str | None, headers: dict[str, str], expected: Any) -> None:
    settings = parse_settings("site: {name: X, base_url: https://x.example}\n", "t.yaml", {})
    public = public_hostname(settings.site.base_url)
    assert metrics_refusal(settings.metrics, peer, headers, public) == expected


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://Berita.Example/", "berita.example"),
        ("http://127.0.0.1:8080", None),  # dialled as it is by a scraper on this machine
        ("http://[::1]:8080", None),
        ("http://localhost:8080", None),
        ("http://siarkan.localhost", None),
    ],
)
def test_public_hostname(base_url: str, expected: str | None) -> None:
    assert public_hostname(base_url) == expected


@pytest.mark.parametrize("credentials", ["Bearer \udcff", "Bearer rahasia-\u00e9"])
def test_a_token_that_is_not_ascii_is_refused(credentials: str) -> None:
    """aiohttp hands header bytes that are not UTF-8 over as lone surrogates; encoding them
    raised (a 500 from an unauthenticated request)."""
    settings = parse_settings("site: {name: X, base_url: https://x.example}\n", "t.yaml", {})
    metrics = settings.metrics.model_copy(update={"token": SecretStr(SECRET)})
    refusal = metrics_refusal(metrics, "203.0.113.9", {"Authorization": credentials}, None)
    assert refusal == 401


async def test_an_unhealthy_database_is_503_without_its_address(port: int) -> None:
    """/healthz is public: the driver's error (which names the database host) goes to the log."""

    class Unreachable:
        def connect(self) -> Any:
            raise ConnectionRefusedError("Connect call failed ('10.0.3.7', 5432)")

    app = web.Application()
    app[DB] = Unreachable()  # type: ignore[assignment]
    app.router.add_get("/healthz", ops.healthz)
    async with serve_app(app, port) as base:
        status, _, body = await get(f"{base}/healthz")
    assert status == 503 and "10.0.3.7" not in body and '"unavailable"' in body
