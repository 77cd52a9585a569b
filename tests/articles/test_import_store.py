"""The import pipeline against real databases (SQLite and PostgreSQL via the `db` fixture):
idempotent re-import, edits, one transaction per article, the publishing hook, options."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from siarkan.articles import importer
from siarkan.articles.importer import ImportOptions, import_targets
from siarkan.articles.model import Article, Status
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.store.articles import get_article
from siarkan.store.db import Database
from siarkan.store.tables import article_authors, article_tags, articles

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
T0 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "laporan"
    shutil.copytree(SAMPLES, folder)
    return folder


async def count(db: Database, table: Any) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_reimport_is_unchanged_and_an_edit_updates_in_place(
    db: Database, settings: Settings, corpus: Path
) -> None:
    clock = ManualClock(T0)
    first = await import_targets([str(corpus)], db=db, settings=settings, clock=clock)
    assert (len(first.imported), first.failed, first.warnings) == (5, [], [])

    clock.advance(timedelta(hours=1))
    again = await import_targets([str(corpus)], db=db, settings=settings, clock=clock)
    assert again.summary() == "0 imported, 0 updated, 5 unchanged, 0 failed"
    assert sorted(again.unchanged) == sorted(first.imported)

    report = corpus / "banjir-kabupaten-serang.txt"
    async with db.connect() as conn:
        before = await get_article(
            conn, "banjir-rendam-tiga-kecamatan-di-kabupaten-serang-1-240-warga-mengungsi"
        )
    assert before is not None and before.source == str(report.resolve())
    report.write_text(
        report.read_text(encoding="utf-8").replace("1.240 warga", "1.315 warga"), encoding="utf-8"
    )
    clock.advance(timedelta(hours=1))
    edited = await import_targets([str(corpus)], db=db, settings=settings, clock=clock)
    assert edited.summary() == "0 imported, 1 updated, 4 unchanged, 0 failed"
    assert edited.updated == [before.id]
    async with db.connect() as conn:
        after = await get_article(conn, before.id)
    assert after is not None
    assert "1.315 warga" in after.text and "1.240 warga" not in after.text
    assert after.updated_at == T0 + timedelta(hours=2)
    assert after.published_at == before.published_at == T0
    assert after.slug == before.slug
    assert await count(db, articles) == 5


async def test_each_article_is_its_own_transaction(
    db: Database, settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []

    async def flaky_hook(conn: Any, settings: Settings, article: Article, **kw: Any) -> None:
        calls.append((article.title, kw["previous"] is not None))
        if article.title.startswith("Festival Kopi"):
            raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(importer, "article_changed", flaky_hook)
    report = await import_targets([str(corpus)], db=db, settings=settings, clock=ManualClock(T0))
    assert len(report.imported) == 4
    [failed] = report.failed
    assert failed.source.endswith("festival-kopi-pandeglang.html")
    assert failed.reason == "not stored: RuntimeError: outbox unavailable"
    # The failed article left nothing behind: no row, no tags, no authors.
    async with db.connect() as conn:
        titles = list(await conn.scalars(select(articles.c.title)))
        tag_rows = await conn.scalar(select(func.count()).select_from(article_tags))
        author_rows = await conn.scalar(select(func.count()).select_from(article_authors))
    assert len(titles) == 4 and not any(t.startswith("Festival Kopi") for t in titles)
    assert tag_rows == 8  # markdown 4 + JSON 4; the HTML page's 4 were rolled back
    assert author_rows == 2
    assert all(previous is False for _, previous in calls) and len(calls) == 5

    calls.clear()
    monkeypatch.setattr(importer, "article_changed", flaky_hook)
    retry = await import_targets([str(corpus)], db=db, settings=settings, clock=ManualClock(T0))
    # Unchanged articles do not fan out again; the failed one is retried and fails again.
    assert [title for title, _ in calls] == [
        "Festival Kopi Banten Digelar di Alun-alun Pandeglang, Hadirkan 80 Pelaku UMKM"
    ]
    assert len(retry.unchanged) == 4 and len(retry.failed) == 1


async def test_hook_sees_previous_on_update(
    db: Database, settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None]] = []

    async def hook(conn: Any, settings: Settings, article: Article, **kw: Any) -> None:
        previous = kw["previous"]
        seen.append((article.status.value, previous.title if previous else None))

    monkeypatch.setattr(importer, "article_changed", hook)
    target = str(corpus / "apbd-dprd-banten.txt")
    await import_targets([target], db=db, settings=settings, clock=ManualClock(T0))
    await import_targets(
        [target],
        db=db,
        settings=settings,
        clock=ManualClock(T0),
        options=ImportOptions(status=Status.DRAFT, section="Politik"),
    )
    title = "DPRD Banten Soroti Belanja Pegawai dalam Rancangan APBD 2026 Senilai Rp11,8 Triliun"
    assert seen == [("published", None), ("draft", title)]
    async with db.connect() as conn:
        [row] = (await conn.execute(select(articles.c.status, articles.c.section))).all()
    assert tuple(row) == ("draft", "Politik")


async def test_same_page_from_another_path_is_the_same_article(
    db: Database, settings: Settings, corpus: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "salinan.html"
    shutil.copy(corpus / "festival-kopi-pandeglang.html", copy)
    first = await import_targets(
        [str(corpus / "festival-kopi-pandeglang.html")],
        db=db,
        settings=settings,
        clock=ManualClock(T0),
    )
    second = await import_targets([str(copy)], db=db, settings=settings, clock=ManualClock(T0))
    # Same canonical URL -> same id, whatever the file is called.
    assert second.unchanged == first.imported


async def test_dry_run_stores_nothing(db: Database, settings: Settings, corpus: Path) -> None:
    report = await import_targets(
        [str(corpus)],
        db=db,
        settings=settings,
        clock=ManualClock(T0),
        options=ImportOptions(dry_run=True),
    )
    assert len(report.parsed) == 5 and report.imported == []
    assert report.summary() == "5 parsed, 0 failed (dry run: nothing stored)"
    assert await count(db, articles) == 0


async def test_recurring_headlines_get_numbered_slugs(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "harga"
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"hari-{day}.txt").write_text(
            f"Harga Cabai di Pasar Rau Naik Lagi\n\nSERANG, PROLOGMEDIA – Laporan hari ke-{day}.",
            encoding="utf-8",
        )
    report = await import_targets([str(folder)], db=db, settings=settings, clock=ManualClock(T0))
    assert len(report.imported) == 5
    async with db.connect() as conn:
        slugs = sorted(await conn.scalars(select(articles.c.slug)))
    base = "harga-cabai-di-pasar-rau-naik-lagi"
    assert slugs == sorted([base, *(f"{base}-{n}" for n in range(2, 6))])
    # Re-importing keeps every article on its own slug.
    again = await import_targets([str(folder)], db=db, settings=settings, clock=ManualClock(T0))
    assert len(again.unchanged) == 5


async def test_bulk_import_releases_posts_in_thread_order(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Import writes posts per article and releases them in bulk: each part gets its Create,
    and at the follower's inbox part n+1 still waits for part n."""
    from siarkan.federation.keys import ensure_actors
    from siarkan.store.tables import activities, deliveries, posts
    from tests.distribution.conftest import add_follower
    from tests.helpers import PARAGRAPHS

    async with db.begin() as conn:
        await ensure_actors(conn, settings, T0)
    await add_follower(
        db,
        "utama",
        "https://mastodon.example/users/ani",
        "https://mastodon.example/users/ani/inbox",
        "https://mastodon.example/inbox",
        T0,
    )
    folder = tmp_path / "baru"
    folder.mkdir()
    for n in range(1, 4):
        body = "\n\n".join(PARAGRAPHS)
        (folder / f"laporan-{n}.txt").write_text(
            f"Laporan {n}: Banjir Rendam Rumah di Serang\n\nSERANG, PROLOGMEDIA – {body}\n",
            encoding="utf-8",
        )
    report = await import_targets([str(folder)], db=db, settings=settings, clock=ManualClock(T0))
    assert len(report.imported) == 3

    async with db.connect() as conn:
        states = set(await conn.scalars(select(posts.c.state).where(posts.c.actor_name == "utama")))
        parts = await conn.scalar(
            select(func.count()).select_from(posts).where(posts.c.actor_name == "utama")
        )
        creates = await conn.scalar(
            select(func.count()).select_from(activities).where(activities.c.type == "Create")
        )
        queued = (await conn.execute(select(deliveries).order_by(deliveries.c.id))).mappings().all()
    assert states == {"published"} and parts and parts >= 3
    assert creates == parts
    assert {row["target"] for row in queued} == {"https://mastodon.example/inbox"}
    assert len(queued) == parts
    # Per article, every part after the first waits for the previous part's delivery.
    chained = [row for row in queued if row["after_id"] is not None]
    assert len(chained) == parts - 3
    ids = {row["id"] for row in queued}
    assert all(row["after_id"] in ids for row in chained)
