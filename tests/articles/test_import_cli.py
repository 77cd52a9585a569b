"""`siarkan import` end to end through the real CLI entry point, over a temp directory and a
temp SQLite database: every bad input gets a one-line reason, the rest is imported."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from siarkan.cli import context as cli_context
from siarkan.cli.main import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "siarkan.yaml"
    path.write_text(
        "site:\n  name: Prolog Media\n  base_url: http://127.0.0.1:8080\n"
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'db' / 'siarkan.db'}\n",
        encoding="utf-8",
    )
    return path


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "db" / "siarkan.db") as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(SAMPLES, folder)
    (folder / "a-empty.txt").write_bytes(b"")
    (folder / "b-binary.txt").write_bytes(b"JUDUL\n\x00\x01\x02\xff")
    (folder / "c-latin1.txt").write_bytes("Judul\n\nKopi café enak.".encode("cp1252"))
    with (folder / "d-huge.txt").open("wb") as stream:  # sparse: 50 MB without writing them
        stream.truncate(50 * 1024 * 1024)
    (folder / "e-noarticle.html").write_text(
        "<html><body><nav><a href='/'>Beranda</a></nav>"
        "<p>Halaman tidak ditemukan.</p></body></html>",
        encoding="utf-8",
    )
    (folder / "f-notitle.json").write_text(
        json.dumps({"body_text": "SERANG, PROLOGMEDIA – Isi berita.", "tags": ["x"]}),
        encoding="utf-8",
    )
    (folder / "sub").mkdir()
    (folder / "sub" / "g-derived.txt").write_text(
        "PROLOGMEDIA – Peringatan Hari Guru di Kab. Lebak berlangsung meriah. "
        "Ratusan guru hadir.\n\n"
        "Paragraf kedua. (ern/idh)",
        encoding="utf-8",
    )
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.txt").write_text("Judul\n\nTersembunyi.", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    return folder


EXPECTED_FAILURES = {
    "a-empty.txt": "empty file",
    "b-binary.txt": "binary data, not text (NUL byte at offset 6)",
    "c-latin1.txt": "not UTF-8 text: invalid byte 0xe9 at offset 15",
    "d-huge.txt": "file is 50.0 MB; the limit is 10 MB",
    "e-noarticle.html": (
        "no article found in the HTML (no JSON-LD NewsArticle, <article> or article body)"
    ),
    "f-notitle.json": "title: required",
}


def test_bad_inputs_are_reported_and_the_rest_imported(
    config: Path, batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(batch / "tidak-ada.txt")
    status = main(
        ["--config", str(config), "import", str(batch), str(batch / "notes.docx"), missing]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert out.strip() == "6 imported, 0 updated, 0 unchanged, 8 failed"
    failures = [line for line in err.splitlines() if ": failed: " in line]
    assert len(failures) == 8
    for name, reason in EXPECTED_FAILURES.items():
        assert f"{batch / name}: failed: {reason}" in failures
    assert f"{batch / 'notes.docx'}: failed: unsupported file type .docx" in err
    assert f"{missing}: failed: no such file or directory" in err
    warning = f"{batch / 'sub' / 'g-derived.txt'}: warning: no title line; derived from the lead:"
    assert warning in err
    assert all("\n" not in line for line in failures)

    titles = {title for (title,) in rows(tmp_path, "select title from articles")}
    assert len(titles) == 6
    assert "Peringatan Hari Guru di Kab. Lebak berlangsung meriah" in titles
    assert not any("Tersembunyi" in t for t in titles)  # hidden folders and README skipped
    # Nothing of a failed input reached the database.
    assert rows(tmp_path, "select count(*) from article_tags where tag = 'x'") == [(0,)]


def test_a_link_out_of_the_folder_is_not_imported(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder of reports from elsewhere (an archive, a shared drive) may hold a symlink named
    like a report to a private file; importing the folder published that file."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "secrets").write_text("Kunci rahasia\n\nSIARKAN_ADMIN_TOKEN=hunter2.", "utf-8")
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "laporan.txt").symlink_to(private / "secrets")
    (folder / "asli.txt").write_text("Judul Asli\n\nIsi berita asli.", encoding="utf-8")
    (folder / "salinan.txt").symlink_to(folder / "asli.txt")  # inside the folder: kept

    status = main(["--config", str(config), "import", str(folder)])
    err = capsys.readouterr().err
    assert status == 1
    assert f"{folder / 'laporan.txt'}: failed: a link to a file outside the folder" in err
    titles = [title for (title,) in rows(tmp_path, "select title from articles")]
    assert titles == ["Judul Asli"]


def test_a_folder_with_nothing_to_import_says_so(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare "0 imported, 0 failed" for a folder of PDFs (or the wrong folder) said nothing of
    why; it names the folder and what it expected. Not a failure: a drop folder that a cron
    job imports is often empty."""
    folder = tmp_path / "unduhan"
    folder.mkdir()
    (folder / "laporan.pdf").write_bytes(b"%PDF-1.7")
    assert main(["--config", str(config), "import", str(folder)]) == 0
    assert f"{folder}: warning: no files to import here (expected" in capsys.readouterr().err


