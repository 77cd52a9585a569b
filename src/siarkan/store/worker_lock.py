"""One delivery worker per SQLite file, enforced by an exclusive lock next to the database.

    serve --role worker (SQLite) -> take_worker_lock(url) -> a file held open until exit
                                 -> another process holds it -> WorkerLockHeld (exit 1)

A worker starting on SQLite takes back every lease in the file (they can only belong to a dead
run of itself, docs/deployment.md). That is true only while no other worker runs on the file:
a second `serve --role worker` has no port of its own to collide on, so it started, took the
running worker's leases and the inboxes got those rows twice. flock(2) is dropped by the kernel
when the holder dies, kill -9 included, so a restart after a crash is never refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url


class WorkerLockHeld(Exception):
    pass


def lock_path(url: str) -> Path | None:
    """The lock file of an SQLite database file; None for PostgreSQL or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = Path(parsed.database)
    return database.with_name(database.name + "-worker.lock")


def take_worker_lock(url: str) -> int | None:
    """Hold the worker lock of `url`'s SQLite file: a file descriptor to keep open while the
    worker runs (closing it, or exiting, lets the lock go). None where no lock is needed."""
    path = lock_path(url)
    try:
        import fcntl  # POSIX only: elsewhere one worker per file is the operator's to keep
    except ImportError:
        return None
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WorkerLockHeld(
            f"another siarkan worker runs on this SQLite database (it holds {path}); SQLite "
            "allows one worker process per database file: stop it, or use --role web"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd
