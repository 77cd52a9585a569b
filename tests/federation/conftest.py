"""Fixtures for federation tests: siarkan on a real loopback port, a fake remote server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from siarkan.config import Settings, parse_settings
from siarkan.store.db import Database
from siarkan.web.app import create_app
from tests.conftest import TEST_CONFIG
from tests.federation.remote_server import RemoteServer
from tests.helpers import free_port, serve_app


@dataclass
class Running:
    base: str
    app: web.Application
    settings: Settings
    db: Database

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def make_settings(port: int, tmp_path: Any) -> Callable[..., Settings]:
    """The shared test config, with extra YAML appended to the federation section."""

    def build(federation_extra: str = "", channels_extra: str = "") -> Settings:
        text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "siarkan.db")
        if federation_extra:
            text = text.replace(
                "  allow_private_addresses: true\n",
                "  allow_private_addresses: true\n" + federation_extra,
            )
        return parse_settings(text + channels_extra, "tests/federation", env={})

    return build


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def remote() -> AsyncIterator[RemoteServer]:
    server = RemoteServer(free_port())
    async with server.running():
        yield server


@pytest.fixture
async def running(settings: Settings, db: Database, port: int) -> AsyncIterator[Running]:
    async with start(settings, db, port) as live:
        yield live


def start(settings: Settings, db: Database, port: int) -> Any:
    """Serve siarkan (web role only: no background workers) on 127.0.0.1:port."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def run() -> AsyncIterator[Running]:
        app = create_app(settings, db=db, roles=("web",))
        async with serve_app(app, port) as base:
            yield Running(base, app, settings, db)

    return run()
