"""Static export: same bytes as the live URLs, atomic writes, unchanged files left alone."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
import pytest

from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.feeds.cache import FeedCache
from siarkan.feeds.export import export_feeds, write_if_changed
from siarkan.feeds.service import FeedService
from siarkan.store.db import Database
from tests.feeds.conftest import Live, Store, numbered


def service(settings: Settings, db: Database, clock: ManualClock) -> FeedService:
    return FeedService(settings, db, clock, cache=FeedCache(refresh_seconds=0))


async def test_export_writes_every_page_like_the_live_urls(
    live: Live,
    feed_settings: Settings,
    db: Database,
    clock: ManualClock,
    store: Store,
    tmp_path: Path,
) -> None:
    await store(numbered(i) for i in range(17))
    out = tmp_path / "feeds"
    result = await export_feeds(service(feed_settings, db, clock), out)
    assert not result.unchanged and not result.removed
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted(path.as_posix() for path in result.written)
    assert "utama/rss.xml" in files and "banten/feed.json" in files
    assert "utama/tag/pilkada/atom.xml" in files
    assert any(f.startswith("utama/archive/") and f.endswith("/rss.xml") for f in files)
    for relative in files:
        response, body = await live.get(f"/feeds/{relative}")
        assert response.status == 200, relative
        assert body == (out / relative).read_bytes(), relative
    # The archive is complete on disk: walking the files reaches all 17 articles.
    assert len(walk_files(out / "utama" / "atom.xml", out)) == 17


def walk_files(start: Path, out: Path) -> set[str]:
    """Follow prev-archive links through exported files, like a reader of a static mirror."""
    seen: set[str] = set()
    path: Path | None = start
    while path is not None:
        parsed = feedparser.parse(path.read_bytes())
        seen |= {e.id for e in parsed.entries}
        prev = next((link.href for link in parsed.feed.links if link.rel == "prev-archive"), None)
        path = out / prev.split("/feeds/", 1)[1] if prev else None
    return seen


async def test_second_export_rewrites_only_what_changed(
    feed_settings: Settings, db: Database, clock: ManualClock, store: Store, tmp_path: Path
) -> None:
    await store(numbered(i) for i in range(17))
    out = tmp_path / "feeds"
    first = await export_feeds(service(feed_settings, db, clock), out)
    old = {p: (out / p).stat().st_mtime_ns for p in first.written}
    for p in first.written:  # make any rewrite visible in the mtime
        os.utime(out / p, ns=(1_000_000_000, 1_000_000_000))

    again = await export_feeds(service(feed_settings, db, clock), out)
    assert again.written == [] and sorted(again.unchanged) == sorted(first.written)
    assert all((out / p).stat().st_mtime_ns == 1_000_000_000 for p in old)

    await store([numbered(40)])
    third = await export_feeds(service(feed_settings, db, clock), out)
    written = {p.as_posix() for p in third.written}
    assert {"utama/rss.xml", "utama/atom.xml", "utama/feed.json"} <= written
    assert len(third.written) < len(first.written)
    for p in third.unchanged:
        assert (out / p).stat().st_mtime_ns == 1_000_000_000


def test_write_if_changed_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a" / "rss.xml"
    assert write_if_changed(target, b"one") is True
    assert write_if_changed(target, b"one") is False

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_if_changed(target, b"two")
    assert target.read_bytes() == b"one"  # the old file is intact
    assert [p.name for p in target.parent.iterdir()] == ["rss.xml"]  # no temporary left


async def test_export_command(db_settings: Settings, tmp_path: Path) -> None:
    """`siarkan export` end to end, as a subprocess with a config file."""
    import asyncio
    import sys

    import yaml

    config = tmp_path / "siarkan.yaml"
    data = db_settings.model_dump(mode="json", exclude_none=True)
    data["admin"] = {"token": "x" * 20}
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    out = tmp_path / "static"
    command = [
        sys.executable,
        "-m",
        "siarkan.cli.main",
        "--config",
        str(config),
        "export",
        "--out",
        str(out),
    ]
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert "written" in stdout.decode() and (out / "utama" / "rss.xml").exists()
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, _ = await proc.communicate()
    assert stdout.decode().strip().splitlines()[-1].startswith("0 written,")
