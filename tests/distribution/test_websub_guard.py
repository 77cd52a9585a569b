"""WebSub hub safety and discovery.

A hub.callback is anyone's URL: the hub must not become a way to reach private addresses.

With `federation.allow_private_addresses: false` (production) neither the verification GET nor
a content distribution POST may reach a loopback callback; the test settings allow loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from lxml import etree
from sqlalchemy import select

from siarkan.articles.model import Article
from siarkan.config import Settings
from siarkan.store.db import Database
from siarkan.store.tables import deliveries
from siarkan.urls import feed_url, websub_hub_url
from tests.distribution.servers import Subscriber, link_headers
from tests.distribution.test_websub_hub import (
    eventually,
    post_hub,
    publish,
    running_hub,
    subscribe,
    subscription,
)

pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"


def production(settings: Settings) -> Settings:
    federation = settings.federation.model_copy(update={"allow_private_addresses": False})
    return settings.model_copy(update={"federation": federation})


async def last_error(db: Database, kind: str) -> str | None:
    async with db.connect() as conn:
        return await conn.scalar(
            select(deliveries.c.last_error)
            .where(deliveries.c.kind == kind, deliveries.c.state == "dead")
            .order_by(deliveries.c.id.desc())
            .limit(1)
        )


async def test_verification_never_reaches_a_loopback_callback(
    hub_settings: Settings, db: Database, port: int, subscriber: Subscriber
) -> None:
    settings = production(hub_settings)
    topic = feed_url(settings, "utama", "atom")
    async with running_hub(settings, db, port):
        status, _ = await post_hub(
            settings, hub_mode="subscribe", hub_topic=topic, hub_callback=subscriber.url()
        )
        assert status == 202

        async def refused() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["state"] == "refused"

        await eventually(refused)
    assert subscriber.verifications == []
    assert "non-public address" in (await last_error(db, "websub_verify") or "")


async def test_distribution_never_reaches_a_loopback_callback(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):  # loopback allowed: the subscription exists
        await subscribe(hub_settings, db, topic, subscriber.url())
    settings = production(hub_settings)
    async with running_hub(settings, db, port):
        await publish(db, settings, make_article())
        await eventually(lambda: last_error(db, "websub"))
        await asyncio.sleep(0.2)
    assert subscriber.notifications == []
    assert "non-public address" in (await last_error(db, "websub") or "")


async def test_callback_query_reaches_the_subscriber_byte_for_byte(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    callback = subscriber.url("/cb?token=a%2Fb%3Fc&x=1")
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, callback)
        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
    assert subscriber.notify_queries == ["token=a%2Fb%3Fc&x=1"]


async def test_only_subscribable_documents_advertise_the_hub(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    """A subscriber discovering hub + self on an archive page would get 400 from the hub."""
    channel = hub_settings.channels[0]
    small = channel.model_copy(update={"feeds": channel.feeds.model_copy(update={"items": 1})})
    settings = hub_settings.model_copy(update={"channels": (small, *hub_settings.channels[1:])})
    for n in range(2):
        await publish(db, settings, make_article(id=f"arsip{n}", slug=f"arsip-{n}"))
    topic = feed_url(settings, "utama", "atom")
    async with running_hub(settings, db, port), aiohttp.ClientSession() as http:
        async with http.get(topic) as got:
            assert link_headers(got.headers)["hub"] == websub_hub_url(settings)
            body = await got.read()
        prev = etree.fromstring(body).find(f"{ATOM}link[@rel='prev-archive']")
        assert prev is not None
        archive = prev.get("href", "")
        async with http.get(archive) as got:
            assert got.status == 200
            links = link_headers(got.headers)
            document = etree.fromstring(await got.read())
        status, _ = await post_hub(
            settings, hub_mode="subscribe", hub_topic=archive, hub_callback=subscriber.url()
        )
    assert status == 400  # the hub serves the subscription documents only
    assert "hub" not in links and links["self"] == archive
    assert document.find(f"{ATOM}link[@rel='hub']") is None
