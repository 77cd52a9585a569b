"""When each part of a post goes out. Pure: times in, times out.

    now | part k due at previous + series_interval (series) or together (summary, thread)
        | pushed out of the channel's quiet hours (site time zone; the window may wrap midnight)
    restart after downtime | respaced: a series' overdue parts go one now, the rest an interval
                             apart from it (not all at once)

A post's lifecycle (stored in posts.state):

    scheduled --release (due)--> published --retraction / part dropped--> deleted
    scheduled --retraction-----> deleted      (never federated: no Delete is sent)

Deleted is final: the row stays and its id answers 410 with a Tombstone, if it was ever
released (published_at set); deleted before its release it was never public, and answers 404
like a scheduled one (was_released). Published again, or
needed again by a later edit, the part is a new row with a new id (Mastodon drops a Create of
an id it holds a Tombstone for).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHEDULED = "scheduled"
PUBLISHED = "published"
DELETED = "deleted"


def was_released(state: str, published_at: datetime | None) -> bool:
    """Has the post been public at its id (live now, or deleted after it went out)? Only then
    does its id answer: the object, or a 410 Tombstone once deleted."""
    return state == PUBLISHED or (state == DELETED and published_at is not None)


def in_window(local: time, start: time, end: time) -> bool:
    """Is a local time of day inside [start, end)? A window with start > end wraps midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def out_of_quiet_hours(when: datetime, window: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """`when`, or the end of the quiet window it falls in (same tz-aware instant type)."""
    if window is None:
        return when
    start, end = window
    local = when.astimezone(tz)
    if not in_window(local.time().replace(tzinfo=None), start, end):
        return when
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    # Rebuild through the zone so a DST change between now and then lands on the wall time.
    wall = candidate.replace(tzinfo=None)
    return wall.replace(tzinfo=tz).astimezone(when.tzinfo)


def part_times(
    now: datetime,
    count: int,
    *,
    spaced: bool,
    interval: timedelta,
    quiet: tuple[time, time] | None,
    tz: ZoneInfo,
) -> list[datetime]:
    """Due times of `count` parts; series parts keep `interval` between them even after one is
    pushed past quiet hours, thread parts go out together (in order)."""
    times: list[datetime] = []
    for k in range(count):
        if k == 0:
            due = out_of_quiet_hours(now, quiet, tz)
        elif spaced:
            due = out_of_quiet_hours(times[-1] + interval, quiet, tz)
        else:
            due = times[-1]
        times.append(due)
    return times


def respaced(
    due: Sequence[datetime],
    now: datetime,
    *,
    interval: timedelta,
    quiet: tuple[time, time] | None,
    tz: ZoneInfo,
    slack: timedelta = timedelta(0),
) -> list[datetime]:
    """New due times of one series' scheduled parts (`due`, in part order) at `now`.

    Parts that came due while the service was down would all go out on the first tick after
    it, flooding timelines, which a series exists to avoid. So the first part goes now (its
    time is kept: it is due), each later one at least `interval` after the one before it (out
    of quiet hours, as part_times spaces them) and never earlier than it was due. Nothing
    moves while the first part is not due yet. A first part late by no more than `slack` (a
    scheduler tick: normal running) counts as on time, so ticks do not drift the series."""
    if not due or due[0] > now:
        return list(due)
    times = [due[0]]
    # When the first part is actually released.
    previous = due[0] if now - due[0] <= slack else now
    for when in due[1:]:
        previous = max(when, out_of_quiet_hours(previous + interval, quiet, tz))
        times.append(previous)
    return times
