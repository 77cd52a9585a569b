"""ETag / Last-Modified of the feeds and sitemaps `siarkan import` read (fetch_validators).

    load(url) -> Validators to send (If-None-Match / If-Modified-Since) | None
    save(url, Validators) after every page the document listed was handled
    save(url, None) when one failed: the next import reads the whole document again

(The source poller keeps its own in sources_state, next to its schedule.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.remote import Validators
from siarkan.federation.sqlutil import upsert
from siarkan.store.tables import fetch_validators

URL_MAX = 2000  # fetch_validators.url
ETAG_MAX = 500  # fetch_validators.etag and sources_state.etag
MODIFIED_MAX = 100


def storable(validators: Validators | None) -> Validators | None:
    """Validators that fit their columns: a longer one is dropped, not cut (a cut ETag would
    never match, and PostgreSQL refuses an over-long value outright)."""
    if validators is None:
        return None
    etag, modified = validators.etag, validators.last_modified
    kept = Validators(
        etag if etag and len(etag) <= ETAG_MAX else None,
        modified if modified and len(modified) <= MODIFIED_MAX else None,
    )
    return kept or None


async def load_validators(conn: AsyncConnection, url: str) -> Validators | None:
    row = (
        await conn.execute(
            select(fetch_validators.c.etag, fetch_validators.c.last_modified).where(
                fetch_validators.c.url == url
            )
        )
    ).first()
    return Validators(row.etag, row.last_modified) if row is not None else None


async def save_validators(
    conn: AsyncConnection, url: str, validators: Validators | None, *, now: datetime
) -> None:
    """In a transaction of its own; None (or empty validators) forgets the URL. A URL longer
    than its column is not remembered (PostgreSQL would refuse it and end the import)."""
    if len(url) > URL_MAX:
        return
    validators = storable(validators)
    async with conn.begin():
        if validators is None:
            await conn.execute(delete(fetch_validators).where(fetch_validators.c.url == url))
            return
        values = {"etag": validators.etag, "last_modified": validators.last_modified}
        statement = upsert(conn, fetch_validators, ["url"], {**values, "fetched_at": now})
        await conn.execute(statement.values(url=url, fetched_at=now, **values))
