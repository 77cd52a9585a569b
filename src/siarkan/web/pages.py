"""Public HTML pages: home, article permalink, channel and tag pages, static files.

    GET /                          channels + newest articles
    GET /artikel/{slug}            the article (404 unknown / not yet due / retracted before
                                   its embargo ended, 410 retracted)
    GET /kanal/{name}              a channel's newest articles, ?sebelum=<cursor> for older
    GET /kanal/{name}/tag/{slug}   the same for one tag
    GET /static/{name}             CSS, served from memory with a year-long cache (versioned URL)

Handlers read the store (keyset queries from siarkan.feeds.query) and hand plain data to the
jinja2 templates; the article body is prepared by the pure `article_blocks`.

Each page carries a weak ETag made of what it is rendered from, known before rendering, so a
304 costs no rendering: the code, templates and settings (`_FINGERPRINT`), and for lists the
store's change key (feeds.query.state_key, read before the rows), for an article the stored
article itself and its post. Freshness: web/httpcache.PAGE_CACHE.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import lxml.html
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Article, Status, article_to_dict
from siarkan.articles.text import shorten as text_shorten
from siarkan.channels import channels_for
from siarkan.config import ChannelSettings, Settings
from siarkan.federation.collections import article_post_uri
from siarkan.federation.vocab import ACTIVITY_JSON
from siarkan.feeds.content import clean_fragment, drop_copies_of, iri_to_uri, is_picture
from siarkan.feeds.model import FORMAT_TITLES, MEDIA_TYPES, FeedSpec, Scope
from siarkan.feeds.paging import decode_cursor, encode_cursor
from siarkan.feeds.query import Selection, read_rows, scope_name, state_key
from siarkan.feeds.service import settings_fingerprint
from siarkan.store.articles import get_article, row_to_article
from siarkan.urls import (
    article_link,
    article_url,
    channel_url,
    feed_url,
    feeds_index_url,
    opml_url,
    profile_url,
    slugify,
    tag_url,
)
from siarkan.web.httpcache import PAGE_CACHE, not_modified, validated, weak_etag
from siarkan.web.keys import CLOCK, DB, SETTINGS, TEMPLATES
from siarkan.web.templating import render_html

routes = web.RouteTableDef()

PAGE_SIZE = 20
STATIC_FILES = ("siarkan.css",)
_STATIC = web.AppKey("static_files", dict)
# What every page is also made of: the code, its templates and stylesheet, the settings.
_FINGERPRINT = web.AppKey("pages_fingerprint", str)

_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Pure helpers


def is_public(article: Article, now: datetime) -> bool:
    """Python twin of siarkan.store.articles.visible_clause."""
    due = article.publish_at is None or article.publish_at <= now
    if article.status is Status.PUBLISHED:
        return due
    return article.status is Status.SCHEDULED and article.publish_at is not None and due


def public_before_retraction(article: Article, now: datetime) -> bool:
    """Was a retracted article public before its retraction? Not if its embargo (publish_at)
    had not come by then (updated_at: the retraction stamps it). Such an address answers 404,
    as while it was scheduled: 410 says "was here" (RFC 9110 §15.5.11), and would tell anyone
    guessing slugs that a report had been planned."""
    return article.publish_at is None or article.publish_at <= (article.updated_at or now)


def local_time(settings: Settings, when: datetime) -> str:
    """ "Rabu, 4 November 2026 16.15 WIB": the site's zone, Indonesian names (PUEBI uses "."
    between hours and minutes)."""
    local = when.astimezone(settings.site.tz)
    zone = local.tzname() or local.strftime("%z")
    return (
        f"{_DAYS[local.weekday()]}, {local.day} {_MONTHS[local.month - 1]} {local.year} "
        f"{local:%H.%M} {zone}"
    )


def shorten(text: str, limit: int) -> str:
    """The description link previews and search results show: whole words (text.shorten),
    whitespace collapsed."""
    return text_shorten(" ".join(text.split()), limit)


def article_blocks(article: Article, base: str) -> list[Markup]:
    """The body as HTML blocks, the K-th paragraph's block carrying id="pK" (K: 1-based).

    Uses the sanitised body_html when its top-level blocks, pictures aside, line up with
    `paragraphs` (so links, emphasis and the story's own photos survive; a copy of the featured
    image, shown above the body already, is left out), else the plain paragraphs. The dateline
    opens the first paragraph in bold.
    """
    blocks: list[lxml.html.HtmlElement] = []
    if article.body_html.strip():
        root = clean_fragment(article.body_html, base)
        if article.image:
            drop_copies_of(root, article.image)
        children = [child for child in root if isinstance(child.tag, str)]
        story = [child for child in children if not is_picture(child)]
        if len(story) == len(article.paragraphs) and not (root.text or "").strip():
            blocks = children
    if not blocks:
        blocks = []
        for text in article.paragraphs:
            paragraph = lxml.html.Element("p")
            paragraph.text = text
            blocks.append(paragraph)
    paragraphs = [block for block in blocks if not is_picture(block)]
    if article.dateline and paragraphs:
        first = paragraphs[0]
        strong = lxml.html.Element("strong", {"class": "dateline"})
        strong.text = article.dateline
        strong.tail = " – " + (first.text or "")
        first.text = None
        first.insert(0, strong)
    for index, paragraph in enumerate(paragraphs, start=1):
        paragraph.set("id", f"p{index}")
    rendered = []
    for block in blocks:
        block.tail = None
        # Serialised by lxml from a tree clean_fragment sanitised: markup we built ourselves.
        rendered.append(Markup(lxml.html.tostring(block, encoding="unicode")))  # noqa: S704
    return rendered


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json">: "<" escaped so "</script>" cannot occur."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    escaped = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(escaped)  # noqa: S704 - no "<" or "&" left to break out of the script


def iso_time(settings: Settings, when: datetime) -> str:
    """ISO 8601 with the site's offset, to the second ("2026-11-04T16:15:00+07:00"): for
    JSON-LD, Open Graph and <time datetime>, where HTML allows at most three digits of a
    second's fraction (WHATWG HTML, "valid global date and time string")."""
    return when.astimezone(settings.site.tz).isoformat(timespec="seconds")


