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

from siarkan.articles.model import Article
from siarkan.config import Settings, parse_settings
from siarkan.federation import publish
from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import followers, interactions
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
