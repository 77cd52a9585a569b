"""Import orchestration: paths and URLs -> parsed articles -> stored, one transaction each.

    targets | expand (files by extension; directories recursively, sorted; URLs)
        | read (size checked before reading) | parsers.parse_bytes (pure; one parser per kind)
        | store_article (upsert + publishing.article_changed in its own transaction)
        -> ImportReport (imported / updated / unchanged / failed + warnings)

    URL | crawl.Crawler.fetch (conditional GET with what fetch_validators remembers)
        | 304 -> NotModified: nothing to do
        | html page -> multipage.read_report (a report split over pages is read to its
          end through the same Crawler and joined; a page that fails fails the article)
        | feed or sitemap -> parse_feed_or_sitemap -> each page: robots.txt allows it?
              (Skipped if not) -> fetched in its host's turn (4 in flight, one per host)
              -> multipage.read_report
        | every page handled -> the document's ETag / Last-Modified remembered; a failure
          forgets them, so the next import reads the whole document and retries

A bad input never stops the batch: it becomes a `Failed` with a one-line reason. Parsing is
pure (bytes in, Articles out), so the scheduler can poll publisher feeds with the same code:
`fetch_and_parse_url`, `import_url`, `parse_page_bytes`, `store_article`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import instance_user_agent
from siarkan.articles.crawl import Crawler, Disallowed
from siarkan.articles.model import Article, Status
from siarkan.articles.multipage import PageHook, read_report
from siarkan.articles.parsers import (
    KINDS,
    Failed,
    ParseContext,
    Parsed,
    ParseOutcome,
    parse_bytes,
    parse_page_bytes,
)
from siarkan.articles.remote import (
    MAX_BYTES,
    FeedEntry,
    Validators,
    parse_feed_or_sitemap,
    sniff_kind,
)
from siarkan.articles.text import ArticleRejected
from siarkan.clock import Clock
from siarkan.config import ImportSettings, Settings, SiteSettings
from siarkan.publishing import article_changed, release_due
from siarkan.store.articles import Outcome, UpsertResult, upsert_article
from siarkan.store.db import Database
from siarkan.store.validators import load_validators, save_validators

__all__ = [
    "KINDS",
    "Failed",
    "FeedEntry",
    "ImportOptions",
    "ImportReport",
    "NotModified",
    "Parsed",
    "Skipped",
    "UrlOutcome",
    "fetch_and_parse_url",
    "import_targets",
    "import_url",
    "parse_bytes",
    "parse_feed_or_sitemap",
    "parse_page_bytes",
    "store_article",
]

log = logging.getLogger(__name__)

# Tries of one store when a concurrent writer's unique row gets in the way (store_article).
STORE_TRIES = 3

PAGE_CONCURRENCY = 4
PARSE_CHUNK = 16  # files parsed per worker-thread hop (bounded memory, fewer hops)
RELEASE_EVERY = 64  # stored articles between bulk releases of their fediverse posts
SITEMAP_DEPTH = 2

# --- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    display: str
    path: Path | None = None
    url: str | None = None
    error: str | None = None
    note: str | None = None  # nothing to import, and worth saying (an empty folder)


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _skipped_in_walk(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    # Hidden files/dirs and a folder's README are documentation, not reports.
    return any(part.startswith(".") for part in parts) or path.name.upper().startswith("README")


def expand_targets(values: Iterable[str]) -> list[Target]:
    """Paths and URLs as given -> concrete inputs (blocking: run it in a thread)."""
    expected = ", ".join(KINDS)
    targets: list[Target] = []
    for value in values:
        if _is_url(value):
            targets.append(Target(value, url=value))
            continue
        path = Path(value)
        if path.is_dir():
            found = len(targets)
            root = path.resolve()  # once: children of a resolved root are resolved
            for child in sorted(root.rglob("*")):
                if (
                    child.suffix.lower() in KINDS
                    and child.is_file()
                    and not _skipped_in_walk(child, root)
                ):
                    shown = path / child.relative_to(root)
                    # A link inside the folder to a file outside it ("laporan.txt" ->
                    # ~/.ssh/id_rsa) would publish that file: only what the folder holds.
                    real = child.resolve()
                    if real.is_relative_to(root):
                        targets.append(Target(str(shown), path=real))
                    else:
                        error = "a link to a file outside the folder (not followed)"
                        targets.append(Target(str(shown), error=error))
            if len(targets) == found:
                # Said, not failed: a drop folder that a cron job imports is often empty.
                nothing = f"no files to import here (expected {expected})"
                targets.append(Target(value, note=nothing))
        elif path.is_file():
            if path.suffix.lower() in KINDS:
                targets.append(Target(value, path=path.resolve()))
            else:
                suffix = path.suffix or "(none)"
                targets.append(
                    Target(value, error=f"unsupported file type {suffix} (expected {expected})")
                )
        elif path.exists():
            targets.append(Target(value, error="not a regular file"))
        else:
            targets.append(Target(value, error="no such file or directory"))
    return targets


def read_file(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The size is checked before reading, so a 50 MB file is refused without loading it."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleRejected(
                f"file is {size / (1024 * 1024):.1f} MB; the limit is "
                f"{max_bytes / (1024 * 1024):.0f} MB"
            )
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise ArticleRejected(f"cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise ArticleRejected("file grew past the size limit while being read")
    return data


def file_outcomes(path: Path, display: str, settings: SiteSettings) -> list[ParseOutcome]:
    """Read and parse one file; `path` is absolute (resolved) and seeds the stable id."""
    try:
        data = read_file(path)
    except ArticleRejected as exc:
        return [Failed(display, str(exc))]
    ctx = ParseContext(settings=settings, source=str(path), id_seed=str(path))
    return parse_bytes(data, KINDS[path.suffix.lower()], display=display, ctx=ctx)


# --- the web ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skipped:
    """Not fetched on purpose: robots.txt keeps us away (the reason names it). `lasting` is
    False when robots.txt could not be read: a later import may be let in."""

    source: str
    reason: str
    lasting: bool = True


@dataclass(frozen=True, slots=True)
class NotModified:
    """A feed or sitemap that answered 304 to our conditional GET: nothing new to import."""

    source: str


UrlOutcome = ParseOutcome | Skipped | NotModified


@dataclass(frozen=True, slots=True)
class DocumentMemory:
    """The validators of feeds and sitemaps read by earlier imports (fetch_validators), on
    the import's connection, each read and write in a transaction of its own."""

    conn: AsyncConnection
    clock: Clock
    send: bool = True  # False: read every document in full (--refetch), remember afresh
    # Pages parsed but not stored (the batch's write failed): their document is not
    # remembered, or the next import would be told 304 and never store them.
    unstored: set[str] = field(default_factory=set)

    async def recall(self, url: str) -> Validators | None:
        if not self.send:
            return None
        async with self.conn.begin():
            return await load_validators(self.conn, url)

    async def remember(self, url: str, validators: Validators | None) -> None:
        await save_validators(self.conn, url, validators, now=self.clock.now())