def publisher_ld(settings: Settings) -> dict[str, Any]:
    """The site as a schema.org Organization; its logo is `site.logo`, else `site.icon`."""
    publisher: dict[str, Any] = {
        "@type": "Organization",
        "name": settings.site.name,
        "url": settings.site.base_url,
    }
    logo = settings.site.logo or settings.site.icon
    if logo:
        publisher["logo"] = {"@type": "ImageObject", "url": iri_to_uri(logo)}
    return publisher


def news_article_ld(settings: Settings, article: Article, description: str) -> dict[str, Any]:
    """schema.org NewsArticle as Google's Article structured-data guide recommends it.

    headline: the whole title, as the page shows it (Google dropped its 110-character limit
    in 2023: "consider using a concise title"); author: each byline name alone as a Person,
    else the publisher itself as an Organization; dates: ISO 8601 with a time zone offset.
    """
    publisher = publisher_ld(settings)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": " ".join(article.title.split()),
        "mainEntityOfPage": article_link(settings, article),
        "url": article_url(settings, article),
        "inLanguage": article.language,
        "description": description,
        "publisher": publisher,
    }
    published = article.published_at or article.updated_at
    if published:
        data["datePublished"] = iso_time(settings, published)
        data["dateModified"] = iso_time(settings, max(published, article.updated_at or published))
    if article.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in article.authors]
    else:  # an unsigned report is the newsroom's: Google wants an author in either case
        data["author"] = [{k: publisher[k] for k in ("@type", "name", "url")}]
    if article.image:
        data["image"] = [iri_to_uri(article.image.url)]
    if article.section:
        data["articleSection"] = article.section
    if article.tags:
        data["keywords"] = list(article.tags)
    return data


