"""Cross-process "run once" for periodic jobs: a lease row per job in `job_leases`.

    take_job(name, every) -> True for exactly one caller per period, whatever the number of
    scheduler processes (one conditional UPDATE: the row's lease must have run out)

The same rows work on SQLite and PostgreSQL; a scheduler that dies while holding a job only
delays it until its lease ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.tables import job_leases


async def take_job(
    conn: AsyncConnection, name: str, *, holder: str, now: datetime, every: timedelta
) -> bool:
    await conn.execute(
        insert_ignore(conn, job_leases, ["name"]).values(
            name=name, holder=None, lease_until=None, last_run_at=None
        )
    )
    result = await conn.execute(
        update(job_leases)
        .where(
            job_leases.c.name == name,
            or_(job_leases.c.lease_until.is_(None), job_leases.c.lease_until <= now),
        )
        .values(holder=holder, lease_until=now + every, last_run_at=now)
    )
    return result.rowcount == 1
