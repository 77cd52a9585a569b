"""The lifecycle decisions, table-tested, and the backoff's properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siarkan.distribution.lifecycle import (
    JITTER,
    MAX_RETRY_AFTER,
    RETRY_INTERVALS,
    VERIFY_MAX_ATTEMPTS,
    Abandoned,
    Effect,
    Failure,
    Obsolete,
    Outcome,
    Refused,
    Response,
    State,
    abandoned,
    backoff,
    decide,
    knock_again,
    max_attempts_for,
    parse_retry_after,
    retry_interval,
    total_retry_span,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
UP, DOWN, HOLD, GONE = Effect.HOST_UP, Effect.HOST_DOWN, Effect.HOLD_HOST, Effect.REMOVE_TARGET


def outcome(result: object, attempts: int = 1, max_attempts: int = 16):  # type: ignore[no-untyped-def]
    return decide(result, attempts=attempts, max_attempts=max_attempts, now=NOW, jitter=0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "state", "effects", "wait"),
    [
        (Response(200), State.SENT, {UP}, None),
        (Response(202), State.SENT, {UP}, None),
        (Response(204), State.SENT, {UP}, None),
        (Response(410), State.DEAD, {UP, GONE}, None),
        (Response(400), State.DEAD, {UP}, None),
        (Response(403), State.DEAD, {UP}, None),
        (Response(404), State.DEAD, {UP}, None),
        (Response(413), State.DEAD, {UP}, None),
        (Response(422), State.DEAD, {UP}, None),
        (Response(401), State.RETRYING, {UP}, RETRY_INTERVALS[0]),
        (Response(408), State.RETRYING, {UP}, RETRY_INTERVALS[0]),
        (Response(429), State.RETRYING, {UP, HOLD}, RETRY_INTERVALS[0]),
        (Response(429, "30"), State.RETRYING, {UP, HOLD}, timedelta(seconds=30)),
        (Response(500), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Response(502), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Response(503), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Response(503, "120"), State.RETRYING, {DOWN, HOLD}, timedelta(seconds=120)),
        (Response(503, "soon"), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Response(301), State.RETRYING, {UP}, RETRY_INTERVALS[0]),
        (Failure("timeout"), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Failure("ConnectionRefused"), State.RETRYING, {DOWN}, RETRY_INTERVALS[0]),
        (Refused("challenge not echoed"), State.DEAD, {UP}, None),
        (Refused("private address", answered=False), State.DEAD, set(), None),
        (Obsolete("subscription ended"), State.SKIPPED, set(), None),
    ],
)
def test_first_try(
    result: object, state: State, effects: set[Effect], wait: timedelta | None
) -> None:
    got = outcome(result)
    assert got.state is state
    assert set(got.effects) == effects
    assert got.due_at == (NOW + wait if wait is not None else None)
    if HOLD in effects:
        assert got.hold_until == got.due_at
    assert got.final == (state in (State.SENT, State.DEAD, State.SKIPPED))


@pytest.mark.parametrize(
    "result", [Response(500), Response(429), Failure("timeout"), Response(401)]
)
def test_last_try_is_dead(result: object) -> None:
    assert outcome(result, attempts=15).state is State.RETRYING
    last = outcome(result, attempts=16)
    assert last.state is State.DEAD and last.due_at is None
    assert "gave up after 16 tries" in last.reason


def test_success_on_the_last_try_is_sent() -> None:
    assert outcome(Response(200), attempts=16).state is State.SENT


def test_a_2xx_outcome_is_built_once_per_status() -> None:
    """A fan-out decides thousands of successes: each is the same immutable value."""
    first, again = outcome(Response(202)), outcome(Response(202), attempts=3)
    assert first is again
    assert first == Outcome(State.SENT, None, "HTTP 202", frozenset({Effect.HOST_UP}))
    assert outcome(Response(204)).reason == "HTTP 204"


def test_a_row_is_abandoned_when_its_leases_ran_out_the_bound_times() -> None:
    assert abandoned(0, 5) is None
    assert abandoned(4, 5) is None
    assert abandoned(5, 5) == Abandoned(5)
    outcome = decide(Abandoned(5), attempts=1, max_attempts=16, now=NOW)
    assert outcome.state is State.DEAD and outcome.final and outcome.due_at is None
    assert outcome.reason == "abandoned: lease expired 5 times without a result"
    assert outcome.effects == frozenset()  # nothing says the host is at fault


def test_waits_grow_with_each_failure() -> None:
    dues = [outcome(Response(500), attempts=n).due_at for n in range(1, 16)]
    assert dues == [NOW + RETRY_INTERVALS[n] for n in range(15)]
    assert RETRY_INTERVALS[0] == timedelta(seconds=16)
    assert RETRY_INTERVALS[-1] == timedelta(seconds=15**4 + 15)


def test_verification_retries_briefly() -> None:
    assert max_attempts_for("websub_verify", 16) == VERIFY_MAX_ATTEMPTS == 3
    assert max_attempts_for("activitypub", 16) == 16
    assert max_attempts_for("websub", 9) == 9


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", timedelta(seconds=120)),
        (" 5 ", timedelta(seconds=5)),
        ("0", timedelta(seconds=1)),  # never "at once": at least a second
        ("999999999", MAX_RETRY_AFTER),
        ("Sat, 28 Nov 2026 10:02:00 GMT", timedelta(minutes=2)),
        ("Saturday, 28-Nov-26 10:02:00 GMT", timedelta(minutes=2)),  # RFC 850, still allowed
        ("Sat, 28 Nov 2026 09:00:00 GMT", timedelta(seconds=1)),  # in the past
        ("", None),
        (None, None),
        ("later", None),
        ("-5", None),
    ],
)
def test_retry_after(header: str | None, wait: timedelta | None) -> None:
    assert parse_retry_after(header, NOW) == wait


def test_double_knock_once_on_401_only() -> None:
    assert knock_again(401, ("draft-cavage",)) == "rfc9421"
    assert knock_again(401, ("rfc9421",)) == "draft-cavage"
    assert knock_again(401, ("rfc9421", "draft-cavage")) is None
    assert knock_again(403, ("draft-cavage",)) is None
    assert knock_again(202, ("draft-cavage",)) is None


@given(st.integers(1, 40), st.floats(0, 1), st.floats(0, 1))
def test_backoff_is_monotonic_whatever_the_jitter(n: int, j1: float, j2: float) -> None:
    assert backoff(n, j1) <= backoff(n + 1, j2) or retry_interval(n) == retry_interval(n + 1)
    assert backoff(n, 1.0) < backoff(n + 1, 0.0) or n >= len(RETRY_INTERVALS)


@given(st.integers(1, 40), st.floats(0, 1))
def test_jitter_is_bounded(n: int, jitter: float) -> None:
    base = retry_interval(n)
    assert base <= backoff(n, jitter) <= base * (1 + JITTER)


@given(st.floats(0, 1))
def test_total_retry_span_is_two_to_three_days(jitter: float) -> None:
    span = total_retry_span(16, jitter)
    assert timedelta(days=2) <= span <= timedelta(days=3)


@given(st.integers(1, 16), st.sampled_from([500, 502, 503, 504, 401, 408, 429]))
def test_every_retry_is_in_the_future_and_before_three_days(attempts: int, status: int) -> None:
    got = outcome(Response(status), attempts=attempts)
    if attempts < 16:
        assert got.due_at is not None and NOW < got.due_at <= NOW + timedelta(days=1)
    else:
        assert got.state is State.DEAD


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_retry_after_never_shortens_the_backoff(status: int) -> None:
    """`Retry-After: 1` on every try must not use up 16 tries in a minute: the row waits the
    longer of Retry-After and its backoff; the host is held only as long as it asked."""
    late = outcome(Response(status, "1"), attempts=10)
    assert late.state is State.RETRYING
    assert late.due_at == NOW + retry_interval(10)
    assert late.hold_until == NOW + timedelta(seconds=1)
    long = outcome(Response(status, "3600"), attempts=1)  # longer than the backoff: honoured
    assert long.due_at == long.hold_until == NOW + timedelta(hours=1)
    waits = [outcome(Response(status, "1"), attempts=n).due_at for n in range(1, 16)]
    assert sum((w - NOW for w in waits if w), timedelta()) >= timedelta(days=2)
