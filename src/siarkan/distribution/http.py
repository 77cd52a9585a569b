"""Distribution over HTTP, and the background work a process runs for its roles.

POST /websub                                     the WebSub hub (subscribe / unsubscribe / publish)
GET  /ap/actors/{name}/followers_synchronization FEP-8fcf partial followers collection
lifespan: role "worker"    -> Worker.run (delivery loop)
          role "scheduler" -> Scheduler (APScheduler ticking scheduler.tick)
          METRICS_REFRESH  -> queue depth and oldest due row, just before a scrape
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select

from siarkan import urls
from siarkan.config import ChannelSettings, Settings
from siarkan.distribution import queue
from siarkan.distribution.scheduler import Scheduler
from siarkan.distribution.websub import (
    HubError,
    accept_request,
    notify_subscribers,
    parse_hub_request,
    parse_publish,
)
from siarkan.distribution.worker import Worker, new_worker_id
from siarkan.federation.fetch import FetchError
from siarkan.federation.http import REMOTE, target_uri
from siarkan.federation.signatures import (
    RequestView,
    SignatureError,
    check_signed_request,
    header_map,
    parse_signed_request,
    verify_signature,
)
from siarkan.store.tables import followers
from siarkan.web.keys import CLOCK, DB, HTTP, METRICS, METRICS_REFRESH, ROLES, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

WORKER = web.AppKey("delivery_worker", Worker)


def wake_worker(app: web.Application) -> None:
    """Rows were just committed by this process: its worker (if it runs one) looks now rather
    than at the next poll. Other processes' workers find them at their poll."""
    worker = app.get(WORKER)
    if worker is not None:
        worker.notify()


ACTIVITY_JSON = "application/activity+json"


# --- WebSub hub ---------------------------------------------------------------------------------


@routes.post("/websub")
async def hub(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.websub.enabled or settings.websub.external_hub:
        return web.Response(status=404, text="this site uses another WebSub hub")
    form = await request.post()
    if form.get("hub.mode") == "publish":
        values: dict[str, list[str]] = {}
        for key, value in form.items():
            if isinstance(value, str):
                values.setdefault(key, []).append(value)
        return await _publish(request, values)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        hub_request = parse_hub_request(fields, settings)
    except HubError as exc:
        return web.Response(status=400, text=str(exc))
    async with request.app[DB].begin() as conn:
        queued = await accept_request(conn, hub_request, request.app[CLOCK].now())
    if queued:
        wake_worker(request.app)
    # §5.1.1: 202 Accepted; the intent is verified asynchronously.
    return web.Response(status=202, text="accepted; verification follows")


async def _publish(request: web.Request, values: dict[str, list[str]]) -> web.Response:
    try:
        topics = parse_publish(values, request.app[SETTINGS])
    except HubError as exc:
        return web.Response(status=400, text=str(exc))
    async with request.app[DB].begin() as conn:
        queued = await notify_subscribers(conn, topics, request.app[CLOCK].now())
    if queued:
        wake_worker(request.app)
    return web.Response(status=202, text=f"accepted; {queued} subscribers to notify")


# --- FEP-8fcf partial followers collection ------------------------------------------------------


def _channel(settings: Settings, name: str) -> ChannelSettings:
    for channel in settings.channels:
        if channel.name == name and channel.fediverse.enabled:
            return channel
    raise web.HTTPNotFound()


async def _signed_by_domain(request: web.Request, domain: str) -> bool:
    """FEP-8fcf: the list is for the receiving instance; it must sign the fetch (Mastodon does,
    as its instance actor) with a key on that domain."""
    settings = request.app[SETTINGS]
    view = RequestView(
        request.method, target_uri(settings, request), header_map(request.headers.items())
    )
    try:
        signed = parse_signed_request(view)
        check_signed_request(
            signed,
            view,
            None,
            now=request.app[CLOCK].now(),
            window=settings.federation.signature_window,
        )
    except SignatureError:
        return False
    if urlsplit(signed.key_id).netloc.lower() != domain:
        return False
    remote = request.app.get(REMOTE)
    if remote is None:
        return False
    try:
        key = remote.cached_key(signed.key_id) or await remote.key(signed.key_id)
    except (FetchError, SignatureError):
        return False
    return verify_signature(key.public_key, signed)


@routes.get("/ap/actors/{name}/followers_synchronization")
async def followers_synchronization(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel(settings, request.match_info["name"])
    domain = request.query.get("domain", "").lower()
    if not domain:
        return web.Response(status=400, text="?domain= is required")
    if not channel.fediverse.followers_list_public and not await _signed_by_domain(request, domain):
        return web.Response(status=401, text="sign the request with a key on that domain")
    async with request.app[DB].connect() as conn:
        uris = sorted(
            (
                await conn.execute(
                    select(followers.c.follower_uri).where(
                        followers.c.actor_name == channel.name,
                        followers.c.state == "accepted",
                        followers.c.host == domain,
                    )
                )
            ).scalars()
        )
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": urls.followers_sync_url(settings, channel.name, domain),
        "type": "OrderedCollection",
        "totalItems": len(uris),
        "orderedItems": uris,
    }
    return web.Response(
        body=json.dumps(document).encode("utf-8"),
        content_type=ACTIVITY_JSON,
        headers={"Cache-Control": "private, no-store"},
    )


# --- metrics ------------------------------------------------------------------------------------


async def refresh_metrics(app: web.Application) -> None:
    async with app[DB].connect() as conn:
        counts, oldest = await queue.queue_depth(conn, app[CLOCK].now())
    metrics = app[METRICS]
    for state in ("pending", "retrying", "sent", "dead", "skipped"):
        metrics.queue_depth.labels(state).set(counts.get(state, 0))
    metrics.oldest_pending_age.set(oldest)


# --- background roles ---------------------------------------------------------------------------


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    settings, db, clock, roles = app[SETTINGS], app[DB], app[CLOCK], app[ROLES]
    app[METRICS_REFRESH] = refresh_metrics
    identity = new_worker_id()
    stop = asyncio.Event()
    runner: asyncio.Task[None] | None = None
    worker: Worker | None = None
    if "worker" in roles:
        if db.dialect == "sqlite":
            # One worker process per SQLite file (docs/deployment.md; `serve` holds the file's
            # worker lock, store/worker_lock.py): every lease left in the file belongs to a
            # previous run that died, so take them back now instead of waiting for them to
            # expire.
            async with db.begin() as conn:
                released = await queue.release_all(conn)
            if released:
                log.info("released leases of a previous run", extra={"rows": released})
        worker = Worker(db, settings, clock, app[HTTP], metrics=app[METRICS], worker_id=identity)
        app[WORKER] = worker
        runner = asyncio.create_task(worker.run(stop), name="delivery-worker")
    scheduler: Scheduler | None = None
    if "scheduler" in roles:
        scheduler = Scheduler(
            db,
            settings,
            clock,
            lambda: app[HTTP],
            holder=identity,
            metrics=app[METRICS],
            on_queued=worker.notify if worker is not None else None,
        )
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            await scheduler.stop()
        stop.set()
        if runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await runner