def _handled(outcome: UrlOutcome) -> bool:
    """Nothing for a later import to retry (a page that failed, or that robots.txt kept us
    from only because it could not be read, is worth another try)."""
    if isinstance(outcome, Skipped):
        return outcome.lasting
    return not isinstance(outcome, Failed)


def _page_hook(progress: Progress | None) -> PageHook | None:
    """Each page of a split report read after page 1 is one more step of the progress."""
    if progress is None:
        return None

    def on_page(url: str) -> None:
        progress.found(1)
        progress.done(url)

    return on_page


async def _page_outcome(
    crawler: Crawler,
    entry: FeedEntry,
    settings: SiteSettings,
    on_page: PageHook | None = None,
) -> UrlOutcome:
    try:
        fetched = await crawler.fetch(entry.url, listed=True)
    except Disallowed as exc:
        return Skipped(entry.url, str(exc), lasting=exc.lasting)
    except ArticleRejected as exc:
        return Failed(entry.url, str(exc))
    outcome = await read_report(crawler, fetched, settings=settings, on_page=on_page)
    if (
        isinstance(outcome, Parsed)
        and outcome.article.published_at is None
        and entry.published is not None
    ):
        # The page names no date but the feed or sitemap does (pubDate,
        # news:publication_date, lastmod): without it the store would date an old story
        # "now" and send it to followers as news.
        outcome = replace(outcome, article=replace(outcome.article, published_at=entry.published))
    return outcome


