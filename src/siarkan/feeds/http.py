"""Feed routes: live feeds with conditional GET, compression and WebSub discovery headers.

GET|HEAD /feeds/{channel}[/{kind}/{slug}][/archive/{cursor}]/{file}
    (kind: section | tag | author; file: rss.xml | atom.xml | feed.json)
| FeedService.document (cached; see feeds/service.py)
| If-None-Match (weak comparison, RFC 9110 §13.1.2) / If-Modified-Since -> 304
| Accept-Encoding: br > gzip > identity, bodies compressed once per document
-> 200 with ETag, Last-Modified, Cache-Control (channel.feeds.max_age), Vary,
   Link: <hub>; rel="hub", <self>; rel="self" (WebSub §4: discovery by headers),
   Access-Control-Allow-Origin: * (readers running in a browser)

GET /feeds        the list of every feed (HTML)
GET /feeds.opml   the same list as OPML 2.0
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from aiohttp import web

from siarkan.config import Settings
from siarkan.feeds.cache import FeedCache, Redirect, Rendered
from siarkan.feeds.model import FORMAT_BY_FILE, FORMAT_TITLES
from siarkan.feeds.opml import render_opml
from siarkan.feeds.service import FeedService
from siarkan.web.keys import CLOCK, DB, METRICS, SETTINGS
from siarkan.web.templating import render_html

FEED_SERVICE = web.AppKey("feed_service", FeedService)

routes = web.RouteTableDef()

_FILE = r"{file:rss\.xml|atom\.xml|feed\.json}"
_SCOPE = r"{kind:section|tag|author}/{slug:[^/]+}"
_CURSOR = r"archive/{cursor:[A-Za-z0-9_-]+}"


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    app[FEED_SERVICE] = FeedService(
        app[SETTINGS], app[DB], app[CLOCK], metrics=app[METRICS], cache=FeedCache()
    )
    yield


# ---------------------------------------------------------------------------------------------
# Pure HTTP decisions


def choose_coding(accept_encoding: str) -> str:
    """br if acceptable, else gzip, else identity (q=0 means "not acceptable", RFC 9110 §12.5.3)."""
    if not accept_encoding:
        return "identity"
    accepted: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip()] = quality
    wildcard = accepted.get("*", 0.0)
    for coding in ("br", "gzip"):
        if accepted.get(coding, wildcard) > 0:
            return coding
    return "identity"


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison: W/"x" and "x" match (RFC 9110 §8.8.3.2)."""
    if if_none_match == etag:  # the common case: a client echoing what we sent
        return True
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def is_not_modified(
    if_none_match: str | None, if_modified_since: str | None, entry: Rendered
) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if if_none_match is not None:
        return etag_matches(if_none_match, entry.etag)
    if if_modified_since and entry.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return entry.last_modified.replace(microsecond=0) <= since
    return False


# Feeds are public: readers that run in a browser (web and PWA readers, a JSON Feed read by a
# page's own script) fetch them cross-origin and get nothing without this (Fetch standard,
# "CORS check"). ETag and Link are not CORS-safelisted response headers: exposed, a script
# can revalidate and find the WebSub hub (WebSub §4) like any other subscriber.
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Link",
}


def base_headers(entry: Rendered, max_age: int) -> dict[str, str]:
    headers = {
        "ETag": entry.etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
        "Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in entry.links),
        "X-Content-Type-Options": "nosniff",
        **CORS,
    }
    if entry.last_modified_http:
        headers["Last-Modified"] = entry.last_modified_http
    return headers


def respond(request: web.Request, entry: Rendered, max_age: int) -> web.Response:
    """The cached path: no database, no rendering, no compression; headers built once."""
    headers = entry.headers
    if not headers:
        headers = entry.headers = base_headers(entry, max_age)
    request_headers = request.headers
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match == entry.etag:
        return web.Response(status=304, headers=headers)
    if is_not_modified(if_none_match, request_headers.get("If-Modified-Since"), entry):
        return web.Response(status=304, headers=headers)
    accept = request_headers.get("Accept-Encoding")
    coding = choose_coding(accept) if accept else "identity"
    full = entry.full_headers.get(coding)
    if full is None:
        full = {**headers, "Content-Type": entry.content_type}
        if coding != "identity":
            full["Content-Encoding"] = coding
        entry.full_headers[coding] = full
    return web.Response(body=entry.encoded(coding), headers=full)


# ---------------------------------------------------------------------------------------------
# Routes


def _feed_handler(
    fixed: Mapping[str, str] | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The one feed handler: the cached document for this exact path if still current, else
    `_serve`. `fixed` names the feed of a plain route; pattern routes read their match_info."""

    async def handler(request: web.Request) -> web.StreamResponse:
        fast = request.app[FEED_SERVICE].by_path(request.path)
        if fast is not None:
            return respond(request, fast, 0)
        return await _serve(request, fixed or request.match_info)

    return handler


_feed = _feed_handler()


def add_routes(app: web.Application, settings: Settings) -> None:
    """Each channel's own three feeds, the ones readers poll, as plain routes: the router
    finds them with one dict lookup instead of trying patterns."""
    for channel in settings.channels:
        for file in FORMAT_BY_FILE:
            handler = _feed_handler({"channel": channel.name, "file": file})
            app.router.add_get(f"/feeds/{quote(channel.name)}/{file}", handler)


async def _serve(request: web.Request, info: Mapping[str, str]) -> web.StreamResponse:
    service = request.app[FEED_SERVICE]
    kind = info.get("kind")
    fmt = FORMAT_BY_FILE[info["file"]]
    scope_path = f"{kind}/{info['slug']}" if kind else ""
    hit = service.cached(info["channel"], scope_path, info.get("cursor"), fmt)
    if hit is not None and not isinstance(hit, Redirect) and hit.headers:
        return respond(request, hit, 0)
    spec = await service.spec(info["channel"], info.get("kind"), info.get("slug", ""))
    if spec is None:
        raise web.HTTPNotFound(text="no such feed\n")
    entry = await service.document(spec, info.get("cursor"), fmt)
    if entry is None:
        raise web.HTTPNotFound(text="no such feed page\n")
    if isinstance(entry, Redirect):
        raise web.HTTPFound(entry.location, headers={"Cache-Control": "public, max-age=60", **CORS})
    response = respond(request, entry, spec.channel.feeds.max_age)
    service.remember_path(request.path, entry)
    return response


routes.get(f"/feeds/{{channel}}/{_FILE}")(_feed)
routes.get(f"/feeds/{{channel}}/{_CURSOR}/{_FILE}")(_feed)
routes.get(f"/feeds/{{channel}}/{_SCOPE}/{_FILE}")(_feed)
routes.get(f"/feeds/{{channel}}/{_SCOPE}/{_CURSOR}/{_FILE}")(_feed)


@routes.get("/feeds")
async def feed_list(request: web.Request) -> web.Response:
    service = request.app[FEED_SERVICE]
    refs = await service.feed_list()
    response = render_html(
        request,
        "feeds.html",
        {
            "settings": service.settings,
            "refs": refs,
            "format_titles": FORMAT_TITLES,
            "page_title": "Daftar feed",
        },
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@routes.get("/feeds.opml")
async def feed_opml(request: web.Request) -> web.Response:
    service = request.app[FEED_SERVICE]
    refs = await service.feed_list()
    body = render_opml(service.settings, refs, updated=None)
    return web.Response(
        body=body,
        content_type="text/x-opml",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )
