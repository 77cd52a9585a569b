"""Fetching remote ActivityPub documents without becoming an SSRF proxy.

    url | resolve the host ourselves | refuse loopback / private / link-local / multicast /
        reserved / cloud-metadata addresses | connect to the checked address (Host header and
        TLS name kept) | redirects followed by hand (max 3), each re-checked | body bounded
        by max_fetch_bytes, the whole fetch by fetch_timeout | JSON document

Connecting to the address we checked (instead of letting the client resolve again) closes the
DNS-rebinding gap between check and use. Tests switch the address check off with
`federation.allow_private_addresses: true`; production keeps it on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from siarkan.config import FederationSettings
from siarkan.federation.vocab import ACCEPT_AP

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Signs a GET: (method, url, headers) -> headers to add (authorized fetch / secure mode).
Signer = Callable[[str, str, Mapping[str, str]], Awaitable[Mapping[str, str]]]

MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Cloud metadata endpoints (AWS/GCP/Azure IPv4, AWS IPv6): named so the rule survives a
# future change of what the ipaddress module calls "private".
_METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class FetchError(Exception):
    """A remote document could not be fetched; `status` is the HTTP status if there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AddressNotAllowed(FetchError):
    """The host resolves to an address we never connect to (private, loopback, metadata...)."""


class UnusableURL(FetchError):
    """Not an http(s) URL with a host and a valid port, or one carrying credentials."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # final URL, after redirects
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            document = json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # too deep a nest is not JSON-LD
            raise FetchError(f"{self.url}: not JSON") from None
        if not isinstance(document, dict):
            raise FetchError(f"{self.url}: not a JSON object")
        return document


def address_allowed(address: IPAddress) -> bool:
    """Only globally routable unicast addresses; IPv4 inside IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not address_allowed(embedded):
            return False
    if address in _METADATA:
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


async def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address of `host`; all must be allowed, or the fetch is refused."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise FetchError(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise FetchError(f"{host} has no address")
    if not allow_private:
        refused = [str(a) for a in addresses if not address_allowed(a)]
        if refused:
            listed = ", ".join(refused)
            raise AddressNotAllowed(f"{host} resolves to a non-public address ({listed})")
    return [str(a) for a in addresses]


def split_http_url(url: str) -> tuple[SplitResult, str, int]:
    """An http(s) URL with a host, no credentials and a valid port -> (parts, host, port).

    FetchError otherwise; URLs come from remote documents, so malformed ones are expected.
    """
    try:
        parts = urlsplit(url)  # ValueError on a bad [IPv6] host
    except ValueError:
        raise UnusableURL(f"not an http(s) URL: {url[:200]}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnusableURL(f"not an http(s) URL: {url[:200]}")
    if parts.username or parts.password:
        raise UnusableURL("URLs with credentials are not used")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnusableURL(f"bad port in {url[:200]}") from None
    return parts, parts.hostname, port


def pinned_url(parts: SplitResult, address: str, port: int) -> URL:
    """`parts` addressed to the checked IP `address` (the caller sends Host and the TLS name)."""
    return URL.build(
        scheme=parts.scheme,
        host=f"[{address}]" if ":" in address else address,  # encoded: IPv6 needs brackets
        port=port,
        path=parts.path or "/",
        query_string=parts.query,
        encoded=True,
    )


@asynccontextmanager
async def open_pinned(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    allow_private: bool,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    limits: aiohttp.ClientTimeout | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """One request to `url`, sent to an address the guard allows, redirects not followed.

    The host is resolved here and every address checked (AddressNotAllowed otherwise); the
    connection goes to a checked address, Host header and TLS name kept, so DNS cannot change
    between check and use. Each address is tried in turn until one connects (FetchError if
    none does). Every request siarkan makes on someone else's word goes through here: actor
    and key fetches, article pages and sitemaps, WebSub callbacks.
    """
    parts, host, port = split_http_url(url)
    addresses = await resolve(host, port, allow_private=allow_private)
    sent = CIMultiDict(headers or {})  # repeated fields (WebSub's two Link headers) kept
    sent["Host"] = parts.netloc
    timeout: dict[str, Any] = {"timeout": limits} if limits is not None else {}
    last_error: Exception | None = None
    for address in addresses:
        try:
            response = await session.request(
                method,
                pinned_url(parts, address, port),
                headers=sent,
                data=data,
                allow_redirects=False,
                server_hostname=host if parts.scheme == "https" else None,
                **timeout,
            )
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            last_error = exc  # the next address, if there is one
            continue
        async with response:
            yield response
        return
    raise FetchError(f"cannot connect to {host}: {last_error}")


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    if response.content_length is not None and response.content_length > limit:
        raise FetchError(f"{response.url}: larger than {limit} bytes", response.status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"{response.url}: larger than {limit} bytes", response.status)
        chunks.append(chunk)
    return b"".join(chunks)


async def _get_once(
    session: aiohttp.ClientSession,
    url: str,
    settings: FederationSettings,
    accept: str,
    signer: Signer | None,
) -> tuple[int, str | None, str, bytes]:
    parts = urlsplit(url)
    headers: dict[str, str] = {"Accept": accept, "Host": parts.netloc}
    if signer is not None:
        headers.update(await signer("GET", url, headers))
    async with open_pinned(
        session, "GET", url, allow_private=settings.allow_private_addresses, headers=headers
    ) as response:
        location = response.headers.get("Location")
        if response.status in _REDIRECTS:
            return response.status, location, "", b""
        body = b""
        if response.status == 200:
            body = await _read_bounded(response, settings.max_fetch_bytes)
        return response.status, None, response.headers.get("Content-Type", ""), body


async def fetch_document(
    session: aiohttp.ClientSession,
    url: str,
    settings: FederationSettings,
    *,
    accept: str = ACCEPT_AP,
    signer: Signer | None = None,
) -> Fetched:
    """GET a remote document with every guard on; FetchError for anything but a 200."""
    try:
        async with asyncio.timeout(settings.fetch_timeout):
            current = url.split("#", 1)[0]
            for _ in range(MAX_REDIRECTS + 1):
                status, location, content_type, body = await _get_once(
                    session, current, settings, accept, signer
                )
                if location is not None:
                    current = urljoin(current, location)
                    continue
                if status != 200:
                    raise FetchError(f"{current}: HTTP {status}", status)
                return Fetched(current, status, content_type, body)
            raise FetchError(f"{url[:200]}: more than {MAX_REDIRECTS} redirects")
    except TimeoutError:
        raise FetchError(f"{url[:200]}: no answer within {settings.fetch_timeout}s") from None
    except aiohttp.ClientError as exc:
        raise FetchError(f"{url[:200]}: {exc}") from None
