"""Signed requests already applied, in the database so that every node and restart shares them.

    verified request | claim(digest): INSERT ... ON CONFLICT DO NOTHING, committed, held for a
                       short lease; or take over a row whose lease ran out (an abandoned claim)
        | claimed: this node applies it
            | applied: confirm() keeps the row for the whole window: a retry is a duplicate
            | refused or failed: release(), so that the sender's retry is applied
        | not claimed: applied already, or being applied by another node -> a duplicate
    housekeeping | prune(): rows past expires_at

The claim commits before the request is applied, so two nodes given the same request at once
apply it once. A process that dies between claim and apply leaves its claim behind; the lease
bounds how long: once it has run out, a retry of those very bytes takes the claim over and is
applied, instead of being answered as a duplicate until the window ends. The lease must outlast
any apply (an apply still running when it ends could be overtaken by a retry).
siarkan.replays.ReplayGuard is the per-process variant the inbox uses: its activities are
deduplicated by id in inbox_seen, so a replayed signature there changes nothing anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.tables import signatures_seen


def signature_digest(scheme: str, signature: str) -> str:
    """The key of a signature: hashed, so the table holds nothing a replay could reuse, and
    prefixed by its scheme so that two kinds of signature never share a key."""
    return hashlib.sha256(f"{scheme}:{signature}".encode()).hexdigest()


async def claim(conn: AsyncConnection, digest: str, *, now: datetime, lease: timedelta) -> bool:
    """True for the first claim of `digest`, or for taking over one whose lease has run out;
    False while an earlier claim holds, or once it was confirmed, until its window ends.

    A row past expires_at that housekeeping has not pruned yet is taken over: a confirmed row
    expires when its signature is refused as stale anyway.
    """
    expires_at = now + lease
    result = await conn.execute(
        insert_ignore(conn, signatures_seen, ["digest"]).values(
            digest=digest, expires_at=expires_at
        )
    )
    if result.rowcount == 1:
        return True
    # Conditional on the row's own expiry: of two nodes taking over at once, one updates it.
    result = await conn.execute(
        update(signatures_seen)
        .where(signatures_seen.c.digest == digest, signatures_seen.c.expires_at <= now)
        .values(expires_at=expires_at)
    )
    return bool(result.rowcount == 1)


async def confirm(conn: AsyncConnection, digest: str, *, now: datetime, window: timedelta) -> None:
    """The claimed request was applied: keep its digest until `window` from now."""
    await conn.execute(
        update(signatures_seen)
        .where(signatures_seen.c.digest == digest)
        .values(expires_at=now + window)
    )


async def release(conn: AsyncConnection, digest: str) -> None:
    """Forget a claim whose request was not applied, so that the sender's retry is."""
    await conn.execute(delete(signatures_seen).where(signatures_seen.c.digest == digest))


async def prune(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(signatures_seen).where(signatures_seen.c.expires_at <= now))
    return int(result.rowcount)
