"""The WebSub hub over real loopback HTTP: the websub.rocks hub cases and the failure paths.

siarkan runs with the web and worker roles on its port; a loopback subscriber echoes (or not)
challenges and records content distributions.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from siarkan.articles.importer import store_article
from siarkan.articles.model import Article
from siarkan.clock import SystemClock
from siarkan.config import Settings
from siarkan.store.db import Database
from siarkan.store.tables import deliveries, websub_subscriptions
from siarkan.urls import feed_url, websub_hub_url
from siarkan.web.app import create_app
from tests.distribution.conftest import tune
from tests.distribution.servers import Reply, Subscriber, link_headers
from tests.helpers import free_port, serve_app

pytestmark = pytest.mark.slow


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_hub(settings: Settings, db: Database, port: int) -> AsyncIterator[str]:
    app = create_app(settings, db=db, roles=("web", "worker"))
    async with serve_app(app, port) as base:
        yield base


async def post_hub(settings: Settings, **form: str) -> tuple[int, str]:
    """POST to siarkan's own /websub (even when feeds advertise an external hub)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            settings.site.base_url + "/websub",
            data={k.replace("_", ".", 1): v for k, v in form.items()},
        ) as response,
    ):
        return response.status, await response.text()


async def subscription(db: Database, topic: str, callback: str) -> dict[str, Any] | None:
    async with db.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(websub_subscriptions).where(
                        websub_subscriptions.c.topic == topic,
                        websub_subscriptions.c.callback == callback,
                    )
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


async def publish(db: Database, settings: Settings, article: Article) -> None:
    async with db.connect() as conn:
        await store_article(conn, settings, article, now=SystemClock().now())


async def skipped(db: Database, reason: str) -> bool:
    async with db.connect() as conn:
        found = await conn.scalar(
            select(deliveries.c.id).where(
                deliveries.c.state == "skipped", deliveries.c.last_error == reason
            )
        )
    return found is not None


async def active(db: Database, topic: str, callback: str) -> bool:
    row = await subscription(db, topic, callback)
    return row is not None and row["state"] == "active"


async def subscribe(
    settings: Settings, db: Database, topic: str, callback: str, **extra: str
) -> None:
    """A subscribe request the hub accepts (202), then its intent verified (active)."""
    status, _ = await post_hub(
        settings, hub_mode="subscribe", hub_topic=topic, hub_callback=callback, **extra
    )
    assert status == 202
    await eventually(lambda: active(db, topic, callback))


async def test_typical_subscribe_then_content_distribution(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, subscriber.url())
        [check] = subscriber.verifications
        assert check["hub.mode"] == "subscribe" and check["hub.topic"] == topic
        assert check["hub.lease_seconds"] == str(hub_settings.websub.default_lease_seconds)
        assert len(check["hub.challenge"]) >= 16

        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
        note = subscriber.notifications[0]
        assert note.headers["Content-Type"].startswith("application/atom+xml")
        links = link_headers(note.headers)
        assert links == {"hub": websub_hub_url(hub_settings), "self": topic}
        assert b"Banjir Rendam 1.250 Rumah" in note.body
        assert "X-Hub-Signature" not in note.headers
        # websub.rocks fetches the topic and compares: the same Content-Type string exactly,
        # and the topic itself advertises the same hub and self (its discovery step).
        async with aiohttp.ClientSession() as http, http.get(topic) as got:
            assert got.headers["Content-Type"] == note.headers["Content-Type"]
            assert link_headers(got.headers) == links
        row = await subscription(db, topic, subscriber.url())
        assert row is not None and row["expires_at"] is not None


async def test_subscribe_with_secret_signs_distributions(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "rss")
    secret = "rahasia-yang-panjang-sekali"
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, subscriber.url(), hub_secret=secret)
        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
        note = subscriber.notifications[0]
        expected = hmac.new(secret.encode(), note.body, hashlib.sha256).hexdigest()
        assert note.headers["X-Hub-Signature"] == f"sha256={expected}"
        assert note.headers["Content-Type"].startswith("application/rss+xml")