def fediverse_creator(settings: Settings, channels: Sequence[ChannelSettings]) -> str | None:
    """The account that posts the article, as <meta name="fediverse:creator"> names it
    ("@user@host"): Mastodon puts it on the link's preview card (mastodon/mastodon#30398) if
    the account's attributionDomains list this site (federation.actors.render_actor)."""
    for channel in channels:
        if channel.fediverse.enabled:
            return f"@{channel.fediverse.username or channel.name}@{settings.site.host}"
    return None


@dataclass(frozen=True, slots=True)
class Alternate:
    type: str
    title: str
    href: str


def alternates(
    settings: Settings, channel: ChannelSettings, scope: str = "", label: str = ""
) -> list[Alternate]:
    """<link rel="alternate"> for each feed format of a channel (feed autodiscovery)."""
    if not channel.feeds.enabled:
        return []
    title = label or channel.title
    return [
        Alternate(
            MEDIA_TYPES[fmt],
            f"{title} ({FORMAT_TITLES[fmt]})",
            feed_url(settings, channel.name, fmt, scope=scope),
        )
        for fmt in channel.feeds.formats
    ]


@dataclass(frozen=True, slots=True)
class Teaser:
    """An article in a list."""

    title: str
    url: str
    lead: str
    section: str | None
    time: str
    iso_time: str
    image: str | None
    image_alt: str


def teaser(settings: Settings, article: Article) -> Teaser:
    when = article.published_at or article.updated_at
    assert when is not None
    return Teaser(
        title=article.title,
        url=article_url(settings, article),
        lead=article.lead,
        section=article.section,
        time=local_time(settings, when),
        iso_time=iso_time(settings, when),
        image=iri_to_uri(article.image.url) if article.image else None,
        image_alt=article.image.alt if article.image else "",
    )


# ---------------------------------------------------------------------------------------------
# Lifespan: static files in memory, template globals


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    files: dict[str, tuple[bytes, str, str]] = {}
    folder = resources.files("siarkan") / "web" / "static"
    for name in STATIC_FILES:
        body = (folder / name).read_bytes()
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files[name] = (body, media_type, hashlib.sha256(body).hexdigest()[:12])
    app[_STATIC] = files
    env = app[TEMPLATES]
    loader = env.loader
    assert loader is not None  # templating.make_environment's PackageLoader
    app[_FINGERPRINT] = weak_etag(
        settings_fingerprint(settings),  # the package version and every setting
        *(files[name][2] for name in STATIC_FILES),
        *(loader.get_source(env, name)[0] for name in loader.list_templates()),
    )
    env.globals.update(
        site=settings.site,
        nav_channels=[(c.title, channel_url(settings, c.name)) for c in settings.channels],
        css_url=f"/static/siarkan.css?v={files['siarkan.css'][2]}",
        feeds_index=feeds_index_url(settings),
        opml=opml_url(settings),
    )
    yield


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    found = request.app[_STATIC].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, media_type, version = found
    etag = f'"{version}"'
    headers = {
        # The URL carries the content hash (?v=...), so the file can be cached for a year.
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": etag,
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=media_type, charset="utf-8", headers=headers)


# ---------------------------------------------------------------------------------------------
# Pages


