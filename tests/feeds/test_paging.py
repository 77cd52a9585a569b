"""Archive page boundaries (pure): found from any point, never moved by new articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from siarkan.feeds.paging import (
    Key,
    closes,
    decode_cursor,
    encode_cursor,
    is_anchor,
    next_close,
    settle,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def keys_of(ids: list[str]) -> list[Key]:
    return [(T0 + timedelta(minutes=i), article_id) for i, article_id in enumerate(ids)]


ids_strategy = st.lists(
    st.text(alphabet="abcdef0123456789", min_size=1, max_size=8),
    min_size=0,
    max_size=300,
    unique=True,
)


def pages_of(keys: list[Key], size: int) -> list[list[Key]]:
    ends = closes(keys, size)
    pages, start = [], 0
    for end in ends:
        pages.append(keys[start : end + 1])
        start = end + 1
    return pages


@settings(max_examples=200, deadline=None)
@given(ids=ids_strategy, size=st.integers(1, 20))
def test_pages_partition_the_feed(ids: list[str], size: int) -> None:
    keys = keys_of(ids)
    pages = pages_of(keys, size)
    covered = [key for page in pages for key in page]
    assert covered == keys[: len(covered)]
    assert all(1 <= len(page) <= size for page in pages)
    assert len(keys) - len(covered) < size  # the open page always fits in the current doc


@settings(max_examples=200, deadline=None)
@given(ids=ids_strategy, size=st.integers(1, 20), extra=st.integers(1, 60))
def test_new_articles_never_move_closed_pages(ids: list[str], size: int, extra: int) -> None:
    keys = keys_of(ids)
    more = keys_of([*ids, *(f"new{i}" for i in range(extra))])
    before = pages_of(keys, size)
    assert pages_of(more, size)[: len(before)] == before


@settings(max_examples=200, deadline=None)
@given(ids=ids_strategy.filter(bool), size=st.integers(1, 20), data=st.data())
def test_reading_back_from_any_key_finds_the_same_boundaries(
    ids: list[str], size: int, data: st.DataObject
) -> None:
    keys = keys_of(ids)
    global_closes = {keys[i] for i in closes(keys, size)}
    end = data.draw(st.integers(0, len(keys) - 1))
    descending = list(reversed(keys[: end + 1]))
    # Read back as the query layer does, in batches, until settled.
    segment = None
    for taken in range(1, len(descending) + 1):
        segment = settle(descending[:taken], size, reached_start=taken == len(descending))
        if segment is not None:
            break
    assert segment is not None
    assert set(segment.closes) == {k for k in segment.keys if k in global_closes}
    if segment.start is not None:
        assert segment.start in global_closes
    # ... and from there, the next boundary after `end` is the global one.
    following = next_close(keys[end + 1 :], size, run=segment.open_run)
    later = sorted(k for k in global_closes if k > keys[end])
    assert following == (later[0] if later else None)


def test_anchor_is_stable_and_about_one_in_2n() -> None:
    assert is_anchor("art00042", 5) == is_anchor("art00042", 5)
    hits = sum(is_anchor(f"id{i}", 50) for i in range(100_000))
    assert 700 < hits < 1300  # ~1/100


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s),
)
def test_cursor_round_trip(when: datetime, article_id: str) -> None:
    token = encode_cursor((when, article_id))
    assert token.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(token) == (when, article_id)


def test_bad_cursors_are_rejected() -> None:
    good = encode_cursor((T0, "art1"))
    assert decode_cursor(good + "A") is None or decode_cursor(good + "A") != (T0, "art1")
    for bad in ("", "x", "!!!!", "bm9waWQ", "a" * 300, good + "="):
        assert decode_cursor(bad) is None