async def test_extra_parameters_are_ignored_and_json_topic_works(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "json")
    async with running_hub(hub_settings, db, port):
        status, _ = await post_hub(
            hub_settings,
            hub_mode="subscribe",
            hub_topic=topic,
            hub_callback=subscriber.url(),
            hub_foo="bar",
            utm_source="x",
        )
        assert status == 202
        await eventually(lambda: active(db, topic, subscriber.url()))
        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
        assert (
            subscriber.notifications[0].headers["Content-Type"].startswith("application/feed+json")
        )
        assert b'"version"' in subscriber.notifications[0].body


async def test_callback_query_is_kept_for_verification_and_content(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    """§5.3: the hub appends its hub.* parameters to the callback's own query string."""
    topic = feed_url(hub_settings, "utama", "atom")
    callback = subscriber.url("/callback/7?sub=42&token=a%20b")
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, callback)
        [check] = subscriber.verifications
        assert check["sub"] == "42" and check["token"] == "a b"
        assert check["hub.topic"] == topic and check["hub.mode"] == "subscribe"
        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
    assert subscriber.notifications[0].path == "/callback/7"
    assert subscriber.notify_queries == ["sub=42&token=a%20b"]


async def test_verify_token_is_echoed_for_pubsubhubbub_03_subscribers(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
) -> None:
    """NewsBlur subscribes with hub.verify_token and 404s a verification that lacks it."""
    topic = feed_url(hub_settings, "utama", "rss")
    token = "subscribe" + "0" * 40
    subscriber.verify_token = token
    async with running_hub(hub_settings, db, port):
        await subscribe(
            hub_settings, db, topic, subscriber.url(), hub_verify_token=token, hub_verify="async"
        )
        [check] = subscriber.verifications
        assert check["hub.verify_token"] == token and check["hub.topic"] == topic
        row = await subscription(db, topic, subscriber.url())
        assert row is not None and row["pending_verify_token"] is None

        # A later request without a token is verified without one (not with the old one).
        subscriber.verify_token = None
        status, _ = await post_hub(
            hub_settings, hub_mode="unsubscribe", hub_topic=topic, hub_callback=subscriber.url()
        )
        assert status == 202

        async def unsubscribed() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["state"] == "unsubscribed"

        await eventually(unsubscribed)
        assert "hub.verify_token" not in subscriber.verifications[-1]


async def test_publisher_ping_distributes_current_content(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    """`hub.mode=publish` + `hub.url` (how websub.rocks and most publishers tell a hub)."""
    topic = feed_url(hub_settings, "utama", "rss")
    await publish(db, hub_settings, make_article())
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, subscriber.url())
        assert not subscriber.notifications
        status, text = await post_hub(hub_settings, hub_mode="publish", hub_url=topic)
        assert (status, text) == (202, "accepted; 1 subscribers to notify")
        await eventually(lambda: len(subscriber.notifications) == 1)
        note = subscriber.notifications[0]
        assert b"Banjir Rendam 1.250 Rumah" in note.body
        assert link_headers(note.headers) == {"hub": websub_hub_url(hub_settings), "self": topic}

        # A ping for a document that has not changed: the subscriber has these bytes already.
        async def delivered() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["sent_digest"] == hashlib.sha256(note.body).hexdigest()

        await eventually(delivered)
        status, _ = await post_hub(hub_settings, hub_mode="publish", hub_topic=topic)
        assert status == 202
        await eventually(lambda: skipped(db, "the subscriber has this content already"))
        assert len(subscriber.notifications) == 1
        await publish(db, hub_settings, make_article(id="kedua", slug="kedua", title="Kedua"))
        status, _ = await post_hub(hub_settings, hub_mode="publish", hub_topic=topic)
        await eventually(lambda: len(subscriber.notifications) == 2)
        assert b"Kedua" in subscriber.notifications[1].body
        status, text = await post_hub(
            hub_settings, hub_mode="publish", hub_url="https://elsewhere.example.org/feed.xml"
        )
        assert status == 400 and "unknown topic" in text
        status, text = await post_hub(hub_settings, hub_mode="publish")
        assert status == 400 and "hub.url" in text


