"""WordPress and Ghost pointed at siarkan, over real loopback HTTP, on SQLite and PostgreSQL:
their own payloads in, no glue code; Ghost authenticated by its signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from siarkan.config import AdminSettings, Settings
from siarkan.store import replays
from siarkan.store.db import Database
from siarkan.store.tables import activities, articles, signatures_seen
from siarkan.web.app import create_app
from siarkan.web.hooks import CLAIM_LEASE, ghost_replay_key
from tests.cms_payloads import ghost_body, wp_rest_post, wp_webhook
from tests.helpers import free_port, serve_app
from tests.test_admin_api import TOKEN, call

SECRET = "ghost-webhook-secret-9f2c"
# Recent, so publishing federates them (an old report is stored but not sent to followers).
NOW = datetime.now(UTC).replace(microsecond=0)
WP_NOW = NOW.strftime("%Y-%m-%dT%H:%M:%S")


def wp_post(**overrides: Any) -> dict[str, Any]:
    return wp_rest_post(**{"date_gmt": WP_NOW, "modified_gmt": WP_NOW, **overrides})


def wp_hook(trigger: str, **fields: Any) -> dict[str, Any]:
    stamp = WP_NOW.replace("T", " ")
    return wp_webhook(trigger, **{"post_date_gmt": stamp, "post_modified_gmt": stamp, **fields})


def ghost_event(event: str, **overrides: Any) -> dict[str, Any]:
    stamp = NOW.isoformat().replace("+00:00", ".000Z")
    return ghost_body(event, **{"published_at": stamp, "updated_at": stamp, **overrides})


def ghost_settings(db_settings: Settings) -> Settings:
    admin = AdminSettings(token="test-token-123", ghost_secret=SECRET)
    return db_settings.model_copy(update={"admin": admin})


@pytest.fixture
async def api(
    db_settings: Settings, db: Database, port: int
) -> AsyncIterator[tuple[str, Database]]:
    app = create_app(ghost_settings(db_settings), db=db, roles={"web"}, migrate=False)
    async with serve_app(app, port) as base:
        yield base, db


@asynccontextmanager
async def node(db_settings: Settings, port: int | None = None) -> AsyncIterator[str]:
    """Another siarkan process on the same database: its own engine, its own memory."""
    app = create_app(ghost_settings(db_settings), roles={"web"}, migrate=False)
    async with serve_app(app, port or free_port()) as base:
        yield base


def ghost_headers(body: bytes, *, secret: str = SECRET, at_ms: int | None = None) -> dict[str, str]:
    """What Ghost's WebhookTrigger sends: HMAC-SHA256 over body + timestamp."""
    stamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "Content-Version": "v5.101",
        "User-Agent": "Ghost/5.101.0 (https://github.com/TryGhost/Ghost)",
        "X-Ghost-Signature": f"sha256={digest}, t={stamp}",
    }


async def ghost(base: str, payload: dict[str, Any], **sign: Any) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    status, _, answer = await call(
        "POST", f"{base}/api/hooks/ghost", headers=ghost_headers(body, **sign), data=body
    )
    return status, answer


async def count(db: Database, table: Any, *where: Any) -> int:
    async with db.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(query)).scalar_one())


async def test_a_wordpress_rest_post_then_its_webhooks(api: tuple[str, Database]) -> None:
    base, db = api
    url = f"{base}/api/articles"
    status, _, created = await call("POST", url, headers=TOKEN, json=wp_post())
    assert status == 201, created
    article = created["article"]
    assert article["title"] == "Banjir Rendam 1.250 Rumah di Kabupaten Serang – BPBD Siaga"
    assert (article["section"], article["tags"]) == ("Banten", ["banjir", "BPBD & Damkar"])
    assert article["published_at"].startswith(WP_NOW)

    status, _, again = await call("POST", url, headers=TOKEN, json=wp_post())
    assert (status, again["outcome"]) == (200, "unchanged")

    # The same post edited, as WP Webhooks' post_update sends it: one article, updated.
    edited = wp_hook(
        "post_update",
        post_title="Banjir Rendam 1.300 Rumah di Kabupaten Serang",
        post_name="banjir-rendam-1-250-rumah-di-kabupaten-serang",
    )
    edited["post_permalink"] = wp_post()["link"]
    status, _, updated = await call("POST", url, headers=TOKEN, json=edited)
    assert (status, updated["outcome"]) == (200, "updated"), updated
    assert updated["article"]["id"] == article["id"]
    assert updated["article"]["slug"] == article["slug"]

    # Moved to the trash: retracted, followers get a Delete, the page is gone.
    trashed = wp_hook(
        "post_trash",
        post_status="trash",
        post_name="banjir-rendam-1-250-rumah-di-kabupaten-serang__trashed",
    )
    status, _, gone = await call("POST", url, headers=TOKEN, json=trashed)
    assert (status, gone["outcome"], gone["article"]["status"]) == (200, "retracted", "retracted")
    assert await count(db, activities, activities.c.type == "Delete") >= 1
    status, _, _ = await call("GET", f"{base}/artikel/{article['slug']}")
    assert status == 410

    # Restored from the trash and published again.
    status, _, back = await call("POST", url, headers=TOKEN, json=wp_post())
    assert (status, back["article"]["status"]) == (200, "published")


