"""Signed requests already applied, in the database so that every node and restart shares them.

    verified request | claim(digest): INSERT ... ON CONFLICT DO NOTHING, committed
        | inserted: this node applies it (release() if that fails, so the sender's retry counts)
        | not inserted: applied already, or being applied by another node -> a duplicate
    housekeeping | prune(): rows past expires_at

The claim commits before the request is applied, so two nodes given the same request at once
apply it once. The cost: a process that dies between claim and apply leaves the claim, and a
retry of those very bytes is answered as a duplicate (the sender's next, newly signed event is
not). siarkan.replays.ReplayGuard is the per-process variant the inbox uses: its activities are
deduplicated by id in inbox_seen, so a replayed signature there changes nothing anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.tables import signatures_seen


def signature_digest(scheme: str, signature: str) -> str:
    """The key of a signature: hashed, so the table holds nothing a replay could reuse, and
    prefixed by its scheme so that two kinds of signature never share a key."""
    return hashlib.sha256(f"{scheme}:{signature}".encode()).hexdigest()


async def claim(conn: AsyncConnection, digest: str, *, now: datetime, window: timedelta) -> bool:
    """True for the first claim of `digest`; False while an earlier one is kept.

    A row past expires_at that housekeeping has not pruned yet still counts: the window is
    chosen so that its signature is refused as stale before then.
    """
    result = await conn.execute(
        insert_ignore(conn, signatures_seen, ["digest"]).values(
            digest=digest, expires_at=now + window
        )
    )
    return bool(result.rowcount == 1)


async def release(conn: AsyncConnection, digest: str) -> None:
    """Forget a claim whose request was not applied, so that the sender's retry is."""
    await conn.execute(delete(signatures_seen).where(signatures_seen.c.digest == digest))


async def prune(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(signatures_seen).where(signatures_seen.c.expires_at <= now))
    return int(result.rowcount)
