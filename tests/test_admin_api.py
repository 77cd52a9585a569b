"""The admin API over real loopback HTTP, on SQLite and PostgreSQL: a CMS webhook pushes
reports in (one or a batch), bad ones are refused with every reason, retraction federates."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from siarkan.config import Settings
from siarkan.store.db import Database
from siarkan.store.tables import activities, articles, posts
from siarkan.web.app import create_app
from tests.helpers import PARAGRAPHS, serve_app

TOKEN = {"Authorization": "Bearer test-token-123"}
JSON_BODY = {**TOKEN, "Content-Type": "application/json"}  # for raw bytes (aiohttp's json= sets it)
SAMPLE = Path(__file__).parent.parent / "samples" / "siswa-belajar-di-tenda-lebak.json"


def report(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Banjir Rendam 1.250 Rumah di Kabupaten Serang",
        "body_text": "SERANG, PROLOGMEDIA – " + "\n\n".join(PARAGRAPHS),
        "section": "Banten",
        "tags": ["banjir", "BPBD"],
        "authors": ["Ahmad Fauzi"],
        "canonical_url": "https://prologmedia.example/banten/banjir-serang",
    }
    data.update(overrides)
    return data


@pytest.fixture
async def api(
    db_settings: Settings, db: Database, port: int
) -> AsyncIterator[tuple[str, Database]]:
    app = create_app(db_settings, db=db, roles={"web"}, migrate=False)
    async with serve_app(app, port) as base:
        yield base, db


async def call(
    method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, **kwargs) as response,
    ):
        raw = await response.read()
        is_json = "json" in response.headers.get("Content-Type", "")
        return response.status, dict(response.headers), json.loads(raw) if is_json else raw


async def test_post_creates_then_unchanged_then_updated(api: tuple[str, Database]) -> None:
    base, db = api
    status, headers, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    assert status == 201, body
    assert body["outcome"] == "created"
    article = body["article"]
    assert article["dateline"] == "SERANG, PROLOGMEDIA"
    assert article["paragraphs"][0].startswith("Pemerintah Kabupaten Serang")
    assert headers["Location"] == f"/api/articles/{article['id']}"

    status, _, again = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    assert (status, again["outcome"], again["article"]["id"]) == (200, "unchanged", article["id"])

    edited = report(title="Banjir Rendam 1.300 Rumah di Kabupaten Serang")
    status, _, updated = await call("POST", f"{base}/api/articles", headers=TOKEN, json=edited)
    assert (status, updated["outcome"]) == (200, "updated")
    assert updated["article"]["slug"] == article["slug"], "an edited headline keeps its permalink"

    # Publishing ran in the same transaction: the fediverse posts exist, and the page serves it.
    async with db.connect() as conn:
        count = (
            await conn.execute(
                select(func.count()).select_from(posts).where(posts.c.article_id == article["id"])
            )
        ).scalar_one()
    assert count >= 1
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}/artikel/{article['slug']}") as page,
    ):
        assert page.status == 200
        assert "1.300 Rumah" in await page.text()

    status, _, fetched = await call("GET", f"{base}/api/articles/{article['slug']}", headers=TOKEN)
    assert status == 200 and fetched["title"].startswith("Banjir Rendam 1.300")
    status, _, listing = await call("GET", f"{base}/api/articles?status=published", headers=TOKEN)
    assert status == 200 and [item["id"] for item in listing["items"]] == [article["id"]]


async def test_the_shipped_sample_is_accepted(api: tuple[str, Database]) -> None:
    base, _ = api
    payload = json.loads(SAMPLE.read_text(encoding="utf-8"))
    status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=payload)
    assert status == 201, body
    assert not any("Baca Juga" in p for p in body["article"]["paragraphs"])
    assert body["article"]["related"], "the Baca Juga block is kept as data"


async def test_invalid_article_lists_every_reason_and_stores_nothing(
    api: tuple[str, Database],
) -> None:
    base, db = api
    bad = report(title="", image={"url": "not a url"}, published_at="kemarin", colour="red")
    status, headers, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=bad)
    assert status == 422
    assert headers["Content-Type"].startswith("application/problem+json")
    locs = {error["loc"] for error in body["errors"]}
    assert {"title", "image.url", "published_at", "colour"} <= locs, body
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(articles))).scalar_one() == 0


async def test_batch_stores_the_good_and_reports_the_bad(api: tuple[str, Database]) -> None:
    base, db = api
    batch = [
        report(),
        {"title": "Tanpa isi"},
        report(title="Festival Kopi Pandeglang", canonical_url="https://prologmedia.example/kopi"),
    ]
    status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=batch)
    assert status == 200
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "retracted": 0,
        "absent": 0,
        "ignored": 0,
    }
    rejected = body["results"][1]
    assert rejected["outcome"] == "rejected"
    assert rejected["errors"][0]["loc"].startswith("[1].")
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(articles))).scalar_one() == 2


async def test_delete_retracts_and_federates_a_delete(api: tuple[str, Database]) -> None:
    base, db = api
    _, _, created = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    article_id = created["article"]["id"]
    status, _, body = await call("DELETE", f"{base}/api/articles/{article_id}", headers=TOKEN)
    assert (status, body["article"]["status"]) == (200, "retracted")
    status, _, _ = await call("GET", f"{base}/artikel/{created['article']['slug']}")
    assert status == 410
    async with db.connect() as conn:
        kinds = (
            (await conn.execute(select(activities.c.type).order_by(activities.c.id)))
            .scalars()
            .all()
        )
    assert "Delete" in kinds, kinds
    status, _, _ = await call("DELETE", f"{base}/api/articles/tidak-ada", headers=TOKEN)
    assert status == 404


async def test_the_same_report_pushed_after_a_delete_is_published_again(
    api: tuple[str, Database],
) -> None:
    """retract_article changes the status, not the hash of what was imported: the same body
    pushed again must not be "unchanged" (it stayed retracted, and followers never saw it)."""
    base, db = api
    _, _, created = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    article = created["article"]
    await call("DELETE", f"{base}/api/articles/{article['id']}", headers=TOKEN)
    status, _, again = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    assert (status, again["outcome"], again["article"]["status"]) == (200, "updated", "published")
    status, _, _ = await call("GET", f"{base}/artikel/{article['slug']}")
    assert status == 200
    status, _, same = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    assert (status, same["outcome"]) == (200, "unchanged")
    async with db.connect() as conn:
        sent = (
            await conn.execute(
                select(activities.c.type, activities.c.object_uri).order_by(activities.c.id)
            )
        ).all()
    first = {uri for kind, uri in sent if kind == "Create"}
    deleted = {uri for kind, uri in sent if kind == "Delete"}
    assert deleted and deleted < first  # Create, Delete, then Create of new posts
    assert [kind for kind, _ in sent][-len(first - deleted) :] == ["Create"] * len(first - deleted)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic x"}, 401)],
)
async def test_requests_without_the_token_are_refused(
    api: tuple[str, Database], headers: dict[str, str], expected: int
) -> None:
    base, db = api
    status, response_headers, body = await call(
        "POST", f"{base}/api/articles", headers=headers, json=report()
    )
    assert status == expected and body["status"] == expected
    assert response_headers["WWW-Authenticate"].startswith("Bearer")
    status, _, _ = await call("GET", f"{base}/api/articles", headers=headers)
    assert status == expected
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(articles))).scalar_one() == 0


async def test_body_limits_and_broken_json(db_settings: Settings, db: Database, port: int) -> None:
    small = db_settings.model_copy(
        update={"admin": db_settings.admin.model_copy(update={"max_body_bytes": 1024})}
    )
    app = create_app(small, db=db, roles={"web"}, migrate=False)
    async with serve_app(app, port) as base:
        status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
        assert status == 413 and "1024" in body["detail"]

        # Chunked (no Content-Length): the bound holds while reading, too.
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b" " * 1000

        status, _, body = await call(
            "POST", f"{base}/api/articles", headers=JSON_BODY, data=chunks()
        )
        assert status == 413

        status, _, body = await call(
            "POST",
            f"{base}/api/articles",
            headers=JSON_BODY,
            data=b'{"title": "x",\n "body_text": }',
        )
        assert status == 400 and "line 2" in body["detail"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",  # what `curl -d` sends unless told otherwise
        "application/octet-stream",  # what aiohttp's client sends for raw bytes
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=x",
    ],
)
async def test_a_body_that_is_not_json_is_415_before_anything_is_read(
    api: tuple[str, Database], content_type: str
) -> None:
    base, db = api
    body = json.dumps(report()).encode()
    headers = {**TOKEN, "Content-Type": content_type}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/api/articles", data=body, headers=headers) as response,
    ):
        assert response.status == 415
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["Accept-Post"] == "application/json"
        problem = await response.json(content_type=None)
    assert problem["title"] == "Unsupported media type" and problem["status"] == 415
    assert "Content-Type: application/json" in problem["detail"]
    assert content_type in problem["detail"]
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(articles))).scalar_one() == 0
    # The token is checked first: a stranger learns nothing about the body rules.
    status, _, _ = await call("POST", f"{base}/api/articles", data=body)
    assert status == 401


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.cms+json",
    ],
)
async def test_json_media_types_are_accepted(api: tuple[str, Database], content_type: str) -> None:
    base, _ = api
    headers = {**TOKEN, "Content-Type": content_type}
    body = json.dumps(report()).encode()
    status, _, answer = await call("POST", f"{base}/api/articles", headers=headers, data=body)
    assert status == 201, answer


async def test_a_body_sent_without_a_content_type_is_read_as_json(
    api: tuple[str, Database],
) -> None:
    # Simple webhook senders omit the header: the body decides (JSON: stored; else 400).
    base, _ = api
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session:
        for body, expected in ((json.dumps(report()).encode(), 201), (b"judul=Banjir", 400)):
            async with session.post(f"{base}/api/articles", data=body, headers=TOKEN) as response:
                assert response.status == expected, await response.text()


async def test_admin_api_is_off_without_a_token(
    db_settings: Settings, db: Database, port: int
) -> None:
    off = db_settings.model_copy(
        update={"admin": db_settings.admin.model_copy(update={"token": None})}
    )
    app = create_app(off, db=db, roles={"web"}, migrate=False)
    async with serve_app(app, port) as base:
        status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
    assert status == 403 and "admin.token" in body["detail"]


async def test_openapi_describes_the_same_model(api: tuple[str, Database]) -> None:
    base, _ = api
    status, _, spec = await call("GET", f"{base}/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    schema = spec["components"]["schemas"]["ArticleIn"]
    assert "title" in schema["required"]
    assert {"body_html", "body_text", "paragraphs", "publish_at"} <= set(schema["properties"])
    # Every $ref points at a component that exists.
    refs = {ref for ref in _refs(spec)}
    names = {f"#/components/schemas/{name}" for name in spec["components"]["schemas"]}
    assert refs <= names, refs - names


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_a_pushed_article_reaches_followers_without_waiting_for_a_poll(
    db_settings: Settings, db: Database, port: int
) -> None:
    """The API commits the deliveries and wakes this process's worker: a follower's inbox gets
    the thread at once, not at the next poll (set to a minute here)."""
    import asyncio
    from datetime import UTC, datetime

    from siarkan.federation.keys import ensure_actors
    from tests.distribution.conftest import add_follower
    from tests.distribution.servers import Inbox

    settings = db_settings.model_copy(
        update={"delivery": db_settings.delivery.model_copy(update={"poll_interval": 60.0})}
    )
    inbox = Inbox()
    now = datetime.now(UTC)
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    await add_follower(
        db, "utama", inbox.url("/users/ani"), inbox.url("/users/ani/inbox"), None, now
    )
    app = create_app(settings, db=db, roles={"web", "worker"}, migrate=False)
    async with inbox.running(), serve_app(app, port) as base:
        await asyncio.sleep(0.5)  # the worker's first look at the (empty) queue
        status, _, _ = await call("POST", f"{base}/api/articles", headers=TOKEN, json=report())
        assert status == 201
        for _ in range(100):
            if inbox.hits("/users/ani/inbox"):
                break
            await asyncio.sleep(0.05)
    first = inbox.hits("/users/ani/inbox")
    assert first, "nothing delivered within 5 s although the poll interval is 60 s"
    assert json.loads(first[0].body)["type"] == "Create"


async def test_a_taken_canonical_url_is_a_conflict_not_a_server_error(
    api: tuple[str, Database],
) -> None:
    """Moving article x onto the canonical_url of article y broke the unique constraint: a
    plain-text 500, and in a batch every item after it was dropped without a word."""
    base, db = api
    x = report(id="art-x", canonical_url="https://prologmedia.example/x")
    y = report(id="art-y", title="Festival Kopi", canonical_url="https://prologmedia.example/y")
    for item in (x, y):
        status, _, _ = await call("POST", f"{base}/api/articles", headers=TOKEN, json=item)
        assert status == 201
    moved = {**x, "canonical_url": y["canonical_url"]}
    status, headers, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=moved)
    assert status == 409, body
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["detail"].startswith("canonical_url already belongs"), body

    later = report(
        id="art-z", title="Jembatan Putus", canonical_url="https://prologmedia.example/z"
    )
    status, _, body = await call("POST", f"{base}/api/articles", headers=TOKEN, json=[moved, later])
    assert status == 200, body
    assert body["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "retracted": 0,
        "absent": 0,
        "ignored": 0,
    }
    assert body["results"][0]["errors"][0]["loc"].startswith("[0]")
    async with db.connect() as conn:
        stored = dict((await conn.execute(select(articles.c.id, articles.c.canonical_url))).all())
    assert stored["art-x"] == x["canonical_url"] and "art-z" in stored


async def test_hostile_json_and_queries_get_problems_not_server_errors(
    api: tuple[str, Database],
) -> None:
    base, _ = api
    nested = b"[" * 100_000 + b"]" * 100_000  # 200 kB, under max_body_bytes
    status, headers, body = await call(
        "POST", f"{base}/api/articles", headers=JSON_BODY, data=nested
    )
    assert status == 400 and headers["Content-Type"].startswith("application/problem+json")
    status, _, body = await call(
        "GET", f"{base}/api/articles?offset=99999999999999999999999", headers=TOKEN
    )
    assert status == 200 and body["items"] == [], body


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        # int() refuses more than 4300 digits (CVE-2020-10735): a ValueError json.loads let out.
        (b'{"title": "x", "body_text": "y", "image": {"url": "https://e.x/a.jpg", "width": 1'
         + b"0" * 5000 + b"}}", 400),
        # Valid ISO 8601, but past datetime.max (or before datetime.min) once in UTC.
        (b'{"title": "x", "body_text": "y", "published_at": "9999-12-31T23:59:59-23:59"}', 422),
        (b'{"title": "x", "body_text": "y", "publish_at": "0001-01-01T00:00:00"}', 422),
        # Characters XML 1.0 forbids, leading a body_html: lxml raised ValueError.
        (b'{"title": "x", "body_html": "\\u0001y \\u000bz <p>w\\u0000</p>"}', 201),
    ],
)  # fmt: skip
async def test_odd_json_gets_an_answer_not_a_server_error(
    api: tuple[str, Database], raw: bytes, status: int
) -> None:
    base, _ = api
    got, headers, body = await call("POST", f"{base}/api/articles", headers=JSON_BODY, data=raw)
    assert got == status, body
    if status == 201:
        assert body["article"]["paragraphs"] == ["y z", "w"]
    else:
        assert headers["Content-Type"].startswith("application/problem+json")


async def test_openapi_documents_every_status_an_operation_answers(
    api: tuple[str, Database],
) -> None:
    base, _ = api
    _, _, spec = await call("GET", f"{base}/api/openapi.json")
    ops = spec["paths"]
    for path, method in [
        ("/api/articles", "post"),
        ("/api/articles", "get"),
        ("/api/articles/{key}", "get"),
        ("/api/articles/{key}", "delete"),
    ]:
        assert {"401", "403"} <= set(ops[path][method]["responses"]), (path, method)
    assert "400" in ops["/api/articles"]["get"]["responses"]  # ?status=AAA
    assert "409" in ops["/api/articles"]["post"]["responses"]  # a taken canonical_url
    assert {"400", "413", "415"} <= set(ops["/api/hooks/ghost"]["post"]["responses"])
    # An empty batch is a 422: the schema must not call [] valid.
    batch = ops["/api/articles"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["oneOf"][1]["minItems"] == 1
    status, _, _ = await call("POST", f"{base}/api/articles", headers=TOKEN, json=[])
    assert status == 422


async def test_the_bearer_scheme_is_case_insensitive(api: tuple[str, Database]) -> None:
    base, _ = api
    lower = {"Authorization": "bearer test-token-123"}
    status, _, body = await call("GET", f"{base}/api/articles", headers=lower)
    assert status == 200, body


async def test_api_outcomes_are_counted_in_metrics(api: tuple[str, Database]) -> None:
    """siarkan_articles_imported_total was declared but never incremented."""
    base, _ = api
    for payload in (report(), report(), {"title": "Tanpa isi"}):
        await call("POST", f"{base}/api/articles", headers=TOKEN, json=payload)
    status, _, text = await call("GET", f"{base}/metrics")
    assert status == 200
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in bytes(text).decode().splitlines()
        if line.startswith("siarkan_articles_imported_total{")
    }
    assert samples == {
        'siarkan_articles_imported_total{outcome="created"}': 1.0,
        'siarkan_articles_imported_total{outcome="unchanged"}': 1.0,
        'siarkan_articles_imported_total{outcome="rejected"}': 1.0,
    }, samples


async def test_a_body_longer_than_one_network_read_arrives_whole(
    api: tuple[str, Database],
) -> None:
    """A report over ~64 kB (a long report, or a WordPress post with _embed) is read to its
    end: StreamReader.read(n) returns what has arrived so far, not n bytes, and the cut body
    was refused as "Invalid JSON: Unterminated string"."""
    base, _ = api
    paragraphs = [f"{p} (Bagian {n}.)" for n in range(200) for p in PARAGRAPHS]
    payload = json.dumps(report(body_text="\n\n".join(paragraphs))).encode()
    assert 300_000 < len(payload) < 2_000_000  # under the default admin.max_body_bytes
    status, _, body = await call("POST", f"{base}/api/articles", headers=JSON_BODY, data=payload)
    assert status == 201, body
    assert len(body["article"]["paragraphs"]) == len(paragraphs)