async def test_a_post_first_read_from_the_feed_is_retracted_by_its_trash_webhook(
    api: tuple[str, Database],
) -> None:
    """Stored before the webhooks were set up (an import or a source poll keys it by its URL):
    the trash webhook, keyed by the guid, still finds it by the permalink it was published at."""
    base, _ = api
    permalink = "https://bantenpos.example/2026/11/04/festival-kopi-pandeglang-2026/"
    ours = {"title": "Festival Kopi", "body_text": "Teks laporan.", "canonical_url": permalink}
    status, _, created = await call("POST", f"{base}/api/articles", headers=TOKEN, json=ours)
    assert status == 201
    trashed = wp_hook("post_trash", post_status="trash", post_name="festival-kopi__trashed")
    trashed["post_permalink"] = permalink.rstrip("/") + "__trashed/"
    status, _, gone = await call("POST", f"{base}/api/articles", headers=TOKEN, json=trashed)
    assert (status, gone["outcome"]) == (200, "retracted"), gone
    assert gone["article"]["id"] == created["article"]["id"]


async def test_a_page_of_wordpress_posts(api: tuple[str, Database]) -> None:
    base, db = api
    page = [
        wp_post(post_id=101, slug="satu", link="https://bantenpos.example/satu/"),
        wp_post(post_id=102, status="draft", link="https://bantenpos.example/?p=102"),
        wp_post(post_id=103, slug="tiga", link="https://bantenpos.example/tiga/"),
        wp_post(post_id=104, type="attachment"),
        wp_post(post_id=105, title={"rendered": ""}),
    ]
    status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=page)
    assert status == 200
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "retracted": 0,
        "absent": 1,
        "ignored": 1,
    }, body
    assert body["results"][4]["errors"] == [{"loc": "[4].title.rendered", "msg": "required"}]
    assert await count(db, articles) == 2


async def test_wordpress_errors_are_named_as_wordpress_names_them(
    api: tuple[str, Database],
) -> None:
    base, db = api
    bad = wp_post(date_gmt="kemarin", content={"rendered": "", "protected": False})
    status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=bad)
    assert status == 422
    assert {e["loc"] for e in body["errors"]} == {"date_gmt", "content.rendered"}, body
    assert await count(db, articles) == 0


async def test_a_ghost_post_through_its_lifecycle(api: tuple[str, Database]) -> None:
    base, db = api
    status, created = await ghost(base, ghost_event("post.published"))
    assert status == 201, created
    article = created["article"]
    assert (article["id"], article["section"]) == (
        "0b5c7d3e-2a41-4c59-9e8f-61a2b3c4d5e6",
        "Pendidikan",
    )
    assert article["subtitle"].startswith("Dua ruang kelas ambruk")

    edited = ghost_event("post.published.edited", title="Atap Ambruk, 60 Siswa Belajar di Tenda")
    status, updated = await ghost(base, edited)
    assert (status, updated["outcome"], updated["article"]["id"]) == (200, "updated", article["id"])

    status, unpublished = await ghost(base, ghost_event("post.unpublished"))
    assert (status, unpublished["outcome"]) == (200, "retracted")
    assert await count(db, activities, activities.c.type == "Delete") >= 1

    status, republished = await ghost(base, ghost_event("post.published"))
    assert (status, republished["article"]["status"]) == (200, "published")

    status, deleted = await ghost(base, ghost_event("post.deleted"))
    assert (status, deleted["outcome"], deleted["article"]["status"]) == (
        200,
        "retracted",
        "retracted",
    )
    # A post siarkan never had: nothing to withdraw, and Ghost must not retry (2xx).
    status, absent = await ghost(
        base,
        ghost_event(
            "post.deleted",
            uuid="0b5c7d3e-0000-4000-8000-000000000000",
            url="https://warta-lebak.example/lain/",
        ),
    )
    assert (status, absent["outcome"]) == (200, "absent")


