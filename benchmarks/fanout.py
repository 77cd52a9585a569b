"""Fan-out benchmark (issue 6): one activity to 10,000 followers on 500 hosts.

    python benchmarks/fanout.py [--followers 10000] [--hosts 500] [--runs 3]
                                [--db sqlite|postgresql] [--pg-url URL] [--failing 0.1]

    counting inbox servers in SERVER_PROCS processes, hosts = distinct 127.0.0.1 ports (the
      breaker and per-host limits key on host:port); each checks every request's Signature
      against the actor's public key and counts deliveries per inbox
    | per run: a fresh database with one Create queued to every follower's inbox (transactional
      outbox), then the real worker (claim -> sign -> POST -> record) in its own process,
      pinned to the first core (the servers get the others), which measures RSA-2048 PKCS#1
      v1.5 SHA-256 signatures/s on that core before and after its run: the bound for signed
      deliveries per core
    | clean run: every host answers 202
    | failing run: `failing` of the hosts fail (half 503, half never answer within the read
      timeout); measured until every healthy host has its deliveries

Prints every run and the medians: deliveries/s, the worker's CPU seconds, deliveries per
worker-CPU-second divided by that run's RSA signatures/s (target >= 0.6), the failing run's
healthy rate against the clean rate (target >= 0.9) and the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SERVER_PROCS = 2
READ_TIMEOUT = 3.0  # the failing run's silent hosts hold a request this long
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

CONFIG = """
site:
  name: Prolog Media
  base_url: https://prologmedia.example
database:
  url: {url}
logging:
  level: error
server:
  shutdown_timeout: 1
delivery:
  read_timeout: {read_timeout}
federation:
  allow_private_addresses: true  # the inboxes are on loopback
channels:
  - name: utama
    title: Prolog Media
    fediverse:
      enabled: true
      username: prologmedia
