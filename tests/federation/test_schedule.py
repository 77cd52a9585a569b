"""Due times of post parts: spacing, quiet hours (wrapping midnight), never earlier than asked."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from siarkan.federation.schedule import in_window, out_of_quiet_hours, part_times

JAKARTA = ZoneInfo("Asia/Jakarta")
NIGHT = (time(22, 0), time(6, 0))


def wib(hour: int, minute: int = 0, day: int = 28) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA)


def test_window_with_and_without_wrap() -> None:
    assert in_window(time(23, 0), *NIGHT) and in_window(time(5, 59), *NIGHT)
    assert not in_window(time(6, 0), *NIGHT) and not in_window(time(21, 59), *NIGHT)
    assert in_window(time(12, 30), time(12, 0), time(13, 0))
    assert not in_window(time(13, 0), time(12, 0), time(13, 0))
    assert not in_window(time(3, 0), time(4, 0), time(4, 0))  # empty window


def test_quiet_hours_push_to_the_end_of_the_window() -> None:
    assert out_of_quiet_hours(wib(23, 15), NIGHT, JAKARTA) == wib(6, 0, day=29)
    assert out_of_quiet_hours(wib(2, 30), NIGHT, JAKARTA) == wib(6, 0)
    assert out_of_quiet_hours(wib(14, 0), NIGHT, JAKARTA) == wib(14, 0)
    assert out_of_quiet_hours(wib(23, 15), None, JAKARTA) == wib(23, 15)


def test_thread_parts_go_together_series_parts_are_spaced() -> None:
    start = wib(20, 30).astimezone(UTC)
    thread = part_times(
        start, 4, spaced=False, interval=timedelta(hours=2), quiet=NIGHT, tz=JAKARTA
    )
    assert thread == [start] * 4
    series = part_times(start, 3, spaced=True, interval=timedelta(hours=2), quiet=NIGHT, tz=JAKARTA)
    assert series == [start, wib(6, 0, day=29), wib(8, 0, day=29)]


@given(
    minutes=st.integers(min_value=0, max_value=7 * 24 * 60),
    start=st.times(),
    end=st.times(),
)
def test_never_inside_the_window_and_never_earlier(minutes: int, start: time, end: time) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    due = out_of_quiet_hours(when, (start, end), JAKARTA)
    assert due >= when
    assert due - when <= timedelta(days=1)
    assert not in_window(due.astimezone(JAKARTA).time().replace(tzinfo=None), start, end)
