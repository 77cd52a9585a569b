"""RFC 5005 archive pages whose boundaries never move, and their opaque cursors. Pure.

    a feed's visible articles, oldest first:  x1 x2 x3 ... xC     (keyset order: published_at, id)
        | x_i closes a page when crc32(x_i.id) % 2N == 0 (an "anchor"), or when the page reached N
        -> archive pages ( .. x_a] ( .. x_b] ... (.. x_last_close]  + the open page after it

Why this shape (RFC 5005 §4: "the set of entries contained in an archive document published at
a particular URI SHOULD NOT change over time"): pages counted from the oldest item would need a
COUNT over the whole feed to know where the newest boundary falls; pages counted from the newest
shift with every new article (and a static export would rewrite every file). Here a boundary
depends only on the items at and before it, and an anchor is a boundary whatever came before,
so the boundaries around any point are found by reading back to the nearest anchor (about 2N
keys on average): every page costs O(N) whatever the size of the archive, and a new article
never changes an existing archive page. The open page always holds fewer than N items, so the
subscription document (the newest N) always contains all of it: nothing falls between.

A page holds 1..N items (about 0.8 N on average).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Key = tuple[datetime, str]  # (published_at, id): the keyset order of every feed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def is_anchor(article_id: str, page_size: int) -> bool:
    """Stable across processes and machines (crc32, not Python's salted hash)."""
    return zlib.crc32(article_id.encode("utf-8")) % (2 * page_size) == 0


def closes(keys_asc: Sequence[Key], page_size: int, *, run: int = 0) -> list[int]:
    """Indices of `keys_asc` that close a page, `run` items being already open before it."""
    found: list[int] = []
    for index, (_, article_id) in enumerate(keys_asc):
        run += 1
        if run >= page_size or is_anchor(article_id, page_size):
            found.append(index)
            run = 0
    return found


@dataclass(frozen=True, slots=True)
class Segment:
    """The keys from the nearest settled boundary up to some end key, oldest first.

    `start` is the close just before `keys` (an anchor), or None when `keys` begins at the
    feed's first item. `closes` are the keys of `keys` that close a page.
    """

    start: Key | None
    keys: tuple[Key, ...]
    closes: tuple[Key, ...]

    @property
    def open_run(self) -> int:
        """Items after the last close (they belong to a page that is not closed yet)."""
        if not self.closes:
            return len(self.keys)
        return len(self.keys) - 1 - self.keys.index(self.closes[-1])

    def previous_close(self, key: Key) -> Key | None:
        """The close before `key` (a close of this segment): where its page starts after."""
        earlier = [c for c in self.closes if c < key]
        return earlier[-1] if earlier else self.start


def settle(keys_desc: Sequence[Key], page_size: int, *, reached_start: bool) -> Segment | None:
    """Keys read backwards from an end key -> the Segment, if they reach a settled boundary.

    `keys_desc[0]` is the end key. The read is settled once it holds an anchor other than the
    end key itself, or when it reached the feed's first item (`reached_start`). Returns None if
    more keys must be read.
    """
    for index in range(1, len(keys_desc)):
        if is_anchor(keys_desc[index][1], page_size):
            ascending = tuple(reversed(keys_desc[:index]))
            found = closes(ascending, page_size)
            return Segment(keys_desc[index], ascending, tuple(ascending[i] for i in found))
    if reached_start:
        ascending = tuple(reversed(keys_desc))
        found = closes(ascending, page_size)
        return Segment(None, ascending, tuple(ascending[i] for i in found))
    return None


def next_close(keys_after: Sequence[Key], page_size: int, *, run: int) -> Key | None:
    """The first close among the keys that follow a point with `run` items open before it."""
    found = closes(keys_after, page_size, run=run)
    return keys_after[found[0]] if found else None


# ---------------------------------------------------------------------------------------------
# Cursors: a key as a URL path segment (also a file name in the static export)


def encode_cursor(key: Key) -> str:
    """(published_at, id) -> URL- and file-name-safe token (base64url, no padding)."""
    micros = (key[0] - _EPOCH) // _MICRO
    raw = f"{micros}~{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Key | None:
    """The key of a cursor, or None if the token was not made by encode_cursor."""
    # 64-character ids (the column's bound) of 4-byte characters encode to ~370 characters.
    if not token or len(token) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        micros, _, article_id = raw.partition("~")
        if not article_id or not micros.lstrip("-").isdigit():
            return None
        key = (_EPOCH + int(micros) * _MICRO, article_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        return None
    # Only the canonical spelling: one page, one URL.
    return key if encode_cursor(key) == token else None
