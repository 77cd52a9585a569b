"""Core commands: serve, check-config, db, articles."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from siarkan.articles.model import Status, article_to_dict
from siarkan.cli.context import CliContext, positive_int
from siarkan.config import Settings, advisories
from siarkan.store import engine as store_engine
from siarkan.store.articles import get_article, list_articles
from siarkan.store.worker_lock import WorkerLockHeld, take_worker_lock
from siarkan.web.app import create_app, create_ops_app, parse_roles

log = logging.getLogger("siarkan.serve")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def register(sub: argparse._SubParsersAction[Any]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the web service, workers and scheduler",
        description=(
            "Run siarkan until SIGTERM or Ctrl-C. Links on pages, feeds and fediverse ids come"
            " from site.base_url, not from --host or --port: give it the address people and"
            " other servers use (config/siarkan.yaml reads $SIARKAN_BASE_URL)."
        ),
    )
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=_port, help="override server.port")
    serve.add_argument(
        "--role",
        default="all",
        help=(
            "web, worker, scheduler, a comma-separated mix, or all (default); without web,"
            " metrics.port (if set) serves /healthz and /metrics"
        ),
    )
    serve.set_defaults(handler=run_serve)

    check = sub.add_parser("check-config", help="validate the config file and exit")
    check.set_defaults(handler=run_check_config)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="migrate the schema to the newest revision")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=run_db_upgrade)
    down = db_sub.add_parser("downgrade", help="migrate the schema back to REVISION")
    down.add_argument("revision")
    down.set_defaults(handler=run_db_downgrade)
    cur = db_sub.add_parser("current", help="print the schema revision")
    cur.set_defaults(handler=run_db_current)

    arts = sub.add_parser("articles", help="list and show stored articles")
    arts_sub = arts.add_subparsers(dest="articles_command", required=True, metavar="ACTION")
    lst = arts_sub.add_parser("list", help="newest first")
    lst.add_argument("--status", choices=[s.value for s in Status])
    lst.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default 50)"
    )
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_articles_list)
    show = arts_sub.add_parser("show", help="one article by id or slug")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_articles_show)


async def run_check_config(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.settings
    print(
        f"{ctx.config_path}: ok — site {settings.site.name!r} at {settings.site.base_url}, "
        f"{len(settings.channels)} channel(s), database {settings.database.url.split('://')[0]}"
    )
    for note in advisories(settings):
        print(f"{ctx.config_path}: warning: {note}")
    return 0


async def run_db_upgrade(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.database(migrate=False) as db:
        before = await store_engine.current_revision(db.engine)
        await store_engine.upgrade(db.engine, args.revision)
        after = await store_engine.current_revision(db.engine)
    print(f"schema: {before or 'empty'} -> {after}")
    return 0


async def run_db_downgrade(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.database(migrate=False) as db:
        await store_engine.downgrade(db.engine, args.revision)
        after = await store_engine.current_revision(db.engine)
    print(f"schema now at {after or 'base (empty)'}")
    return 0


async def run_db_current(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.database(migrate=False) as db:
        current = await store_engine.current_revision(db.engine)
    head = store_engine.head_revision()
    state = "up to date" if current == head else f"out of date (newest is {head})"
    print(f"{current or 'empty'}: {state}")
    return 0 if current == head else 1


async def run_articles_list(args: argparse.Namespace, ctx: CliContext) -> int:
    status = Status(args.status) if args.status else None
    async with ctx.database() as db, db.connect() as conn:
        items = await list_articles(conn, status=status, limit=args.limit)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": a.id,
                        "slug": a.slug,
                        "title": a.title,
                        "status": a.status.value,
                        "section": a.section,
                        "published_at": a.published_at.isoformat() if a.published_at else None,
                    }
                    for a in items
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    tz = ctx.settings.site.tz
    for a in items:
        when = a.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if a.published_at else "-"
        print(f"{a.id}  {when:16}  {a.status.value:9}  {a.title[:70]}")
    if not items:
        print("no articles yet: try `siarkan import samples/`", file=sys.stderr)
    return 0


async def run_articles_show(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.database() as db, db.connect() as conn:
        article = await get_article(conn, args.id)
    if article is None:
        print(f"siarkan: no article with id or slug {args.id!r}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(article_to_dict(article), ensure_ascii=False, indent=2))
        return 0
    tz = ctx.settings.site.tz
    print(article.title)
    if article.subtitle:
        print(article.subtitle)
    print(f"id {article.id} · {article.status.value} · slug {article.slug}")
    if article.published_at:
        print(f"published {article.published_at.astimezone(tz).isoformat()}")
    if article.authors:
        print("by " + ", ".join(article.authors))
    print()
    if article.dateline:
        print(f"{article.dateline} – ", end="")
    print(article.text)
    if article.related:
        print("\nrelated: " + "; ".join(r.title for r in article.related))
    return 0


def base_url_port_mismatch(base_url: str, port: int) -> str | None:
    """Why a loopback site.base_url on another port than the one served is worth a warning:
    every link would lead to that other port (another program, or nothing). A public base_url
    is a proxy's address, whose port has nothing to do with ours."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    wanted = parts.port or (443 if parts.scheme == "https" else 80)
    if not local or wanted == port:
        return None
    netloc = f"[{host}]" if ":" in host else host
    return (
        f"site.base_url is {base_url} but this server listens on port {port}: links on its "
        f"pages and feeds lead to port {wanted}. Set site.base_url (or SIARKAN_SITE_BASE_URL; "
        f"config/siarkan.yaml reads SIARKAN_BASE_URL) to {parts.scheme}://{netloc}:{port}"
    )