async def url_outcomes(
    crawler: Crawler,
    url: str,
    *,
    settings: SiteSettings,
    depth: int = 0,
    seen: set[str] | None = None,
    memory: DocumentMemory | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[UrlOutcome]:
    """A page, or every page a feed/sitemap lists (fetched a few at a time, in order).
    `crawler` holds the run's robots.txt rules and host turns (and whether loopback and
    private addresses may be reached: tests only). `seen`: addresses already fetched in this
    run; a page that the feed, the sitemap and the news sitemap all list is fetched once.
    `memory`: validators from earlier imports; without it (a dry run) every document is read
    in full and nothing is remembered. `progress` hears of the pages listed, and of each one
    done."""
    seen = set() if seen is None else seen
    seen.add(url.split("#", 1)[0])
    known = await memory.recall(url) if memory is not None else None
    try:
        # What the operator named is fetched as asked; a child sitemap was listed by it.
        fetched = await crawler.fetch(url, listed=depth > 0, validators=known)
    except Disallowed as exc:
        yield Skipped(url, str(exc), lasting=exc.lasting)
        return
    except ArticleRejected as exc:
        yield Failed(url, str(exc))
        return
    if fetched.not_modified:
        log.info("%s: not modified since the last import", url)
        if memory is not None and known is not None:
            # A 304 may carry newer validators (RFC 9111 §4.3.4: they update the stored
            # response); asking with the old ones again would miss the next 304.
            fresh = Validators(
                fetched.etag or known.etag, fetched.last_modified or known.last_modified
            )
            if fresh != known:
                await memory.remember(url, fresh)
        yield NotModified(url)
        return
    if sniff_kind(fetched.content_type, fetched.body) == "html":
        yield await read_report(crawler, fetched, settings=settings, on_page=_page_hook(progress))
        return
    try:
        entries = parse_feed_or_sitemap(fetched.body, fetched.url, tz=settings.tz)
    except ArticleRejected as exc:
        yield Failed(url, str(exc))
        return
    if not entries:
        yield Failed(url, "the feed or sitemap lists no articles")
        return
    pages = []
    for entry in entries:
        address = entry.url.split("#", 1)[0]
        if not entry.is_sitemap and address not in seen:
            seen.add(address)
            pages.append(entry)
    is_index = any(entry.is_sitemap for entry in entries)
    for entry in entries:
        if entry.is_sitemap and entry.url.split("#", 1)[0] not in seen:
            if depth >= SITEMAP_DEPTH:
                yield Failed(entry.url, "sitemap index nested too deeply (ignored)")
                continue
            async for outcome in url_outcomes(
                crawler,
                entry.url,
                settings=settings,
                depth=depth + 1,
                seen=seen,
                memory=memory,
                progress=progress,
            ):
                yield outcome
    handled = True
    if progress is not None and pages:
        progress.found(len(pages))
    for start in range(0, len(pages), PAGE_CONCURRENCY):
        batch = pages[start : start + PAGE_CONCURRENCY]
        for entry, outcome in zip(
            batch,
            await asyncio.gather(
                *(_page_outcome(crawler, e, settings, _page_hook(progress)) for e in batch)
            ),
            strict=True,
        ):
            yield outcome  # stored by the caller before the generator goes on
            handled = handled and _handled(outcome)
            if memory is not None and outcome.source in memory.unstored:
                handled = False
            if progress is not None:
                progress.done(entry.url)
    if memory is not None and not is_index:
        # A sitemap index answering 304 says nothing of its children (a month's sitemap
        # grows while the index stays the same), so only documents listing pages are
        # remembered; each child sitemap is, on its own.
        validators = Validators(fetched.etag, fetched.last_modified) if handled else None
        await memory.remember(url, validators)


async def fetch_and_parse_url(
    session: aiohttp.ClientSession,
    url: str,
    *,
    settings: SiteSettings,
    allow_private: bool = False,
    imports: ImportSettings | None = None,
) -> list[Article]:
    """Every article behind a URL (a page, a feed or a sitemap); failures are logged."""
    crawler = Crawler(
        session,
        imports or ImportSettings(),
        allow_private=allow_private,
        user_agent=instance_user_agent(settings.base_url),
    )
    articles: list[Article] = []
    async for outcome in url_outcomes(crawler, url, settings=settings):
        if isinstance(outcome, Parsed):
            articles.append(outcome.article)
        elif isinstance(outcome, Failed | Skipped):
            log.warning("import %s failed: %s", outcome.source, outcome.reason)
    return articles


# --- storing ----------------------------------------------------------------------------------


async def store_article(
    conn: AsyncConnection,
    settings: Settings,
    article: Article,
    *,
    now: datetime,
    release: bool = True,
    restore: bool = False,
) -> UpsertResult:
    """Upsert and fan out in one transaction of its own: all of it is stored, or none.
    With release=False the posts are written but released later (see publishing.release_due);
    restore: see upsert_article.

    upsert_article reads, then writes: another node (a second web node, a CLI import) may store
    the same article, or take the same slug, in between. Its unique constraint then fails this
    transaction; a second try reads what that node committed (the same article: unchanged or
    updated; a taken slug: the next numbered one). A conflict that is still there on the last
    try is real (e.g. a canonical_url owned by another article) and raised."""
    for attempt in range(1, STORE_TRIES + 1):
        try:
            async with conn.begin():
                result = await upsert_article(conn, article, now=now, restore=restore)
                if result.outcome is not Outcome.UNCHANGED:
                    await article_changed(
                        conn,
                        settings,
                        result.article,
                        previous=result.previous,
                        now=now,
                        release=release,
                    )
            return result
        except IntegrityError:
            if attempt == STORE_TRIES:
                raise
            log.info("article %s collided with a concurrent write: again", article.id)
    raise AssertionError("unreachable")


async def release_pending(conn: AsyncConnection, settings: Settings, *, now: datetime) -> None:
    """One transaction releasing what a run of store_article(release=False) left due."""
    async with conn.begin():
        await release_due(conn, settings, now)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    section: str | None = None
    status: Status | None = None
    dry_run: bool = False
    # Read feeds and sitemaps in full even if they answer 304 to what the last import saw.
    refetch: bool = False

    def apply(self, article: Article) -> Article:
        if self.section is not None:
            article = replace(article, section=self.section)
        if self.status is not None:
            article = replace(article, status=self.status)
        return article


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)  # dry run: what would be stored
    failed: list[Failed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # robots.txt said no
    not_modified: list[str] = field(default_factory=list)  # feeds and sitemaps answering 304
    # Reports read over several pages: (source, the addresses read after page 1).
    joined: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if self.dry_run:
            line = f"{len(self.parsed)} parsed, {len(self.failed)} failed"
        else:
            line = (
                f"{len(self.imported)} imported, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.failed)} failed"
            )
        if self.joined:
            line += f", {len(self.joined)} read from several pages"
        if self.skipped:
            line += f", {len(self.skipped)} skipped (robots.txt)"
        if self.not_modified:
            line += f", {len(self.not_modified)} feeds/sitemaps not modified"
        return line + (" (dry run: nothing stored)" if self.dry_run else "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": [{"path": f.source, "reason": f.reason} for f in self.failed],
            "skipped": [{"path": s.source, "reason": s.reason} for s in self.skipped],
            "not_modified": self.not_modified,
            "warnings": [{"path": path, "message": message} for path, message in self.warnings],
        }
        if self.joined:
            data["joined"] = [
                {"path": path, "more_pages": list(more)} for path, more in self.joined
            ]
        if self.dry_run:
            data["dry_run"] = True
            data["parsed"] = self.parsed
        return data


@dataclass(frozen=True, slots=True)
class Progress:
    """What a progress display hears: `found(n)`, n more items to do (the targets, then the
    pages each feed or sitemap lists, as it is read); `done(name)`, one item finished."""

    found: Callable[[int], None]
    done: Callable[[str], None]


class _Batch:
    """Stores outcomes one by one on a single connection (one transaction per article)."""

    def __init__(
        self,
        conn: AsyncConnection | None,
        settings: Settings,
        clock: Clock,
        options: ImportOptions,
        report: ImportReport,
        memory: DocumentMemory | None = None,
    ) -> None:
        self.conn, self.settings, self.clock = conn, settings, clock
        self.options, self.report = options, report
        self.memory = memory
        self.unreleased = 0

    async def handle(self, outcome: UrlOutcome) -> None:
        report = self.report
        if isinstance(outcome, Failed):
            report.failed.append(outcome)
            return
        if isinstance(outcome, Skipped):
            report.skipped.append(outcome)
            return
        if isinstance(outcome, NotModified):
            report.not_modified.append(outcome.source)
            return
        report.warnings.extend((outcome.source, w) for w in outcome.warnings)
        if outcome.more_pages:
            report.joined.append((outcome.source, outcome.more_pages))
        article = self.options.apply(outcome.article)
        if self.conn is None:
            report.parsed.append(article.id)
            return
        try:
            result = await store_article(
                self.conn, self.settings, article, now=self.clock.now(), release=False
            )
        except Exception as exc:  # one bad row must not end the batch; the transaction rolled back
            log.debug("storing %s failed", outcome.source, exc_info=True)
            first_line = (str(exc).splitlines() or [""])[0][:200]
            report.failed.append(
                Failed(outcome.source, f"not stored: {exc.__class__.__name__}: {first_line}")
            )
            if self.memory is not None:
                self.memory.unstored.add(outcome.source)
            return
        if result.outcome is not Outcome.UNCHANGED:
            self.unreleased += 1
        {
            Outcome.CREATED: report.imported,
            Outcome.UPDATED: report.updated,
            Outcome.UNCHANGED: report.unchanged,
        }[result.outcome].append(result.article.id)

    async def release(self, *, at_least: int = 1) -> None:
        """Posts of stored articles go out in bulk: every RELEASE_EVERY articles and at the end
        (a crash in between loses nothing: the parts are due, and the scheduler releases them)."""
        if self.conn is None or self.unreleased < at_least:
            return
        await release_pending(self.conn, self.settings, now=self.clock.now())
        self.unreleased = 0


async def import_targets(
    values: Sequence[str],
    *,
    db: Database | None,
    settings: Settings,
    clock: Clock,
    options: ImportOptions = ImportOptions(),
    session: aiohttp.ClientSession | None = None,
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """What `siarkan import` does. `db` may be None only for a dry run; `session` is needed
    only when a URL is given. A `report` passed in is filled as the import goes: after an
    interrupt (Ctrl-C) it still says what was stored."""
    if report is None:
        report = ImportReport(dry_run=options.dry_run)
    targets = await asyncio.to_thread(expand_targets, values)
    if progress is not None:
        progress.found(len(targets))
    if options.dry_run or db is None:
        await _run(targets, None, settings, clock, options, report, session, progress)
    else:
        # One connection for the whole batch, one transaction per article on it.
        async with db.connect() as conn:
            await _run(targets, conn, settings, clock, options, report, session, progress)
    return report


async def _run(
    targets: list[Target],
    conn: AsyncConnection | None,
    settings: Settings,
    clock: Clock,
    options: ImportOptions,
    report: ImportReport,
    session: aiohttp.ClientSession | None,
    progress: Progress | None,
) -> None:
    seen: set[str] = set()  # pages fetched in this run, whichever feed or sitemap listed them
    # One crawler for the run: robots.txt read once per site, one request at a time per host.
    crawler = (
        Crawler(
            session,
            settings.imports,
            allow_private=settings.federation.allow_private_addresses,
            user_agent=instance_user_agent(settings.site.base_url),
        )
        if session is not None
        else None
    )
    memory = DocumentMemory(conn, clock, send=not options.refetch) if conn is not None else None
    batch = _Batch(conn, settings, clock, options, report, memory)
    index = 0
    while index < len(targets):
        target = targets[index]
        if target.path is not None:
            # Files are read and parsed a few at a time in a worker thread (one hop per chunk,
            # not per file); each article is still stored in its own transaction.
            chunk = [target]
            while (
                index + len(chunk) < len(targets)
                and targets[index + len(chunk)].path is not None
                and len(chunk) < PARSE_CHUNK
            ):
                chunk.append(targets[index + len(chunk)])
            index += len(chunk)
            parsed = await asyncio.to_thread(_parse_files, chunk, settings.site)
            for done, outcomes in zip(chunk, parsed, strict=True):
                for outcome in outcomes:
                    await batch.handle(outcome)
                if progress is not None:
                    progress.done(done.display)
            await batch.release(at_least=RELEASE_EVERY)
            continue
        index += 1
        if target.error is not None:
            await batch.handle(Failed(target.display, target.error))
        elif target.note is not None:
            report.warnings.append((target.display, target.note))
        elif target.url is not None:
            if crawler is None:
                raise ValueError("import_targets needs an aiohttp session for URLs")
            async for found in url_outcomes(
                crawler,
                target.url,
                settings=settings.site,
                seen=seen,
                memory=memory,
                progress=progress,
            ):
                await batch.handle(found)
        if progress is not None:
            progress.done(target.display)
        await batch.release(at_least=RELEASE_EVERY)
    await batch.release()


def _parse_files(chunk: list[Target], settings: SiteSettings) -> list[list[ParseOutcome]]:
    return [file_outcomes(t.path, t.display, settings) for t in chunk if t.path is not None]


async def import_url(
    db: Database,
    session: aiohttp.ClientSession,
    url: str,
    *,
    settings: Settings,
    clock: Clock,
    options: ImportOptions = ImportOptions(),
) -> ImportReport:
    """Fetch, parse and store everything behind one URL (for the scheduler's source polling)."""
    return await import_targets(
        [url], db=db, settings=settings, clock=clock, options=options, session=session
    )
