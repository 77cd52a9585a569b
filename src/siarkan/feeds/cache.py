"""Rendered feed documents kept in memory, revalidated against the database's change key.

    request -> state() (the DB change key, asked at most every `refresh_seconds`, one query at a
               time) -> get(page, state): hit while the key is unchanged -> bytes as they are
            -> miss: fill(page, state, compute) under a per-page lock: compute re-reads the page
               (cheap keyset query) and renders only if its content key moved

Compressed bodies are made once per document and encoding, on the first request that asks for
them, never per request. Nothing here is module-level: one FeedCache per application.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import brotli


@dataclass(slots=True)
class Rendered:
    """One feed document in one format, ready to send."""

    body: bytes
    media_type: str
    etag: str  # weak: the same for every content-coding of these bytes
    last_modified: datetime | None
    content_key: str
    links: tuple[tuple[str, str], ...] = ()  # (rel, url) for the Link header
    headers: dict[str, str] = field(default_factory=dict)  # built once by the HTTP layer
    full_headers: dict[str, dict[str, str]] = field(default_factory=dict)  # per content-coding
    _encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The Content-Type header, the same wherever these bytes go (a GET, a WebSub
        distribution: websub.rocks compares the two strings exactly)."""
        return f"{self.media_type}; charset=utf-8"

    @property
    def last_modified_http(self) -> str | None:
        if self.last_modified is None:
            return None
        return format_datetime(self.last_modified.replace(microsecond=0), usegmt=True)

    def encoded(self, coding: str) -> bytes:
        """The body in `coding` ("br", "gzip" or "identity"), compressed once and kept."""
        if coding == "identity":
            return self.body
        cached = self._encoded.get(coding)
        if cached is None:
            if coding == "br":
                cached = brotli.compress(self.body, quality=5)
            else:
                cached = gzip.compress(self.body, compresslevel=6, mtime=0)
            self._encoded[coding] = cached
        return cached


@dataclass(frozen=True, slots=True)
class Redirect:
    """An archive URL whose page moved (or that points into the open page)."""

    location: str
    content_key: str


Entry = Rendered | Redirect

# How stale a process's view of the database change key may be (FeedCache.refresh_seconds).
REFRESH_SECONDS = 1.0


@dataclass(slots=True)
class _Slot:
    state: str
    entry: Entry


class FeedCache:
    def __init__(
        self,
        *,
        max_entries: int = 1024,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._state: str | None = None
        self._checked = float("-inf")
        self._state_lock = asyncio.Lock()
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self.memo: dict[Hashable, tuple[str, Any]] = {}  # small per-state lookups (scopes...)

    async def state(self, load: Callable[[], Awaitable[str]]) -> str:
        """The database change key, asked at most every refresh_seconds (and once at a time)."""
        if self._state is not None and self._monotonic() - self._checked < self.refresh_seconds:
            return self._state
        async with self._state_lock:
            if self._state is None or self._monotonic() - self._checked >= self.refresh_seconds:
                self._state = await load()
                self._checked = self._monotonic()
            return self._state

    def fresh_state(self) -> str | None:
        """The change key if it was checked less than refresh_seconds ago, else None."""
        if self._state is not None and self._monotonic() - self._checked < self.refresh_seconds:
            return self._state
        return None

    def invalidate(self) -> None:
        """Ask the database again on the next request (after a write in this process)."""
        self._checked = float("-inf")

    def get(self, page: Hashable, state: str) -> Entry | None:
        slot = self._slots.get(page)
        if slot is None or slot.state != state:
            return None
        return slot.entry

    def peek(self, page: Hashable) -> Entry | None:
        """The last entry whatever its state (to reuse it when the content did not change)."""
        slot = self._slots.get(page)
        return slot.entry if slot else None

    async def fill(
        self, page: Hashable, state: str, compute: Callable[[Entry | None], Awaitable[Entry]]
    ) -> Entry:
        """compute(previous entry) under a per-page lock, so a cold page renders once."""
        lock = self._locks.setdefault(page, asyncio.Lock())
        async with lock:
            entry = self.get(page, state)
            if entry is None:
                entry = await compute(self.peek(page))
                self._slots[page] = _Slot(state, entry)
                self._slots.move_to_end(page)
                while len(self._slots) > self.max_entries:
                    self._slots.popitem(last=False)
        if len(self._locks) > 2 * self.max_entries:
            self._locks = {key: held for key, held in self._locks.items() if held.locked()}
        return entry

    def remember(self, key: Hashable, state: str, value: Any) -> None:
        if len(self.memo) > self.max_entries:
            self.memo.clear()
        self.memo[key] = (state, value)

    def recall(self, key: Hashable, state: str) -> tuple[bool, Any]:
        found = self.memo.get(key)
        if found is None or found[0] != state:
            return False, None
        return True, found[1]
