"""What an operator hits on the command line: a busy port, a database that is not there, a
bad revision, ids copied from one command into another. One line each, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from siarkan.cli import core_cmd
from siarkan.cli.main import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "siarkan.yaml"
    path.write_text(
        "site:\n  name: Prolog Media\n  base_url: http://127.0.0.1:8080\n"
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'db' / 'siarkan.db'}\n"
        "channels:\n  - name: utama\n    title: Utama\n    fediverse: {enabled: true}\n",
        encoding="utf-8",
    )
    return path


def test_serve_on_a_busy_port_fails_before_starting_anything(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A second `serve` used to start its worker (on SQLite: taking back the running worker's
    # leases) and scheduler, then die on bind with an OSError traceback.
    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the app was started although the port is taken")

    monkeypatch.setattr(core_cmd, "create_app", started)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["--config", str(config), "serve", "--port", str(port)])
    err = capsys.readouterr().err
    assert status == 1
    assert f"siarkan: cannot listen on 127.0.0.1:{port}: " in err
    assert "Traceback" not in err


def test_serve_refuses_a_port_out_of_range(config: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "serve", "--port", "99999"])
    assert info.value.code == 2


def test_unknown_revision_is_one_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "db", "downgrade", "nope"]) == 1
    err = capsys.readouterr().err
    assert err == "siarkan: Can't locate revision identified by 'nope'\n"


def test_unreachable_database_is_one_line_without_the_password(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+asyncpg://siarkan:hunter2@127.0.0.1:{port}/siarkan"
    monkeypatch.setenv("SIARKAN_DATABASE_URL", url)
    assert main(["--config", str(config), "articles", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("siarkan: cannot use the database postgresql+asyncpg://siarkan:***@")
    assert "hunter2" not in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_ids_listed_are_ids_show_accepts(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `articles list` printed 12 characters of a 36-character id; `articles show`, `excerpts`
    # and /preview/ only take the whole id (or the slug), so a copied id was "no article".
    assert (
        main(["--config", str(config), "import", str(SAMPLES / "banjir-kabupaten-serang.txt")]) == 0
    )
    capsys.readouterr()
    assert main(["--config", str(config), "articles", "list"]) == 0
    listed = capsys.readouterr().out.split()[0]
    assert main(["--config", str(config), "articles", "show", listed]) == 0
    assert "Banjir" in capsys.readouterr().out
    assert main(["--config", str(config), "excerpts", listed]) == 0


@pytest.mark.parametrize("command", [["articles", "list"], ["deliveries"]])
@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_must_be_positive(
    config: Path, command: list[str], limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--limit -1` listed every row on SQLite (LIMIT -1 is "no limit") and was "cannot use the
    # database" on PostgreSQL; `articles list --limit 0` said "no articles yet".
    assert main(["--config", str(config), "import", str(SAMPLES)]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), *command, "--limit", limit])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"argument --limit: {limit} is not a positive number" in err