async def test_resubscribe_replaces_lease_and_secret(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):
        await post_hub(
            hub_settings,
            hub_mode="subscribe",
            hub_topic=topic,
            hub_callback=subscriber.url(),
            hub_secret="pertama",
            hub_lease_seconds="7200",
        )
        await eventually(lambda: active(db, topic, subscriber.url()))
        await post_hub(
            hub_settings,
            hub_mode="subscribe",
            hub_topic=topic,
            hub_callback=subscriber.url(),
            hub_secret="kedua",
            hub_lease_seconds="86400",
        )

        async def replaced() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["secret"] == "kedua"

        await eventually(replaced)
        row = await subscription(db, topic, subscriber.url())
        assert row is not None and row["lease_seconds"] == 86400 and row["pending_mode"] is None
        assert [v["hub.lease_seconds"] for v in subscriber.verifications] == ["7200", "86400"]
        async with db.connect() as conn:
            count = len((await conn.execute(select(websub_subscriptions.c.id))).all())
        assert count == 1
        await publish(db, hub_settings, make_article())
        await eventually(lambda: len(subscriber.notifications) == 1)
        note = subscriber.notifications[0]
        expected = hmac.new(b"kedua", note.body, hashlib.sha256).hexdigest()
        assert note.headers["X-Hub-Signature"] == f"sha256={expected}"


