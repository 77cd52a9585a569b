"""Signed inbox requests accepted per second, against bare RSA verifications per second.

    .venv/bin/python benchmarks/inbox.py [--requests 4000] [--concurrency 64] [--runs 5]
                                         [--mode inprocess|http|both] [--db URL]

Both figures come from the same run on the same machine:

- bare: `cryptography` RSA-2048 PKCS#1 v1.5 SHA-256 verifications per second, one core (the
  floor of any inbox: every request costs one of these);
- inbox: signed `Like` deliveries (distinct activity ids, draft-cavage and RFC 9421 mixed
  half and half, bodies ~500 bytes) accepted with 202 by siarkan's inbox, with a warm key cache
  (each sender's key fetched once before timing). Every accepted request is really processed:
  signature, digest, date window, replay check, owner check, then an `inbox_seen` row and an
  `interactions` row committed to the database (group commit) before the answer.

Modes: `inprocess` drives the inbox's request path (Inbox.receive: everything after HTTP
parsing) with N requests in flight; `http` serves the real aiohttp app on 127.0.0.1 and a
separate load-generator process keeps N connections busy (keep-alive), so HTTP parsing and the
socket are included; it also runs the same requests against an aiohttp handler that only
reads the body and answers 202, the ceiling of any inbox served by aiohttp on this machine.
In `inprocess` mode the same run also times the inbox's checks alone (signature parsing,
Date window, digest, JSON, cached key, owner, RSA verification: the functions Inbox.receive
calls, one request after another, no event loop, no database), so the gap to the target can be
placed: in the checks themselves, or in the event loop, handler and durable rows after them.
Target (issue 5): inbox/bare >= 0.5. Each run is paired with a bare figure taken just
before it, and both are reported per wall-clock second and per second of this process's CPU
time: on a shared machine the CPU figure is the steady one. Medians over --runs runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from siarkan.config import Settings, parse_settings
from siarkan.federation.http import INBOX
from siarkan.federation.inbox import InboxRequest
from siarkan.federation.signatures import (
    RequestView,
    check_signed_request,
    header_map,
    parse_signed_request,
    sign_cavage,
    sign_rfc9421,
    verify_signature,
)
from siarkan.store.db import Database
from siarkan.store.engine import create_engine, upgrade
from siarkan.web.app import create_app

SENDERS = 8
AS = "https://www.w3.org/ns/activitystreams"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the bare figure --------------------------------------------------------------------------


@dataclass
class Rate:
    wall: float  # per second of wall-clock time
    cpu: float  # per second of this process's CPU time (steady on a shared machine)


def bare_verifications_per_second(seconds: float = 0.5) -> Rate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    message = b"(request-target): post /ap/inbox\nhost: news.example\ndate: x\ndigest: y" * 3
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        count += 200
    return Rate(count / elapsed, count / (time.process_time() - cpu))


# --- remote senders -------------------------------------------------------------------------------


@dataclass
class Sender:
    actor: str
    key_id: str
    key: RSAPrivateKey

    def document(self) -> dict[str, Any]:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "inbox": self.actor + "/inbox",
            "publicKey": {"id": self.key_id, "owner": self.actor, "publicKeyPem": pem.decode()},
        }


def make_senders(base: str) -> list[Sender]:
    senders = []
    for n in range(SENDERS):
        actor = f"{base}/users/u{n}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        senders.append(Sender(actor, actor + "#main-key", key))
    return senders


def empty_inbox() -> web.Application:
    """An inbox that reads the body and answers 202, checking nothing: the floor of aiohttp."""
    app = web.Application()

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app.router.add_post("/ap/inbox", inbox)
    return app


def actor_server(senders: list[Sender]) -> web.Application:
    documents = {s.actor.rsplit("/", 1)[1]: s.document() for s in senders}
    app = web.Application()

    async def actor(request: web.Request) -> web.Response:
        return web.json_response(documents[request.match_info["name"]])

    app.router.add_get("/users/{name}", actor)
    return app


def signed_requests(
    senders: list[Sender], inbox_url: str, post_base: str, count: int, tag: str
) -> list[tuple[bytes, dict[str, str]]]:
    """Pre-signed (body, headers): signing costs ~10x verifying and is not what we measure."""
    out = []
    now = datetime.now(UTC)
    for n in range(count):
        sender = senders[n % len(senders)]
        activity = {
            "@context": AS,
            "id": f"{sender.actor}/likes/{tag}-{n}",
            "type": "Like",
            "actor": sender.actor,
            "object": f"{post_base}/ap/posts/{n % 50}",
            "to": [sender.actor + "/followers"],
            "published": now.isoformat(),
        }
        body = json.dumps(activity).encode()
        base = {"Content-Type": "application/activity+json"}
        sign = sign_rfc9421 if n % 2 else sign_cavage
        out.append((body, {**base, **sign("POST", inbox_url, base, body, sender.key_id,
                                          sender.key, now)}))  # fmt: skip
    return out


# --- siarkan under test ---------------------------------------------------------------------------


def make_settings(port: int, db_url: str) -> Settings:
    return parse_settings(
        f"""
