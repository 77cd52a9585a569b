"""siarkan against Fedify, an independent ActivityPub implementation (tests/interop/peer.mjs).

Fedify finds our accounts over WebFinger, parses our actors and outboxes with its own
vocabulary, follows with signed requests (RFC 9421 first, double-knocking to draft-cavage) and
verifies everything we send. Our deliveries go out through tests/federation/sender.py (a
minimal test sender signing with siarkan.federation.signatures), so what Fedify verifies is
exactly what our rows and signers produce.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from peer import CAVAGE, RFC9421, Peer
from sqlalchemy import select
from tests.conftest import TEST_CONFIG
from tests.federation.sender import deliver_pending
from tests.helpers import serve_app

from siarkan.articles.importer import store_article
from siarkan.articles.model import Article
from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.config import DatabaseSettings, Settings, parse_settings
from siarkan.federation import publish
from siarkan.federation.collections import Reactions, reactions
from siarkan.publishing import article_changed
from siarkan.store.articles import get_article, retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import actors, deliveries, followers, hosts, interactions, posts
from siarkan.web.app import create_app

pytestmark = pytest.mark.interop


@dataclass
class Siarkan:
    base: str
    settings: Settings
    db: Database
    http: aiohttp.ClientSession

    def actor(self, name: str) -> str:
        return f"{self.base}/ap/actors/{name}"

    async def deliver(self, scheme: str = "cavage") -> list[tuple[str, str, int]]:
        return await deliver_pending(self.db, self.http, scheme=scheme)

    async def publish(self, article: Article) -> None:
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            result = await upsert_article(conn, article, now=now)
            await publish.on_article_change(
                conn, self.settings, result.article, previous=None, now=now
            )

    async def store(self, article: Article) -> None:
        """As the admin API and imports store a report (an edit when it exists)."""
        async with self.db.connect() as conn:
            await store_article(conn, self.settings, article, now=datetime.now(UTC))

    async def retract(self, key: str) -> None:
        """As DELETE /api/articles/{key} does (web/admin.py _retract)."""
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            previous = await get_article(conn, key)
            retracted = await retract_article(conn, key, now=now)
            assert previous is not None and retracted is not None
            await article_changed(conn, self.settings, retracted, previous=previous, now=now)

    async def pending(self) -> int:
        async with self.db.connect() as conn:
            pending = select(deliveries.c.id).where(deliveries.c.state == "pending")
            return len((await conn.execute(pending)).all())

    async def reactions(self, channel: str, article_id: str) -> Reactions:
        async with self.db.connect() as conn:
            return (await reactions(conn, channel, [article_id])).get(article_id, Reactions())


@asynccontextmanager
async def running_siarkan(settings: Settings, sqlite_url: str, port: int) -> AsyncIterator[Siarkan]:
    db = Database(create_engine(sqlite_url))
    app = create_app(settings, db=db, roles=("web",))
    try:
        async with serve_app(app, port) as base, aiohttp.ClientSession() as http:
            yield Siarkan(base, settings, db, http)
    finally:
        await db.close()


@pytest.fixture
async def siarkan(settings: Settings, sqlite_url: str, port: int) -> AsyncIterator[Siarkan]:
    async with running_siarkan(settings, sqlite_url, port) as live:
        yield live


SITE_AND_SECTION = """  - name: situs
    title: Situs
    match: {sections: [Nasional]}
    fediverse: {enabled: true, username: situs}
  - name: serang
    title: Serang
    match: {sections: [Banten]}
    fediverse: {enabled: true, username: serang, announce_by: situs}
