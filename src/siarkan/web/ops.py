"""Operational endpoints: liveness (public) and Prometheus metrics (guarded by `metrics:`).

GET /metrics | metrics_refusal(settings.metrics, peer address, headers, site's public host)
    -> 401 (token configured; none or a wrong one sent) / 403 (no token configured)
    | refresh the gauges from the database | exposition text
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from siarkan.config import IPNetwork, MetricsSettings
from siarkan.web.keys import DB, METRICS, METRICS_REFRESH, SETTINGS
from siarkan.web.security import same_secret

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

# Headers a proxy adds: RFC 7239 Forwarded, RFC 9110 section 7.6.3 Via, the de-facto
# X-Forwarded-* family (-For, -Proto, -Host...: nginx configs often set only -Proto) and the
# client-address headers of nginx and CDNs. Their presence says the TCP peer is a proxy
# relaying someone else, whose address is unknown: it is never trusted as the client's (siarkan
# has no notion of a trusted proxy), so such a request is let in by token only. A client that
# sends one itself only shuts itself out.
FORWARDING_HEADERS = frozenset(
    {"forwarded", "via", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip"}
)


def public_hostname(base_url: str) -> str | None:
    """The site's public host name, which a proxy in front of siarkan passes on in Host (it
    must: federation.inbox refuses a delivery whose Host is not ours); None for an address or
    localhost, which a scraper on this machine may dial as they are."""
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    if not host or host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


def _relayed(headers: Mapping[str, str], public_host: str | None) -> bool:
    """Did a proxy relay this request: a forwarding header, or the public site's Host (a proxy
    that adds no header at all, as nginx by default, still sends that one)."""
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in FORWARDING_HEADERS or lowered.startswith("x-forwarded-"):
            return True
        if lowered == "host" and public_host is not None:
            host = value.strip().lower()
            if not host.startswith("[") and host.partition(":")[0].rstrip(".") == public_host:
                return True
    return False


def _address_allowed(peer: str | None, allow: tuple[IPNetwork, ...]) -> bool:
    if peer is None:  # not a TCP peer (a Unix socket): nothing to match
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack listener reports ::ffff:127.0.0.1
    return any(address in network for network in allow)


def metrics_refusal(
    settings: MetricsSettings,
    peer: str | None,
    headers: Mapping[str, str],
    public_host: str | None = None,
) -> int | None:
    """None if the request may read /metrics, else the status to refuse it with.

    A matching bearer token always admits; a wrong one is refused (401) wherever it comes
    from. Without a token, the TCP peer's address must be in `allow` and no proxy may stand
    between (_relayed): a proxy on loopback would otherwise relay the whole world.
    `public_host`: public_hostname(site.base_url).
    """
    token = settings.token
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    # The scheme is case-insensitive (RFC 9110 section 11.1).
    if token is not None and scheme.lower() == "bearer":
        return None if same_secret(credentials.strip(), token.get_secret_value()) else 401
    if not _relayed(headers, public_host) and _address_allowed(peer, settings.allow):
        return None
    return 401 if token is not None else 403


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        # The reason goes to the log, not the body: /healthz is public, and a driver's error
        # names the database's address ("Connect call failed ('10.0.3.7', 5432)").
        log.exception("health check: the database is unavailable")
        return web.json_response({"status": "error", "database": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    refused = metrics_refusal(
        settings.metrics,
        request.remote,
        request.headers,
        public_hostname(settings.site.base_url),
    )
    if refused == 401:
        return web.Response(
            status=401,
            text="send Authorization: Bearer <metrics.token>",
            headers={"WWW-Authenticate": 'Bearer realm="siarkan metrics"'},
        )
    if refused is not None:
        return web.Response(
            status=refused,
            text=(
                "/metrics is open to the networks in metrics.allow for a request that did not "
                "come through a proxy (no Forwarded, Via or X-Forwarded-* header, and a Host "
                "other than the site's public name)"
            ),
        )
    refresh = request.app.get(METRICS_REFRESH)
    if refresh is not None:
        await refresh(request.app)
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
