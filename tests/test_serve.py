"""`siarkan serve` as a real process: migrates a fresh SQLite file, answers /healthz and
/metrics, logs JSON lines, and shuts down cleanly on SIGTERM (and on Ctrl-C while starting)."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from siarkan.cli.core_cmd import base_url_port_mismatch
from siarkan.config import Settings
from siarkan.web.app import create_app
from siarkan.web.keys import DB
from tests.helpers import free_port

CONFIG = """\
site:
  name: Prolog Media
  base_url: http://127.0.0.1:{port}
server:
  port: {port}
database:
  url: sqlite+aiosqlite:///{db}
logging:
  format: json
channels:
  - name: utama
    title: Utama
"""


CLI = (sys.executable, "-m", "siarkan.cli.main")


def wait_for(url: str, timeout: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_health_metrics_and_sigterm(tmp_path: Path, settings: Settings) -> None:
    port = free_port()
    config = tmp_path / "siarkan.yaml"
    config.write_text(CONFIG.format(port=port, db=tmp_path / "fresh" / "siarkan.db"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siarkan.cli.main",
            "--config",
            str(config),
            "serve",
            "--role",
            "web",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        health = json.loads(wait_for(f"http://127.0.0.1:{port}/healthz"))
        assert health == {"status": "ok"}
        metrics = wait_for(f"http://127.0.0.1:{port}/metrics").decode()
        assert "siarkan_deliveries_total" in metrics
        assert (tmp_path / "fresh" / "siarkan.db").exists()  # migrated automatically
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    # Every line: a container's log stream is parsed line by line (a plain-text banner here
    # was the one line a JSON log pipeline could not read).
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any(line.get("msg") == "serving" and line.get("level") == "info" for line in lines)
    assert any(line.get("msg") == "shutting down" for line in lines)
    # What was migrated is worth a line; Alembic's "Context impl SQLiteImpl." and "Will assume
    # non-transactional DDL.", logged at every start, are not.
    messages = [str(line.get("msg")) for line in lines]
    assert any(msg.startswith("Running upgrade") for msg in messages), messages
    assert not any(msg.startswith(("Context impl", "Will assume")) for msg in messages), messages
    assert not any("site.base_url" in msg for msg in messages), messages  # base_url's own port


def test_serve_warns_when_its_loopback_base_url_names_another_port(tmp_path: Path) -> None:
    """`scripts/serve --port N` served on N while every link on the pages led to base_url's
    8080: the operator clicked into another program or nothing."""
    port, other = free_port(), free_port()
    config = tmp_path / "siarkan.yaml"
    config.write_text(CONFIG.format(port=port, db=tmp_path / "siarkan.db"))
    proc = subprocess.Popen(
        [*CLI, "--config", str(config), "serve", "--role", "web", "--port", str(other)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{other}/healthz")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    warnings = [
        line["msg"]
        for line in map(json.loads, stderr.splitlines())
        if line["level"] == "warning" and "site.base_url" in line["msg"]
    ]
    assert warnings == [
        f"config: site.base_url is http://127.0.0.1:{port} but this server listens on port "
        f"{other}: links on its pages and feeds lead to port {port}. Set site.base_url (or "
        "SIARKAN_SITE_BASE_URL; config/siarkan.yaml reads SIARKAN_BASE_URL) to "
        f"http://127.0.0.1:{other}"
    ], stderr


@pytest.mark.parametrize(
    ("base_url", "port", "suggested"),
    [
        ("http://127.0.0.1:8080", 8080, None),
        ("http://localhost", 80, None),
        ("http://localhost", 8080, "http://localhost:8080"),
        ("http://127.0.0.2:8080", 9000, "http://127.0.0.2:9000"),
        ("http://[::1]:8080", 9000, "http://[::1]:9000"),
        # A public address is the proxy's: its port is not ours.
        ("https://berita.example", 8080, None),
        ("http://192.0.2.7:8080", 9000, None),
    ],
)
def test_base_url_port_mismatch_only_for_loopback(
    base_url: str, port: int, suggested: str | None
) -> None:
    found = base_url_port_mismatch(base_url, port)
    if suggested is None:
        assert found is None
    else:
        assert found is not None and found.endswith(f" to {suggested}"), found


def test_serve_refuses_out_of_date_postgresql(tmp_path: Path) -> None:
    """An empty PostgreSQL database is not migrated behind the operator's back."""
    from tests.conftest import PG_ADMIN_URL

    config = tmp_path / "siarkan.yaml"
    config.write_text(
        CONFIG.format(port=free_port(), db="unused").replace(
            "sqlite+aiosqlite:///unused", PG_ADMIN_URL.rsplit("/", 1)[0] + "/siarkan_never_migrated"
        )
    )
    import asyncio

    from tests.conftest import _pg_execute, skip_or_fail

    try:
        asyncio.run(_pg_execute('DROP DATABASE IF EXISTS "siarkan_never_migrated"'))
        asyncio.run(_pg_execute('CREATE DATABASE "siarkan_never_migrated"'))
    except OSError as exc:
        skip_or_fail(f"PostgreSQL unavailable: {exc}")
    try:
        run = subprocess.run(
            [sys.executable, "-m", "siarkan.cli.main", "--config", str(config), "articles", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 1
        assert "run `siarkan db upgrade` first" in run.stderr
        run = subprocess.run(
            [sys.executable, "-m", "siarkan.cli.main", "--config", str(config), "db", "upgrade"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("schema: empty -> ")
    finally:
        asyncio.run(_pg_execute('DROP DATABASE IF EXISTS "siarkan_never_migrated" WITH (FORCE)'))


async def test_the_serving_app_freezes_its_startup_heap(settings: Settings, port: int) -> None:
    """Only with freeze_heap (what `serve` passes): a process-wide act, not for each test app."""
    import gc

    from siarkan.web.app import create_app
    from tests.helpers import serve_app

    gc.unfreeze()
    try:
        async with serve_app(create_app(settings, roles={"web"}), port):
            assert gc.get_freeze_count() == 0
        async with serve_app(create_app(settings, roles={"web"}, freeze_heap=True), port):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_worker_without_the_web_role_serves_only_health_and_metrics(tmp_path: Path) -> None:
    """metrics.port gives a worker- or scheduler-only process its /healthz and /metrics (its
    own counters: deliveries are counted where they are sent), and nothing else."""
    port, ops_port = free_port(), free_port()
    config = tmp_path / "siarkan.yaml"
    config.write_text(
        CONFIG.format(port=port, db=tmp_path / "siarkan.db") + f"metrics:\n  port: {ops_port}\n"
    )
    proc = subprocess.Popen(
        [*CLI, "--config", str(config), "serve", "--role", "worker,scheduler"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        assert json.loads(wait_for(f"http://127.0.0.1:{ops_port}/healthz")) == {"status": "ok"}
        metrics = wait_for(f"http://127.0.0.1:{ops_port}/metrics").decode()
        assert "siarkan_deliveries_total" in metrics
        # refreshed from the database, as the web role's are
        assert 'siarkan_delivery_queue_depth{state="pending"} 0.0' in metrics
        for path in ("/feeds", "/.well-known/nodeinfo", "/"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{ops_port}{path}", timeout=5)
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
            else:
                raise AssertionError(f"{path} answered on the metrics port")
        with socket.socket() as sock:  # the web port stays closed: no web role here
            assert sock.connect_ex(("127.0.0.1", port)) != 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any(line.get("msg") == "serving /healthz and /metrics" for line in lines)


def _interrupt_when(proc: subprocess.Popen[str], ready: Callable[[str], bool]) -> str:
    """SIGINT once a line of stderr says the process has got that far; then all of stderr."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while True:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        assert line is not None, "".join(seen)  # ended before getting there
        seen.append(line)
        if ready(line):
            break
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    while (line := lines.get(timeout=20)) is not None:  # the rest, to the end of stderr
        seen.append(line)
    return "".join(seen)


@pytest.mark.parametrize(
    "when",
    [
        # Importing SQLAlchemy, aiohttp, lxml... (most of the ~1.5 s startup): -X importtime
        # names each module as it is imported, so the signal lands mid-import every time.
        pytest.param(lambda line: "sqlalchemy" in line, id="while-importing"),
        # Started: the first log line (config advisories, then migrations, then "serving").
        pytest.param(lambda line: line.startswith("{"), id="while-starting"),
        # Migrating the fresh database: its connection open in aiosqlite's thread.
        pytest.param(lambda line: "Running upgrade" in line, id="while-migrating"),
    ],
)
def test_ctrl_c_during_startup_exits_with_one_line(
    tmp_path: Path, when: Callable[[str], bool]
) -> None:
    port = free_port()
    config = tmp_path / "siarkan.yaml"
    config.write_text(CONFIG.format(port=port, db=tmp_path / "siarkan.db"))
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", *CLI[1:], "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        stderr = _interrupt_when(proc, when)
    finally:
        proc.kill()
        proc.communicate(timeout=20)
    assert "Traceback" not in stderr, stderr
    ours = [line for line in stderr.splitlines() if not line.startswith("import time:")]
    if proc.returncode == 0:  # it was already serving: the usual clean shutdown
        assert json.loads(ours[-1])["msg"] in ("shutting down", "delivery worker stopped"), ours
    else:
        # 130 as shells report Ctrl-C; CPython itself ends with SIGINT instead if the signal
        # landed inside an extension module's own Python code (Cython's PyRun_String), even
        # though the KeyboardInterrupt was caught: the same message either way.
        assert proc.returncode in (130, -signal.SIGINT), ours
        assert ours[-1] == "siarkan: interrupted", ours


async def test_a_startup_cancelled_while_migrating_closes_the_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C cancels the serving task wherever startup is; aiohttp cleans up only the
    contexts that got to their yield, so the database context closes its own engine (left
    open, aiosqlite's thread later answers into the closed loop with a traceback)."""
    app = create_app(settings, roles={"web"})
    migrating, closed = asyncio.Event(), asyncio.Event()

    async def slow_migration() -> None:
        migrating.set()
        await asyncio.sleep(60)

    async def close() -> None:
        closed.set()

    monkeypatch.setattr(app[DB], "ensure_schema", slow_migration)
    monkeypatch.setattr(app[DB], "close", close)
    runner = web.AppRunner(app)
    setup = asyncio.create_task(runner.setup())
    await migrating.wait()
    setup.cancel()
    with pytest.raises(asyncio.CancelledError):
        await setup
    assert closed.is_set()
    await runner.cleanup()
