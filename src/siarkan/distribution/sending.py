"""What every kind of delivery provides to the worker (registered by kind, STYLE §3).

    worker: claim | sender.prepare(batch) | sender.send(row) -> Sent | decide | record
            | sender.settle(finished tries)   (effects on followers / subscriptions)

Adding a kind of message is adding one Sender; the worker and the queue stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.config import DeliverySettings
from siarkan.distribution.lifecycle import Result
from siarkan.distribution.queue import Claimed, Done

MAX_RESPONSE = 64 * 1024  # answers to deliveries are tiny; read at most this much


@dataclass(frozen=True, slots=True)
class Sent:
    """What a send returned: the result, plus facts for record and settle."""

    result: Result
    scheme: str | None = None  # the signature scheme a host accepted after a double-knock
    detail: Mapping[str, Any] | None = None


class Sender(Protocol):
    @property
    def kind(self) -> str: ...

    async def prepare(
        self, conn: AsyncConnection, rows: Sequence[Claimed], schemes: Mapping[str, str]
    ) -> None:
        """Load what the batch needs in a few queries (bodies, keys, subscriptions)."""

    async def send(self, row: Claimed, now: datetime) -> Sent:
        """One try; never raises for network trouble (that is a Failure result)."""

    async def settle(self, conn: AsyncConnection, done: Sequence[Done], now: datetime) -> None:
        """Effects of finished tries on other tables, in the recording transaction."""

    async def close(self) -> None:
        """Release what the sender holds itself (connections); the worker is stopping."""


def request_timeout(settings: DeliverySettings) -> aiohttp.ClientTimeout:
    """Mastodon's delivery timeouts (connect 5 s, read 10 s) plus a total cap for slow drips."""
    return aiohttp.ClientTimeout(
        total=settings.connect_timeout + settings.read_timeout,
        connect=settings.connect_timeout,
        sock_read=settings.read_timeout,
    )


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
