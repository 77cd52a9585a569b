"""An Update or Delete never overtakes the Create of its post at an inbox (real worker, real
loopback inbox): receivers drop an Update or Delete of a post they do not know, and the late
Create would then show the old text or a retracted story."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import insert

from siarkan.articles.model import Article
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.distribution.worker import Worker
from siarkan.federation import publish
from siarkan.federation.keys import ensure_actors
from siarkan.store.articles import retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.tables import followers
from tests.distribution.conftest import rows
from tests.distribution.servers import Inbox, Reply

PATH = "/users/x/inbox"


async def _publish_while_inbox_fails(
    db: Database, settings: Settings, clock: ManualClock, inbox: Inbox, article: Article
) -> None:
    assert article.published_at is not None
    clock.set(article.published_at + timedelta(minutes=1))
    now = clock.now()
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
        await conn.execute(
            insert(followers).values(
                actor_name="banten", follower_uri=inbox.url("/users/x"), inbox=inbox.url(PATH),
                shared_inbox=None, host=inbox.host, state="accepted", created_at=now,
                updated_at=now,
            )
        )  # fmt: skip
        stored = await upsert_article(conn, article, now=now)
        await publish.on_article_change(
            conn, settings, stored.article, previous=stored.previous, now=now
        )
    inbox.script[PATH] = [Reply(503)]  # the Create's first try fails: it is retried later


def _types(inbox: Inbox) -> list[str]:
    return [json.loads(r.body)["type"] for r in inbox.hits(PATH)]


async def test_a_delete_waits_for_the_create_it_retracts(
    db: Database,
    dsettings: Settings,
    clock: ManualClock,
    make_worker: Callable[..., Worker],
    make_article: Callable[..., Article],
) -> None:
    inbox = Inbox()  # no signature check: ensure_actors makes its own keys
    article = make_article()
    async with inbox.running():
        await _publish_while_inbox_fails(db, dsettings, clock, inbox, article)
        worker = make_worker(dsettings)
        await worker.drain()
        assert _types(inbox) == ["Create"]  # 503: retried in ~16 s
        clock.advance(timedelta(seconds=5))
        async with db.begin() as conn:
            retracted = await retract_article(conn, article.id, now=clock.now())
            assert retracted is not None
            await publish.on_article_change(
                conn, dsettings, retracted, previous=article, now=clock.now()
            )
        await worker.drain()
        assert _types(inbox) == ["Create"]  # the Delete waits for the Create
        clock.advance(timedelta(minutes=2))
        await worker.drain()
        await worker.drain()
    assert _types(inbox) == ["Create", "Create", "Delete"]
    assert {r["state"] for r in await rows(db)} == {"sent"}


async def test_an_update_waits_for_the_create_it_corrects(
    db: Database,
    dsettings: Settings,
    clock: ManualClock,
    make_worker: Callable[..., Worker],
    make_article: Callable[..., Article],
) -> None:
    inbox = Inbox()
    article = make_article()
    async with inbox.running():
        await _publish_while_inbox_fails(db, dsettings, clock, inbox, article)
        worker = make_worker(dsettings)
        await worker.drain()
        clock.advance(timedelta(seconds=5))
        fixed = (article.paragraphs[0] + " Koreksi.", *article.paragraphs[1:])
        async with db.begin() as conn:
            stored = await upsert_article(conn, replace(article, paragraphs=fixed), now=clock.now())
            await publish.on_article_change(
                conn, dsettings, stored.article, previous=stored.previous, now=clock.now()
            )
        await worker.drain()
        clock.advance(timedelta(minutes=2))
        await worker.drain()
        await worker.drain()
    assert _types(inbox) == ["Create", "Create", "Update"]