site: {{name: Bench, base_url: "http://127.0.0.1:{port}"}}
database: {{url: "{db_url}"}}
logging: {{level: error}}
federation: {{allow_private_addresses: true}}
channels:
  - name: utama
    title: Utama
    fediverse: {{enabled: true, username: utama}}
""",
        "bench",
        env={},
    )


async def warm(inbox_url: str, senders: list[Sender], post_base: str) -> None:
    """One request per sender: fetches and caches every key before timing."""
    async with aiohttp.ClientSession() as http:
        for body, headers in signed_requests(senders, inbox_url, post_base, len(senders), "warm"):
            async with http.post(inbox_url, data=body, headers=headers) as response:
                assert response.status == 202, await response.text()


async def run_inprocess(
    app: web.Application, inbox_url: str, batches: list[list[tuple[bytes, dict[str, str]]]],
    concurrency: int,
) -> list[Rate]:  # fmt: skip
    inbox = app[INBOX]
    rates = []
    for batch in batches:
        requests = [
            InboxRequest("POST", inbox_url, header_map(headers.items()), body, path_qs="/ap/inbox")
            for body, headers in batch
        ]
        queue = iter(requests)
        accepted = 0

        async def worker() -> None:
            nonlocal accepted
            for request in queue:
                verdict = await inbox.receive(request)
                accepted += verdict.accepted

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
        assert accepted == len(requests), f"only {accepted} of {len(requests)} accepted"
        rates.append(Rate(accepted / elapsed, accepted / cpu_used))
    return rates


def run_checks(
    app: web.Application, inbox_url: str, batch: list[tuple[bytes, dict[str, str]]]
) -> Rate:
    """The inbox's checks alone, one request after another with no event loop and no
    database: signature parsing, Date window and digest, JSON, the cached key, its owner and
    the RSA verification (the functions Inbox.receive calls). What an accepted request costs
    beyond this is the event loop's task per request, the handler and the durable rows."""
    inbox = app[INBOX]
    window = inbox.settings.federation.signature_window
    requests = [
        InboxRequest("POST", inbox_url, header_map(headers.items()), body, path_qs="/ap/inbox")
        for body, headers in batch
    ]
    start, cpu = time.perf_counter(), time.process_time()
    for request in requests:
        view = RequestView(request.method, request.target_uri, request.headers, request.path_qs)
        signed = parse_signed_request(view)
        now = inbox.clock.now()
        check_signed_request(signed, view, request.body, now=now, window=window)
        activity = json.loads(request.body.decode())
        key = inbox.remote.cached_key(signed.key_id, now)
        assert key is not None and key.owner == activity["actor"]
        assert verify_signature(key.public_key, signed)
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    return Rate(len(requests) / elapsed, len(requests) / cpu_used)


def _load_generator(
    url: str, batch: list[tuple[bytes, dict[str, str]]], concurrency: int, out: Any
) -> None:
    async def main() -> None:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            queue = iter(batch)
            statuses: list[int] = []

            async def worker() -> None:
                for body, headers in queue:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses.append(response.status)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            out.send((time.perf_counter() - start, statuses.count(202), len(statuses)))

    asyncio.run(main())