def test_json_summary_and_reimport(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "import", str(SAMPLES), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) == {
        "imported",
        "updated",
        "unchanged",
        "failed",
        "skipped",
        "not_modified",
        "warnings",
    }
    assert len(first["imported"]) == 5 and first["failed"] == [] and first["warnings"] == []

    assert main(["--config", str(config), "import", str(SAMPLES), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert sorted(again["unchanged"]) == sorted(first["imported"])
    assert again["imported"] == again["updated"] == []


def test_json_lists_failures_and_warnings(
    config: Path, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["--config", str(config), "import", str(batch / "f-notitle.json"),
         str(batch / "sub"), "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 1 and err == ""
    data = json.loads(out)
    assert data["failed"] == [{"path": str(batch / "f-notitle.json"), "reason": "title: required"}]
    [warning] = data["warnings"]
    assert warning["path"] == str(batch / "sub" / "g-derived.txt")
    assert warning["message"].startswith("no title line; derived from the lead")
    assert len(data["imported"]) == 1


def test_dry_run_touches_no_database(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "import", str(SAMPLES), "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and len(data["parsed"]) == 5 and data["imported"] == []
    assert not (tmp_path / "db" / "siarkan.db").exists()


def test_section_and_status_options(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(SAMPLES / "banjir-kabupaten-serang.txt")
    args = ["--config", str(config), "import", target, "--section", "Banten", "--status", "draft"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "1 imported, 0 updated, 0 unchanged, 0 failed"
    assert rows(tmp_path, "select section, status from articles") == [("Banten", "draft")]


def test_progress_bar_on_a_terminal(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_context.CliContext, "interactive", property(lambda self: True))
    assert main(["--config", str(config), "import", str(SAMPLES)]) == 0
    assert capsys.readouterr().out.strip() == "5 imported, 0 updated, 0 unchanged, 0 failed"


def test_ctrl_c_says_what_was_kept_and_stores_no_half_article(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C during the third article's store: a line on stderr saying the first two are
    kept, no traceback, stdout empty (no half a --json), 130, and no third article."""
    from siarkan.articles import importer

    real = importer.store_article
    calls = 0

    async def interrupted_store(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            signal.raise_signal(signal.SIGINT)  # as the terminal sends it
        return await real(*args, **kwargs)

    monkeypatch.setattr(importer, "store_article", interrupted_store)
    status = main(["--config", str(config), "import", str(SAMPLES), "--json"])
    out, err = capsys.readouterr()
    assert status == 130
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines() == [
        "before the interrupt: 2 imported, 0 updated, 0 unchanged, 0 failed"
        " (kept; importing the same inputs again does the rest)",
        "siarkan: interrupted",
    ]
    assert rows(tmp_path, "select count(*) from articles") == [(2,)]


def test_oversized_files_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siarkan.articles.importer import read_file
    from siarkan.articles.text import ArticleRejected

    huge = tmp_path / "huge.txt"
    with huge.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversized file must not be opened")

    monkeypatch.setattr(Path, "open", no_open)
    with pytest.raises(ArticleRejected, match=r"50\.0 MB"):
        read_file(huge)


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    from siarkan.articles.importer import file_outcomes
    from siarkan.articles.parsers import Parsed
    from siarkan.config import parse_settings

    site = parse_settings("site: {name: X, base_url: http://127.0.0.1:8080}", env={}).site
    path = tmp_path / "notepad.txt"
    path.write_bytes("Judul Berita\r\n\r\nSERANG, PROLOGMEDIA – Isi “kutipan”.".encode("utf-16"))
    [outcome] = file_outcomes(path.resolve(), "notepad.txt", site)
    assert isinstance(outcome, Parsed)
    assert outcome.article.title == "Judul Berita"
    assert outcome.article.paragraphs == ("Isi “kutipan”.",)