async def test_ghost_signatures_are_required(api: tuple[str, Database]) -> None:
    base, db = api
    payload = ghost_event("post.published")
    body = json.dumps(payload).encode()
    url = f"{base}/api/hooks/ghost"
    unsigned = {"Content-Type": "application/json"}
    status, _, answer = await call("POST", url, headers=unsigned, data=body)
    assert status == 401 and "X-Ghost-Signature" in answer["detail"]
    status, _ = await ghost(base, payload, secret="tebakan")
    assert status == 401
    status, _ = await ghost(base, payload, at_ms=int((time.time() - 3600) * 1000))
    assert status == 401
    # Signed, then altered on the way: the signature covers the exact bytes.
    headers = ghost_headers(body)
    status, _, _ = await call("POST", url, headers=headers, data=body.replace(b"Tenda", b"Tenta"))
    assert status == 401
    # The bearer token is not a way around the signature.
    status, _, _ = await call("POST", url, headers={**unsigned, **TOKEN}, data=body)
    assert status == 401
    assert await count(db, articles) == 0


async def test_a_ghost_request_played_again_changes_nothing(api: tuple[str, Database]) -> None:
    """Ghost signs once and its client retries the same bytes; a captured post.published played
    back after the post was deleted must not publish it again. Either is answered 2xx."""
    base, db = api
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    url = f"{base}/api/hooks/ghost"
    status, _, _ = await call("POST", url, headers=captured, data=published)
    assert status == 201
    status, deleted = await ghost(base, ghost_event("post.deleted"))
    assert (status, deleted["outcome"]) == (200, "retracted")
    status, _, again = await call("POST", url, headers=captured, data=published)
    assert (status, again["status"]) == (200, "duplicate")
    statuses = await db_statuses(db)
    assert statuses == ["retracted"]


async def test_a_ghost_replay_to_another_node_or_after_a_restart_changes_nothing(
    api: tuple[str, Database], db_settings: Settings, port: int
) -> None:
    """Several nodes share the work: a captured post.published played back to the node that
    did not receive it, or to a restarted one, is a duplicate too (it was remembered in the
    memory of one process only, and applied again elsewhere)."""
    base, db = api
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    status, _, _ = await call("POST", f"{base}/api/hooks/ghost", headers=captured, data=published)
    assert status == 201
    status, deleted = await ghost(base, ghost_event("post.deleted"))
    assert (status, deleted["outcome"]) == (200, "retracted")
    async with node(db_settings) as other:
        status, _, again = await call(
            "POST", f"{other}/api/hooks/ghost", headers=captured, data=published
        )
        assert (status, again.get("status")) == (200, "duplicate"), again
    assert await db_statuses(db) == ["retracted"]


async def test_a_ghost_replay_after_a_restart_changes_nothing(
    db_settings: Settings, db: Database
) -> None:
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    port = free_port()
    async with node(db_settings, port) as base:
        status, _, _ = await call(
            "POST", f"{base}/api/hooks/ghost", headers=captured, data=published
        )
        assert status == 201
        status, deleted = await ghost(base, ghost_event("post.deleted"))
        assert (status, deleted["outcome"]) == (200, "retracted")
    async with node(db_settings, port) as base:  # the same node, restarted
        status, _, again = await call(
            "POST", f"{base}/api/hooks/ghost", headers=captured, data=published
        )
        assert (status, again.get("status")) == (200, "duplicate"), again
    assert await db_statuses(db) == ["retracted"]


async def test_one_ghost_request_at_two_nodes_at_once_is_applied_once(
    api: tuple[str, Database], db_settings: Settings
) -> None:
    """Ghost's client retries an attempt that timed out while the first may still be running,
    and a load balancer may send the retry to another node: one of them applies it."""
    base, db = api
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    async with node(db_settings) as other:
        answers = await asyncio.gather(
            *(
                call("POST", f"{url}/api/hooks/ghost", headers=captured, data=published)
                for url in (base, other, base, other)
            )
        )
    outcomes = sorted(str(answer.get("outcome", answer.get("status"))) for _, _, answer in answers)
    assert outcomes == ["created", "duplicate", "duplicate", "duplicate"], answers
    assert await count(db, articles) == 1


async def test_a_respelled_ghost_signature_is_still_a_replay(api: tuple[str, Database]) -> None:
    """The HMAC is compared in any case and the fields in any order: the replay key is the HMAC
    itself, not the header's spelling (a respelled header was a new request to the guard)."""
    base, db = api
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    url = f"{base}/api/hooks/ghost"
    status, _, _ = await call("POST", url, headers=captured, data=published)
    assert status == 201
    status, _ = await ghost(base, ghost_event("post.deleted"))
    assert status == 200
    signature, stamp = captured["X-Ghost-Signature"].split(", ")
    respelled = {**captured, "X-Ghost-Signature": f"{stamp},SHA256={signature[7:].upper()}"}
    status, _, again = await call("POST", url, headers=respelled, data=published)
    assert (status, again.get("status")) == (200, "duplicate"), again
    assert await db_statuses(db) == ["retracted"]