"""


# --- RSA bound ----------------------------------------------------------------------------------


def rsa_signatures_per_second(seconds: float = 2.0) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"(request-target): post /users/u1/inbox\nhost: 127.0.0.1:9000\ndate: x\ndigest: y"
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(100):
            key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        count += 100
    return count / (time.process_time() - start)


# --- cores ---------------------------------------------------------------------------------------

CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
# With two or more cores the worker gets the first one to itself and the inbox servers share the
# rest, so the worker's CPU-seconds are not inflated by servers preempting it on its core.
WORKER_CORES = CORES[:1] if len(CORES) >= 2 else CORES
SERVER_CORES = CORES[1:] if len(CORES) >= 2 else CORES


def pin(cores: list[int]) -> None:
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)


# --- inbox servers (child processes) ------------------------------------------------------------


def _serve(ports: list[int], bad: dict[int, str], public_pem: str, ready: Any) -> None:
    pin(SERVER_CORES)
    from aiohttp import web

    from siarkan.federation.signatures import (
        RequestView,
        header_map,
        load_public_key,
        parse_signed_request,
        verify_signature,
    )

    key = load_public_key(public_pem)
    counts: dict[str, int] = {}
    state = {"bad_signatures": 0, "failing": 0, "to_failing": 0}

    async def inbox(request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        mode = bad.get(port) if state["failing"] else None
        if mode is not None:
            state["to_failing"] += 1  # each attempt cost the worker a signature
        if mode == "503":
            await request.read()
            return web.Response(status=503)
        if mode == "silent":
            await asyncio.sleep(3600)
        body = await request.read()
        view = RequestView(
            "POST", f"http://{request.host}{request.path_qs}", header_map(request.headers.items())
        )
        try:
            ok = verify_signature(key, parse_signed_request(view)) and len(body) > 0
        except Exception:
            ok = False
        if not ok:
            state["bad_signatures"] += 1
            return web.Response(status=401)
        path = f"{port}{request.path}"
        counts[path] = counts.get(path, 0) + 1
        return web.Response(status=202)

    async def stats(request: web.Request) -> web.Response:
        document = {
            "deliveries": sum(counts.values()),
            "inboxes": len(counts),
            "duplicates": sum(n - 1 for n in counts.values()),
            "bad_signatures": state["bad_signatures"],
            "to_failing": state["to_failing"],
        }
        if request.query.get("reset"):
            counts.clear()
            state["bad_signatures"] = 0
            state["to_failing"] = 0
        return web.json_response(document)

    async def mode(request: web.Request) -> web.Response:
        state["failing"] = int(request.query.get("failing", "0"))
        return web.json_response(state)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/__stats", stats)
        app.router.add_get("/__mode", mode)
        app.router.add_post("/{tail:.*}", inbox)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for port in ports:
            await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_ports(n: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


async def set_mode(control: list[int], failing: bool) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for port in control:
            url = f"http://127.0.0.1:{port}/__mode?failing={int(failing)}"
            async with session.get(url) as response:
                await response.read()


async def server_stats(ports: list[int], reset: bool = False) -> dict[str, int]:
    import aiohttp

    total = {"deliveries": 0, "inboxes": 0, "duplicates": 0, "bad_signatures": 0, "to_failing": 0}
    async with aiohttp.ClientSession() as session:
        for port in ports:
            url = f"http://127.0.0.1:{port}/__stats" + ("?reset=1" if reset else "")
            async with session.get(url) as response:
                for name, value in (await response.json()).items():
                    total[name] += value
    return total


# --- database setup -----------------------------------------------------------------------------


async def prepare(url: str, key: Any, hosts: list[int], followers: int) -> None:
    """A migrated database with the actor and one Create queued to every follower's inbox."""
    from sqlalchemy import insert

    from siarkan.distribution.outbox import InboxTarget, enqueue_activity
    from siarkan.store.db import Database
    from siarkan.store.engine import create_engine, upgrade
    from siarkan.store.tables import activities, actors

    engine = create_engine(url)
    await upgrade(engine)
    db = Database(engine)
    now = datetime.now(UTC)
    async with db.begin() as conn:
        await conn.execute(
            insert(actors).values(
                name="utama",
                username="prologmedia",
                key_id="https://prologmedia.example/ap/actors/utama#main-key",
                private_key_pem=key.private_pem,
                public_key_pem=key.public_pem,
                key_created_at=now,
                created_at=now,
            )
        )
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://prologmedia.example/ap/activities/1",
                "type": "Create",
                "actor": "https://prologmedia.example/ap/actors/utama",
                "object": {
                    "id": "https://prologmedia.example/ap/posts/1",
                    "type": "Note",
                    "content": "<p>Banjir Rendam 1.250 Rumah di Kabupaten Serang. " * 8 + "</p>",
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                },
            }
        )
        activity_id = (
            await conn.execute(
                insert(activities)
                .values(
                    uri="https://prologmedia.example/ap/activities/1",
                    actor_name="utama",
                    type="Create",
                    object_uri="https://prologmedia.example/ap/posts/1",
                    body=body,
                    public=True,
                    created_at=now,
                )
                .returning(activities.c.id)
            )
        ).scalar_one()
        per_host = followers // len(hosts)
        targets = [
            InboxTarget(f"http://127.0.0.1:{port}/users/u{i}/inbox")
            for i in range(per_host)
            for port in hosts
        ]
        await enqueue_activity(
            conn, activity_id=activity_id, actor_name="utama", targets=targets, now=now
        )
    await db.close()


# --- the worker (child process) -----------------------------------------------------------------


