"""A test-only delivery sender: claim pending ActivityPub deliveries, sign, POST, mark done.

The real worker (siarkan.distribution) adds retries, backoff, circuit breakers and double-knock;
this one exists so federation tests can see exactly what our rows produce on the wire, signed by
siarkan.federation.signatures, without depending on the worker's schedule.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from sqlalchemy import select, update

from siarkan.federation.keys import load_signing_key
from siarkan.federation.signatures import sign_cavage, sign_rfc9421
from siarkan.store.db import Database
from siarkan.store.tables import activities, deliveries


async def deliver_pending(
    db: Database, session: aiohttp.ClientSession, *, scheme: str = "cavage"
) -> list[tuple[str, str, int]]:
    """Send every pending activitypub delivery in id order; returns (type, target, status)."""
    sent: list[tuple[str, str, int]] = []
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.target,
                    deliveries.c.actor_name,
                    deliveries.c.after_id,
                    activities.c.body,
                    activities.c.type,
                )
                .join(activities, activities.c.id == deliveries.c.activity_id)
                .where(deliveries.c.kind == "activitypub", deliveries.c.state == "pending")
                .order_by(deliveries.c.id)
            )
        ).all()
        keys = {name: await load_signing_key(conn, name) for name in {r.actor_name for r in rows}}
    for row in rows:
        body = row.body.encode()
        key = keys[row.actor_name]
        base = {"Content-Type": "application/activity+json"}
        sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
        headers = {
            **base,
            **sign("POST", row.target, base, body, key.key_id, key.private_key, datetime.now(UTC)),
        }
        async with session.post(row.target, data=body, headers=headers) as response:
            await response.read()
            status = response.status
        async with db.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(
                    state="sent" if status < 300 else "failed",
                    last_status=status,
                    finished_at=datetime.now(UTC),
                )
            )
        sent.append((row.type, row.target, status))
    return sent
