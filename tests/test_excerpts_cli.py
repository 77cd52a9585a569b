"""`siarkan excerpts`: the real CLI entry point over a real (SQLite) store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from siarkan.cli.main import main
from siarkan.config import parse_settings
from siarkan.excerpts import mastodon_length
from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine, upgrade
from tests.conftest import TEST_CONFIG
from tests.test_excerpts_golden import BANJIR, JALAN

NOW = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config file whose database already holds two long reports."""
    sqlite = tmp_path / "siarkan.db"
    path = tmp_path / "siarkan.yaml"
    path.write_text(TEST_CONFIG.format(port=8080, sqlite=sqlite), encoding="utf-8")

    async def store() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{sqlite}")
        await upgrade(engine)
        db = Database(engine)
        async with db.begin() as conn:
            await upsert_article(conn, JALAN, now=NOW)
            await upsert_article(conn, BANJIR, now=NOW)
        await db.close()

    asyncio.run(store())
    return path


def run_cli(config: Path, *args: str) -> int:
    return main(["--config", str(config), "excerpts", *args])


def test_default_channel_and_mode_print_the_thread(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, JALAN.id) == 0
    out = capsys.readouterr().out
    # channel "utama" takes everything and is first: thread, max_parts 6 (tests/conftest.py)
    assert out.startswith("── thread 1/6 · ")
    assert out.count("── thread ") == 6
    assert "channel utama" in out
    assert JALAN.title in out
    assert "… Baca selengkapnya: http://127.0.0.1:8080/artikel/" in out


def test_json_with_overrides(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(config, JALAN.slug, "--mode", "series", "--max-chars", "1500", "--json") == 0
    parts = json.loads(capsys.readouterr().out)
    assert len(parts) >= 3
    for k, part in enumerate(parts):
        assert {"text", "html", "length"} <= part.keys()
        assert part["index"] == k and part["mode"] == "series" and part["max_chars"] == 1500
        assert part["length"] == mastodon_length(part["text"]) <= 1500
        assert part["html"].startswith("<p>")
    joined = " ".join(p["body_text"] for p in parts).split()
    assert joined[:5] == JALAN.paragraphs[0].split()[:5]


def test_summary_on_a_named_channel_links_its_tag_pages(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, BANJIR.id, "--channel", "banten", "--mode", "summary", "--json") == 0
    [post] = json.loads(capsys.readouterr().out)
    assert post["link"] == BANJIR.canonical_url  # the publisher's page wins
    assert 'href="http://127.0.0.1:8080/kanal/banten/tag/banjir"' in post["html"]


def test_max_parts_override(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(config, JALAN.id, "--max-parts", "2", "--json") == 0
    parts = json.loads(capsys.readouterr().out)
    assert len(parts) == 2
    assert "\n\n… Baca selengkapnya: " in parts[1]["text"]


def test_same_posts_as_publishing_would_make(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from siarkan.federation.publish import excerpts_for

    settings = parse_settings(config.read_text(encoding="utf-8"), str(config), env={})
    expected = excerpts_for(settings, settings.channel("utama"), JALAN)
    assert run_cli(config, JALAN.id, "--json") == 0
    assert [p["text"] for p in json.loads(capsys.readouterr().out)] == [e.text for e in expected]


def test_unknown_article(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(config, "tidak-ada") == 1
    assert "no article with id or slug 'tidak-ada'" in capsys.readouterr().err


def test_unknown_channel(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(config, JALAN.id, "--channel", "olahraga") == 2
    assert "no channel 'olahraga' (channels: utama, banten)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--max-chars", "50"), ("--max-parts", "0"), ("--max-chars", "lima"), ("--mode", "tweet")],
)
def test_out_of_range_overrides_are_refused(
    config: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(config, JALAN.id, flag, value)
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err


def test_a_reader_that_leaves_early_is_not_a_database_error(config: Path) -> None:
    """`siarkan excerpts ... | head`: the closed pipe ends the command quietly (141, as other
    tools do), not with "cannot use the database ...: Broken pipe" (BrokenPipeError is a
    ConnectionError, which the database-failure branch caught first)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte
    try:
        command = [sys.executable, "-m", "siarkan.cli.main", "--config", str(config)]
        run = subprocess.run(
            [*command, "excerpts", JALAN.id, "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write)
    assert "database" not in run.stderr.decode(), run.stderr.decode()
    assert run.returncode == 141