"""


async def test_the_site_account_boost_reaches_fedify(
    fedify_peer: Peer, sqlite_url: str, port: int, tmp_path: Path,
    make_article: Callable[..., Article],
) -> None:  # fmt: skip
    text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "x.db") + SITE_AND_SECTION
    settings = parse_settings(text, "interop", env={})
    async with running_siarkan(settings, sqlite_url, port) as siarkan:
        await follow_and_get_accepted(fedify_peer, siarkan, siarkan.actor("situs"))
        await siarkan.publish(fresh(make_article))
        assert [t for t, _, _ in await siarkan.deliver()] == ["Announce"]
        announce = await fedify_peer.aio.wait_for("Announce")
    assert announce["verified"] is True and announce["actor"] == siarkan.actor("situs")
    assert announce["object"]["id"].startswith(f"{siarkan.base}/ap/posts/")


def fresh(make_article: Callable[..., Article], **overrides: Any) -> Article:
    """A report published a minute ago (older ones are not pushed to timelines)."""
    now = datetime.now(UTC)
    return make_article(published_at=now - timedelta(minutes=1), updated_at=now, **overrides)


async def follow_and_get_accepted(peer: Peer, siarkan: Siarkan, actor: str) -> dict[str, Any]:
    sent = await peer.aio.follow(actor)
    assert sent["ok"], sent
    async with siarkan.db.connect() as conn:
        row = (await conn.execute(select(followers))).mappings().one()
    assert row["follower_uri"] == peer.actor_id and row["state"] == "accepted"
    assert await siarkan.deliver() == [("Accept", peer.inbox_url, 202)]
    accept = await peer.aio.wait_for("Accept")
    assert accept["verified"] is True
    assert accept["actor"] == actor
    assert accept["object"]["type"] == "Follow" and accept["object"]["id"] == sent["id"]
    return accept


async def test_fedify_finds_our_account_and_reads_actor_and_outbox(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article]
) -> None:
    await siarkan.publish(fresh(make_article))
    host = siarkan.base.removeprefix("http://")
    found = await fedify_peer.aio.lookup(f"@banten@{host}")
    assert found["isActor"] is True
    assert found["id"] == siarkan.actor("banten")
    assert found["type"] == "Organization"
    assert found["preferredUsername"] == "banten"
    assert found["inbox"] == siarkan.actor("banten") + "/inbox"
    assert found["sharedInbox"] == f"{siarkan.base}/ap/inbox"
    assert found["publicKey"] == {
        "id": siarkan.actor("banten") + "#main-key",
        "owner": siarkan.actor("banten"),
        "algorithm": "RSASSA-PKCS1-v1_5",
    }
    assert found["webfinger"]["subject"] == f"acct:banten@{host}"
    outbox = found["outboxPage"]
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    (create,) = outbox["items"]
    assert create["type"] == "Create" and create["actor"] == siarkan.actor("banten")
    note = create["object"]
    assert note["type"] == "Note"
    assert note["attributedTo"] == siarkan.actor("banten")
    assert "Banjir Rendam 1.250 Rumah" in note["content"]
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]


@pytest.mark.parametrize("first_knock", [RFC9421, CAVAGE])
@pytest.mark.parametrize("our_scheme", ["cavage", "rfc9421"])
async def test_follow_then_every_thread_part_in_order_then_undo(
    fedify_peer_factory: Callable[..., Peer],
    siarkan: Siarkan,
    make_article: Callable[..., Article],
    first_knock: str,
    our_scheme: str,
) -> None:
    peer = fedify_peer_factory(first_knock=first_knock)
    await follow_and_get_accepted(peer, siarkan, siarkan.actor("utama"))
    (request,) = [r for r in await peer.aio.requests() if r.get("status") == 202]
    assert "unverified" not in request or not request["unverified"]

    await siarkan.publish(fresh(make_article))
    sent = await siarkan.deliver(our_scheme)
    # utama's thread, every part, each delivered and accepted.
    types = [t for t, _, _ in sent]
    assert set(types) == {"Create"} and len(types) > 2
    assert all(status == 202 for _, _, status in sent), sent
    await peer.aio.wait_for("Create", lambda a: f"{len(types)}/{len(types)}" in str(a))
    received = [a for a in await peer.aio.inbox() if a["type"] == "Create"]
    assert len(received) == len(types)
    assert all(a["verified"] for a in received)
    notes = [a["object"] for a in received]
    assert notes[0]["inReplyTo"] is None
    assert [n["inReplyTo"] for n in notes[1:]] == [n["id"] for n in notes[:-1]]
    assert notes[0]["content"].startswith(f"<p>1/{len(notes)} ")
    for n, note in enumerate(notes, start=1):
        assert f"{n}/{len(notes)}" in note["content"]
        assert note["attributedTo"] == siarkan.actor("utama")
    scheme = "rfc9421" if our_scheme == "rfc9421" else "draft-cavage"
    assert {a["http"]["signature"]["scheme"] for a in received} == {scheme}

    assert (await peer.aio.undo_follow(siarkan.actor("utama")))["ok"]
    async with siarkan.db.connect() as conn:
        assert (await conn.execute(select(followers))).all() == []


async def test_a_reply_from_fedify_is_kept_for_moderation(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article]
) -> None:
    await siarkan.publish(fresh(make_article))
    host = siarkan.base.removeprefix("http://")
    found = await fedify_peer.aio.lookup(f"@banten@{host}")
    note_id = found["outboxPage"]["items"][0]["object"]["id"]
    sent = await fedify_peer.aio.create_note(
        "<p>Semoga cepat surut.</p>", to=[siarkan.actor("banten")], in_reply_to=note_id
    )
    assert sent["ok"], sent
    async with siarkan.db.connect() as conn:
        (reply,) = (await conn.execute(select(interactions))).mappings().all()
    assert reply["kind"] == "reply" and reply["object_uri"] == note_id
    assert reply["actor_uri"] == fedify_peer.actor_id
    assert "Semoga cepat surut." in reply["content"]


async def test_forged_stale_unsigned_and_replayed_requests_are_refused(
    fedify_peer: Peer, siarkan: Siarkan
) -> None:
    inbox = f"{siarkan.base}/ap/inbox"
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{fedify_peer.actor_id}#likes/1",
        "type": "Like",
        "actor": fedify_peer.actor_id,
        "object": f"{siarkan.base}/ap/posts/x",
    }
    for spec in (CAVAGE, RFC9421):
        # Signed by alice's key but claiming to be our own actor's key.
        forged = await fedify_peer.aio.send_raw(
            inbox, like, spec=spec, key_id=siarkan.actor("utama") + "#main-key"
        )
        assert forged["status"] == 401, forged
        stale = await fedify_peer.aio.send_raw(
            inbox, {**like, "id": like["id"] + spec}, spec=spec,
            date=(datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        )  # fmt: skip
        assert stale["status"] == 401, stale
    unsigned = await fedify_peer.aio.send_raw(inbox, like, sign=False)
    assert unsigned["status"] == 401

    # A valid request, captured and played back.
    good = await fedify_peer.aio.send_raw(inbox, like, spec=RFC9421)
    assert good["status"] == 202, good
    compact = json.dumps(like, separators=(",", ":")).encode()  # the bytes JSON.stringify sent
    async with siarkan.http.post(inbox, data=compact, headers=good["sentHeaders"]) as replay:
        assert (replay.status, await replay.text()) == (401, "replayed signature")
    async with siarkan.db.connect() as conn:
        assert len((await conn.execute(select(interactions))).all()) == 1


async def test_end_to_end_with_the_real_delivery_worker(
    fedify_peer: Peer, settings: Settings, sqlite_url: str, port: int,
    make_article: Callable[..., Article],
) -> None:  # fmt: skip
    """The same flow with siarkan's own worker (distribution/worker.py) doing the sending:
    its signing (federation.first_knock, then double-knock) must satisfy Fedify too."""
    db = Database(create_engine(sqlite_url))
    app = create_app(settings, db=db, roles=("web", "worker"))
    try:
        async with serve_app(app, port) as base, aiohttp.ClientSession() as http:
            live = Siarkan(base, settings, db, http)
            sent = await fedify_peer.aio.follow(live.actor("utama"))
            assert sent["ok"], sent
            accept = await fedify_peer.aio.wait_for("Accept", timeout=20)
            assert accept["verified"] is True and accept["object"]["id"] == sent["id"]
            await live.publish(fresh(make_article))
            last = await fedify_peer.aio.wait_for(
                "Create", lambda a: a["object"].get("inReplyTo") is not None and
                a["object"]["content"].startswith("<p>2/"), timeout=20,
            )  # fmt: skip
            assert last["verified"] is True
            assert last["object"]["attributedTo"] == live.actor("utama")
    finally:
        await db.close()


async def published_post(siarkan: Siarkan, channel: str) -> str:
    async with siarkan.db.connect() as conn:
        return str(await conn.scalar(select(posts.c.uri).where(posts.c.actor_name == channel)))


async def test_an_edit_sends_an_update_fedify_verifies_and_a_resave_sends_nothing(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article]
) -> None:
    await follow_and_get_accepted(fedify_peer, siarkan, siarkan.actor("banten"))
    article = fresh(make_article)
    await siarkan.store(article)
    assert [t for t, _, _ in await siarkan.deliver()] == ["Create"]
    create = await fedify_peer.aio.wait_for("Create")
    assert create["verified"] and create["object"]["updated"] is None

    title = article.title.replace("1.250", "1.300")
    await siarkan.store(make_article(**{**_fields(article), "title": title}))
    assert [t for t, _, _ in await siarkan.deliver()] == ["Update"]
    update = await fedify_peer.aio.wait_for("Update")
    assert update["verified"] is True and update["actor"] == siarkan.actor("banten")
    note = update["object"]  # parsed by Fedify's Note class
    assert note["type"] == "Note" and note["id"] == create["object"]["id"]
    assert "1.300 Rumah" in note["content"] and "1.250 Rumah" not in note["content"]
    assert note["published"] == create["object"]["published"]
    assert note["updated"] is not None and note["updated"] > note["published"]

    # Saved again unchanged (a CMS re-save, a poll of the same page), or with a change the
    # post does not show (the related links): nothing goes out (WordPress ActivityPub #2618).
    await siarkan.store(make_article(**{**_fields(article), "title": title}))
    await siarkan.store(make_article(**{**_fields(article), "title": title, "related": ()}))
    async with siarkan.db.connect() as conn:
        stored = await get_article(conn, article.id)
    assert stored is not None and stored.related == ()  # stored as an edit
    assert await siarkan.pending() == 0
    assert await siarkan.deliver() == []
    assert [a["type"] for a in await fedify_peer.aio.inbox()] == ["Accept", "Create", "Update"]


def _fields(article: Article) -> dict[str, Any]:
    return {"published_at": article.published_at, "updated_at": article.updated_at}


async def test_a_retraction_sends_a_delete_with_a_tombstone_fedify_verifies(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article]
) -> None:
    await follow_and_get_accepted(fedify_peer, siarkan, siarkan.actor("banten"))
    article = fresh(make_article)
    await siarkan.store(article)
    await siarkan.deliver()
    create = await fedify_peer.aio.wait_for("Create")

    await siarkan.retract(article.id)
    assert [t for t, _, _ in await siarkan.deliver()] == ["Delete"]
    delete = await fedify_peer.aio.wait_for("Delete")
    assert delete["verified"] is True and delete["actor"] == siarkan.actor("banten")
    tombstone = delete["object"]  # parsed by Fedify's Tombstone class
    assert tombstone["type"] == "Tombstone" and tombstone["id"] == create["object"]["id"]
    assert tombstone["formerType"] == "Note"
    deleted = datetime.fromisoformat(tombstone["deleted"])
    assert abs(datetime.now(UTC) - deleted) < timedelta(minutes=1)


async def test_after_a_key_rotation_fedify_refetches_our_key_and_verifies(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article], sqlite_url: str
) -> None:
    """`siarkan keys rotate`: Fedify cached the old key when it verified our Accept; the
    Update(actor) and the next post are signed with the new one, which it must fetch again."""
    banten = siarkan.actor("banten")
    key_id = banten + "#main-key"
    await follow_and_get_accepted(fedify_peer, siarkan, banten)
    # Fedify fetched the key to verify our Accept, and keeps it (KvKeyCache).
    assert await key_fetches(fedify_peer, key_id) == 1
    await fedify_peer.aio.reset()

    settings = siarkan.settings.model_copy(update={"database": DatabaseSettings(url=sqlite_url)})
    args = build_parser().parse_args(["keys", "rotate", "--actor", "banten"])
    assert await args.handler(args, CliContext(settings=settings, config_path=Path("t.yaml"))) == 0
    async with siarkan.db.connect() as conn:
        row = (await conn.execute(select(actors).where(actors.c.name == "banten"))).one()
    new_spki = "".join(row.public_key_pem.strip().splitlines()[1:-1])

    assert await siarkan.deliver() == [("Update", fedify_peer.shared_inbox_url, 202)]
    update = await fedify_peer.aio.wait_for("Update")
    assert update["verified"] is True and update["http"]["signature"]["keyId"] == key_id
    actor = update["object"]  # parsed by Fedify's Organization class
    assert actor["type"] == "Organization" and actor["id"] == banten
    assert actor["publicKey"] == {"id": key_id, "spki": new_spki}
    # The cached key failed, so Fedify fetched it again (verifyRequest's retry), once.
    assert await key_fetches(fedify_peer, key_id) == 1

    await siarkan.store(fresh(make_article))
    assert await siarkan.deliver() == [("Create", fedify_peer.shared_inbox_url, 202)]
    create = await fedify_peer.aio.wait_for("Create")
    assert create["verified"] is True and create["http"]["signature"]["keyId"] == key_id
    assert await key_fetches(fedify_peer, key_id) == 1  # the new key, now from its cache


async def key_fetches(peer: Peer, key_id: str) -> int:
    return sum(f == {"method": "GET", "url": key_id} for f in await peer.aio.fetches())


async def test_likes_and_boosts_from_fedify_are_counted_and_an_undo_uncounts(
    fedify_peer: Peer, siarkan: Siarkan, make_article: Callable[..., Article]
) -> None:
    article = fresh(make_article)
    await siarkan.store(article)
    post = await published_post(siarkan, "banten")
    banten = siarkan.actor("banten")

    like = await fedify_peer.aio.react("Like", post, banten)
    assert like["ok"], like
    boost = await fedify_peer.aio.react("Announce", post, banten)
    assert boost["ok"], boost
    counts = await siarkan.reactions("banten", article.id)
    assert (counts.likes, counts.boosts) == (1, 1)
    async with siarkan.db.connect() as conn:
        kept = (await conn.execute(select(interactions))).mappings().all()
    assert {(r["kind"], r["activity_id"], r["actor_uri"]) for r in kept} == {
        ("like", like["id"], fedify_peer.actor_id),
        ("announce", boost["id"], fedify_peer.actor_id),
    }

    assert (await fedify_peer.aio.undo(like["id"], banten))["ok"]
    counts = await siarkan.reactions("banten", article.id)
    assert (counts.likes, counts.boosts) == (0, 1)


ARTICLE_CHANNEL = """  - name: laporan
    title: Laporan
    match: {{sections: [Banten]}}
    fediverse: {{enabled: true, username: laporan, object_type: Article{warning}}}
