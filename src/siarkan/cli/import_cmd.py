"""`siarkan import PATH|URL ...`: reports from files, directories, pages, feeds and sitemaps.

    arguments | ImportOptions | importer.import_targets (progress bar on a terminal)
        | per-file warnings, failures and skips on stderr | summary line (or --json) on stdout

Exit status 1 when any input failed, 0 otherwise; failed inputs never stop the others. A page
robots.txt keeps us from is skipped, not failed: the site said no, nothing went wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp

from siarkan.articles.importer import KINDS, ImportOptions, ImportReport, Progress, import_targets
from siarkan.articles.model import Status
from siarkan.cli.context import CliContext
from siarkan.web.app import make_client_session


def register(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "import",
        help="import reports from files, directories or URLs",
        description=(
            "Import reports: files by extension ("
            + ", ".join(KINDS)
            + "), directories recursively, article pages, RSS/Atom feeds and sitemaps by URL."
            " Re-importing the same input is a no-op; an edited one updates the same article."
            " Pages a feed or sitemap lists are fetched as its site's robots.txt allows, one at"
            " a time per host (see imports: in the config)."
        ),
    )
    parser.add_argument("targets", nargs="+", metavar="PATH|URL")
    parser.add_argument("--section", help="put every imported article in this section")
    parser.add_argument(
        "--status",
        choices=[s.value for s in Status],
        help=(
            "set this status on every article (a retracted one stays retracted: only a push"
            " through the admin API publishes it again)"
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="parse and report; store nothing")
    parser.add_argument(
        "--refetch",
        action="store_true",
        help="read feeds and sitemaps in full even if unchanged since the last import",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")
    parser.set_defaults(handler=run)


@asynccontextmanager
async def _progress(enabled: bool) -> AsyncIterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise. Its total grows
    as feeds and sitemaps are read: a sitemap of 500 pages is 500 steps, not one."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=0)
        total = 0

        def found(count: int) -> None:
            nonlocal total
            total += count
            bar.update(task, total=total)

        def done(name: str) -> None:
            bar.update(task, advance=1, description=name[-50:])

        yield Progress(found, done)


def _print_human(report: ImportReport) -> None:
    for path, more in report.joined:
        print(f"{path}: report split over pages, also read: {' '.join(more)}", file=sys.stderr)
    for path, message in report.warnings:
        print(f"{path}: warning: {message}", file=sys.stderr)
    for failed in report.failed:
        print(f"{failed.source}: failed: {failed.reason}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"{skipped.source}: skipped: {skipped.reason}", file=sys.stderr)
    for url in report.not_modified:
        print(
            f"{url}: not modified since the last import (--refetch reads it anyway)",
            file=sys.stderr,
        )
    print(report.summary())


def _print_interrupted(report: ImportReport) -> None:
    """Ctrl-C: each article is stored in a transaction of its own, so what was stored stays and
    the one in progress was rolled back. Said on stderr (stdout stays empty: no half a --json);
    main adds "siarkan: interrupted"."""
    for failed in report.failed:
        print(f"{failed.source}: failed: {failed.reason}", file=sys.stderr)
    then = "" if report.dry_run else " (kept; importing the same inputs again does the rest)"
    print(f"before the interrupt: {report.summary()}{then}", file=sys.stderr)


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    options = ImportOptions(
        section=args.section,
        status=Status(args.status) if args.status else None,
        dry_run=args.dry_run,
        refetch=args.refetch,
    )
    needs_http = any(t.startswith(("http://", "https://")) for t in args.targets)
    report = ImportReport(dry_run=options.dry_run)
    try:
        await _import(args, ctx, options, report, needs_http=needs_http)
    except (asyncio.CancelledError, KeyboardInterrupt):
        # asyncio.run turns Ctrl-C into a cancellation of this task, then KeyboardInterrupt.
        _print_interrupted(report)
        raise
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_human(report)
    return 0 if report.ok else 1


async def _import(
    args: argparse.Namespace,
    ctx: CliContext,
    options: ImportOptions,
    report: ImportReport,
    *,
    needs_http: bool,
) -> None:
    async with AsyncExitStack() as stack:
        session: aiohttp.ClientSession | None = None
        if needs_http:
            session = await stack.enter_async_context(make_client_session(ctx.settings))
        db = None if options.dry_run else await stack.enter_async_context(ctx.database())
        progress = await stack.enter_async_context(_progress(ctx.interactive))
        await import_targets(
            args.targets,
            db=db,
            settings=ctx.settings,
            clock=ctx.clock,
            options=options,
            session=session,
            progress=progress,
            report=report,
        )
