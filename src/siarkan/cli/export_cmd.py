"""`siarkan export [--out feeds/]`: write every feed and archive page as static files.

settings + database | FeedService (no cache) | feeds.export.export_feeds -> files
prints the files written and removed, and how many were already up to date
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path, PurePosixPath
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from siarkan.cli.context import CliContext
from siarkan.feeds.cache import FeedCache
from siarkan.feeds.export import export_feeds
from siarkan.feeds.service import FeedService


def register(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "export",
        help="write every feed (and its archive pages) as static files",
        description=(
            "Render every feed (RSS, Atom, JSON Feed; channels and their section/tag/author "
            "feeds) and all RFC 5005 archive pages into a directory with the same layout as "
            "the live /feeds/ URLs. Files are replaced atomically and only when their content "
            "changed."
        ),
    )
    parser.add_argument(
        "--out", default="feeds", help="output directory (default: feeds/)", type=Path
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also list the files that were already up to date"
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    out: Path = args.out
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    console = Console(stderr=True)
    async with ctx.database() as db:
        # A fresh cache per export: the change key is read once, every page is rendered.
        service = FeedService(ctx.settings, db, ctx.clock, cache=FeedCache(refresh_seconds=3600))
        if ctx.interactive:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed} files"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("exporting feeds", total=None)

                def advance(path: PurePosixPath, changed: bool) -> None:
                    bar.update(task, advance=1, description=f"exporting {path.parent}")

                result = await export_feeds(service, out, progress=advance)
        else:
            result = await export_feeds(service, out)
    for path in result.written:
        print(f"written    {out / path}")
    for path in result.removed:
        print(f"removed    {out / path}")
    if args.verbose:
        for path in result.unchanged:
            print(f"unchanged  {out / path}")
    print(
        f"{len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed in {out}/"
    )
    return 0
