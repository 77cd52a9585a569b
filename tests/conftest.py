"""Fixtures shared by every test.

- `settings`: a Settings for tests (loopback base URL on a free port, two channels).
- `db`: a migrated Database, parametrized over a temp SQLite file and a fresh PostgreSQL
  database (cloned from a migrated template). PostgreSQL tests skip with a printed reason when
  the server is unreachable, and fail instead under CI=true: CI must run them.
- `db_settings`: `settings` whose database URL points at `db` (for subprocess tests).
- `make_article`: builds a realistic Indonesian report, see tests/helpers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from siarkan.articles.model import Article
from siarkan.config import DatabaseSettings, Settings, parse_settings
from siarkan.store.db import Database
from siarkan.store.engine import create_engine, upgrade
from tests.helpers import free_port, make_report

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "SIARKAN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PG_TEMPLATE = f"siarkan_tpl_{os.getpid()}"

TEST_CONFIG = """
site:
  name: Prolog Media
  base_url: http://127.0.0.1:{port}
  language: id
  timezone: Asia/Jakarta
database:
  url: sqlite+aiosqlite:///{sqlite}
admin:
  token: test-token-123
logging:
  level: warning
  format: text
federation:
  allow_private_addresses: true
imports:
  crawl_delay: 0  # loopback test sites: no pause between requests (robots.txt still read)
channels:
  - name: utama
    title: Prolog Media — Berita Utama
    description: Berita terkini dari Banten dan sekitarnya
    fediverse:
      enabled: true
      username: prologmedia
      summary: Berita dari Banten
    excerpts:
      mode: thread
      max_parts: 6
  - name: banten
    title: Prolog Media — Banten
    match:
      sections: [Banten]
    fediverse:
      enabled: true
      username: banten
      announce_by: utama
"""


def skip_or_fail(reason: str) -> None:
    """Skip with a printed reason on a newcomer's machine; under CI=true, fail instead."""
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}")
    print(f"\nSKIP: {reason}")
    pytest.skip(reason)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, port: int) -> Settings:
    text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "siarkan.db")
    return parse_settings(text, "tests/conftest.py", env={})


@pytest.fixture
def make_article() -> Callable[..., Article]:
    return make_report


# --- databases ---------------------------------------------------------------------------------

_pg_state: dict[str, Any] = {}


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


async def _pg_execute(sql: str) -> None:
    import asyncpg  # local: only PostgreSQL tests need it

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _ensure_pg_template() -> None:
    if _pg_state.get("ready"):
        return
    if "error" in _pg_state:
        raise RuntimeError(_pg_state["error"])
    try:
        await _pg_execute(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
        await _pg_execute(f'CREATE DATABASE "{PG_TEMPLATE}"')
        engine = create_engine(_pg_url(PG_TEMPLATE))
        await upgrade(engine)
        await engine.dispose()
    except Exception as exc:  # unreachable server, auth... -> reason for the skip
        _pg_state["error"] = f"PostgreSQL at {PG_ADMIN_URL} unavailable: {exc}"
        raise RuntimeError(_pg_state["error"]) from exc
    _pg_state["ready"] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _pg_state.get("ready"):
        # Best effort: a leftover template is dropped by the next run anyway.
        with contextlib.suppress(Exception):
            asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)'))


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    try:
        await _ensure_pg_template()
    except RuntimeError as exc:
        skip_or_fail(str(exc))
    name = f"siarkan_t_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{PG_TEMPLATE}"')
    try:
        yield _pg_url(name)
    finally:
        await _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(db_url))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def db_settings(settings: Settings, db_url: str) -> Settings:
    return settings.model_copy(update={"database": DatabaseSettings(url=db_url)})


@pytest.fixture
def in_ci() -> Iterator[bool]:
    yield IN_CI
