"""One worker per SQLite file: a second `serve --role worker` refuses to start instead of taking
the running worker's leases, and a worker killed with -9 never blocks its restart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from siarkan.config import Settings
from siarkan.federation.keys import KeyPair
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import deliveries
from tests.distribution.conftest import add_activity, queue_activity, rows, seed_actor
from tests.distribution.procs import Service, write_config
from tests.helpers import free_port


async def wait_for(service: Service, text: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while text not in service.output():
        assert service.proc is not None
        assert service.proc.poll() is None, service.output()[-3000:]
        assert time.monotonic() < deadline, service.output()[-3000:]
        await asyncio.sleep(0.05)


async def exit_code(service: Service, seconds: float = 30.0) -> int:
    assert service.proc is not None
    deadline = time.monotonic() + seconds
    while service.proc.poll() is None:
        if time.monotonic() > deadline:
            await service.stop()
            raise AssertionError("still running:\n" + service.output()[-3000:])
        await asyncio.sleep(0.05)
    return service.proc.returncode


async def test_a_second_worker_on_one_sqlite_file_is_refused(
    sqlite_url: str, settings: Settings, key_pair: KeyPair, tmp_path: Path
) -> None:
    db = Database(create_engine(sqlite_url))
    await seed_actor(db, settings, key_pair)
    activity = await add_activity(db, settings)
    config = write_config(tmp_path / "siarkan.yaml", port=free_port(), url=sqlite_url)
    first = Service(config, "worker", name="first").start()
    second = Service(config, "worker", name="second")
    again = Service(config, "worker", name="again")
    try:
        await wait_for(first, "delivery worker started")
        # A row a running worker holds: due, leased for a while yet.
        ids = await queue_activity(db, activity, ["http://127.0.0.1:9/inbox"], datetime.now(UTC))
        async with db.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(ids.values()))
                .values(lease_until=datetime.now(UTC) + timedelta(minutes=5), leased_by="running")
            )
        # No web role, no port to collide on: only the lock stops it.
        second.start()
        assert await exit_code(second) == 1
        assert "another siarkan worker runs on this SQLite database" in second.output()
        [row] = await rows(db)
        assert row["leased_by"] == "running"  # not taken back from under the live worker
        # A worker that dies (kill -9) leaves its lock to the kernel: the next one starts.
        first.kill9()
        again.start()
        await wait_for(again, "delivery worker started")
        assert await again.stop() == 0, again.output()[-3000:]
    finally:
        for service in (first, second, again):
            if service.proc is not None and service.proc.poll() is None:
                service.proc.kill()
                service.proc.wait(timeout=10)
        await db.close()