def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render_html(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def not_found(request: web.Request) -> web.Response:
    return _error(
        request,
        404,
        "Halaman tidak ditemukan",
        "Halaman yang Anda cari tidak ada atau belum diterbitkan.",
    )


def _wants_html(request: web.Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("Accept", "")


def not_found_for(request: web.Request, text: str = "404: Not Found") -> web.Response:
    """Browsers and crawlers get the site's 404 page; clients asking for feeds, ActivityPub
    or JSON keep a short plain answer."""
    if _wants_html(request):
        return not_found(request)
    return web.Response(status=404, text=text)


async def unknown_address(request: web.Request) -> web.Response:
    """Any address no route matched (registered last, web/app.py): a mistyped /artikel/
    link gets the site's 404 page, not aiohttp's bare "404: Not Found" text."""
    return not_found_for(request)


async def _list_etag(request: web.Request, conn: AsyncConnection) -> str:
    """The tag of a list page: read before its rows, so it is never newer than they are."""
    state = await state_key(conn, request.app[CLOCK].now())
    return weak_etag(request.app[_FINGERPRINT], state, request.path_qs)


async def _list(
    request: web.Request,
    conn: AsyncConnection,
    spec: FeedSpec,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Teaser], str | None]:
    """A page of a selection, newest first, and the cursor of the next (older) page."""
    settings = request.app[SETTINGS]
    below = decode_cursor(cursor) if cursor else None
    rows: Sequence[RowMapping] = await read_rows(
        conn, Selection(spec), request.app[CLOCK].now(), limit=limit + 1, below=below
    )
    more = len(rows) > limit
    rows = rows[:limit]
    older = encode_cursor((rows[-1]["published_at"], rows[-1]["id"])) if more and rows else None
    return [teaser(settings, row_to_article(row)) for row in rows], older


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    everything = ChannelSettings(name="semua", title=settings.site.name)
    async with request.app[DB].connect() as conn:
        etag = await _list_etag(request, conn)
        if (unchanged := not_modified(request, etag, {"Cache-Control": PAGE_CACHE})) is not None:
            return unchanged
        articles, _ = await _list(request, conn, FeedSpec(everything), None)
    channels = [
        {"title": c.title, "description": c.description, "url": channel_url(settings, c.name)}
        for c in settings.channels
    ]
    feeds = alternates(settings, settings.channels[0]) if settings.channels else []
    # Each account's default "Situs" field links here with rel="me" (federation.actors):
    # Mastodon marks the field verified only if this page links back to the profile.
    accounts = [
        profile_url(settings, c.fediverse.username or c.name)
        for c in settings.channels
        if c.fediverse.enabled
    ]
    response = render_html(
        request,
        "home.html",
        {"channels": channels, "articles": articles, "alternates": feeds, "accounts": accounts},
    )
    return validated(response, etag, PAGE_CACHE)


@routes.get("/artikel/{slug}")
async def article_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[DB].connect() as conn:
        article = await get_article(conn, request.match_info["slug"])
        post_uri = (
            await article_post_uri(
                conn, article.id, [c.name for c in channels_for(settings, article)]
            )
            if article is not None
            else None
        )
    if article is None or article.slug != request.match_info["slug"]:
        return not_found(request)
    if article.status is Status.RETRACTED and public_before_retraction(
        article, request.app[CLOCK].now()
    ):
        return _error(
            request,
            410,
            "Artikel telah ditarik",
            "Artikel ini telah ditarik oleh redaksi dan tidak lagi tersedia.",
        )
    if not is_public(article, request.app[CLOCK].now()):
        return not_found(request)
    # The page is the article (every stored field, status and dates included) and its post.
    version = json.dumps(article_to_dict(article), sort_keys=True, ensure_ascii=False)
    etag = weak_etag(request.app[_FINGERPRINT], version, post_uri or "")
    if (unchanged := not_modified(request, etag, {"Cache-Control": PAGE_CACHE})) is not None:
        return unchanged
    permalink = article_url(settings, article)
    base = article.canonical_url or permalink
    channels = channels_for(settings, article)
    home_channel = channels[0] if channels else None
    description = article.subtitle or shorten(article.lead, 200)
    tags = [
        {"name": tag, "url": tag_url(settings, home_channel.name, tag) if home_channel else None}
        for tag in article.tags
    ]
    published = article.published_at or article.updated_at
    updated = article.updated_at
    context = {
        "article": article,
        "blocks": article_blocks(article, base),
        "canonical": iri_to_uri(article_link(settings, article)),
        "permalink": permalink,
        "description": description,
        "image_url": iri_to_uri(article.image.url) if article.image else None,
        "published": local_time(settings, published) if published else None,
        "published_iso": iso_time(settings, published) if published else None,
        "updated": (
            local_time(settings, updated) if updated and published and updated > published else None
        ),
        "updated_iso": iso_time(settings, updated) if updated else None,
        "tags": tags,
        "related": [
            {"title": r.title, "url": iri_to_uri(r.url) if r.url else None} for r in article.related
        ],
        "json_ld": json_ld(news_article_ld(settings, article, description)),
        "channel": home_channel,
        "channel_url": channel_url(settings, home_channel.name) if home_channel else None,
        # Every channel it is in: a reader on a section's article subscribes to that section.
        "alternates": [a for ch in channels for a in alternates(settings, ch)],
        "og_locale": "id_ID" if article.language.startswith("id") else article.language,
        "post_uri": post_uri,
        "creator": fediverse_creator(settings, channels),
    }
    response = render_html(request, "article.html", context)
    if post_uri is not None:
        response.headers["Link"] = f'<{post_uri}>; rel="alternate"; type="{ACTIVITY_JSON}"'
    return validated(response, etag, PAGE_CACHE)


@routes.get("/kanal/{name}")
async def channel_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel(settings, request.match_info["name"])
    if channel is None:
        return not_found(request)
    cursor = request.query.get("sebelum")
    if cursor is not None and decode_cursor(cursor) is None:
        return not_found(request)
    async with request.app[DB].connect() as conn:
        etag = await _list_etag(request, conn)
        if (unchanged := not_modified(request, etag, {"Cache-Control": PAGE_CACHE})) is not None:
            return unchanged
        articles, older = await _list(request, conn, FeedSpec(channel), cursor)
    response = render_html(
        request,
        "channel.html",
        {
            "channel": channel,
            "heading": channel.title,
            "description": channel.description,
            "articles": articles,
            "older": f"?sebelum={older}" if older else None,
            "newest": channel_url(settings, channel.name) if cursor else None,
            "page_url": channel_url(settings, channel.name),
            "alternates": alternates(settings, channel),
        },
    )
    return validated(response, etag, PAGE_CACHE)


@routes.get("/kanal/{name}/tag/{slug}")
async def tag_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel(settings, request.match_info["name"])
    slug = request.match_info["slug"]
    if channel is None or slug != slugify(slug):
        return not_found(request)
    cursor = request.query.get("sebelum")
    if cursor is not None and decode_cursor(cursor) is None:
        return not_found(request)
    async with request.app[DB].connect() as conn:
        etag = await _list_etag(request, conn)
        name = await scope_name(conn, "tag", slug)
        if name is None:
            return not_found(request)
        if (unchanged := not_modified(request, etag, {"Cache-Control": PAGE_CACHE})) is not None:
            return unchanged
        spec = FeedSpec(channel, Scope("tag", slug, name))
        articles, older = await _list(request, conn, spec, cursor)
    feeds: list[Alternate] = []
    if "tag" in channel.feeds.per:
        feeds = alternates(settings, channel, f"tag/{slug}", f"{channel.title} — {name}")
    feeds += alternates(settings, channel)
    response = render_html(
        request,
        "channel.html",
        {
            "channel": channel,
            "heading": f"#{name}",
            "description": f"Berita bertopik {name} di {channel.title}",
            "articles": articles,
            "older": f"?sebelum={older}" if older else None,
            "newest": tag_url(settings, channel.name, name) if cursor else None,
            "page_url": tag_url(settings, channel.name, name),
            "alternates": feeds,
        },
    )
    return validated(response, etag, PAGE_CACHE)


def _channel(settings: Settings, name: str) -> ChannelSettings | None:
    for channel in settings.channels:
        if channel.name == name:
            return channel
    return None
