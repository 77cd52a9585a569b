"""The scheduler: `tick` does one round of everything due; APScheduler only decides when.

    tick(db, settings, clock, http)
        | publish_due       scheduled articles whose publish_at has come -> published, each in
                            its own transaction with publishing.article_changed (guarded by
                            WHERE status='scheduled': two schedulers never both publish one)
        | release posts     federation.publish.release_due_posts (series parts, quiet hours)
        | expire WebSub     leases that ended
        | poll sources      each due source, once per interval across nodes (sources_state)
        | housekeeping      every HOUSEKEEPING_EVERY, once across nodes (job_leases)
        -> TickReport

Scheduler runs the polls as a job of their own (tick(sources=False) + poll_sources): a poll
paces its page fetches (crawl delay, robots.txt) and may take a minute per source, and a
publication due meanwhile must not wait for it.

The truth is in the tables (articles.publish_at, posts.due_at, sources_state, job_leases), so a
restart or a second scheduler node neither loses nor doubles a job, and a post whose time
passed while the service was down goes out on the first tick after it comes back. How stale
is too stale to push to followers (`scheduler.stale_after`) is decided where posts are made
(federation.publish.is_stale): such an article reaches feeds and WebSub, not timelines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select, update

from siarkan.articles.model import Status
from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.distribution.housekeeping import housekeeping
from siarkan.distribution.jobs import take_job
from siarkan.distribution.sources import poll_outcome, poll_source
from siarkan.distribution.websub import expire_subscriptions
from siarkan.federation.publish import release_due_posts
from siarkan.metrics import Metrics
from siarkan.publishing import article_changed
from siarkan.store.articles import get_article
from siarkan.store.db import Database
from siarkan.store.tables import articles, posts

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(minutes=10)
PUBLISH_BATCH = 100


@dataclass(slots=True)
class TickReport:
    published: list[str] = field(default_factory=list)  # article ids
    posts_released: int = 0
    subscriptions_expired: int = 0
    sources_polled: int = 0
    sources_not_modified: int = 0  # answered 304 to our conditional GET
    articles_stored: int = 0
    housekeeping: dict[str, int] | None = None

    @property
    def queued_work(self) -> bool:
        """Did this tick probably queue deliveries (wake the worker)?"""
        return bool(self.published or self.posts_released or self.articles_stored)


async def publish_due(
    db: Database, settings: Settings, now: datetime, metrics: Metrics | None = None
) -> list[str]:
    """Flip due scheduled articles to published and fan them out, one transaction each."""
    async with db.connect() as conn:
        due = list(
            (
                await conn.execute(
                    select(articles.c.id)
                    .where(
                        articles.c.status == Status.SCHEDULED.value, articles.c.publish_at <= now
                    )
                    .order_by(articles.c.publish_at, articles.c.id)
                    .limit(PUBLISH_BATCH)
                )
            ).scalars()
        )
    published: list[str] = []
    for article_id in due:
        async with db.begin() as conn:
            # Still due, on the row as it is now: an edit may have moved publish_at later since
            # the read above (a held embargo). Published now, it would be hidden until then
            # and never fanned out (the scheduler only publishes status='scheduled').
            flipped = await conn.execute(
                update(articles)
                .where(
                    articles.c.id == article_id,
                    articles.c.status == Status.SCHEDULED.value,
                    articles.c.publish_at <= now,
                )
                .values(status=Status.PUBLISHED.value, distributed_at=now, changed_at=now)
            )
            if flipped.rowcount != 1:
                continue  # another scheduler got it first
            article = await get_article(conn, article_id)
            if article is None:
                continue
            previous = replace(article, status=Status.SCHEDULED)
            await article_changed(conn, settings, article, previous=previous, now=now)
        published.append(article_id)
        if metrics is not None:
            metrics.scheduled_published.inc()
        log.info(
            "scheduled article published",
            extra={"article_id": article_id, "publish_at": str(article.publish_at)},
        )
    return published


async def tick(
    db: Database,
    settings: Settings,
    clock: Clock,
    http: aiohttp.ClientSession,
    *,
    holder: str = "scheduler",
    metrics: Metrics | None = None,
    sources: bool = True,
) -> TickReport:
    """One round of everything due now (tests call this directly with a ManualClock);
    sources=False leaves the source polls to poll_sources."""
    now = clock.now()
    report = TickReport()
    report.published = await publish_due(db, settings, now, metrics)
    async with db.begin() as conn:
        report.posts_released = await release_due_posts(conn, settings, now)
        report.subscriptions_expired = await expire_subscriptions(conn, now)
    if sources:
        await poll_sources(db, settings, clock, http, report, metrics)
    async with db.begin() as conn:
        if await take_job(conn, "housekeeping", holder=holder, now=now, every=HOUSEKEEPING_EVERY):
            report.housekeeping = await housekeeping(conn, settings, now)
    return report


async def poll_sources(
    db: Database,
    settings: Settings,
    clock: Clock,
    http: aiohttp.ClientSession,
    report: TickReport,
    metrics: Metrics | None = None,
) -> None:
    """Each source that is due, one after the other (two sources may share a host, whose
    pace is kept within a poll); counted into `report`."""
    for source in settings.sources:
        result = await poll_source(db, settings, source, http, clock.now())
        if result is not None:
            report.sources_polled += 1
            report.sources_not_modified += result.not_modified
            report.articles_stored += result.stored
            if metrics is not None:
                metrics.source_polls.labels(poll_outcome(result)).inc()


async def next_due(db: Database, now: datetime) -> datetime | None:
    """The next scheduled publication or post part, to tick exactly then."""
    async with db.connect() as conn:
        article_at = await conn.scalar(
            select(func.min(articles.c.publish_at)).where(
                articles.c.status == Status.SCHEDULED.value, articles.c.publish_at > now
            )
        )
        post_at = await conn.scalar(
            select(func.min(posts.c.due_at)).where(
                posts.c.state == "scheduled", posts.c.due_at > now
            )
        )
    times = [t for t in (article_at, post_at) if t is not None]
    return min(times) if times else None


class Scheduler:
    """APScheduler (3.x AsyncIOScheduler) ticking `tick`: every tick_seconds, and exactly at the
    next publish time when that comes sooner."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        http: Callable[[], aiohttp.ClientSession],
        *,
        holder: str,
        metrics: Metrics | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.http = http
        self.holder = holder
        self.metrics = metrics
        self.on_queued = on_queued
        self.scheduler = AsyncIOScheduler(timezone=settings.site.tz)
        self._lock = asyncio.Lock()
        self._polling = asyncio.Lock()
        self._poll_task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.polls = 0

    def start(self) -> None:
        self.scheduler.add_job(
            self.run_tick,
            IntervalTrigger(seconds=self.settings.scheduler.tick_seconds),
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=self.clock.now(),  # catch up at once after a restart
        )
        if self.settings.sources:
            self.scheduler.add_job(
                self.run_polls,
                IntervalTrigger(seconds=self.settings.scheduler.tick_seconds),
                id="sources",
                coalesce=True,
                max_instances=2,  # run_polls itself skips while one runs, without a warning
                next_run_time=self.clock.now(),
            )
        self.scheduler.start()

    async def run_polls(self) -> None:
        if self._polling.locked():
            return  # the previous round is still pacing its page fetches
        async with self._polling:
            self._poll_task = asyncio.current_task()
            report = TickReport()
            try:
                await poll_sources(
                    self.db, self.settings, self.clock, self.http(), report, self.metrics
                )
                self.polls += 1
            except Exception:
                log.exception("source polls failed; the next round retries")
            if report.queued_work and self.on_queued is not None:
                self.on_queued()

    async def run_tick(self) -> None:
        if self._lock.locked():
            return  # the exact-time job and the interval job met: one tick is enough
        async with self._lock:
            try:
                report = await tick(
                    self.db,
                    self.settings,
                    self.clock,
                    self.http(),
                    holder=self.holder,
                    metrics=self.metrics,
                    sources=False,  # run_polls: a slow source never holds a publication back
                )
                self.ticks += 1
                if report.queued_work and self.on_queued is not None:
                    self.on_queued()
                await self._plan_exact()
            except Exception:
                log.exception("scheduler tick failed; the next one retries")

    async def _plan_exact(self) -> None:
        now = self.clock.now()
        when = await next_due(self.db, now)
        interval = timedelta(seconds=self.settings.scheduler.tick_seconds)
        if when is None or when - now >= interval:
            return
        self.scheduler.add_job(
            self.run_tick,
            DateTrigger(run_date=when),
            id="exact",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def stop(self, grace: float = 10.0) -> None:
        # Paused, not shut down yet: APScheduler 3's AsyncIOExecutor.shutdown cancels the
        # coroutine jobs under way whatever `wait` says (agronholm/apscheduler#233), which cut
        # a tick or a poll off mid-fetch on every SIGTERM. Pausing only stops new runs.
        if self.scheduler.running:
            self.scheduler.pause()
        try:
            await self._finish(grace)
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)

    async def _finish(self, grace: float) -> None:
        # One deadline for both, so SIGTERM ends within a container's stop grace period.
        deadline = asyncio.get_running_loop().time() + grace
        # Let a tick that is running finish its transaction rather than cut it.
        try:
            async with asyncio.timeout_at(deadline), self._lock:
                pass
        except TimeoutError:
            log.warning("scheduler tick still running at shutdown")
        try:
            async with asyncio.timeout_at(deadline), self._polling:
                pass
        except TimeoutError:
            # A poll pacing its page fetches may have a minute to go: stop it (what it stored
            # is committed; the feed is read in full next time, see sources.py).
            log.warning("source polls still running at shutdown: stopped")
            task = self._poll_task
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=grace)  # let it unwind its transaction