async def run_http(
    inbox_url: str, batches: list[list[tuple[bytes, dict[str, str]]]], concurrency: int
) -> list[Rate]:
    rates = []
    context = multiprocessing.get_context("fork")
    for batch in batches:
        parent, child = context.Pipe()
        process = context.Process(
            target=_load_generator, args=(inbox_url, batch, concurrency, child)
        )
        cpu = time.process_time()  # the server's CPU; the generator is another process
        process.start()
        # Wait in a thread: this loop keeps serving the generator's requests meanwhile.
        elapsed, accepted, total = await asyncio.get_running_loop().run_in_executor(
            None, parent.recv
        )
        cpu_used = time.process_time() - cpu
        process.join()
        assert accepted == total, f"only {accepted} of {total} accepted"
        rates.append(Rate(accepted / elapsed, accepted / cpu_used))
    return rates


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(db_url)
        await upgrade(engine)
        port, actors_port = free_port(), free_port()
        settings = make_settings(port, db_url)
        db = Database(engine)
        app = create_app(settings, db=db, roles=("web",), freeze_heap=True)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        senders = make_senders(f"http://127.0.0.1:{actors_port}")
        actors = web.AppRunner(actor_server(senders), access_log=None)
        await actors.setup()
        await web.TCPSite(actors, "127.0.0.1", actors_port).start()
        floor_port = free_port()
        floor = web.AppRunner(empty_inbox(), access_log=None)
        await floor.setup()
        await web.TCPSite(floor, "127.0.0.1", floor_port).start()
        inbox_url = f"http://127.0.0.1:{port}/ap/inbox"
        post_base = f"http://127.0.0.1:{port}"
        # mode -> [(inbox rate, bare rate measured just before it)]
        results: dict[str, list[tuple[Rate, Rate]]] = {}
        floors: list[Rate] = []  # http mode: the empty handler, same requests, same generator
        checks: list[tuple[Rate, Rate]] = []  # inprocess mode: the checks alone, and their bare
        try:
            await warm(inbox_url, senders, post_base)
            for mode in ("inprocess", "http"):
                if args.mode not in (mode, "both"):
                    continue
                pairs = []
                for run in range(args.runs + 1):  # run 0 warms caches and is not counted
                    batch = signed_requests(senders, inbox_url, post_base, args.requests,
                                            f"{mode}{run}")  # fmt: skip
                    # Interleaved: on a shared machine the load changes from run to run, so
                    # each inbox run is compared with a bare figure taken right before it.
                    bare = bare_verifications_per_second(0.5)
                    if mode == "inprocess":
                        if run:
                            alone = signed_requests(senders, inbox_url, post_base, args.requests,
                                                    f"checks{run}")  # fmt: skip
                            checks.append((run_checks(app, inbox_url, alone), bare))
                        (rate,) = await run_inprocess(app, inbox_url, [batch], args.concurrency)
                    else:
                        (rate,) = await run_http(inbox_url, [batch], args.connections)
                        if run:
                            floors += await run_http(
                                f"http://127.0.0.1:{floor_port}/ap/inbox", [batch],
                                args.connections,
                            )  # fmt: skip
                    if run:
                        pairs.append((rate, bare))
                results[mode] = pairs
        finally:
            await runner.cleanup()
            await actors.cleanup()
            await floor.cleanup()
            await engine.dispose()

    database = "PostgreSQL" if args.db and "postgresql" in args.db else "SQLite"
    for mode, pairs in results.items():
        in_flight = args.concurrency if mode == "inprocess" else args.connections
        print(f"{mode} ({database}, {in_flight} in flight, warm key cache, "
              f"{args.requests} requests x {len(pairs)} runs; medians):")  # fmt: skip
        for clock in ("wall", "cpu"):
            rates = [getattr(r, clock) for r, _ in pairs]
            bares = [getattr(b, clock) for _, b in pairs]
            ratios = [r / b for r, b in zip(rates, bares, strict=True)]
            ratio = statistics.median(ratios)
            print(
                f"  per {clock}-second: inbox {statistics.median(rates):,.0f} accepted/s, bare "
                f"RSA-2048 PKCS#1 v1.5 SHA-256 verify {statistics.median(bares):,.0f}/s (one "
                f"core); ratio {ratio:.2f} (runs {', '.join(f'{x:.2f}' for x in ratios)}): "
                f"{'meets' if ratio >= 0.5 else 'below'} the 0.5 target"
            )
            if mode == "inprocess" and checks:
                alone = statistics.median(getattr(c, clock) / getattr(b, clock) for c, b in checks)
                print(
                    f"    the checks alone (signature, Date, digest, JSON, cached key, owner, "
                    f"RSA; no event loop, no database): ratio {alone:.2f}"
                )
            if mode == "http" and floors:
                empty = statistics.median(getattr(f, clock) for f in floors)
                print(
                    f"    aiohttp alone (a handler that reads the body and answers 202, the "
                    f"same requests): {empty:,.0f}/s, so over HTTP no inbox can pass ratio "
                    f"{empty / statistics.median(bares):.2f} here"
                )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=512, help="requests in flight")
    parser.add_argument(
        "--connections", type=int, default=64,
        help="http mode: keep-alive connections (aiohttp's client itself slows down past ~64)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mode", choices=["inprocess", "http", "both"], default="both")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    sys.exit(asyncio.run(main(parser.parse_args())))