def _listen(host: str, port: int) -> list[socket.socket]:
    """Bound sockets for host:port, one per address it resolves to (as TCPSite would)."""
    infos = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )  # fmt: skip
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


async def run_serve(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.settings
    try:
        roles = parse_roles(args.role)
    except ValueError as exc:
        print(f"siarkan: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings.server.host
    port = args.port if args.port is not None else settings.server.port
    for note in advisories(settings):
        log.warning("config: %s", note)
    # Take the address before anything starts: a second `serve` on a busy port must fail
    # before its worker takes back the running worker's leases (SQLite) or claims rows.
    sockets: list[socket.socket] = []
    # Without the web role, metrics.port (if set) serves /healthz and /metrics alone.
    ops_port = settings.metrics.port if "web" not in roles else None
    if "web" in roles or ops_port is not None:
        listen_port = port if ops_port is None else ops_port
        try:
            sockets = _listen(host, listen_port)
        except OSError as exc:
            what = "--port or server.port" if ops_port is None else "metrics.port"
            print(
                f"siarkan: cannot listen on {host}:{listen_port}: {exc.strerror or exc} "
                f"(is siarkan already running? choose another with {what})",
                file=sys.stderr,
            )
            return 1
    worker_lock: int | None = None
    if "worker" in roles:
        # Before the worker takes back the file's leases (SQLite): only a dead run's may be.
        try:
            worker_lock = take_worker_lock(settings.database.url)
        except WorkerLockHeld as exc:
            for sock in sockets:
                sock.close()
            print(f"siarkan: {exc}", file=sys.stderr)
            return 1
    try:
        return await _serve(settings, roles, host, port, ops_port, sockets)
    finally:
        if worker_lock is not None:
            os.close(worker_lock)


async def _serve(
    settings: Settings,
    roles: frozenset[str],
    host: str,
    port: int,
    ops_port: int | None,
    sockets: list[socket.socket],
) -> int:
    app = create_app(settings, roles=roles, freeze_heap=True)
    runner = web.AppRunner(app, shutdown_timeout=settings.server.shutdown_timeout)
    stop = asyncio.Event()
    ops_runner: web.AppRunner | None = None
    try:
        # Inside the try: a startup cut short (Ctrl-C before the handlers below exist cancels
        # this task) still cleans up what had started (database engine, HTTP session).
        await runner.setup()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if ops_port is not None:
            ops_runner = web.AppRunner(create_ops_app(app), access_log=None)
            await ops_runner.setup()
            for sock in sockets:
                await web.SockSite(ops_runner, sock).start()
            log.info(
                "serving /healthz and /metrics",
                extra={"url": f"http://{host}:{sockets[0].getsockname()[1]}"},
            )
        if "web" in roles:
            for sock in sockets:
                await web.SockSite(runner, sock).start()
            port = sockets[0].getsockname()[1]  # the real one when port 0 was asked for
            log.info("serving", extra={"url": f"http://{host}:{port}", "roles": sorted(roles)})
            mismatch = base_url_port_mismatch(settings.site.base_url, port)
            if mismatch is not None:
                log.warning("config: %s", mismatch)
            # For a person at a terminal; in a JSON log stream (a container, journald) a plain
            # line breaks every parser, and the "serving" record above says the same.
            if settings.logging.format == "text" or sys.stderr.isatty():
                print(
                    f"siarkan serving on http://{host}:{port} (roles: {', '.join(sorted(roles))})",
                    file=sys.stderr,
                    flush=True,
                )
        else:
            log.info("running without web role", extra={"roles": sorted(roles)})
        await stop.wait()
        log.info("shutting down")
    finally:
        if ops_runner is not None:
            await ops_runner.cleanup()
        await runner.cleanup()
    return 0
