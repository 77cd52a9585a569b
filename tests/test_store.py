"""The article store on SQLite and PostgreSQL: idempotent upserts, updates, retraction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import String, cast, func, insert, select
from sqlalchemy.types import TypeDecorator

from siarkan.articles.model import Status
from siarkan.federation.publish import is_public
from siarkan.federation.sqlutil import insert_ignore_sql
from siarkan.feeds.query import state_key
from siarkan.store.articles import Outcome, get_article, retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine, upgrade
from siarkan.store.tables import UtcDateTime, article_tags, articles, inbox_seen
from tests.helpers import make_report

NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


async def test_same_article_twice_changes_nothing(db: Database) -> None:
    article = make_report()
    async with db.begin() as conn:
        first = await upsert_article(conn, article, now=NOW)
    async with db.begin() as conn:
        second = await upsert_article(conn, article, now=NOW + timedelta(hours=1))
    assert first.outcome is Outcome.CREATED
    assert second.outcome is Outcome.UNCHANGED
    async with db.connect() as conn:
        stored = await get_article(conn, article.id)
        count = await conn.scalar(select(func.count()).select_from(articles))
    assert count == 1
    assert stored is not None
    assert stored.paragraphs == article.paragraphs
    assert stored.published_at == article.published_at
    assert stored.published_at is not None and stored.published_at.tzinfo is not None
    assert stored.image == article.image
    assert stored.related == article.related


async def test_changed_article_updates_same_id(db: Database) -> None:
    article = make_report()
    async with db.begin() as conn:
        await upsert_article(conn, article, now=NOW)
    edited = replace(article, title=article.title + " (Diperbarui)", updated_at=None).with_hash()
    later = NOW + timedelta(hours=2)
    async with db.begin() as conn:
        result = await upsert_article(conn, edited, now=later)
    assert result.outcome is Outcome.UPDATED
    assert result.article.id == article.id
    assert result.article.updated_at == later
    assert result.previous is not None and result.previous.title == article.title
    async with db.connect() as conn:
        stored = await get_article(conn, article.slug)
    assert stored is not None and stored.title.endswith("(Diperbarui)")


async def test_idempotent_on_canonical_url(db: Database) -> None:
    url = "https://prologmedia.example/banten/banjir-serang"
    async with db.begin() as conn:
        await upsert_article(conn, make_report(id="one", canonical_url=url), now=NOW)
        result = await upsert_article(
            conn, make_report(id="two", canonical_url=url, title="Judul baru"), now=NOW
        )
    assert result.outcome is Outcome.UPDATED
    assert result.article.id == "one"


async def test_slug_collision_gets_suffix_and_tags_are_indexed(db: Database) -> None:
    async with db.begin() as conn:
        await upsert_article(conn, make_report(id="one"), now=NOW)
        second = await upsert_article(conn, make_report(id="two", title="Lain"), now=NOW)
        tags = (
            (
                await conn.execute(
                    select(article_tags.c.tag_slug).where(article_tags.c.article_id == "two")
                )
            )
            .scalars()
            .all()
        )
    assert second.article.slug.endswith("-2")
    assert sorted(tags) == ["banjir", "bpbd", "kabupaten-serang"]


async def test_future_publish_at_is_scheduled_and_retraction(db: Database) -> None:
    when = NOW + timedelta(days=1)
    async with db.begin() as conn:
        result = await upsert_article(conn, make_report(publish_at=when), now=NOW)
    assert result.article.status is Status.SCHEDULED
    async with db.begin() as conn:
        retracted = await retract_article(conn, result.article.id, now=NOW)
    assert retracted is not None and retracted.status is Status.RETRACTED


async def test_the_same_report_after_a_retraction_is_a_republication(db: Database) -> None:
    article = make_report()
    async with db.begin() as conn:
        await upsert_article(conn, article, now=NOW)
        await retract_article(conn, article.id, now=NOW + timedelta(hours=1))
    # Read again by an import or a source poll: the retraction stands.
    async with db.begin() as conn:
        reread = await upsert_article(conn, article, now=NOW + timedelta(hours=2))
    assert (reread.outcome, reread.article.status) == (Outcome.UNCHANGED, Status.RETRACTED)
    # Pushed again by an editor (the admin API): published again.
    async with db.begin() as conn:
        again = await upsert_article(conn, article, now=NOW + timedelta(hours=2), restore=True)
    assert (again.outcome, again.article.status) == (Outcome.UPDATED, Status.PUBLISHED)
    assert again.previous is not None and again.previous.status is Status.RETRACTED
    # A retraction pushed as such, twice, is still unchanged the second time.
    retracted = replace(article, status=Status.RETRACTED).with_hash()
    async with db.begin() as conn:
        await upsert_article(conn, retracted, now=NOW + timedelta(hours=3))
        twice = await upsert_article(conn, retracted, now=NOW + timedelta(hours=4))
    assert (twice.outcome, twice.article.status) == (Outcome.UNCHANGED, Status.RETRACTED)


async def test_naive_datetime_is_refused(db: Database) -> None:
    import pytest

    with pytest.raises(Exception, match="naive"):
        async with db.begin() as conn:
            await upsert_article(conn, make_report(published_at=datetime(2026, 1, 1)), now=NOW)
    async with db.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(articles)) == 0


async def test_times_are_stored_as_the_same_text_by_every_road(db: Database) -> None:
    """UtcDateTime's one-step SQLite processor and the inbox's bulk insert (sqlutil) store
    exactly what SQLAlchemy's own insert stores, whole seconds and other zones included: text
    compared in SQL (windows, ordering) must not depend on which road wrote it."""
    wib = timezone(timedelta(hours=7))
    moments = [
        datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC),  # microsecond 0
        datetime(2026, 11, 28, 19, 30, 5, 123456, tzinfo=wib),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    ]
    dialect = db.engine.dialect
    rows = [
        {"activity_id": f"{road}-{n}", "type": "Like", "actor_uri": "a", "received_at": moment}
        for road in ("orm", "bulk")
        for n, moment in enumerate(moments)
    ]
    async with db.begin() as conn:
        await conn.execute(insert(inbox_seen), [r for r in rows if r["activity_id"][0] == "o"])
        bulk = [r for r in rows if r["activity_id"][0] == "b"]
        await conn.exec_driver_sql(*insert_ignore_sql(dialect, inbox_seen, bulk, ["activity_id"]))
    async with db.connect() as conn:
        stored = dict(
            (await conn.execute(select(inbox_seen.c.activity_id, inbox_seen.c.received_at))).all()
        )
        as_text = dict(
            (
                await conn.execute(
                    select(inbox_seen.c.activity_id, cast(inbox_seen.c.received_at, String))
                )
            ).all()
        )
    for n, moment in enumerate(moments):
        assert stored[f"orm-{n}"] == stored[f"bulk-{n}"] == moment
        assert as_text[f"orm-{n}"] == as_text[f"bulk-{n}"]
    if dialect.name == "sqlite":
        assert as_text["bulk-0"] == "2026-11-28 12:00:00.000000"
        adapted = UtcDateTime().dialect_impl(dialect)
        general = TypeDecorator.bind_processor(adapted, dialect)  # the two-step road
        fast = adapted.bind_processor(dialect)
        assert general is not None and fast is not None
        for moment in moments:
            assert fast(moment) == general(moment)
        # The fast road keeps each second's text: moments within one second, across a midnight
        # and a year's end, and more distinct seconds than it keeps at once.
        start = datetime(2026, 12, 31, 23, 59, 58, 999_999, tzinfo=UTC)
        for step in range(300):
            moment = start + timedelta(microseconds=step * 333_337)
            assert fast(moment) == general(moment)


async def test_a_published_article_dated_in_the_future_is_held_until_then(db: Database) -> None:
    """A pre-dated report (a CMS's scheduled post, an embargo) must not go out early; a date a
    few minutes ahead (a fast clock) is published as it is."""
    ahead = NOW + timedelta(hours=6)
    async with db.begin() as conn:
        held = await upsert_article(conn, make_report(published_at=ahead), now=NOW)
        slightly = await upsert_article(
            conn,
            make_report(id="cepat", slug="cepat", published_at=NOW + timedelta(minutes=2)),
            now=NOW,
        )
    assert held.article.status is Status.SCHEDULED and held.article.publish_at == ahead
    assert slightly.article.status is Status.PUBLISHED
    # The scheduler releases it at that time (distribution/scheduler.py), as any publish_at.
    assert not is_public(held.article, NOW) and is_public(held.article, ahead)
    async with db.begin() as conn:  # the same report again before its time changes nothing
        again = await upsert_article(conn, make_report(published_at=ahead), now=NOW)
    assert again.outcome is Outcome.UNCHANGED and again.article.status is Status.SCHEDULED


async def test_the_sqlite_file_holding_private_keys_is_private(tmp_path: Path) -> None:
    """The database holds the accounts' private keys: 0600, its WAL and SHM files too."""
    fresh = tmp_path / "data" / "siarkan.db"
    loose = tmp_path / "loose.db"
    loose.touch()
    loose.chmod(0o644)
    for path in (fresh, loose):
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
            async with engine.begin() as conn:  # WAL and SHM exist while connected
                await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS x (y INTEGER)")
                for name in (path.name, path.name + "-wal", path.name + "-shm"):
                    assert (path.parent / name).stat().st_mode & 0o777 == 0o600, name
        finally:
            await engine.dispose()


async def test_every_write_to_articles_moves_the_version_in_commit_order(db: Database) -> None:
    """The feed caches' change key: an edit stamped earlier than the newest change (a writer
    whose transaction started first, or whose clock lags) must still change it."""

    async def key() -> str:
        async with db.connect() as conn:
            return await state_key(conn, NOW + timedelta(days=1))

    first = make_report()
    second = make_report(id="lain", slug="lain", title="Laporan lain")
    async with db.begin() as conn:
        await upsert_article(conn, first, now=NOW)
        await upsert_article(conn, second, now=NOW + timedelta(hours=1))
    before = await key()
    edited = replace(first, paragraphs=(*first.paragraphs, "Paragraf tambahan."))
    async with db.begin() as conn:  # committed last, stamped earlier than `second`
        await upsert_article(conn, edited, now=NOW + timedelta(minutes=30))
    after_edit = await key()
    assert after_edit != before
    async with db.begin() as conn:
        await retract_article(conn, "lain", now=NOW)
    assert await key() not in (before, after_edit)
