"""The aiohttp application factory.

    create_app(settings) -> web.Application with
        cleanup_ctx: database -> HTTP client -> each feature's lifespan (keys, workers, scheduler)
        routes: ops, admin API, CMS webhooks, public pages, preview, feeds, federation, WebSub hub

Features are modules with a `routes` RouteTableDef and, optionally, a `lifespan(app)` async
generator; adding one is adding it to FEATURES.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterable
from types import ModuleType

import aiohttp
from aiohttp import web

from siarkan import instance_user_agent
from siarkan.clock import Clock, SystemClock
from siarkan.config import Settings
from siarkan.distribution import http as distribution_http
from siarkan.distribution.worker import PROBE_LANE_FACTOR
from siarkan.federation import http as federation_http
from siarkan.feeds import http as feeds_http
from siarkan.metrics import Metrics
from siarkan.store.db import Database
from siarkan.web import admin, hooks, ops, pages, preview
from siarkan.web.keys import (
    CLOCK,
    DB,
    HTTP,
    METRICS,
    METRICS_REFRESH,
    ROLES,
    SETTINGS,
    TEMPLATES,
)
from siarkan.web.templating import make_environment

log = logging.getLogger(__name__)

FEATURES: tuple[ModuleType, ...] = (
    ops,
    admin,
    hooks,
    pages,
    preview,
    feeds_http,
    federation_http,
    distribution_http,
)

ALL_ROLES = frozenset({"web", "worker", "scheduler"})


def parse_roles(role: str) -> frozenset[str]:
    if role == "all":
        return ALL_ROLES
    roles = frozenset(part.strip() for part in role.split(",") if part.strip())
    unknown = roles - ALL_ROLES
    if unknown or not roles:
        raise ValueError(f"unknown role(s) {sorted(unknown)}: use web, worker, scheduler or all")
    return roles


def make_client_session(settings: Settings) -> aiohttp.ClientSession:
    """One keep-alive session per process, bounded globally and per host (Mastodon's timeouts)."""
    connector = aiohttp.TCPConnector(
        # WebSub deliveries run in the worker's two lanes (proven hosts, and the wider lane of
        # probes): connections held by silent hosts must not starve healthy ones. (ActivityPub
        # deliveries have their own client, distribution/client.py.)
        limit=settings.delivery.concurrency * (1 + PROBE_LANE_FACTOR) + 16,
        limit_per_host=settings.delivery.per_host,
        ttl_dns_cache=300,
    )
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=settings.delivery.connect_timeout,
        sock_read=settings.delivery.read_timeout,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": instance_user_agent(settings.site.base_url)},
    )


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    roles: Iterable[str] = ALL_ROLES,
    http: aiohttp.ClientSession | None = None,
    migrate: bool = True,
    freeze_heap: bool = False,
) -> web.Application:
    app = web.Application(client_max_size=max(settings.admin.max_body_bytes, 1024**2) + 1)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = Metrics()
    app[ROLES] = frozenset(roles)
    app[TEMPLATES] = make_environment()

    owned_db = db is None
    database = db or Database.from_settings(settings.database)
    app[DB] = database

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        try:
            if migrate:
                await database.ensure_schema()
            yield
        finally:
            # Also when the migration fails or is cancelled (Ctrl-C while starting): aiohttp
            # cleans up only the contexts that got to their yield, and an engine left open
            # keeps an aiosqlite thread that answers into the closed loop, with a traceback.
            if owned_db:
                await database.close()

    async def http_ctx(app: web.Application) -> AsyncIterator[None]:
        session = http or make_client_session(settings)
        app[HTTP] = session
        yield
        if http is None:
            await session.close()

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(http_ctx)
    for feature in FEATURES:
        add_routes = getattr(feature, "add_routes", None)
        if add_routes is not None:  # routes that depend on the config (feeds per channel)
            add_routes(app, settings)
        app.router.add_routes(feature.routes)
        lifespan = getattr(feature, "lifespan", None)
        if lifespan is not None:
            app.cleanup_ctx.append(lifespan)
    # Last: only what no route matched comes here (a route, not a middleware, so the requests
    # that do match pay nothing for it).
    app.router.add_route("*", "/{tail:.*}", pages.unknown_address)
    if freeze_heap:  # a process-wide act: for the process that serves, not for each test app
        app.on_startup.append(_freeze_startup_objects)
    return app


def create_ops_app(app: web.Application) -> web.Application:
    """/healthz and /metrics of `app`, alone: for a worker or scheduler process without the web
    role (metrics.port). Call it once `app` has started: its lifespans set what /metrics reads
    (the queue gauges' refresh)."""
    ops_app = web.Application()
    ops_app[SETTINGS], ops_app[CLOCK] = app[SETTINGS], app[CLOCK]
    ops_app[DB], ops_app[METRICS] = app[DB], app[METRICS]
    refresh = app.get(METRICS_REFRESH)
    if refresh is not None:
        ops_app[METRICS_REFRESH] = refresh
    ops_app.router.add_routes(ops.routes)
    return ops_app


async def _freeze_startup_objects(app: web.Application) -> None:
    """Everything loaded so far (modules, settings, templates, SQL constructs) lives as long
    as the process: move it out of the cyclic collector's sight, so the collections that
    request garbage triggers stay small (gc.freeze, as CPython's docs suggest for servers)."""
    gc.collect()
    gc.freeze()
