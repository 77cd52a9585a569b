"""Feed documents on demand: the thin I/O around the pure parts, shared by HTTP and export.

(channel, scope, page, format)
    | resolve: FeedSpec (scope names from the database, remembered per change key)
    | cache.state: has anything changed?            (feeds/cache.py, ~1 query per second)
    | hit -> Rendered bytes
    | miss -> query.load_current / load_archive      (keyset, O(page size))
              -> same content key as before? keep the old bytes
              -> else model.feed_item (memoised per article version) | model.feed_doc
                 | render.render(doc, fmt) -> Rendered (ETag from the content key)
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.clock import Clock
from siarkan.config import ChannelSettings, Settings
from siarkan.feeds.cache import Entry, FeedCache, Redirect, Rendered
from siarkan.feeds.model import (
    FILE_NAMES,
    FORMATS,
    GENERATOR_VERSION,
    MEDIA_TYPES,
    FeedDoc,
    FeedItem,
    FeedSpec,
    PageLinks,
    Scope,
    ScopeKind,
    feed_doc,
    feed_item,
)
from siarkan.feeds.paging import Key, decode_cursor, encode_cursor
from siarkan.feeds.query import (
    Moved,
    PageData,
    Selection,
    load_archive,
    load_current,
    newest_change,
    scope_name,
    scope_values,
    section_names,
    state_key,
)
from siarkan.feeds.render import render
from siarkan.metrics import Metrics
from siarkan.store.articles import row_to_article
from siarkan.store.db import Database
from siarkan.urls import channel_url, feed_archive_url, feed_url, tag_url, websub_hub_url

# How many tags / authors get their own feed in the feed list (all sections do).
LISTED_SCOPES = 100


def settings_fingerprint(settings: Settings) -> str:
    """Part of every ETag: a config change (title, base URL...) changes every document."""
    blob = f"{GENERATOR_VERSION}|{settings.model_dump_json()}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def page_url(settings: Settings, spec: FeedSpec, fmt: str, key: Key | None) -> str:
    if key is None:
        return feed_url(settings, spec.channel.name, fmt, scope=spec.scope_path)
    return feed_archive_url(
        settings, spec.channel.name, fmt, encode_cursor(key), scope=spec.scope_path
    )


def home_url(settings: Settings, spec: FeedSpec) -> str:
    if spec.scope is not None and spec.scope.kind == "tag":
        return tag_url(settings, spec.channel.name, spec.scope.name)
    return channel_url(settings, spec.channel.name)


def feed_enabled(channel: ChannelSettings, fmt: str) -> bool:
    return channel.feeds.enabled and fmt in channel.feeds.formats


def modified_at(row: RowMapping) -> datetime:
    """When this item last changed for a reader: stored, edited, or (scheduled) came due."""
    moments: list[datetime] = [row["changed_at"]]
    moments += [row[name] for name in ("publish_at", "published_at") if row[name] is not None]
    return max(moments)


def build_doc(
    settings: Settings, spec: FeedSpec, data: PageData, items: tuple[FeedItem, ...]
) -> FeedDoc:
    """The format-neutral document of one page (pure)."""
    links: dict[str, PageLinks] = {
        fmt: PageLinks(
            self_url=page_url(settings, spec, fmt, data.archive_end),
            current=page_url(settings, spec, fmt, None),
            prev_archive=(
                page_url(settings, spec, fmt, data.prev_archive) if data.prev_archive else None
            ),
            next_archive=(
                page_url(settings, spec, fmt, data.next_archive) if data.next_archive else None
            ),
        )
        for fmt in FORMATS
    }
    return feed_doc(
        settings,
        spec,
        items,
        home_url=home_url(settings, spec),
        # Only the subscription document is a WebSub topic: the hub refuses archive pages, so
        # they must not advertise it (WebSub §4: hub and self name a topic one can subscribe to).
        hub_url=(
            websub_hub_url(settings)
            if settings.websub.enabled and data.archive_end is None
            else None
        ),
        links=links,
        archive=data.archive_end is not None,
        feed_id=page_url(settings, spec, "atom", None),
    )


@dataclass(frozen=True, slots=True)
class FeedRef:
    """One feed for the feed list and OPML."""

    spec: FeedSpec
    title: str
    html_url: str
    urls: tuple[tuple[str, str], ...]  # (format, url) in the channel's order


class FeedService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        metrics: Metrics | None = None,
        cache: FeedCache | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.metrics = metrics
        self.cache = cache or FeedCache()
        self.fingerprint = settings_fingerprint(settings)
        self._items: OrderedDict[Hashable, FeedItem] = OrderedDict()
        self._channels = {channel.name: channel for channel in settings.channels}
        self._paths: dict[str, tuple[str, Rendered]] = {}
        # Metric children resolved once: .labels() per request shows up on the cached path.
        self._counters = (
            {r: metrics.feed_cache.labels(r) for r in ("hit", "miss", "unchanged")}
            if metrics is not None
            else {}
        )

    # --- change key and specs ------------------------------------------------------------------

    async def state(self) -> str:
        return await self.cache.state(self._load_state)

    async def _load_state(self) -> str:
        async with self.db.connect() as conn:
            return await state_key(conn, self.clock.now())

    def channel(self, name: str) -> ChannelSettings | None:
        return self._channels.get(name)

    async def spec(
        self, channel_name: str, kind: str | None = None, slug: str = ""
    ) -> FeedSpec | None:
        """The feed at /feeds/{channel}[/{kind}/{slug}], or None if there is none."""
        channel = self.channel(channel_name)
        if channel is None or not channel.feeds.enabled:
            return None
        if kind is None:
            return FeedSpec(channel)
        if kind not in channel.feeds.per:
            return None
        scope_kind: ScopeKind = kind
        state = await self.state()
        found, name = self.cache.recall(("scope", kind, slug), state)
        if not found:
            async with self.db.connect() as conn:
                if scope_kind == "section":
                    names = (await self._section_names(conn, state)).get(slug, ())
                    name = names[0] if names else None
                else:
                    name = await scope_name(conn, scope_kind, slug)
            self.cache.remember(("scope", kind, slug), state, name)
        return FeedSpec(channel, Scope(scope_kind, slug, name)) if name else None

    async def _section_names(self, conn: AsyncConnection, state: str) -> dict[str, tuple[str, ...]]:
        found, names = self.cache.recall("sections", state)
        if not found:
            names = await section_names(conn)
            self.cache.remember("sections", state, names)
        return dict(names)

    async def selection(self, conn: AsyncConnection, spec: FeedSpec) -> Selection:
        if spec.scope is not None and spec.scope.kind == "section":
            names = await self._section_names(conn, await self.state())
            return Selection(spec, names.get(spec.scope.slug, (spec.scope.name,)))
        return Selection(spec)

    # --- documents -----------------------------------------------------------------------------

    def by_path(self, path: str) -> Rendered | None:
        """The fastest path: the document last served at this exact URL path, if still current."""
        state = self.cache.fresh_state()
        if state is None:
            return None
        found = self._paths.get(path)
        if found is None or found[0] != state:
            return None
        self._count("hit")
        return found[1]

    def remember_path(self, path: str, entry: Rendered) -> None:
        """Called right after `document` returned `entry` (no await in between)."""
        state = self.cache.fresh_state()
        if state is None:
            return
        if len(self._paths) > 4 * self.cache.max_entries:
            self._paths.clear()
        self._paths[path] = (state, entry)

    def cached(self, channel: str, scope_path: str, cursor: str | None, fmt: str) -> Entry | None:
        """The fast path: a document rendered since the last change check, without awaiting.

        None when the change key is due for a check or the page is not cached; the caller
        then goes through `spec` and `document`, which validate everything.
        """
        state = self.cache.fresh_state()
        if state is None:
            return None
        entry = self.cache.get((channel, scope_path, cursor, fmt), state)
        if entry is not None:
            self._count("hit")
        return entry

    async def document(self, spec: FeedSpec, cursor: str | None, fmt: str) -> Entry | None:
        """The page at `cursor` (None: the subscription document) in `fmt`; None if invalid."""
        if not feed_enabled(spec.channel, fmt):
            return None
        key = None
        if cursor is not None:
            key = decode_cursor(cursor)
            if key is None:
                return None
        state = await self.state()
        page = (spec.channel.name, spec.scope_path, cursor, fmt)
        entry = self.cache.get(page, state)
        if entry is not None:
            self._count("hit")
            return entry

        async def compute(previous: Entry | None) -> Entry:
            return await self._compute(spec, key, fmt, previous)

        return await self.cache.fill(page, state, compute)

    async def load(self, spec: FeedSpec, key: Key | None) -> PageData | Moved:
        async with self.db.connect() as conn:
            selection = await self.selection(conn, spec)
            now = self.clock.now()
            data: PageData | Moved
            if key is None:
                data = await load_current(conn, selection, now)
            else:
                data = await load_archive(conn, selection, now, key)
            if isinstance(data, Moved):
                return data
            return replace(data, store_changed_at=await newest_change(conn))

    async def _compute(
        self, spec: FeedSpec, key: Key | None, fmt: str, previous: Entry | None
    ) -> Entry:
        data = await self.load(spec, key)
        if isinstance(data, Moved):
            location = page_url(self.settings, spec, fmt, data.to)
            return Redirect(location, f"moved:{location}")
        content_key = f"{self.fingerprint}:{data.content_key()}"
        if previous is not None and previous.content_key == content_key:
            self._count("unchanged")
            return previous
        self._count("miss")
        return self.render_page(spec, data, fmt, content_key)

    def render_page(self, spec: FeedSpec, data: PageData, fmt: str, content_key: str) -> Rendered:
        started = time.perf_counter()
        items = tuple(self.item(spec.channel, row) for row in data.rows)
        doc = build_doc(self.settings, spec, data, items)
        body = render(doc, fmt)
        if self.metrics is not None:
            self.metrics.feed_render_seconds.labels(fmt).observe(time.perf_counter() - started)
        page = f"{spec.channel.name}|{spec.scope_path}|{data.archive_end}|{fmt}"
        etag_source = f"{content_key}|{page}"
        etag = 'W/"' + hashlib.sha256(etag_source.encode()).hexdigest()[:24] + '"'
        links = doc.links_for(fmt)
        header_links = [("self", links.self_url)]
        if doc.hub_url:
            header_links.insert(0, ("hub", doc.hub_url))
        return Rendered(
            body=body,
            media_type=MEDIA_TYPES[fmt],
            etag=etag,
            last_modified=self.last_modified(data),
            content_key=content_key,
            links=tuple(header_links),
        )

    def last_modified(self, data: PageData) -> datetime | None:
        """When this page last changed, as far as the store can tell, and never after now.

        Only called when the page's content changed (or was never rendered in this process), so
        the store's newest change is a safe date for it: later than or equal to the change that
        made this render, even when that change left no row on the page (a retraction, an edit
        that moved an article to another section). Never in the future (RFC 9110 §8.8.2.1): a
        pre-dated article's published_at, echoed back in If-Modified-Since, would otherwise
        answer 304 to every change until that date.
        """
        moments = [modified_at(row) for row in data.rows]
        if data.store_changed_at is not None:
            moments.append(data.store_changed_at)
        if not moments:
            return None
        return min(max(moments), self.clock.now())

    def item(self, channel: ChannelSettings, row: RowMapping) -> FeedItem:
        """feed_item, memoised per (channel, article version): formats and pages share it."""
        memo_key = (channel.name, row["id"], row["content_hash"], row["changed_at"])
        found = self._items.get(memo_key)
        if found is None:
            found = feed_item(self.settings, channel, row_to_article(row))
            self._items[memo_key] = found
            if len(self._items) > 4 * self.cache.max_entries:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(memo_key)
        return found

    def _count(self, result: str) -> None:
        counter = self._counters.get(result)
        if counter is not None:
            counter.inc()

    # --- the whole archive and the feed list ---------------------------------------------------

    async def pages(self, spec: FeedSpec) -> AsyncIterator[PageData]:
        """The subscription document, then every archive page from newest to oldest."""
        data = await self.load(spec, None)
        assert isinstance(data, PageData)
        yield data
        seen: set[Key] = set()
        key = data.prev_archive
        while key is not None and key not in seen:
            seen.add(key)
            page = await self.load(spec, key)
            if isinstance(page, Moved):  # changed under our feet: that part is re-read later
                return
            yield page
            key = page.prev_archive

    async def feed_list(self) -> list[FeedRef]:
        """Every feed: each channel's, then its section / tag / author feeds (`feeds.per`)."""
        state = await self.state()
        found, refs = self.cache.recall("feed_list", state)
        if found:
            return list(refs)
        refs = []
        async with self.db.connect() as conn:
            now = self.clock.now()
            for channel in self.settings.channels:
                if not channel.feeds.enabled:
                    continue
                refs.append(self._ref(FeedSpec(channel)))
                for kind in channel.feeds.per:
                    for slug, name in await scope_values(conn, channel, kind, now, LISTED_SCOPES):
                        refs.append(self._ref(FeedSpec(channel, Scope(kind, slug, name))))
        self.cache.remember("feed_list", state, tuple(refs))
        return refs

    def _ref(self, spec: FeedSpec) -> FeedRef:
        title = spec.channel.title
        if spec.scope is not None:
            title = f"{title} — {spec.scope.name}"
        urls = tuple(
            (fmt, feed_url(self.settings, spec.channel.name, fmt, scope=spec.scope_path))
            for fmt in spec.channel.feeds.formats
        )
        return FeedRef(spec, title, home_url(self.settings, spec), urls)


def file_name(fmt: str) -> str:
    return FILE_NAMES[fmt]
