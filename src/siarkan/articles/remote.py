"""Articles on the web: bounded fetching and the feeds/sitemaps that list them.

    URL | fetch (<= 10 MB, <= 30 s, public addresses only, redirects followed and re-checked,
                 our User-Agent, the caller's conditional headers: 304 is a Fetched too)
        | sniff_kind
        html -> the page itself
        feed/sitemap -> parse_feed_or_sitemap -> FeedEntry(url, title, summary, published) ...

`parse_feed_or_sitemap` is pure and small on purpose: RSS 2.0, RSS 1.0 (RDF), Atom, sitemap
urlsets (with Google News tags) and sitemap indexes, matched by local name so a wrong or
missing namespace (common in CMS sitemaps) still works. feedparser is a test-only dependency.
"""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal
from urllib.parse import urljoin, urlsplit

import aiohttp
from lxml import etree

from siarkan import USER_AGENT
from siarkan.articles.text import ArticleRejected, parse_datetime
from siarkan.articles.whitespace import inline
from siarkan.federation.fetch import AddressNotAllowed, FetchError, open_pinned

MAX_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT = 30.0
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    charset: str | None
    body: bytes  # empty for a 304
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies the version we read (RFC 9110 §8.8), to ask next time
    whether it changed (§13.1.1 If-None-Match, §13.1.3 If-Modified-Since)."""

    etag: str | None = None
    last_modified: str | None = None

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


class HTTPStatusRejected(ArticleRejected):
    """An answer of 400 or more; `status` for callers to whom the code matters (robots.txt)."""

    def __init__(self, status: int, reason: str | None) -> None:
        super().__init__(f"HTTP {status} {reason or ''}".rstrip())
        self.status = status


class AddressRefused(ArticleRejected):
    """The host resolves to an address the SSRF guard never connects to; `url` is the one
    refused (the address asked for, or a redirect's target)."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(reason)
        self.url = url


# Checks the URL of each redirect hop before it is requested (robots.txt for listed pages).
HopCheck = Callable[[str], Awaitable[None]]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


async def _get_once(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    allow_private: bool,
    headers: Mapping[str, str],
) -> Fetched | str:
    """One request, to an address we checked ourselves: a Fetched, or a redirect's Location.

    The host is resolved here and every address must be public (unless `allow_private`), and
    the connection goes to that address (Host header and TLS name kept), so neither a link to
    127.0.0.1 or 169.254.169.254 in a public sitemap nor DNS rebinding reaches the inside."""
    try:
        async with open_pinned(
            session, "GET", url, allow_private=allow_private, headers=headers
        ) as resp:
            location = resp.headers.get("Location")
            if resp.status in _REDIRECTS and location:
                return location
            if resp.status >= 400:
                raise HTTPStatusRejected(resp.status, resp.reason)
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            if resp.status == 304:
                return Fetched(url, "", None, b"", status=304, etag=etag, last_modified=modified)
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ArticleRejected(
                    f"response is {_megabytes(resp.content_length)}; "
                    f"the limit is {_megabytes(max_bytes)}"
                )
            body = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ArticleRejected(
                        f"response is larger than the {_megabytes(max_bytes)} limit"
                    )
            return Fetched(
                url=url,
                content_type=resp.content_type or "",
                charset=resp.charset,
                body=bytes(body),
                status=resp.status,
                etag=etag,
                last_modified=modified,
            )
    except AddressNotAllowed as exc:
        raise AddressRefused(
            f"refused: {exc} (a CMS on your own network: federation.allow_private_addresses)",
            url,
        ) from None
    except FetchError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "no address answered"
        raise ArticleRejected(f"fetch failed: {reason}") from None


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int = MAX_BYTES,
    time_limit: float = FETCH_TIMEOUT,
    allow_private: bool = False,
    headers: Mapping[str, str] | None = None,
    check_hop: HopCheck | None = None,
    user_agent: str = USER_AGENT,
) -> Fetched:
    """GET with a size and time bound, redirects followed by hand and every hop's address
    checked (`allow_private` is `federation.allow_private_addresses`: tests and laptops only);
    every failure is an ArticleRejected with one line. `headers` are added to ours (Accept,
    User-Agent); `check_hop` may refuse a redirect's target before it is requested.
    `user_agent`: the instance's (siarkan.instance_user_agent) wherever settings are known, so
    a site operator reading the logs sees which instance calls; USER_AGENT only without."""
    sent = {"Accept": ACCEPT, "User-Agent": user_agent, **(headers or {})}
    try:
        async with asyncio.timeout(time_limit):
            current = url.split("#", 1)[0]
            for hop in range(MAX_REDIRECTS + 1):
                if hop and check_hop is not None:
                    await check_hop(current)
                result = await _get_once(
                    session, current, max_bytes=max_bytes, allow_private=allow_private, headers=sent
                )
                if isinstance(result, Fetched):
                    return result
                current = urljoin(current, result).split("#", 1)[0]
            raise ArticleRejected("too many redirects")
    except TimeoutError:
        raise ArticleRejected(f"timed out after {time_limit:g} s") from None
    except aiohttp.ClientError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ArticleRejected(f"fetch failed: {reason}") from None


