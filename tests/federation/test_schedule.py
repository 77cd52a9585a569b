"""Due times of post parts: spacing, quiet hours (wrapping midnight), never earlier than asked."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from siarkan.federation.schedule import in_window, out_of_quiet_hours, part_times, respaced

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


def test_overdue_series_parts_are_respaced_from_now() -> None:
    half = timedelta(minutes=30)
    due = [wib(10, 30), wib(11, 0), wib(11, 30), wib(12, 0), wib(14, 0)]
    # Back at 11:40: part 1 goes now; 12:00 is too soon after it, 14:00 is not.
    assert respaced(due, wib(11, 40), interval=half, quiet=None, tz=JAKARTA) == [
        wib(10, 30),
        wib(12, 10),
        wib(12, 40),
        wib(13, 10),
        wib(14, 0),
    ]
    assert respaced(due, wib(10, 0), interval=half, quiet=None, tz=JAKARTA) == due  # none due


def test_a_late_tick_does_not_drift_the_series() -> None:
    half, tick = timedelta(minutes=30), timedelta(seconds=15)
    due = [wib(10, 30), wib(11, 0), wib(11, 30)]
    late = wib(10, 30) + timedelta(seconds=10)
    assert respaced(due, late, interval=half, quiet=None, tz=JAKARTA, slack=tick) == due
    # Later than a tick: the service was down; the rest keep the interval from now.
    later = wib(10, 31)
    assert respaced(due, later, interval=half, quiet=None, tz=JAKARTA, slack=tick) == [
        wib(10, 30),
        wib(11, 1),
        wib(11, 31),
    ]


def test_respaced_parts_stay_out_of_quiet_hours() -> None:
    due = [wib(20, 0), wib(21, 0)]
    two = timedelta(hours=2)
    assert respaced(due, wib(21, 30), interval=two, quiet=NIGHT, tz=JAKARTA) == [
        wib(20, 0),
        wib(6, 0, day=29),
    ]


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=8),
    late=st.integers(min_value=-600, max_value=3000),
    spacing=st.integers(min_value=1, max_value=240),
)
def test_respaced_keeps_order_spacing_and_never_advances(
    gaps: list[int], late: int, spacing: int
) -> None:
    interval = timedelta(minutes=spacing)
    due = [wib(8)]
    for gap in gaps[1:]:
        due.append(due[-1] + timedelta(minutes=gap))
    now = due[0] + timedelta(minutes=late)
    times = respaced(due, now, interval=interval, quiet=None, tz=JAKARTA)
    assert len(times) == len(due)
    assert all(new >= old for new, old in zip(times, due, strict=True))
    if due[0] <= now:
        released = [now, *times[1:]]  # the first part goes out now
        assert all(b - a >= interval for a, b in itertools.pairwise(released))
        if len(times) > 1:  # stored: a restart when the next part is due moves nothing more
            assert (
                respaced(times[1:], times[1], interval=interval, quiet=None, tz=JAKARTA)
                == (times[1:])
            )