"""


@pytest.mark.parametrize("warning", [None, "Berita bencana"])
async def test_an_article_channel_create_is_read_by_fedify_as_an_article(
    fedify_peer: Peer, sqlite_url: str, port: int, tmp_path: Path,
    make_article: Callable[..., Article], warning: str | None,
) -> None:  # fmt: skip
    channel = ARTICLE_CHANNEL.format(warning=f", content_warning: {warning}" if warning else "")
    text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "x.db") + channel
    settings = parse_settings(text, "interop", env={})
    async with running_siarkan(settings, sqlite_url, port) as siarkan:
        await follow_and_get_accepted(fedify_peer, siarkan, siarkan.actor("laporan"))
        article = fresh(make_article)
        await siarkan.store(article)
        assert [t for t, _, _ in await siarkan.deliver()] == ["Create"]
        create = await fedify_peer.aio.wait_for("Create")
    assert create["verified"] is True
    sent = create["raw"]["object"]
    obj = create["object"]  # parsed by Fedify's Article class
    assert obj["type"] == "Article" and obj["name"] == article.title
    assert obj["url"] == sent["url"] and obj["url"].startswith(siarkan.base)
    # content, then contentMap: the same HTML, the second tagged with the report's language
    assert obj["contents"] == [
        {"language": None, "value": article.body_html},
        {"language": "id", "value": article.body_html},
    ]
    if warning:
        assert sent["summary"] == warning and "summaryMap" not in sent
        assert obj["summary"] == warning and obj["summaries"] == [
            {"language": None, "value": warning}
        ]
    else:
        assert "summary" not in sent
        (lead,) = sent["summaryMap"].values()
        assert obj["summaries"] == [{"language": "id", "value": lead}]
        assert obj["summary"] == lead


async def test_a_server_refusing_draft_cavage_gets_rfc9421_and_it_is_remembered(
    fedify_peer_factory: Callable[..., Peer], settings: Settings, sqlite_url: str, port: int,
    make_article: Callable[..., Article],
) -> None:  # fmt: skip
    """Our worker knocks with draft-cavage first (federation.first_knock); a server that
    verifies RFC 9421 only answers 401, the worker re-signs with RFC 9421 at once, and the
    next deliveries to that server start with RFC 9421."""
    assert settings.federation.first_knock == "draft-cavage"
    peer = fedify_peer_factory(inbox_spec=RFC9421)
    db = Database(create_engine(sqlite_url))
    app = create_app(settings, db=db, roles=("web", "worker"))
    try:
        async with serve_app(app, port) as base, aiohttp.ClientSession() as http:
            live = Siarkan(base, settings, db, http)
            sent = await peer.aio.follow(live.actor("banten"))
            assert sent["ok"], sent
            accept = await peer.aio.wait_for("Accept", timeout=20)
            assert accept["http"]["signature"]["scheme"] == "rfc9421"
            await live.store(fresh(make_article))
            create = await peer.aio.wait_for("Create", timeout=20)
            assert create["verified"] and create["http"]["signature"]["scheme"] == "rfc9421"
            async with db.connect() as conn:
                remembered = await conn.scalar(select(hosts.c.signature_scheme))
    finally:
        await db.close()
    requests = await peer.aio.requests()
    assert [(r["type"], r["signature"]["scheme"], r["status"]) for r in requests] == [
        ("Accept", "draft-cavage", 401),
        ("Accept", "rfc9421", 202),
        ("Create", "rfc9421", 202),
    ]
    assert requests[0]["unverified"]["reason"] == "not verified as rfc9421"
    assert remembered == "rfc9421"