def gunzip(data: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """sitemap.xml.gz served as a file (not Content-Encoding): decompress, bounded."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise ArticleRejected(f"broken gzip data: {exc}") from None
    if len(out) > max_bytes:
        raise ArticleRejected(f"uncompressed size is over the {_megabytes(max_bytes)} limit")
    return out


_XML_ROOTS = (b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf:rdf", b"<rdf")


def sniff_kind(content_type: str, body: bytes) -> Literal["html", "feed"]:
    if body.startswith(b"\x1f\x8b"):
        # sitemap.xml.gz as a file (application/x-gzip, octet-stream): parse_feed_or_sitemap
        # decompresses it. An HTML page is never sent gzipped without Content-Encoding.
        return "feed"
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in head or head.startswith(b"<!doctype html"):
        return "html"
    if head.startswith(b"<?xml"):
        return "feed"
    if head.startswith(_XML_ROOTS):
        return "feed"
    ct = content_type.lower()
    if any(word in ct for word in ("rss", "atom", "xml")) and "xhtml" not in ct:
        return "feed"
    return "html"


# --- feeds and sitemaps -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    title: str | None = None
    summary: str | None = None
    published: datetime | None = None
    # A <sitemap> of a sitemap index: a list of more entries, not an article page.
    is_sitemap: bool = False


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    try:
        return str(etree.QName(tag).localname).lower()
    except ValueError:  # recover=True keeps names QName refuses ("<a:" -> tag "a:")
        return tag.rpartition("}")[2].lower()


def _child(el: etree._Element, *names: str) -> etree._Element | None:
    for child in el:
        if _local(child.tag) in names:
            return child
    return None


def _child_text(el: etree._Element, *names: str) -> str | None:
    for name in names:  # in order of preference
        child = _child(el, name)
        if child is not None:
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def _http_url(value: str | None, base: str) -> str | None:
    if not value:
        return None
    try:
        url = urljoin(base, value.strip())
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/x": one unreadable <loc> skipped, not the document
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _atom_link(entry: etree._Element, base: str) -> str | None:
    fallback = None
    for link in entry:
        if _local(link.tag) != "link":
            continue
        rel = (link.get("rel") or "alternate").lower()
        href = link.get("href") or (link.text or "").strip()
        if rel == "alternate" and (link.get("type") or "text/html").startswith(
            ("text/html", "application/xhtml")
        ):
            return _http_url(href, base)
        if rel == "alternate" and fallback is None:
            fallback = href
    return _http_url(fallback, base)


def _item(el: etree._Element, base: str, tz: tzinfo) -> FeedEntry | None:
    name = _local(el.tag)
    if name == "entry":  # Atom
        url = _atom_link(el, base)
        summary = _child_text(el, "summary", "content")
        published = _child_text(el, "published", "updated", "issued", "modified")
    elif name in ("url", "sitemap"):  # sitemap
        url = _http_url(_child_text(el, "loc"), base)
        news = _child(el, "news")
        title = _child_text(news, "title") if news is not None else None
        when = (_child_text(news, "publication_date") if news is not None else None) or (
            _child_text(el, "lastmod")
        )
        if url is None:
            return None
        return FeedEntry(
            url=url,
            title=inline(title) if title else None,
            published=parse_datetime(when, tz),
            is_sitemap=name == "sitemap",
        )
    else:  # RSS 2.0 / RSS 1.0 item
        url = _http_url(_child_text(el, "link"), base) or _http_url(el.get(_RDF_ABOUT), base)
        guid = _child(el, "guid")
        if url is None and guid is not None and guid.get("isPermaLink", "true") != "false":
            url = _http_url(guid.text, base)
        summary = _child_text(el, "encoded", "description")
        published = _child_text(el, "pubdate", "date", "published", "issued")
    if url is None:
        return None
    title = _child_text(el, "title")
    return FeedEntry(
        url=url,
        title=inline(title) if title else None,
        summary=summary,
        published=parse_datetime(published, tz),
    )


_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_ENTRY_NAMES = {"item", "entry", "url", "sitemap"}


def parse_feed_or_sitemap(xml_bytes: bytes, base_url: str, *, tz: tzinfo = UTC) -> list[FeedEntry]:
    """RSS / Atom / sitemap bytes -> the pages they list, in document order, without repeats.
    Relative links are resolved against `base_url`; naive dates are taken in `tz`."""
    # No entity expansion, no network: a feed is untrusted input (XXE, billion laughs).
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, remove_comments=True, huge_tree=False
    )
    try:
        root = etree.fromstring(gunzip(xml_bytes), parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise ArticleRejected("not an RSS/Atom feed or a sitemap (unreadable XML)")
    if _local(root.tag) not in ("rss", "rdf", "feed", "urlset", "sitemapindex", "channel"):
        raise ArticleRejected(
            f"not an RSS/Atom feed or a sitemap (root element <{_local(root.tag)}>)"
        )
    entries: dict[str, FeedEntry] = {}
    for el in root.iter():
        if _local(el.tag) not in _ENTRY_NAMES:
            continue
        # <image><url> inside an RSS channel is a logo, not an entry.
        parent = el.getparent()
        if _local(el.tag) == "url" and parent is not None and _local(parent.tag) != "urlset":
            continue
        try:
            entry = _item(el, base_url, tz)
        except UnicodeDecodeError:
            # recover=True keeps a character reference to a surrogate ("&#xD800;") as bytes
            # lxml cannot decode on reading: that entry is skipped, not the whole feed.
            continue
        if entry is not None and entry.url not in entries:
            entries[entry.url] = entry
    return list(entries.values())
