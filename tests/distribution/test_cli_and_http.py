"""`siarkan deliveries / retry / hosts`, /metrics gauges and the FEP-8fcf partial collection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert, select

from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.breaker import HostHealth
from siarkan.federation.keys import KeyPair, parse_private_key
from siarkan.federation.signatures import sign_cavage
from siarkan.store.db import Database
from siarkan.store.tables import deliveries, remote_actors
from siarkan.urls import followers_sync_url
from siarkan.web.app import create_app
from tests.distribution.conftest import (
    add_activity,
    add_follower,
    queue_activity,
    seed_actor,
)
from tests.distribution.servers import Inbox, Reply
from tests.helpers import serve_app

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


async def run(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    ctx = CliContext(settings=settings, config_path=Path("t.yaml"), clock=ManualClock(NOW))
    code: int = await args.handler(args, ctx)
    return code


async def seed_queue(db: Database) -> None:
    rows = [
        {
            "kind": "websub",
            "target": f"http://{h}/cb",
            "host": h,
            "shared": False,
            "state": state,
            "attempts": tries,
            "due_at": NOW,
            "created_at": NOW,
            "last_status": status,
            "last_error": "HTTP 500" if status else None,
        }
        for h, state, tries, status in [
            ("a.example", "sent", 1, 200),
            ("b.example", "dead", 16, 500),
            ("b.example", "retrying", 3, 500),
            ("c.example", "pending", 0, None),
        ]
    ]
    async with db.begin() as conn:
        await conn.execute(insert(deliveries), rows)
        await queue.save_hosts(
            conn,
            [
                HostHealth(
                    "b.example",
                    consecutive_failures=5,
                    failure_days=("2026-11-27",),
                    breaker_open_until=NOW + timedelta(minutes=5),
                ),
                HostHealth("a.example", last_success_at=NOW, signature_scheme="rfc9421"),
            ],
        )


async def test_deliveries_list_filters(
    db: Database, db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_queue(db)
    assert await run(db_settings, "deliveries", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 4
    assert await run(db_settings, "deliveries", "--status", "failed", "--json") == 0
    failed = json.loads(capsys.readouterr().out)
    assert sorted(d["state"] for d in failed) == ["dead", "retrying"]
    assert all(d["status"] == d["state"] for d in failed)
    assert await run(db_settings, "deliveries", "--status", "dead", "--limit", "1") == 0
    out = capsys.readouterr().out
    assert "dead" in out and "http://b.example/cb" in out and "HTTP 500" in out


async def test_retry_dead(
    db: Database, db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_queue(db)
    async with db.connect() as conn:
        dead = await conn.scalar(select(deliveries.c.id).where(deliveries.c.state == "dead"))
        sent = await conn.scalar(select(deliveries.c.id).where(deliveries.c.state == "sent"))
    assert await run(db_settings, "retry", "--id", str(sent)) == 1  # only dead rows
    assert f"delivery {sent} not queued again: it is sent" in capsys.readouterr().err
    assert await run(db_settings, "retry", "--id", "99999") == 1
    assert "delivery 99999 not queued again: no such delivery" in capsys.readouterr().err
    assert await run(db_settings, "retry", "--id", str(dead)) == 0
    assert "1 dead delivery queued again" in capsys.readouterr().out
    async with db.connect() as conn:
        row = (
            (await conn.execute(select(deliveries).where(deliveries.c.id == dead))).mappings().one()
        )
    assert (row["state"], row["attempts"], row["due_at"]) == ("pending", 0, NOW)
    assert await run(db_settings, "retry", "--all-dead") == 0
    assert "0 dead deliveries" in capsys.readouterr().out


async def test_bare_retry_requeues_every_dead_delivery(
    db: Database, db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_queue(db)
    assert await run(db_settings, "retry", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"requeued": 1, "ids": None}
    async with db.connect() as conn:
        states = (await conn.scalars(select(deliveries.c.state))).all()
    assert sorted(states) == ["pending", "pending", "retrying", "sent"]
    assert await run(db_settings, "retry") == 0
    assert "0 dead deliveries queued again" in capsys.readouterr().out
    assert await run(db_settings, "retry", "1", "--all-dead") == 2


async def test_hosts(
    db: Database, db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_queue(db)
    assert await run(db_settings, "hosts", "--json") == 0
    listed = {h["host"]: h for h in json.loads(capsys.readouterr().out)}
    assert listed["b.example"]["state"] == "open"
    assert listed["b.example"]["waiting"] == {"retrying": 1}
    assert listed["a.example"]["state"] == "ok"
    assert listed["a.example"]["signature_scheme"] == "rfc9421"
    assert listed["c.example"]["state"] == "ok" and listed["c.example"]["waiting"] == {"pending": 1}
    assert await run(db_settings, "hosts") == 0
    assert "held until" in capsys.readouterr().out


async def test_metrics_show_queue_and_outcomes(
    db: Database,
    db_settings: Settings,
    port: int,
    key_pair: KeyPair,
) -> None:
    await seed_actor(db, db_settings, key_pair)
    activity = await add_activity(db, db_settings)
    inbox = Inbox()
    inbox.script["/gone"] = [Reply(503)]
    async with inbox.running():
        await queue_activity(
            db, activity, [inbox.url("/ok"), inbox.url("/gone")], datetime.now(UTC)
        )
        app = create_app(db_settings, db=db, roles=("web", "worker"))
        async with serve_app(app, port) as base, aiohttp.ClientSession() as http:
            for _ in range(100):
                async with http.get(base + "/metrics") as response:
                    text = await response.text()
                if 'siarkan_delivery_queue_depth{state="retrying"} 1.0' in text:
                    break
                import asyncio

                await asyncio.sleep(0.05)
    assert 'siarkan_delivery_queue_depth{state="sent"} 1.0' in text
    assert 'siarkan_delivery_queue_depth{state="retrying"} 1.0' in text
    assert 'siarkan_deliveries_total{kind="activitypub",outcome="sent"} 1.0' in text
    assert 'siarkan_deliveries_total{kind="activitypub",outcome="retrying"} 1.0' in text
    assert f'siarkan_delivery_host_failures_total{{host="127.0.0.1:{inbox.port}"}} 1.0' in text
    assert "siarkan_delivery_oldest_pending_seconds 0.0" in text  # the retry is not due yet
    assert "siarkan_delivery_seconds_count" in text


async def test_partial_followers_collection_needs_a_signature_from_that_domain(
    db: Database,
    db_settings: Settings,
    port: int,
    key_pair: KeyPair,
) -> None:
    now = datetime.now(UTC)
    await seed_actor(db, db_settings, key_pair)
    for uri in ("https://m.example/users/b", "https://m.example/users/a", "https://x.example/u/c"):
        await add_follower(db, "utama", uri, uri + "/inbox", None, now)
    # The requesting instance's key, as the federation's key cache would hold it.
    remote_key = "https://m.example/actor#main-key"
    async with db.begin() as conn:
        await conn.execute(
            insert(remote_actors).values(
                uri="https://m.example/actor",
                key_id=remote_key,
                public_key_pem=key_pair.public_pem,
                inbox="https://m.example/inbox",
                document={
                    "id": "https://m.example/actor",
                    "type": "Application",
                    "inbox": "https://m.example/inbox",
                    "publicKey": {
                        "id": remote_key,
                        "owner": "https://m.example/actor",
                        "publicKeyPem": key_pair.public_pem,
                    },
                },
                fetched_at=now,
            )
        )
    url = followers_sync_url(db_settings, "utama", "m.example")
    app = create_app(db_settings, db=db, roles=("web",))
    async with serve_app(app, port), aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 401
        key = parse_private_key(key_pair.private_pem)
        headers = sign_cavage(
            "GET", url, {"Accept": "application/activity+json"}, None, remote_key, key, now
        )
        async with http.get(
            url, headers={"Accept": "application/activity+json", **headers}
        ) as response:
            assert response.status == 200, await response.text()
            document = await response.json(content_type=None)
        other = followers_sync_url(db_settings, "utama", "x.example")
        headers = sign_cavage("GET", other, {}, None, remote_key, key, now)
        async with http.get(other, headers=headers) as response:
            assert response.status == 401  # m.example may not read x.example's list
    assert document["type"] == "OrderedCollection"
    assert document["orderedItems"] == ["https://m.example/users/a", "https://m.example/users/b"]
    assert document["id"] == url