async def test_a_ghost_request_that_failed_is_applied_when_retried(
    api: tuple[str, Database],
) -> None:
    """Not applied, not remembered: Ghost retries the same bytes, and a "duplicate" 200 would
    tell it that an event nobody applied was delivered."""
    base, _ = api
    body = json.dumps(ghost_event("post.published", published_at="9999-12-31T23:59:59-23:59"))
    headers = ghost_headers(body.encode())
    for _attempt in range(2):
        status, _, answer = await call(
            "POST", f"{base}/api/hooks/ghost", headers=headers, data=body.encode()
        )
        assert status == 422, answer


async def test_a_ghost_request_whose_claim_a_dead_process_left_is_applied_when_retried(
    api: tuple[str, Database],
) -> None:
    """A node claimed the request and died before applying it: while its claim may still be
    an apply in progress, a retry is a duplicate; once the claim's lease has run out, Ghost's
    retry of the same bytes is applied (not answered "duplicate" for the whole window)."""
    base, db = api
    published = json.dumps(ghost_event("post.published")).encode()
    captured = ghost_headers(published)
    digest = ghost_replay_key(captured["X-Ghost-Signature"])
    url = f"{base}/api/hooks/ghost"
    async with db.begin() as conn:  # claimed just now, never applied
        await replays.claim(conn, digest, now=datetime.now(UTC), lease=CLAIM_LEASE)
    status, _, again = await call("POST", url, headers=captured, data=published)
    assert (status, again.get("status")) == (200, "duplicate"), again
    async with db.begin() as conn:  # the same claim, its lease run out
        await conn.execute(
            update(signatures_seen).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    status, _, applied = await call("POST", url, headers=captured, data=published)
    assert (status, applied.get("outcome")) == (201, "created"), applied
    status, _, again = await call("POST", url, headers=captured, data=published)
    assert (status, again.get("status")) == (200, "duplicate"), again
    assert await count(db, articles) == 1


async def db_statuses(db: Database) -> list[str]:
    async with db.connect() as conn:
        return list((await conn.execute(select(articles.c.status))).scalars())


async def test_the_ghost_hook_is_off_without_a_secret(
    db_settings: Settings, db: Database, port: int
) -> None:
    app = create_app(db_settings, db=db, roles={"web"}, migrate=False)
    async with serve_app(app, port) as base:
        body = json.dumps(ghost_event("post.published")).encode()
        status, _, answer = await call(
            "POST", f"{base}/api/hooks/ghost", headers=ghost_headers(body), data=body
        )
    assert status == 403
    assert "admin.ghost_secret" in answer["detail"]


async def status_of_raw(base: str, head: bytes, body: bytes = b"{}") -> bytes:
    """The status line of a request written byte for byte (aiohttp's client would not send
    a header value that is not UTF-8)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        head + b"\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    await writer.drain()
    line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return line.split(b" ", 2)[1]


@pytest.mark.parametrize(
    "request_head",
    [
        b"POST /api/hooks/ghost HTTP/1.1\r\nX-Ghost-Signature: sha256=\xc3\xa9, t=1",
        b"POST /api/hooks/ghost HTTP/1.1\r\nX-Ghost-Signature: sha256=\xff, t=1",
        b"POST /api/articles HTTP/1.1\r\nAuthorization: Bearer \xff",
        b"GET /api/articles HTTP/1.1\r\nAuthorization: Bearer test-token-\xff",
    ],
)
async def test_credentials_that_are_not_ascii_are_refused_not_a_crash(
    api: tuple[str, Database], request_head: bytes
) -> None:
    """An unauthenticated request with a non-ASCII signature or token got a 500 (TypeError
    in compare_digest, UnicodeEncodeError for bytes that are not UTF-8), not a 401."""
    base, _ = api
    assert await status_of_raw(base, request_head) == b"401"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        # A stray control character leading Ghost's html: lxml raised ValueError (a 500, which
        # Ghost retries as a failure).
        ({"html": "\x01Atap \x0bambruk.<p>Warga\x00 mengungsi.</p>"}, 201),
        # Valid ISO 8601 that has no UTC datetime: OverflowError in the store (a 500).
        ({"published_at": "9999-12-31T23:59:59-23:59"}, 422),
    ],
)
async def test_odd_ghost_posts_get_an_answer_not_a_server_error(
    api: tuple[str, Database], overrides: dict[str, Any], status: int
) -> None:
    base, _ = api
    got, answer = await ghost(base, ghost_event("post.published", **overrides))
    assert got == status, answer


async def test_a_signed_ghost_body_with_a_huge_number_is_a_400(api: tuple[str, Database]) -> None:
    base, _ = api
    body = b'{"post": {"current": {"id": 1' + b"0" * 5000 + b"}}}"
    status, headers, answer = await call(
        "POST", f"{base}/api/hooks/ghost", headers=ghost_headers(body), data=body
    )
    assert status == 400, answer
    assert headers["Content-Type"].startswith("application/problem+json")
