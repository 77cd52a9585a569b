"""The inbox over real loopback HTTP, on SQLite and PostgreSQL: who gets in, and what it does."""

from __future__ import annotations

import codecs
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from siarkan.config import Settings
from siarkan.federation.http import INBOX
from siarkan.store.db import Database
from siarkan.store.tables import (
    activities,
    blocks,
    deliveries,
    followers,
    inbox_seen,
    interactions,
    posts,
    remote_actors,
)
from tests.federation.conftest import Running, start
from tests.federation.remote_server import (
    AS,
    RemoteActor,
    RemoteServer,
    post,
    public_pem,
    rsa_key,
    signed_headers,
)
from tests.federation.sender import deliver_pending
from tests.helpers import free_port


def follow(actor: RemoteActor, target: str, n: int = 1) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{actor.id}#follows/{n}",
        "type": "Follow",
        "actor": actor.id,
        "object": target,
    }


def undo_of(activity: dict[str, Any], actor: str, undo_id: str) -> dict[str, Any]:
    """An Undo embedding `activity` without its @context, as Mastodon and Pleroma send it."""
    inner = {k: v for k, v in activity.items() if k != "@context"}
    return {"@context": AS, "id": undo_id, "type": "Undo", "actor": actor, "object": inner}


async def rows(db: Database, table: Any, *where: Any) -> list[Any]:
    async with db.connect() as conn:
        return list((await conn.execute(select(table).where(*where))).mappings().all())


async def count(db: Database, table: Any) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


def actor_url(running: Running, name: str = "utama") -> str:
    return running.url(f"/ap/actors/{name}")


# --- who gets in


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_valid_signature_is_accepted_and_follow_is_answered(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession, scheme: str
) -> None:
    alice = remote.add_actor("alice")
    status = await post(
        http, running.url("/ap/inbox"), follow(alice, actor_url(running)), alice, scheme=scheme
    )
    assert status == 202
    (row,) = await rows(running.db, followers)
    assert (row["actor_name"], row["follower_uri"], row["state"]) == ("utama", alice.id, "accepted")
    assert row["shared_inbox"] == f"{remote.base}/inbox"
    # The Accept goes to alice's own inbox, signed by our key, and embeds her Follow.
    sent = await deliver_pending(running.db, http)
    assert sent == [("Accept", alice.inbox, 202)]
    accept = remote.received[-1]["json"]
    assert accept["type"] == "Accept" and accept["actor"] == actor_url(running)
    assert accept["object"]["id"] == f"{alice.id}#follows/1"
    assert "Signature" in remote.received[-1]["headers"]


async def test_unsigned_request_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    assert (
        await post(http, running.url("/ap/inbox"), follow(alice, actor_url(running)), None) == 401
    )
    assert await count(running.db, followers) == 0


async def test_forged_signature_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice, mallory = remote.add_actor("alice"), remote.add_actor("mallory")
    # Signed with mallory's key but claiming alice's key id.
    body = json.dumps(follow(alice, actor_url(running))).encode()
    status = await post(http, running.url("/ap/inbox"), body, mallory, key_id=alice.key_id)
    assert status == 401
    assert await count(running.db, followers) == 0


async def test_bad_digest_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    from tests.federation.remote_server import signed_headers

    alice = remote.add_actor("alice")
    url = running.url("/ap/inbox")
    body = json.dumps(follow(alice, actor_url(running))).encode()
    headers = signed_headers(url, body, alice)
    tampered = body.replace(b"Follow", b"Block ")
    async with http.post(url, data=tampered, headers=headers) as response:
        assert response.status == 401
        assert "Digest" in await response.text()


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_stale_date_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession, scheme: str
) -> None:
    alice = remote.add_actor("alice")
    stale = datetime.now(UTC) - timedelta(hours=2)
    status = await post(
        http,
        running.url("/ap/inbox"),
        follow(alice, actor_url(running)),
        alice,
        scheme=scheme,
        now=stale,
    )
    assert status == 401


