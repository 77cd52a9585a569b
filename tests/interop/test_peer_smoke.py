"""The Fedify peer works end to end on its own, independent of siarkan: two peers find each
other over WebFinger, follow with verified signatures, and accept automatically."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from peer import CAVAGE, RFC9421, Peer

pytestmark = pytest.mark.interop


def test_health(fedify_peer: Peer) -> None:
    health = fedify_peer.health()
    assert health["ok"] is True
    assert health["actor"] == fedify_peer.actor_id
    assert health["node"].startswith("v22.")


def test_two_peers_lookup_follow_accept_undo(fedify_peer_factory: Callable[..., Peer]) -> None:
    a, b = fedify_peer_factory(), fedify_peer_factory(user="bob")
    b.create_note("<p>Hello from bob</p>")

    found = a.lookup(b.handle)
    assert found["id"] == b.actor_id
    assert found["type"] == "Person"
    assert found["preferredUsername"] == "bob"
    assert found["inbox"] == b.inbox_url
    assert found["sharedInbox"] == b.shared_inbox_url
    assert found["publicKey"] == {
        "id": b.key_id,
        "owner": b.actor_id,
        "algorithm": "RSASSA-PKCS1-v1_5",
    }
    assert found["webfinger"]["subject"] == f"acct:bob@127.0.0.1:{b.port}"
    assert {"rel": "self", "href": b.actor_id, "type": "application/activity+json"} in found[
        "webfinger"
    ]["links"]
    [item] = found["outboxPage"]["items"]
    assert item["type"] == "Create"
    assert item["object"]["content"] == "<p>Hello from bob</p>"
    assert item["object"]["attributedTo"] == b.actor_id

    sent = a.follow(b.actor_id)
    assert sent["ok"], sent
    follow = b.wait_for("Follow")
    assert follow["verified"] is True
    assert follow["actor"] == a.actor_id
    assert follow["object"] == {"id": b.actor_id}
    assert follow["http"]["signature"]["scheme"] == "rfc9421"  # Fedify's first knock
    assert follow["http"]["signature"]["keyId"] == a.key_id

    accept = a.wait_for("Accept")
    assert accept["actor"] == b.actor_id
    assert accept["object"]["type"] == "Follow"
    assert accept["object"]["id"] == sent["id"]
    assert b.state()["followers"] == [a.actor_id]
    assert a.state()["following"] == [{"id": b.actor_id, "follow": sent["id"], "accepted": True}]

    assert a.undo_follow(b.actor_id)["ok"]
    undo = b.wait_for("Undo")
    assert undo["object"]["type"] == "Follow"
    assert b.state()["followers"] == []


def test_reply_reaches_recipient(fedify_peer_factory: Callable[..., Peer]) -> None:
    a, b = fedify_peer_factory(), fedify_peer_factory(user="bob")
    parent = b.create_note("<p>parent</p>")["note"]
    assert a.create_note("<p>a reply</p>", to=[b.actor_id], in_reply_to=parent)["ok"]
    create = b.wait_for("Create")
    assert create["object"]["type"] == "Note"
    assert create["object"]["content"] == "<p>a reply</p>"
    assert create["object"]["inReplyTo"] == parent
    assert create["object"]["attributedTo"] == a.actor_id


def test_send_raw_signed_unsigned_and_forged(fedify_peer_factory: Callable[..., Peer]) -> None:
    a, b = fedify_peer_factory(), fedify_peer_factory(user="bob")
    note = {
        "id": f"{a.actor_id}/raw/1",
        "type": "Note",
        "attributedTo": a.actor_id,
        "content": "raw",
        "to": [b.actor_id],
    }
    activity: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Create",
        "id": f"{a.actor_id}/raw/1/activity",
        "actor": a.actor_id,
        "object": note,
        "to": [b.actor_id],
    }

    unsigned = a.send_raw(b.inbox_url, activity, sign=False)
    assert unsigned["status"] == 401
    forged = a.send_raw(b.inbox_url, {**activity, "actor": b.actor_id, "id": activity["id"] + "2"})
    assert forged["status"] == 401  # signer (alice's key) does not own the claimed actor
    stale = a.send_raw(b.inbox_url, activity, date="2020-01-01T00:00:00Z")
    assert stale["status"] == 401
    assert b.inbox() == []

    signed = a.send_raw(b.shared_inbox_url, activity, spec=CAVAGE)
    assert signed["status"] == 202, signed
    create = b.wait_for("Create")
    assert create["http"]["signature"]["scheme"] == "draft-cavage"
    assert set(create["http"]["signature"]["headers"]) >= {
        "(request-target)",
        "host",
        "date",
        "digest",
    }
    assert create["recipient"] is None  # shared inbox
    statuses = [(r["status"], (r["unverified"] or {}).get("reason")) for r in b.requests()]
    assert statuses[0] == (401, "noSignature")
    assert statuses[-1] == (202, None)

    rfc = a.send_raw(b.inbox_url, {**activity, "id": activity["id"] + "3"}, spec=RFC9421)
    assert rfc["status"] == 202, rfc
    assert "signature-input" in rfc["sentHeaders"]


async def test_async_client(fedify_peer_factory: Callable[..., Peer]) -> None:
    """peer.aio: the same calls as coroutines, for tests whose server shares the event loop."""
    a, b = fedify_peer_factory(), fedify_peer_factory(user="bob", first_knock=CAVAGE)
    assert (await a.aio.lookup(b.actor_id))["inbox"] == b.inbox_url
    assert (await b.aio.follow(a.handle))["ok"]
    follow = await a.aio.wait_for("Follow", lambda f: f["actor"] == b.actor_id)
    assert follow["http"]["signature"]["scheme"] == "draft-cavage"
    assert (await b.aio.wait_for("Accept"))["actor"] == a.actor_id