async def test_unsubscribe_is_verified_and_stops_distribution(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):
        await subscribe(hub_settings, db, topic, subscriber.url())
        status, _ = await post_hub(
            hub_settings, hub_mode="unsubscribe", hub_topic=topic, hub_callback=subscriber.url()
        )
        assert status == 202

        async def gone() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["state"] == "unsubscribed"

        await eventually(gone)
        assert subscriber.verifications[-1]["hub.mode"] == "unsubscribe"
        assert "hub.lease_seconds" not in subscriber.verifications[-1]
        await publish(db, hub_settings, make_article())
        await asyncio.sleep(0.5)
        assert subscriber.notifications == []


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"hub.mode": "subscribe", "hub.callback": "CALLBACK"}, "hub.topic"),
        ({"hub.mode": "subscribe", "hub.topic": "TOPIC", "hub.callback": "ftp://x/y"}, "callback"),
        (
            {
                "hub.mode": "subscribe",
                "hub.topic": "http://other.example/feed",
                "hub.callback": "CALLBACK",
            },
            "unknown topic",
        ),
        ({"hub.mode": "renew", "hub.topic": "TOPIC", "hub.callback": "CALLBACK"}, "hub.mode"),
        ({"hub.mode": "publish", "hub.url": "https://elsewhere.example.org/f"}, "unknown topic"),
        ({"hub.topic": "TOPIC", "hub.callback": "CALLBACK"}, "hub.mode"),
        (
            {
                "hub.mode": "subscribe",
                "hub.topic": "TOPIC",
                "hub.callback": "CALLBACK",
                "hub.secret": "x" * 200,
            },
            "200 bytes",
        ),
        (
            {
                "hub.mode": "subscribe",
                "hub.topic": "TOPIC",
                "hub.callback": "CALLBACK",
                "hub.lease_seconds": "-5",
            },
            "lease",
        ),
        (
            {
                "hub.mode": "subscribe",
                "hub.topic": "TOPIC",
                "hub.callback": "CALLBACK",
                "hub.verify_token": "t" * 256,
            },
            "hub.verify_token",
        ),
        (
            {"hub.mode": "subscribe", "hub.topic": "TOPIC?page=2", "hub.callback": "CALLBACK"},
            "subscribe to the feed's rel=self URL TOPIC",
        ),
        (
            {"hub.mode": "subscribe", "hub.topic": "TOPIC/", "hub.callback": "CALLBACK"},
            "subscribe to the feed's rel=self URL TOPIC",
        ),
        (
            {"hub.mode": "publish", "hub.url": "TOPIC#baru"},
            "subscribe to the feed's rel=self URL TOPIC",
        ),
    ],
)
async def test_bad_requests_get_400_with_a_reason(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    form: dict[str, str],
    reason: str,
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    values = {
        k: v.replace("TOPIC", topic).replace("CALLBACK", subscriber.url()) for k, v in form.items()
    }
    async with (
        running_hub(hub_settings, db, port),
        aiohttp.ClientSession() as session,
        session.post(websub_hub_url(hub_settings), data=values) as response,
    ):
        assert response.status == 400
        assert reason.replace("TOPIC", topic) in await response.text()
    assert subscriber.verifications == []


async def test_failed_verification_keeps_the_existing_subscription(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    other = Subscriber()
    async with running_hub(hub_settings, db, port), other.running():
        other.echo = False  # someone else's callback that never asked for this
        await post_hub(
            hub_settings, hub_mode="subscribe", hub_topic=topic, hub_callback=other.url()
        )

        async def refused() -> bool:
            row = await subscription(db, topic, other.url())
            return row is not None and row["state"] == "refused"

        await eventually(refused)
        await post_hub(
            hub_settings,
            hub_mode="subscribe",
            hub_topic=topic,
            hub_callback=subscriber.url(),
            hub_secret="lama",
        )
        await eventually(lambda: active(db, topic, subscriber.url()))
        subscriber.verify_status = 404  # a forged unsubscribe: the subscriber denies it
        await post_hub(
            hub_settings, hub_mode="unsubscribe", hub_topic=topic, hub_callback=subscriber.url()
        )

        async def settled() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return (
                row is not None
                and row["pending_mode"] is None
                and len(subscriber.verifications) == 2
            )

        await eventually(settled)
        row = await subscription(db, topic, subscriber.url())
        assert row is not None and row["state"] == "active" and row["secret"] == "lama"


async def test_lease_is_bounded_and_410_ends_the_subscription(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):
        await post_hub(
            hub_settings,
            hub_mode="subscribe",
            hub_topic=topic,
            hub_callback=subscriber.url(),
            hub_lease_seconds="5",
        )
        await eventually(lambda: active(db, topic, subscriber.url()))
        row = await subscription(db, topic, subscriber.url())
        assert row is not None and row["lease_seconds"] == hub_settings.websub.min_lease_seconds
        subscriber.notify_script = [Reply(410)]
        await publish(db, hub_settings, make_article())

        async def ended() -> bool:
            row = await subscription(db, topic, subscriber.url())
            return row is not None and row["state"] == "gone"

        await eventually(ended)
        await publish(db, hub_settings, make_article(title="Banjir Surut, Warga Kembali ke Rumah"))
        await asyncio.sleep(0.3)
        assert len(subscriber.notifications) == 1


async def test_notifications_coalesce_while_waiting(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    """Changes while a notification waits add nothing; the one sent carries the newest feed."""
    topic = feed_url(hub_settings, "utama", "atom")
    async with running_hub(hub_settings, db, port):
        await post_hub(
            hub_settings, hub_mode="subscribe", hub_topic=topic, hub_callback=subscriber.url()
        )
        await eventually(lambda: active(db, topic, subscriber.url()))
    # The worker is stopped: three changes queue one notification.
    first = make_article()
    await publish(db, hub_settings, first)
    await publish(db, hub_settings, replace(first, title="Banjir Serang: 2.000 Rumah Terendam"))
    await publish(db, hub_settings, make_article(id="b2", slug="kedua", title="Jalan Tol Ditutup"))
    async with db.connect() as conn:
        waiting = (
            await conn.execute(select(deliveries.c.id).where(deliveries.c.kind == "websub"))
        ).all()
    assert len(waiting) == 1
    async with running_hub(hub_settings, db, port):
        await eventually(lambda: len(subscriber.notifications) == 1)
        await asyncio.sleep(0.3)
    body = subscriber.notifications[0].body
    assert b"2.000 Rumah Terendam" in body and b"Jalan Tol Ditutup" in body
    assert len(subscriber.notifications) == 1


async def test_verification_survives_a_restart(
    hub_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
) -> None:
    topic = feed_url(hub_settings, "utama", "atom")
    web_only = create_app(hub_settings, db=db, roles=("web",))  # no worker: nothing verified
    async with serve_app(web_only, port):
        status, _ = await post_hub(
            hub_settings, hub_mode="subscribe", hub_topic=topic, hub_callback=subscriber.url()
        )
        assert status == 202
        await asyncio.sleep(0.3)
    assert subscriber.verifications == []
    row = await subscription(db, topic, subscriber.url())
    assert row is not None and row["pending_mode"] == "subscribe" and row["state"] == "requested"
    async with running_hub(hub_settings, db, port):
        await eventually(lambda: active(db, topic, subscriber.url()))


async def test_external_hub_gets_publish_pings(
    db_settings: Settings,
    db: Database,
    port: int,
    subscriber: Subscriber,
    make_article: Callable[..., Article],
) -> None:
    external = subscriber.url("/hub")
    settings = tune(
        db_settings.model_copy(
            update={"websub": db_settings.websub.model_copy(update={"external_hub": external})}
        )
    )
    async with running_hub(settings, db, port):
        status, _ = await post_hub(
            settings,
            hub_mode="subscribe",
            hub_topic=feed_url(settings, "utama", "atom"),
            hub_callback=subscriber.url(),
        )
        assert status == 404  # this site's hub is elsewhere
        await publish(db, settings, make_article())
        channels = [c.name for c in settings.channels]  # the article is in both channels
        expected = {feed_url(settings, c, fmt) for c in channels for fmt in ("rss", "atom", "json")}
        await eventually(lambda: len(subscriber.notifications) == len(expected))
    pinged = set()
    for note in subscriber.notifications:
        form = dict(parse_qsl(note.body.decode()))
        assert form["hub.mode"] == "publish"
        pinged.add(form["hub.url"])
    assert pinged == expected


async def test_external_hub_fetching_at_once_after_a_ping_sees_the_change(
    db_settings: Settings,
    db: Database,
    port: int,
    make_article: Callable[..., Article],
) -> None:
    """A hub fetches the topic as soon as it is pinged (Google's reference hub queues the
    fetch at once; Superfeedr's publish API likewise): the feed it gets must already hold the
    change, though the serving process checks the database for changes only every second."""
    fetched: list[bytes] = []
    session = aiohttp.ClientSession()

    async def hub_endpoint(request: web.Request) -> web.Response:
        form = await request.post()
        async with session.get(str(form["hub.url"])) as got:
            fetched.append(await got.read())
        return web.Response(status=204)

    hub_app = web.Application()
    hub_app.router.add_post("/hub", hub_endpoint)
    hub_port = free_port()
    settings = tune(
        db_settings.model_copy(
            update={
                "websub": db_settings.websub.model_copy(
                    update={"external_hub": f"http://127.0.0.1:{hub_port}/hub"}
                )
            }
        )
    )
    topic = feed_url(settings, "utama", "atom")
    try:
        async with serve_app(hub_app, hub_port), running_hub(settings, db, port):
            # A feed reader's poll just now: the serving process has checked for changes.
            async with session.get(topic) as got:
                assert b"Banjir Rendam" not in await got.read()
            await publish(db, settings, make_article())
            await eventually(lambda: len(fetched) >= 3 * len(settings.channels))
    finally:
        await session.close()
    assert all(b"Banjir Rendam 1.250 Rumah" in body for body in fetched)