def run_worker(settings_text: str, expect: int, results: Any, sign_threads: int = 0) -> None:
    """The real worker in its own process until `expect` deliveries are recorded as sent."""

    pin(WORKER_CORES)
    rsa = rsa_signatures_per_second(1.0)

    async def main() -> dict[str, float]:
        from siarkan.clock import SystemClock
        from siarkan.config import parse_settings
        from siarkan.distribution.worker import Worker
        from siarkan.metrics import Metrics
        from siarkan.store.db import Database
        from siarkan.web.app import make_client_session

        settings = parse_settings(settings_text, "benchmark", env={})
        db = Database.from_settings(settings.database)
        session = make_client_session(settings)
        threads = None if sign_threads < 0 else sign_threads
        # Metrics on, as `siarkan serve` runs the worker.
        worker = Worker(
            db, settings, SystemClock(), session, metrics=Metrics(), sign_threads=threads
        )
        stop = asyncio.Event()
        # `siarkan serve` freezes its startup heap (web/app.py, _freeze_startup_objects): the
        # worker's full collections then skip the ~130k objects loaded at start, which here
        # cost 80-160 ms each, one per ~5,000 deliveries.
        gc.collect()
        gc.freeze()
        cpu0 = time.process_time()
        sys0 = os.times().system
        start = time.perf_counter()
        task = asyncio.create_task(worker.run(stop))
        while worker.stats.by_state.get("sent", 0) < expect:
            await asyncio.sleep(0.02)  # checked in the worker's process: its CPU counts
            if time.perf_counter() - start > 600:
                break
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        system = os.times().system - sys0
        stop.set()
        await task
        await session.close()
        await db.close()
        return {
            "wall": wall,
            "cpu": cpu,
            "system": system,  # of which in the kernel (sockets, polling)
            "sent": float(worker.stats.by_state.get("sent", 0)),
            "retrying": float(worker.stats.by_state.get("retrying", 0)),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    figures = asyncio.run(main())
    # The machine's speed drifts (shared, 2 cores): the bound is measured on the worker's core
    # just before and just after its run, and the two averaged.
    figures["rsa"] = (rsa + rsa_signatures_per_second(1.0)) / 2
    results.put(figures)


# --- orchestration ------------------------------------------------------------------------------


async def new_database(kind: str, pg_url: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        path = workdir / f"fanout-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite+aiosqlite:///{path}", None
    import asyncpg

    name = f"siarkan_fanout_{uuid.uuid4().hex[:8]}"
    admin = pg_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return pg_url.rsplit("/", 1)[0] + f"/{name}", drop


def one_run(
    kind: str,
    pg_url: str,
    workdir: Path,
    key: Any,
    hosts: list[int],
    followers: int,
    expect: int,
    sign_threads: int,
) -> dict[str, float]:
    url, drop = asyncio.run(new_database(kind, pg_url, workdir))
    text = CONFIG.format(url=url, read_timeout=READ_TIMEOUT)
    asyncio.run(prepare(url, key, hosts, followers))
    asyncio.run(server_stats(hosts[:SERVER_PROCS], reset=True))
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=run_worker, args=(text, expect, results, sign_threads))
    proc.start()
    figures: dict[str, float] = results.get(timeout=900)
    proc.join(timeout=60)
    counted = asyncio.run(server_stats(hosts[:SERVER_PROCS]))
    figures |= {f"server_{k}": float(v) for k, v in counted.items()}
    if drop is not None:
        asyncio.run(drop())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_ADMIN)
    parser.add_argument("--failing", type=float, default=0.1)
    parser.add_argument("--failing-mode", choices=["mixed", "503", "silent"], default="mixed")
    parser.add_argument(
        "--sign-threads",
        type=int,
        default=0,
        help="RSA signing threads in the worker (0: sign on the event loop, one core; "
        "-1: the worker's default, cores - 1)",
    )
    args = parser.parse_args()

    ports = free_ports(args.hosts)
    per_host = args.followers // args.hosts
    failing_count = int(args.hosts * args.failing)
    # Spread the failing hosts evenly; half answer 503 at once, half never answer.
    step = max(1, args.hosts // max(failing_count, 1))
    failing = ports[::step][:failing_count]
    modes = {"mixed": ("503", "silent"), "503": ("503",), "silent": ("silent",)}[args.failing_mode]
    bad = {p: modes[i % len(modes)] for i, p in enumerate(failing)}

    from siarkan.federation.keys import generate_key_pair

    key = generate_key_pair()
    public_pem = key.public_pem
    ctx = mp.get_context("spawn")
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        chunks = [ports[i::SERVER_PROCS] for i in range(SERVER_PROCS)]
        for chunk in chunks:
            ready = ctx.Event()
            proc = ctx.Process(target=_serve, args=(chunk, bad, public_pem, ready), daemon=True)
            proc.start()
            ready.wait(60)
            servers.append(proc)
        print(
            f"{args.followers:,} followers on {args.hosts} hosts ({per_host} inboxes each), "
            f"{SERVER_PROCS} server processes, database {args.db}, {os.cpu_count()} CPUs, "
            f"sign threads {args.sign_threads}",
            flush=True,
        )
        try:
            report = run_all(args, workdir, key, ports, bad)
        finally:
            for proc in servers:
                proc.terminate()
    print(json.dumps(report, indent=2))


def run_all(
    args: argparse.Namespace,
    workdir: Path,
    key: Any,
    ports: list[int],
    bad: dict[int, str],
) -> dict[str, Any]:
    per_host = args.followers // args.hosts
    total = per_host * args.hosts
    healthy = per_host * (args.hosts - len(bad))
    clean: list[dict[str, float]] = []
    failing: list[dict[str, float]] = []
    for run in range(args.runs):
        for name, runs, expect in (("clean", clean, total), ("failing", failing, healthy)):
            asyncio.run(set_mode(ports[:SERVER_PROCS], failing=name == "failing"))
            figures = one_run(
                args.db, args.pg_url, workdir, key, ports, args.followers, expect, args.sign_threads
            )
            runs.append(figures)
            rate = figures["sent"] / figures["wall"]
            per_cpu = figures["sent"] / figures["cpu"]
            rsa_run = figures["rsa"]
            print(
                f"run {run + 1} {name:7}: {figures['sent']:,.0f} sent in {figures['wall']:.2f} s "
                f"= {rate:,.0f}/s; worker CPU {figures['cpu']:.2f} s "
                f"({figures['system']:.2f} s system) = {per_cpu:,.0f}/CPU-s "
                f"= {per_cpu / rsa_run:.2f} x RSA ({rsa_run:,.0f} signatures/s on its core); "
                f"peak RSS {figures['maxrss_mb']:.0f} MB; "
                f"servers counted {figures['server_deliveries']:,.0f} "
                f"(dups {figures['server_duplicates']:.0f}, "
                f"bad sigs {figures['server_bad_signatures']:.0f})"
                + (
                    f"; {figures['server_to_failing']:,.0f} attempts on failing hosts"
                    if name == "failing"
                    else ""
                ),
                flush=True,
            )

    def med(runs: list[dict[str, float]], f: Any) -> float:
        return statistics.median(f(r) for r in runs)

    clean_rate = med(clean, lambda r: r["sent"] / r["wall"])
    healthy_rate = med(failing, lambda r: r["sent"] / r["wall"])
    # Each failing run follows its clean run at once: the pair sees the same machine speed.
    pairs = [f["sent"] / f["wall"] / (c["sent"] / c["wall"]) for c, f in zip(clean, failing)]
    failing_vs_clean = statistics.median(pairs)
    per_cpu = med(clean, lambda r: r["sent"] / r["cpu"])
    # Each run's ratio is against the RSA rate its worker measured on its own core around it;
    # the ratios' median is reported.
    ratio = med(clean, lambda r: r["sent"] / r["cpu"] / r["rsa"])
    rsa = med(clean, lambda r: r["rsa"])
    report = {
        "rsa_signatures_per_s": round(rsa),
        "clean_deliveries_per_s": round(clean_rate),
        "clean_deliveries_per_worker_cpu_s": round(per_cpu),
        "ratio_per_worker_core": round(ratio, 3),
        "ratio_wall_clock": round(clean_rate / rsa, 3),
        "failing_healthy_deliveries_per_s": round(healthy_rate),
        "failing_vs_clean": round(failing_vs_clean, 3),
        "peak_rss_mb": round(max(r["maxrss_mb"] for r in clean + failing)),
        "runs": args.runs,
    }
    print(
        f"medians: clean {clean_rate:,.0f}/s, {per_cpu:,.0f} per worker-CPU-second = "
        f"{ratio:.2f} x RSA (target >= 0.6); wall-clock {clean_rate / rsa:.2f} x RSA; "
        f"failing run healthy {healthy_rate:,.0f}/s = {failing_vs_clean:.2f} x clean "
        f"(target >= 0.9); peak RSS {report['peak_rss_mb']} MB"
    )
    return report


if __name__ == "__main__":
    main()
