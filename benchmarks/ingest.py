"""Ingest benchmark: `siarkan import` of 2,000 reports into SQLite and PostgreSQL.

    samples/ | generate N variants (new titles and ids, shuffled middle paragraphs) as files
        | per (database, kind) x 3 runs, each in a fresh process pinned to one CPU:
          fresh database -> importer.import_targets([dir]) (exactly what the CLI runs:
          read, parse, one transaction per article with publishing.article_changed)
        | median reports/s, ratio to target, peak RSS (and growth over the process baseline)

Targets (issue 2): >= 300 text reports/s and >= 100 HTML pages/s into SQLite.

    .venv/bin/python benchmarks/ingest.py                 # 2,000 of each, SQLite + PostgreSQL
    .venv/bin/python benchmarks/ingest.py --count 500 --runs 1 --no-postgres
    .venv/bin/python benchmarks/ingest.py --channels      # with a fediverse channel (the hook
                                                          # then renders excerpts and posts)

PostgreSQL: a fresh schema in 127.0.0.1:5432/test (SIARKAN_BENCH_PG_URL to change), dropped
afterwards; skipped with the reason printed when the server is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
TARGETS = {"text": 300.0, "html": 100.0}
PG_URL = os.environ.get("SIARKAN_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

CONFIG = """
site:
  name: Prolog Media
  base_url: http://127.0.0.1:8080
  timezone: Asia/Jakarta
database:
  url: {url}
"""
CHANNELS = """
channels:
  - name: utama
    title: Prolog Media
    fediverse:
      enabled: true
      username: prologmedia
    excerpts:
      mode: thread
