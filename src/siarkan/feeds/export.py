"""Static export: every feed and archive page as files a CDN or plain web server can serve.

    FeedService.feed_list (channels + per-section/tag/author feeds)
        | FeedService.pages (subscription document, then every archive page, newest first)
        | render_page per format (same bytes as the live URL)
        | write_if_changed: compare with the file on disk; if different, write a temporary file
          in the same directory, fsync, rename over the old one (readers never see half a file)
        | prune archive files no feed produces any more

The layout mirrors the live URLs below /feeds/: {channel}[/{kind}/{slug}][/archive/{cursor}]/
{rss.xml|atom.xml|feed.json}. Archive pages never change once closed (feeds/paging.py), so a
second export rewrites only the subscription documents and pages that really changed, and
their modification times tell a web server (and its ETags) the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from siarkan.feeds.model import FILE_NAMES, FeedSpec
from siarkan.feeds.paging import Key, encode_cursor
from siarkan.feeds.service import FeedService

Progress = Callable[[PurePosixPath, bool], None]


@dataclass
class ExportResult:
    written: list[PurePosixPath] = field(default_factory=list)
    unchanged: list[PurePosixPath] = field(default_factory=list)
    removed: list[PurePosixPath] = field(default_factory=list)


def relative_path(spec: FeedSpec, fmt: str, page: Key | None) -> PurePosixPath:
    """Where a document lives below the export root (== its URL path below /feeds/)."""
    path = PurePosixPath(spec.channel.name)
    if spec.scope is not None:
        path = path / spec.scope.kind / spec.scope.slug
    if page is not None:
        path = path / "archive" / encode_cursor(page)
    return path / FILE_NAMES[fmt]


def write_if_changed(path: Path, body: bytes) -> bool:
    """Atomically replace `path` with `body` unless it already holds exactly that."""
    try:
        if path.stat().st_size == len(body) and path.read_bytes() == body:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def _prune(
    out: Path, roots: set[PurePosixPath], produced: set[PurePosixPath]
) -> list[PurePosixPath]:
    """Archive files under the exported feeds that this export did not produce."""
    removed: list[PurePosixPath] = []
    names = set(FILE_NAMES.values())
    for root in sorted(roots):
        archive = out / root / "archive"
        if not archive.is_dir():
            continue
        for page_dir in sorted(archive.iterdir()):
            if not page_dir.is_dir():
                continue
            for file in sorted(page_dir.iterdir()):
                relative = PurePosixPath(file.relative_to(out).as_posix())
                if file.name in names and relative not in produced:
                    file.unlink()
                    removed.append(relative)
            with contextlib.suppress(OSError):
                page_dir.rmdir()  # only when empty
    return removed


async def export_feeds(
    service: FeedService, out: Path, *, progress: Progress | None = None
) -> ExportResult:
    result = ExportResult()
    produced: set[PurePosixPath] = set()
    roots: set[PurePosixPath] = set()
    for ref in await service.feed_list():
        spec = ref.spec
        roots.add(relative_path(spec, "rss", None).parent)
        async for data in service.pages(spec):
            content_key = f"{service.fingerprint}:{data.content_key()}"
            for fmt in spec.channel.feeds.formats:
                rendered = service.render_page(spec, data, fmt, content_key)
                relative = relative_path(spec, fmt, data.archive_end)
                produced.add(relative)
                changed = await asyncio.to_thread(write_if_changed, out / relative, rendered.body)
                (result.written if changed else result.unchanged).append(relative)
                if progress is not None:
                    progress(relative, changed)
    result.removed = await asyncio.to_thread(_prune, out, roots, produced)
    return result
