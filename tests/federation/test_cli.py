"""`siarkan followers ...` and `siarkan keys rotate` against a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.config import Settings
from siarkan.federation.keys import ensure_actors
from siarkan.store.db import Database
from siarkan.store.tables import activities, actors, deliveries, followers


async def run(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    code: int = await args.handler(args, CliContext(settings=settings, config_path=Path("t.yaml")))
    return code


async def seed(db: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
        for n, state in enumerate(["accepted", "pending", "accepted"]):
            await conn.execute(
                insert(followers).values(
                    actor_name="utama", follower_uri=f"https://m{n}.example/u", state=state,
                    inbox=f"https://m{n}.example/u/inbox", shared_inbox=None,
                    host=f"m{n}.example", follow_activity_id=f"https://m{n}.example/u#f",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip


async def test_followers_list_json(
    db: Database, db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(db, db_settings)
    assert await run(db_settings, "followers", "list", "--actor", "utama", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(f["state"] for f in listed) == ["accepted", "accepted", "pending"]
    assert await run(db_settings, "followers", "list", "--state", "pending", "--json") == 0
    (pending,) = json.loads(capsys.readouterr().out)
    assert pending["follower"] == "https://m1.example/u"
    assert await run(db_settings, "followers", "list", "--actor", "nope") == 2


async def test_reject_a_held_request_and_refuse_to_reject_twice(
    db: Database, db_settings: Settings
) -> None:
    await seed(db, db_settings)
    assert await run(db_settings, "followers", "reject", "--actor", "utama",
                     "https://m1.example/u") == 0  # fmt: skip
    assert await run(db_settings, "followers", "reject", "--actor", "utama",
                     "https://m1.example/u") == 1  # fmt: skip
    async with db.connect() as conn:
        (activity,) = (await conn.execute(select(activities))).mappings().all()
        (delivery,) = (await conn.execute(select(deliveries))).mappings().all()
    body = json.loads(activity["body"])
    assert body["type"] == "Reject" and body["object"]["id"] == "https://m1.example/u#f"
    assert delivery["target"] == "https://m1.example/u/inbox"


async def test_key_rotation_sends_update_to_followers(db: Database, db_settings: Settings) -> None:
    await seed(db, db_settings)
    async with db.connect() as conn:
        before = await conn.scalar(select(actors.c.public_key_pem).where(actors.c.name == "utama"))
    assert await run(db_settings, "keys", "rotate", "--actor", "utama") == 0
    async with db.connect() as conn:
        after = await conn.scalar(select(actors.c.public_key_pem).where(actors.c.name == "utama"))
        (activity,) = (await conn.execute(select(activities))).mappings().all()
        targets = set((await conn.execute(select(deliveries.c.target))).scalars())
    assert after != before
    body = json.loads(activity["body"])
    assert body["type"] == "Update" and body["object"]["type"] == "Organization"
    assert body["object"]["publicKey"]["publicKeyPem"] == after
    assert targets == {"https://m0.example/u/inbox", "https://m2.example/u/inbox"}  # not pending
    assert await run(db_settings, "keys", "rotate", "--actor", "nope") == 2
    # The account as followers know it works as well as the channel's name.
    handle = f"@{db_settings.channel('utama').fediverse.username}@{db_settings.site.host}"
    assert await run(db_settings, "keys", "rotate", "--actor", handle) == 0
    async with db.connect() as conn:
        third = await conn.scalar(select(actors.c.public_key_pem).where(actors.c.name == "utama"))
    assert third != after