"""

# --- corpus -----------------------------------------------------------------------------------


def _text_sources() -> list[tuple[str, list[str]]]:
    """(title, paragraph blocks) of every plain-text-shaped sample."""
    sources = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        title, _, body = text.partition("\n\n")
        sources.append((title.strip(), body.strip().split("\n\n")))
    data = json.loads((SAMPLES / "siswa-belajar-di-tenda-lebak.json").read_text(encoding="utf-8"))
    sources.append((data["title"], data["body_text"].strip().split("\n\n")))
    markdown = (SAMPLES / "kampanye-cek-kesehatan-puskesmas.md").read_text(encoding="utf-8")
    front, body = markdown.split("\n---\n", 1)
    title = re.search(r'^title: "(.*)"$', front, re.M)
    assert title is not None
    sources.append((title.group(1), body.replace("**", "").strip().split("\n\n")))
    return sources


def _shuffled(blocks: list[str], rng: random.Random) -> list[str]:
    """Keep the dateline lead first and the closing paragraph last; shuffle the middle."""
    middle = blocks[1:-1]
    rng.shuffle(middle)
    return [blocks[0], *middle, blocks[-1]]


def write_text_reports(folder: Path, count: int) -> None:
    sources = _text_sources()
    for i in range(count):
        rng = random.Random(i)
        title, blocks = sources[i % len(sources)]
        body = "\n\n".join(_shuffled(blocks, rng))
        # The edition number leads, so titles (and slugs, cut at 80 characters) differ.
        (folder / f"laporan-{i:05d}.txt").write_text(
            f"Edisi {i + 1}: {title}\n\n{body}\n", encoding="utf-8"
        )


def write_html_pages(folder: Path, count: int) -> None:
    page = (SAMPLES / "festival-kopi-pandeglang.html").read_text(encoding="utf-8")
    start = page.index('<div class="detail-text"')
    start = page.index(">", start) + 1
    end = page.index('  <div class="post-tags">')
    body = page[start:end]
    paragraphs = re.findall(r"\n    <p>.*?</p>", body)
    first, last = paragraphs[0], paragraphs[-1]
    for i in range(count):
        rng = random.Random(i)
        middle = paragraphs[1:-1]
        rng.shuffle(middle)
        new_body = body
        for old, new in zip(paragraphs, [first, *middle, last], strict=True):
            new_body = new_body.replace(old, f"\0{new}", 1)
        new_body = new_body.replace("\0", "")
        variant = (page[:start] + new_body + page[end:]).replace(
            "Festival Kopi Banten Digelar", f"Festival Kopi Banten Edisi {i + 1} Digelar"
        )
        variant = variant.replace(
            "festival-kopi-banten-alun-alun-pandeglang", f"festival-kopi-banten-edisi-{i + 1}"
        )
        (folder / f"halaman-{i:05d}.html").write_text(variant, encoding="utf-8")


# --- one measured run (in a child process) ----------------------------------------------------


@dataclass
class RunResult:
    count: int
    seconds: float
    cpu_seconds: float  # process CPU time: what the run cost, whatever else the machine did
    peak_rss_mb: float
    baseline_rss_mb: float
    failed: int


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


async def _measure(folder: str, db_kind: str, with_channels: bool) -> RunResult:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from siarkan.articles.importer import import_targets
    from siarkan.clock import SystemClock
    from siarkan.config import parse_settings
    from siarkan.store.db import Database
    from siarkan.store.engine import create_engine, upgrade

    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if db_kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            engine = create_engine(url)
        else:
            url = PG_URL
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_async_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await admin.dispose()
            engine = create_async_engine(
                PG_URL, connect_args={"server_settings": {"search_path": schema}}
            )
        await upgrade(engine)
        db = Database(engine)
        settings = parse_settings(
            CONFIG.format(url=url) + (CHANNELS if with_channels else ""), env={}
        )
        baseline = _rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await import_targets([folder], db=db, settings=settings, clock=SystemClock())
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        peak = _rss_mb()
        await db.close()
        if schema is not None:
            admin = create_async_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    stored = len(report.imported) + len(report.updated) + len(report.unchanged)
    return RunResult(stored, seconds, cpu_seconds, peak, baseline, len(report.failed))


def run_once(folder: str, db_kind: str, with_channels: bool, cpu: int) -> RunResult:
    os.sched_setaffinity(0, {cpu})  # one core, threads included
    return asyncio.run(_measure(folder, db_kind, with_channels))


def postgres_reason() -> str | None:
    async def probe() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(PG_URL, connect_args={"timeout": 3})
        try:
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} unreachable: {exc.__class__.__name__}: {exc}"
    return None


# --- driver -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--channels", action="store_true", help="configure a fediverse channel")
    parser.add_argument("--kinds", default="text,html")
    args = parser.parse_args(argv)

    databases = ["sqlite"]
    if not args.no_postgres:
        reason = postgres_reason()
        if reason:
            print(f"skipping PostgreSQL: {reason}")
        else:
            databases.append("postgresql")
    cpu = max(os.sched_getaffinity(0))
    kinds = [k for k in args.kinds.split(",") if k]
    print(
        f"ingest benchmark: {args.count} reports per kind, {args.runs} runs each, one process "
        f"per run pinned to CPU {cpu}, channels={'fediverse' if args.channels else 'none'}"
    )
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for kind, writer in (("text", write_text_reports), ("html", write_html_pages)):
            if kind in kinds:
                folder = Path(tmp) / kind
                folder.mkdir()
                writer(folder, args.count)
                folders[kind] = str(folder)
        header = (
            f"{'database':11} {'kind':5} {'median/s':>9} {'runs/s':>22} {'target':>7} "
            f"{'ratio':>6} {'per CPU-s':>9} {'peak RSS':>9} {'growth':>7}"
        )
        print(header)
        ctx = get_context("spawn")
        for db_kind in databases:
            for kind, folder in folders.items():
                results: list[RunResult] = []
                for _ in range(args.runs):
                    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                        results.append(
                            pool.submit(run_once, folder, db_kind, args.channels, cpu).result()
                        )
                rates = [r.count / r.seconds for r in results]
                median = statistics.median(rates)
                cpu_rate = statistics.median(r.count / r.cpu_seconds for r in results)
                peak = statistics.median(r.peak_rss_mb for r in results)
                growth = statistics.median(r.peak_rss_mb - r.baseline_rss_mb for r in results)
                failures += sum(r.failed for r in results)
                target = TARGETS[kind] if db_kind == "sqlite" else None
                ratio = f"{median / target:5.2f}x" if target else "     -"
                runs = ", ".join(f"{r:.0f}" for r in rates)
                print(
                    f"{db_kind:11} {kind:5} {median:9.1f} {runs:>22} "
                    f"{(f'{target:.0f}' if target else '-'):>7} {ratio:>6} {cpu_rate:9.1f} "
                    f"{peak:7.1f}MB {growth:+6.1f}MB",
                    flush=True,
                )
                if any(r.count != args.count for r in results):
                    print(f"  warning: stored counts {[r.count for r in results]}")
    if failures:
        print(f"{failures} inputs failed to import")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
