"""Fixtures for the delivery engine: a signing actor, activities, inboxes, a worker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert, select

from siarkan import urls
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.distribution.outbox import InboxTarget, enqueue_activity
from siarkan.distribution.worker import Worker
from siarkan.federation.keys import KeyPair, generate_key_pair
from siarkan.store.db import Database
from siarkan.store.tables import activities, actors, deliveries, followers
from tests.distribution.servers import Inbox, Subscriber

_KEYS: dict[str, KeyPair] = {}


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    if "k" not in _KEYS:
        _KEYS["k"] = generate_key_pair()
    return _KEYS["k"]


def tune(settings: Settings, **delivery: Any) -> Settings:
    """Settings with delivery options changed (fast polls for tests by default)."""
    values = {"poll_interval": 0.05, "lease_seconds": 30, "concurrency": 16, **delivery}
    return settings.model_copy(update={"delivery": settings.delivery.model_copy(update=values)})


@pytest.fixture
def dsettings(settings: Settings) -> Settings:
    return tune(settings)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def inbox(key_pair: KeyPair) -> AsyncIterator[Inbox]:
    server = Inbox(key_pair.public_pem)
    async with server.running():
        yield server


async def seed_actor(
    db: Database, settings: Settings, key: KeyPair, name: str = "utama", now: datetime | None = None
) -> None:
    now = now or datetime.now(UTC)
    async with db.begin() as conn:
        if await conn.scalar(select(actors.c.name).where(actors.c.name == name)):
            return
        await conn.execute(
            insert(actors).values(
                name=name,
                username=name,
                key_id=urls.actor_key_id(settings, name),
                private_key_pem=key.private_pem,
                public_key_pem=key.public_pem,
                key_created_at=now,
                created_at=now,
            )
        )


async def add_activity(
    db: Database,
    settings: Settings,
    actor: str = "utama",
    token: str = "a1",
    now: datetime | None = None,
) -> int:
    now = now or datetime.now(UTC)
    uri = urls.activity_uri(settings, token)
    body = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": uri,
        "type": "Create",
        "actor": urls.actor_url(settings, actor),
        "object": {"id": uri + "/note", "type": "Note", "content": "Banjir rendam Serang"},
    }
    async with db.begin() as conn:
        result = await conn.execute(
            insert(activities)
            .values(
                uri=uri,
                actor_name=actor,
                type="Create",
                object_uri=uri + "/note",
                body=json.dumps(body),
                public=True,
                created_at=now,
            )
            .returning(activities.c.id)
        )
        return int(result.scalar_one())


async def queue_activity(
    db: Database,
    activity_id: int,
    targets: Sequence[str | InboxTarget],
    now: datetime,
    actor: str = "utama",
    after: dict[str, int] | None = None,
) -> dict[str, int]:
    items = [t if isinstance(t, InboxTarget) else InboxTarget(t) for t in targets]
    async with db.begin() as conn:
        return await enqueue_activity(
            conn, activity_id=activity_id, actor_name=actor, targets=items, now=now, after=after
        )


async def queue_one(
    db: Database, settings: Settings, key: KeyPair, now: datetime, url: str
) -> None:
    """The utama actor, one activity, one delivery of it to `url`."""
    await seed_actor(db, settings, key, now=now)
    activity = await add_activity(db, settings, now=now)
    await queue_activity(db, activity, [url], now)


async def add_follower(
    db: Database, actor: str, uri: str, inbox: str, shared: str | None, now: datetime
) -> None:
    from urllib.parse import urlsplit

    async with db.begin() as conn:
        await conn.execute(
            insert(followers).values(
                actor_name=actor,
                follower_uri=uri,
                inbox=inbox,
                shared_inbox=shared,
                host=urlsplit(uri).netloc.lower(),
                state="accepted",
                created_at=now,
                updated_at=now,
            )
        )


async def rows(db: Database) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        result = await conn.execute(select(deliveries).order_by(deliveries.c.id))
        return [dict(r) for r in result.mappings()]


@pytest.fixture
def make_worker(
    db: Database, clock: ManualClock, http: aiohttp.ClientSession
) -> Callable[..., Worker]:
    def build(settings: Settings, **kwargs: Any) -> Worker:
        return Worker(db, settings, clock, http, **kwargs)

    return build


# The WebSub hub tests (test_websub_hub.py, test_websub_guard.py).
@pytest.fixture
def hub_settings(db_settings: Settings) -> Settings:
    return tune(db_settings, poll_interval=0.05)


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    sub = Subscriber()
    async with sub.running():
        yield sub