async def test_key_owner_must_be_the_actor(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice, mallory = remote.add_actor("alice"), remote.add_actor("mallory")
    # Validly signed by mallory, but the activity says alice follows.
    status = await post(http, running.url("/ap/inbox"), follow(alice, actor_url(running)), mallory)
    assert status == 401
    assert await count(running.db, followers) == 0


async def test_a_key_listing_another_actor_as_owner_does_not_speak_for_it(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """Mallory's actor document lists a second key whose `owner` is alice (on another host).
    Once the document is stored (any request mallory signs), that key must not verify
    activities as alice: it would let one server impersonate any actor anywhere."""
    alice = remote.add_actor("alice")
    assert (
        await post(http, running.url("/ap/inbox"), follow(alice, actor_url(running)), alice) == 202
    )
    evil = RemoteServer(free_port())
    mallory = evil.add_actor("mallory", key=rsa_key(1))
    spoofed = RemoteActor(evil, "mallory", rsa_key(2))
    spoofed_key_id = f"{mallory.id}#spoofed"
    genuine = mallory.document()
    document = {
        **genuine,
        "publicKey": [
            {"id": spoofed_key_id, "owner": alice.id, "publicKeyPem": public_pem(spoofed.key)},
            genuine["publicKey"],
        ],
    }
    mallory.document = lambda: document  # type: ignore[method-assign]
    like = {"id": f"{mallory.id}#likes/1", "type": "Like", "actor": mallory.id, "object": "x"}
    undo = {
        "@context": AS,
        "id": f"{alice.id}#follows/1/undo",
        "type": "Undo",
        "actor": alice.id,
        "object": follow(alice, actor_url(running)),
    }
    async with evil.running():
        assert await post(http, running.url("/ap/inbox"), like, mallory) == 202
        status = await post(http, running.url("/ap/inbox"), undo, spoofed, key_id=spoofed_key_id)
    assert status == 401
    assert [r["follower_uri"] for r in await rows(running.db, followers)] == [alice.id]


async def test_oversized_body_is_413(running: Running, http: aiohttp.ClientSession) -> None:
    limit = running.settings.federation.max_inbox_bytes
    async with http.post(running.url("/ap/inbox"), data=b"x" * (limit + 1)) as response:
        assert response.status == 413


async def test_unknown_actor_key_is_401_never_5xx(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    ghost = remote.add_actor("ghost")
    del remote.actors["ghost"]  # its key URL now answers 404
    status = await post(http, running.url("/ap/inbox"), follow(ghost, actor_url(running)), ghost)
    assert status == 401


async def test_blocked_domain_is_403(
    make_settings: Any,
    db: Database,
    port: int,
    remote: RemoteServer,
    http: aiohttp.ClientSession,
) -> None:
    settings: Settings = make_settings("  blocked_domains: ['127.0.0.1']\n")
    alice = remote.add_actor("alice")
    async with start(settings, db, port) as live:
        status = await post(http, live.url("/ap/inbox"), follow(alice, actor_url(live)), alice)
    assert status == 403
    assert remote.fetches == []  # refused before anything was fetched from there
    assert await count(db, followers) == 0


async def test_the_same_activity_is_processed_once(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    like = {
        "@context": AS,
        "id": f"{alice.id}#likes/1",
        "type": "Like",
        "actor": alice.id,
        "object": running.url("/ap/posts/abc"),
    }
    now = datetime.now(UTC)
    for k in range(3):  # re-deliveries of the same activity, each signed afresh
        signed_at = now - timedelta(seconds=k)
        assert await post(http, running.url("/ap/inbox"), like, alice, now=signed_at) == 202
    assert len(await rows(running.db, interactions)) == 1
    assert len(await rows(running.db, inbox_seen)) == 1


async def test_a_replayed_signature_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    from tests.federation.remote_server import signed_headers

    alice = remote.add_actor("alice")
    url = running.url("/ap/inbox")
    body = json.dumps(follow(alice, actor_url(running))).encode()
    headers = signed_headers(url, body, alice)
    statuses = []
    for _ in range(2):  # the same captured request, played back
        async with http.post(url, data=body, headers=headers) as response:
            statuses.append((response.status, await response.text()))
    assert statuses[0][0] == 202
    assert statuses[1] == (401, "replayed signature")


async def test_rotated_key_is_refetched_once(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    from tests.federation.remote_server import rsa_key

    alice = remote.add_actor("alice", key=rsa_key(0))
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(alice, actor_url(running), 1), alice) == 202
    alice.key = rsa_key(1)  # rotated on her server
    assert await post(http, inbox, follow(alice, actor_url(running), 2), alice) == 202
    assert remote.fetches.count("/users/alice") == 2


async def test_gotosocial_key_stub_leads_to_the_full_actor(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    gts = remote.add_actor("gts")
    gts.key_path = True
    assert await post(http, running.url("/ap/inbox"), follow(gts, actor_url(running)), gts) == 202
    # The stub has no inbox: the follower's inbox came from the actor document itself.
    assert remote.fetches == ["/users/gts/main-key", "/users/gts"]
    (row,) = await rows(running.db, followers)
    assert row["follower_uri"] == gts.id and row["inbox"] == gts.inbox


async def test_unknown_types_are_accepted_and_ignored(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    odd = {"@context": AS, "id": f"{alice.id}#x", "type": "Arrive", "actor": alice.id}
    assert await post(http, running.url("/ap/inbox"), odd, alice) == 202


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_a_request_signed_for_another_server_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession, scheme: str
) -> None:
    """A signature another inbox received, played back here within its window (with that
    server's Host header, so a covered `host` or @authority still matches) is refused."""
    alice = remote.add_actor("alice")
    like = {"@context": AS, "id": f"{alice.id}#likes/9", "type": "Like", "actor": alice.id,
            "object": running.url("/ap/posts/x")}  # fmt: skip
    body = json.dumps(like).encode()
    elsewhere = signed_headers("http://other.example/ap/inbox", body, alice, scheme=scheme)
    elsewhere["Host"] = "other.example"  # as that server received it
    async with http.post(running.url("/ap/inbox"), data=body, headers=elsewhere) as response:
        assert response.status == 401
        # Both names, so an operator whose proxy rewrites Host sees what arrived.
        text = await response.text()
        site = running.settings.site.host
        assert f"another host (Host: other.example; this site is {site})" in text
    assert await post(http, running.url("/ap/inbox"), like, alice, scheme=scheme) == 202


async def test_bodies_are_utf8_json_a_bom_allowed(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    odd = {"@context": AS, "id": f"{alice.id}#bom", "type": "Arrive", "actor": alice.id}
    url = running.url("/ap/inbox")
    assert await post(http, url, codecs.BOM_UTF8 + json.dumps(odd).encode(), alice) == 202
    latin = json.dumps({**odd, "id": f"{alice.id}#ü"}, ensure_ascii=False).encode("latin-1")
    assert await post(http, url, latin, alice) == 400  # signed, but not UTF-8
    assert await post(http, url, b"[1, 2]", alice) == 400
    assert await post(http, url, b"[" * 200_000, alice) == 400  # not a 500


# --- what each activity does


async def test_undo_follow_removes_the_follower(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    inbox = running.url("/ap/actors/utama/inbox")
    the_follow = follow(alice, actor_url(running))
    assert await post(http, inbox, the_follow, alice) == 202
    undo = undo_of(the_follow, alice.id, f"{alice.id}#undo/1")
    assert await post(http, inbox, undo, alice) == 202
    assert await rows(running.db, followers) == []


async def test_like_announce_and_reply_are_counted_and_undone(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    ours = running.url("/ap/posts/abc")
    inbox = running.url("/ap/inbox")
    like = {
        "@context": AS,
        "id": f"{alice.id}#likes/1",
        "type": "Like",
        "actor": alice.id,
        "object": ours,
    }
    boost = {
        "@context": AS,
        "id": f"{alice.id}/statuses/2/activity",
        "type": "Announce",
        "actor": alice.id,
        "object": ours,
    }
    reply = {
        "@context": AS,
        "id": f"{alice.id}/statuses/3/activity",
        "type": "Create",
        "actor": alice.id,
        "object": {
            "id": f"{alice.id}/statuses/3",
            "type": "Note",
            "attributedTo": alice.id,
            "inReplyTo": ours,
            "to": [AS + "#Public"],
            "content": "<p>Semoga cepat surut<script>alert(1)</script></p>",
        },
    }
    elsewhere = {
        "@context": AS,
        "id": f"{alice.id}#likes/2",
        "type": "Like",
        "actor": alice.id,
        "object": "https://elsewhere.example/notes/1",
    }
    for activity in (like, boost, reply, elsewhere):
        assert await post(http, inbox, activity, alice) == 202
    found = {r["kind"]: r for r in await rows(running.db, interactions)}
    assert set(found) == {"like", "announce", "reply"}
    assert all(r["object_uri"] == ours for r in found.values())
    assert "<script>" not in found["reply"]["content"]
    assert "Semoga cepat surut" in found["reply"]["content"]
    undo = {
        "@context": AS,
        "id": f"{alice.id}#undo/like",
        "type": "Undo",
        "actor": alice.id,
        "object": {"id": like["id"], "type": "Like", "actor": alice.id, "object": ours},
    }
    delete_reply = {
        "@context": AS,
        "id": f"{alice.id}#delete/3",
        "type": "Delete",
        "actor": alice.id,
        "object": {"id": f"{alice.id}/statuses/3", "type": "Tombstone"},
    }
    assert await post(http, inbox, undo, alice) == 202
    assert await post(http, inbox, delete_reply, alice) == 202
    assert [r["kind"] for r in await rows(running.db, interactions)] == ["announce"]


async def test_block_stops_delivery_and_undo_block_lifts_it(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(alice, actor_url(running)), alice) == 202
    block = {
        "@context": AS,
        "id": f"{alice.id}#blocks/1",
        "type": "Block",
        "actor": alice.id,
        "object": actor_url(running),
    }
    assert await post(http, inbox, block, alice) == 202
    (row,) = await rows(running.db, followers)
    assert row["state"] == "blocked"
    assert len(await rows(running.db, blocks)) == 1
    undo = undo_of(block, alice.id, f"{alice.id}#undo/block")
    assert await post(http, inbox, undo, alice) == 202
    assert await rows(running.db, blocks) == []
    assert await rows(running.db, followers) == []


async def test_delete_of_an_actor_drops_it(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(alice, actor_url(running)), alice) == 202
    delete = {
        "@context": AS,
        "id": f"{alice.id}#delete",
        "type": "Delete",
        "actor": alice.id,
        "object": alice.id,
    }
    assert await post(http, inbox, delete, alice) == 202
    assert await rows(running.db, followers) == []
    assert await rows(running.db, remote_actors) == []


async def test_delete_of_a_gone_actor_whose_key_cannot_be_fetched(
    make_settings: Any,
    db: Database,
    port: int,
    remote: RemoteServer,
    http: aiohttp.ClientSession,
) -> None:
    """Mastodon signs Delete(actor) with a key its server no longer serves (410)."""
    settings: Settings = make_settings()
    alice = remote.add_actor("alice")
    async with start(settings, db, port) as live:
        assert await post(http, live.url("/ap/inbox"), follow(alice, actor_url(live)), alice) == 202
    alice.gone = True  # a fresh process: no key in memory, actor URL answers 410
    async with db.begin() as conn:  # and no stored key either
        await conn.execute(remote_actors.update().values(public_key_pem=None, document=None))
    delete = {
        "@context": AS,
        "id": f"{alice.id}#delete",
        "type": "Delete",
        "actor": alice.id,
        "object": alice.id,
    }
    async with start(settings, db, port) as live:
        assert await post(http, live.url("/ap/inbox"), delete, alice) == 202
        assert await rows(db, followers) == []
        # The same trick cannot delete anything else, nor an actor that still exists.
        bob = remote.add_actor("bob")
        assert await post(http, live.url("/ap/inbox"), follow(bob, actor_url(live)), bob) == 202
        forged = {
            "@context": AS,
            "id": f"{bob.id}#delete",
            "type": "Delete",
            "actor": bob.id,
            "object": bob.id,
        }
        status = await post(http, live.url("/ap/inbox"), forged, alice, key_id=f"{bob.id}#main-key")
        assert status == 401
        assert len(await rows(db, followers)) == 1


async def test_move_replaces_the_follower_when_the_target_vouches(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    old, new, liar = remote.add_actor("old"), remote.add_actor("new"), remote.add_actor("liar")
    new.also_known_as = [old.id]
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(old, actor_url(running)), old) == 202
    refused = {
        "@context": AS,
        "id": f"{old.id}#move/0",
        "type": "Move",
        "actor": old.id,
        "object": old.id,
        "target": liar.id,
    }
    assert await post(http, inbox, refused, old) == 401
    move = {
        "@context": AS,
        "id": f"{old.id}#move/1",
        "type": "Move",
        "actor": old.id,
        "object": old.id,
        "target": new.id,
    }
    assert await post(http, inbox, move, old) == 202
    (row,) = await rows(running.db, followers)
    assert row["follower_uri"] == new.id and row["inbox"] == new.inbox


async def test_update_of_an_actor_refreshes_its_key_and_inboxes(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    from tests.federation.remote_server import rsa_key

    alice = remote.add_actor("alice", key=rsa_key(0))
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(alice, actor_url(running)), alice) == 202
    alice.key = rsa_key(2)
    document = alice.document()
    document["endpoints"] = {"sharedInbox": f"{remote.base}/new-shared-inbox"}
    update = {
        "@context": AS,
        "id": f"{alice.id}#updates/1",
        "type": "Update",
        "actor": alice.id,
        "object": document,
    }
    # Signed with the new key: the cached old key fails, one refetch finds the new one.
    assert await post(http, inbox, update, alice) == 202
    (row,) = await rows(running.db, followers)
    assert row["shared_inbox"] == f"{remote.base}/new-shared-inbox"
    (stored,) = await rows(running.db, remote_actors)
    assert "BEGIN PUBLIC KEY" in stored["public_key_pem"]


async def test_manually_approved_follow_is_held_until_approved(
    make_settings: Any,
    db: Database,
    port: int,
    remote: RemoteServer,
    http: aiohttp.ClientSession,
) -> None:
    from siarkan.cli.context import CliContext
    from siarkan.cli.main import build_parser
    from siarkan.config import DatabaseSettings

    extra = """  - name: redaksi
    title: Redaksi
    fediverse:
      enabled: true
      manually_approves_followers: true
"""
    settings: Settings = make_settings(channels_extra=extra)
    alice = remote.add_actor("alice")
    async with start(settings, db, port) as live:
        target = actor_url(live, "redaksi")
        assert await post(http, live.url("/ap/inbox"), follow(alice, target), alice) == 202
        (row,) = await rows(db, followers)
        assert row["state"] == "pending"
        assert await rows(db, deliveries) == []  # no Accept yet
        cli_settings = settings.model_copy(
            update={"database": DatabaseSettings(url=db.engine.url.render_as_string(False))}
        )
        ctx = CliContext(settings=cli_settings, config_path=__import__("pathlib").Path("x"))
        args = build_parser().parse_args(["followers", "approve", "--actor", "redaksi", alice.id])
        assert await args.handler(args, ctx) == 0
        (row,) = await rows(db, followers)
        assert row["state"] == "accepted"
        sent = await deliver_pending(db, http)
        assert sent == [("Accept", alice.inbox, 202)]
        assert remote.received[-1]["json"]["object"]["id"] == f"{alice.id}#follows/1"


async def test_accept_activity_is_not_public(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.add_actor("alice")
    assert (
        await post(http, running.url("/ap/inbox"), follow(alice, actor_url(running)), alice) == 202
    )
    (activity,) = await rows(running.db, activities)
    assert activity["type"] == "Accept" and activity["public"] is False
    token = activity["uri"].rsplit("/", 1)[1]
    async with http.get(running.url(f"/ap/activities/{token}")) as response:
        assert response.status == 404


# --- found in review: addressing, reactions, deleted actors, foreign activity ids


async def test_a_reply_not_addressed_to_the_public_is_never_shown(
    make_settings: Any,
    db: Database,
    port: int,
    remote: RemoteServer,
    http: aiohttp.ClientSession,
    make_article: Any,
) -> None:
    """A direct message or a followers-only reply mentioning us is kept, never published."""
    from tests.federation.test_discovery import BROWSER, get, publish_report

    extra = """  - name: warga
    title: Suara Warga
    fediverse: {enabled: true, show_replies: true}
"""
    settings: Settings = make_settings(channels_extra=extra)
    now = datetime.now(UTC)
    alice = remote.add_actor("alice")
    async with start(settings, db, port) as live:
        await publish_report(live, make_article(published_at=now - timedelta(minutes=1)), now)
        (ours, *_) = [r["uri"] for r in await rows(db, posts, posts.c.actor_name == "warga")]
        us = actor_url(live, "warga")
        audiences = {  # text -> (to, cc), as Mastodon, Pleroma (compacted) and others send them
            "PESAN-LANGSUNG": ([us], []),
            "KHUSUS-PENGIKUT": ([f"{alice.id}/followers"], [us]),
            "TERBUKA-PENUH": ([AS + "#Public"], [us]),
            "TERBUKA-AS": (["as:Public"], []),
            "TIDAK-TERDAFTAR": ([f"{alice.id}/followers"], ["Public"]),
        }
        for n, (text, (to, cc)) in enumerate(audiences.items()):
            note = {
                "id": f"{alice.id}/statuses/{n}",
                "type": "Note",
                "attributedTo": alice.id,
                "inReplyTo": ours,
                "to": to,
                "cc": cc,
                "content": f"<p>{text}</p>",
            }
            create = {
                "@context": AS,
                "id": f"{alice.id}/statuses/{n}/activity",
                "type": "Create",
                "actor": alice.id,
                "to": to,
                "cc": cc,
                "object": note,
            }
            assert await post(http, live.url("/ap/actors/warga/inbox"), create, alice) == 202
        _, _, page = await get(http, live.url("/@warga"), BROWSER)
    kept = {r["content"]: r["kind"] for r in await rows(db, interactions)}
    assert len(kept) == 5  # all kept for moderation
    assert kept["<p>PESAN-LANGSUNG</p>"] == kept["<p>KHUSUS-PENGIKUT</p>"] == "private_reply"
    assert "PESAN-LANGSUNG" not in page and "KHUSUS-PENGIKUT" not in page
    for text in ("TERBUKA-PENUH", "TERBUKA-AS", "TIDAK-TERDAFTAR"):
        assert text in page


async def test_undo_of_an_emoji_reaction_removes_it(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """Pleroma/Akkoma embed the EmojiReact they undo (Transmogrifier maybe_expand_undo_object)."""
    akko = remote.add_actor("akko")
    inbox = running.url("/ap/inbox")
    react = {
        "@context": AS,
        "id": f"{remote.base}/activities/react-1",
        "type": "EmojiReact",
        "actor": akko.id,
        "content": "🧡",
        "object": running.url("/ap/posts/abc"),
    }
    assert await post(http, inbox, react, akko) == 202
    assert [r["kind"] for r in await rows(running.db, interactions)] == ["like"]
    undo = undo_of(react, akko.id, f"{remote.base}/activities/undo-1")
    assert await post(http, inbox, undo, akko) == 202
    assert await rows(running.db, interactions) == []


async def test_delete_of_an_unknown_gone_actor_is_accepted_without_fetching(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """Mastodon sends an account's Delete to every inbox it knows and retries a 401 for days."""
    stranger = remote.add_actor("stranger")
    stranger.gone = True
    delete = {
        "@context": AS,
        "id": f"{stranger.id}#delete",
        "type": "Delete",
        "actor": stranger.id,
        "object": stranger.id,
    }
    assert await post(http, running.url("/ap/inbox"), delete, stranger) == 202
    assert remote.fetches == []
    assert await count(running.db, remote_actors) == 0


async def test_delete_of_a_gone_replier_whose_cached_actor_expired(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """Not a follower, and its remote_actors row pruned by housekeeping: its replies still go."""
    from siarkan.distribution.housekeeping import housekeeping

    alice = remote.add_actor("alice")
    inbox = running.url("/ap/inbox")
    reply = {
        "@context": AS,
        "id": f"{alice.id}/statuses/3/activity",
        "type": "Create",
        "actor": alice.id,
        "to": [AS + "#Public"],
        "object": {
            "id": f"{alice.id}/statuses/3",
            "type": "Note",
            "attributedTo": alice.id,
            "inReplyTo": running.url("/ap/posts/abc"),
            "to": [AS + "#Public"],
            "content": "<p>Semoga cepat surut</p>",
        },
    }
    assert await post(http, inbox, reply, alice) == 202
    later = datetime.now(UTC) + timedelta(days=2)
    async with running.db.begin() as conn:
        await housekeeping(conn, running.settings, later)
    assert await count(running.db, remote_actors) == 0
    running.app[INBOX].remote.forget(alice.id)  # a restarted process: nothing in memory
    alice.gone = True
    delete = {
        "@context": AS,
        "id": f"{alice.id}#delete",
        "type": "Delete",
        "actor": alice.id,
        "object": alice.id,
    }
    assert await post(http, inbox, delete, alice) == 202
    assert await rows(running.db, interactions) == []


async def test_an_activity_id_on_another_host_is_ignored(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """Nobody may claim another server's activity ids: the real activity would be dropped."""
    other = RemoteServer(free_port())
    alice = remote.add_actor("alice")
    inbox = running.url("/ap/inbox")
    assert await post(http, inbox, follow(alice, actor_url(running)), alice) == 202
    undo_id = f"{alice.id}#follows/1/undo"  # Mastodon's Undo(Follow) ids are guessable
    async with other.running():
        mallory = other.add_actor("mallory")
        squat = {
            "@context": AS,
            "id": undo_id,
            "type": "Like",
            "actor": mallory.id,
            "object": running.url("/ap/posts/abc"),
        }
        assert await post(http, inbox, squat, mallory) == 202
    assert await rows(running.db, interactions) == []
    undo = {
        "@context": AS,
        "id": undo_id,
        "type": "Undo",
        "actor": alice.id,
        "object": {
            "id": f"{alice.id}#follows/1",
            "type": "Follow",
            "actor": alice.id,
            "object": actor_url(running),
        },
    }
    assert await post(http, inbox, undo, alice) == 202
    assert await rows(running.db, followers) == []


# --- forwarded activities (Mastodon's reply forwarding)


def ld_signed(activity: dict[str, Any], author: RemoteActor) -> dict[str, Any]:
    """`activity` as Mastodon forwards it: with its author's LD signature (which we do not
    verify, so its value does not matter here)."""
    signature = {
        "type": "RsaSignature2017",
        "creator": author.key_id,
        "created": "2026-11-28T01:02:03Z",
        "signatureValue": "bm90IGNoZWNrZWQ=",
    }
    return {**activity, "signature": signature}


def reply_to(author: RemoteActor, ours: str, n: int = 3) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{author.id}/statuses/{n}/activity",
        "type": "Create",
        "actor": author.id,
        "to": [AS + "#Public"],
        "object": {
            "id": f"{author.id}/statuses/{n}",
            "type": "Note",
            "attributedTo": author.id,
            "inReplyTo": ours,
            "to": [AS + "#Public"],
            "content": "<p>Semoga cepat surut</p>",
        },
    }


async def forwarded_count(running: Running, http: aiohttp.ClientSession) -> float:
    async with http.get(running.url("/metrics")) as response:
        assert response.status == 200
        text = await response.text()
    prefix = 'siarkan_inbox_verifications_total{result="forwarded_ignored"} '
    found = [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0]) if found else 0.0


async def test_a_forwarded_reply_is_accepted_and_ignored(
    running: Running,
    remote: RemoteServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mastodon forwards alice's reply (and its Delete) to the followers of the account she
    replied to, HTTP-signed by that account's server: 202, since a 401 is retried for days;
    ignored, since its LD signature is not verified; and not marked seen, so alice's own
    delivery of the same activity still counts."""
    alice = remote.add_actor("alice")
    inbox = running.url("/ap/inbox")
    reply = reply_to(alice, running.url("/ap/posts/abc"))
    delete = {
        "@context": AS,
        "id": f"{alice.id}/statuses/3#delete",
        "type": "Delete",
        "actor": alice.id,
        "object": {"id": f"{alice.id}/statuses/3", "type": "Tombstone"},
    }
    other = RemoteServer(free_port())
    async with other.running():
        bob = other.add_actor("bob")  # the forwarding server's actor
        with caplog.at_level(logging.INFO, logger="siarkan.federation.inbox"):
            assert await post(http, inbox, ld_signed(reply, alice), bob) == 202
        assert await rows(running.db, interactions) == []
        assert await rows(running.db, inbox_seen) == []
        (logged,) = [r for r in caplog.records if r.getMessage().startswith("inbox ignored")]
        assert logged.levelno == logging.INFO
        assert (logged.signer, logged.actor) == (bob.id, alice.id)  # type: ignore[attr-defined]

        a_follow = ld_signed(follow(alice, actor_url(running)), alice)
        assert await post(http, inbox, a_follow, bob) == 202
        assert await rows(running.db, followers) == []

        assert await post(http, inbox, reply, alice) == 202  # alice's own delivery
        assert [r["kind"] for r in await rows(running.db, interactions)] == ["reply"]

        # A forwarded Delete does nothing either: the reply stays until alice says so.
        assert await post(http, inbox, ld_signed(delete, alice), bob) == 202
        assert [r["kind"] for r in await rows(running.db, interactions)] == ["reply"]
    assert await forwarded_count(running, http) == 3
    assert await post(http, inbox, delete, alice) == 202
    assert await rows(running.db, interactions) == []


async def test_a_forwarded_activity_without_a_valid_http_signature_is_401(
    running: Running, remote: RemoteServer, http: aiohttp.ClientSession
) -> None:
    """An LD `signature` never stands in for the HTTP signature: unsigned, forged, or with a
    `signature` that is not an object, a request whose signer is not its actor gets 401."""
    alice, bob, mallory = (remote.add_actor(n) for n in ("alice", "bob", "mallory"))
    inbox = running.url("/ap/inbox")
    reply = reply_to(alice, running.url("/ap/posts/abc"))
    forwarded = ld_signed(reply, alice)
    assert await post(http, inbox, forwarded, None) == 401
    assert await post(http, inbox, forwarded, mallory, key_id=bob.key_id) == 401  # forged
    assert await post(http, inbox, {**reply, "signature": "bm90IGFuIG9iamVjdA=="}, bob) == 401
    assert await post(http, inbox, reply, bob) == 401  # no LD signature: a plain mismatch
    assert await rows(running.db, interactions) == []
    assert await rows(running.db, inbox_seen) == []
    assert await forwarded_count(running, http) == 0
