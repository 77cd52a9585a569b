"""Typed keys for the resources an aiohttp app shares (see web/app.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import jinja2
from aiohttp import web

from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.metrics import Metrics
from siarkan.store.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", Metrics)
HTTP = web.AppKey("http", aiohttp.ClientSession)
# Which roles this process plays: web, worker, scheduler (serve --role).
ROLES = web.AppKey("roles", frozenset)
TEMPLATES = web.AppKey("templates", jinja2.Environment)

MetricsRefresh = Callable[[web.Application], Awaitable[None]]
# Optional hook a feature sets to update gauges (queue depth...) just before a scrape.
METRICS_REFRESH: web.AppKey[MetricsRefresh] = web.AppKey("metrics_refresh")
