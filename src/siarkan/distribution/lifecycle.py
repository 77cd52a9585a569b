"""The life of one delivery, declared in one place. Pure: no I/O, no clock, no randomness.

    worker sends a row -> Result (Response | Failure | Refused | Obsolete | Abandoned)
        -> decide(result, attempts=, max_attempts=, now=, jitter=) -> Outcome(state, due_at, ...)
        -> queue.record writes the row, the host's health and the effects

    pending ──2xx────────────────────────────────────────────> sent
       │    ──410───────────────────────────────────────────> dead  (+ remove follower / end sub)
       │    ──other 4xx (not 401/408/429), refusal──────────> dead
       │    ──row no longer wanted (subscription ended)─────> skipped
       └──5xx, 3xx, 401, 408, 429, network error──> retrying ──(same rules, due_at later)──┐
                                 ▲──────────────────────────────────────────────────────────┘
                                 └─ after max_attempts tries (16 = Mastodon's) ──────────> dead
    pending/retrying ──lease ran out without a result, max_lease_expiries times──> dead
        (a "poison" row: sending it kills or hangs the worker every time; it is not sent again)

Waits between tries follow RETRY_INTERVALS (Sidekiq's `count**4 + 15` seconds, which Mastodon's
DeliveryWorker uses): 16 s, 31 s, 96 s, 4.5 min, ... 14 h; the 15 waits of 16 tries add up to
2.07 days, plus up to 10 % jitter each so a recovering host is not hit by every worker at once.
429 and 503 honour `Retry-After` (seconds or an HTTP date, RFC 9110 §10.2.3): never sooner,
and never sooner than the backoff either (the tries stay a ~2-day budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"  # never tried; due at due_at
    RETRYING = "retrying"  # tried and failed; due again at due_at
    SENT = "sent"  # final: the receiver answered 2xx
    DEAD = "dead"  # final: gave up (permanent refusal, 410, or out of tries); `siarkan retry`
    SKIPPED = "skipped"  # final: nothing to send any more (subscription ended, target gone)


ACTIVE_STATES = (State.PENDING, State.RETRYING)
FINAL_STATES = (State.SENT, State.DEAD, State.SKIPPED)


class Kind(StrEnum):
    ACTIVITYPUB = "activitypub"  # a signed activity POSTed to an inbox
    WEBSUB = "websub"  # a feed's current content POSTed to a subscriber's callback
    WEBSUB_VERIFY = "websub_verify"  # intent verification GET (W3C WebSub §5.3)
    WEBSUB_PING = "websub_ping"  # hub.mode=publish to an external hub


def _sidekiq_wait(n: int) -> timedelta:
    return timedelta(seconds=n**4 + 15)


# RETRY_INTERVALS[n - 1] is the wait after the n-th failed try.
RETRY_INTERVALS: tuple[timedelta, ...] = tuple(_sidekiq_wait(n) for n in range(1, 16))
JITTER = 0.1  # at most +10 % of the interval
# Intent verification is retried briefly only: a subscriber that is down re-subscribes later.
VERIFY_MAX_ATTEMPTS = 3
# A Retry-After beyond this is treated as this: we never park a delivery for longer than a day.
MAX_RETRY_AFTER = timedelta(days=1)
MIN_RETRY_AFTER = timedelta(seconds=1)

# Mastodon's DeliveryWorker: 4xx is final except these (auth may be fixed by the other signature
# scheme or a key refresh, 408/429 are "try later").
RETRYABLE_4XX = frozenset({401, 408, 429})


def max_attempts_for(kind: str, configured: int) -> int:
    return VERIFY_MAX_ATTEMPTS if kind == Kind.WEBSUB_VERIFY else configured


def retry_interval(failed_tries: int) -> timedelta:
    """The base wait after `failed_tries` failures (the last interval repeats beyond the table)."""
    index = min(max(failed_tries, 1), len(RETRY_INTERVALS)) - 1
    return RETRY_INTERVALS[index]


def backoff(failed_tries: int, jitter: float) -> timedelta:
    """The wait after `failed_tries` failures; `jitter` in [0, 1) adds up to JITTER of it."""
    jitter = min(max(jitter, 0.0), 1.0)
    return retry_interval(failed_tries) * (1.0 + JITTER * jitter)


def total_retry_span(max_attempts: int, jitter: float = 0.0) -> timedelta:
    """How long a delivery that always fails stays in the queue before it is dead."""
    return sum((backoff(n, jitter) for n in range(1, max_attempts)), timedelta())


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` -> how long to wait."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses naive
            when = when.replace(tzinfo=UTC)
        wait = when - now
    return min(max(wait, MIN_RETRY_AFTER), MAX_RETRY_AFTER)


# --- what came back -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """The receiver answered with an HTTP status."""

    status: int
    retry_after: str | None = None  # the raw header, if any


@dataclass(frozen=True, slots=True)
class Failure:
    """No answer: connection refused, DNS, TLS, timeout, reset mid-body."""

    error: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Refused for good: the receiver answered 2xx but not what the protocol asks (WebSub
    challenge not echoed), or its address is one we never send to (private, loopback)."""

    reason: str
    answered: bool = True  # False: nothing was sent, so the host's health is left alone


@dataclass(frozen=True, slots=True)
class Obsolete:
    """Nothing to send any more: the subscription ended or the activity is gone."""

    reason: str


@dataclass(frozen=True, slots=True)
class Abandoned:
    """Not sent: the row's lease ran out `expiries` times without a result (abandoned())."""

    expiries: int


Result = Response | Failure | Refused | Obsolete | Abandoned


def abandoned(lease_expiries: int, max_lease_expiries: int) -> Abandoned | None:
    """A row whose leases keep ending without a result is given up instead of claimed again.

    A claim is not a try: a row whose sending kills the worker (OOM, segfault) or outlasts its
    lease every time never reaches max_attempts, and would be reclaimed forever (Sidekiq and
    Oban likewise count a job a dead worker held as a failed try).
    """
    return Abandoned(lease_expiries) if lease_expiries >= max_lease_expiries else None


# --- what happens next --------------------------------------------------------------------------


class Effect(StrEnum):
    HOST_UP = "host_up"  # the host answered: close its breaker, clear "unavailable"
    HOST_DOWN = "host_down"  # counts toward the breaker and the failure days
    HOLD_HOST = "hold_host"  # no delivery to this host before Outcome.hold_until (429/503)
    REMOVE_TARGET = "remove_target"  # 410 Gone: drop the follower / end the subscription


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    due_at: datetime | None  # when it is tried again (retrying only)
    reason: str  # for last_error and the logs
    effects: frozenset[Effect] = field(default_factory=frozenset)
    hold_until: datetime | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def _retry(
    reason: str,
    *,
    attempts: int,
    max_attempts: int,
    now: datetime,
    jitter: float,
    wait: timedelta | None = None,
    effects: frozenset[Effect] = frozenset(),
    hold: bool = False,
) -> Outcome:
    if attempts >= max_attempts:
        return Outcome(State.DEAD, None, f"gave up after {attempts} tries: {reason}", effects)
    # Retry-After says "not before": the row still waits at least its backoff, so a host that
    # keeps answering `429 Retry-After: 1` cannot use up the 16 tries in seconds (the tries
    # are a budget of ~2 days). The host is held only as long as it asked.
    due = now + backoff(attempts, jitter)
    if wait is not None:
        due = max(due, now + wait)
    if hold:
        until = now + wait if wait is not None else due
        return Outcome(State.RETRYING, due, reason, effects | {Effect.HOLD_HOST}, hold_until=until)
    return Outcome(State.RETRYING, due, reason, effects)


_UP = frozenset({Effect.HOST_UP})
_DOWN = frozenset({Effect.HOST_DOWN})
# A fan-out's outcomes are almost all "sent" with one of a few 2xx codes; an Outcome is
# immutable and depends on nothing else then, so each is built once.
_SENT = {status: Outcome(State.SENT, None, f"HTTP {status}", _UP) for status in range(200, 300)}


def decide(
    result: Result,
    *,
    attempts: int,
    max_attempts: int,
    now: datetime,
    jitter: float = 0.0,
) -> Outcome:
    """The next state of a delivery after its `attempts`-th try produced `result`."""
    up, down = _UP, _DOWN
    match result:  # Response first: a fan-out's results are almost all successes
        case Response(status, retry_after):
            if 200 <= status < 300:
                return _SENT[status]
            reason = f"HTTP {status}"
            if status == 410:
                return Outcome(State.DEAD, None, "410 Gone", up | {Effect.REMOVE_TARGET})
            if status in (429, 503):
                wait = parse_retry_after(retry_after, now)
                return _retry(
                    reason,
                    attempts=attempts,
                    max_attempts=max_attempts,
                    now=now,
                    jitter=jitter,
                    wait=wait,
                    effects=down if status == 503 else up,
                    hold=status == 429 or wait is not None,
                )
            if 400 <= status < 500 and status not in RETRYABLE_4XX:
                return Outcome(State.DEAD, None, f"{reason} (not retried)", up)
            # 5xx: the host is in trouble. 3xx, 401, 408: it answered; try again later.
            effects = down if status >= 500 else up
            return _retry(
                reason,
                attempts=attempts,
                max_attempts=max_attempts,
                now=now,
                jitter=jitter,
                effects=effects,
            )
        case Obsolete(reason):
            return Outcome(State.SKIPPED, None, reason)
        case Abandoned(expiries):
            # No host effects: nothing says the host is at fault.
            reason = f"abandoned: lease expired {expiries} times without a result"
            return Outcome(State.DEAD, None, reason)
        case Refused(reason, answered):
            return Outcome(State.DEAD, None, reason, up if answered else frozenset())
        case Failure(error):
            return _retry(
                error,
                attempts=attempts,
                max_attempts=max_attempts,
                now=now,
                jitter=jitter,
                effects=down,
            )
    raise TypeError(f"not a delivery result: {result!r}")


# --- signature schemes (double-knock) -----------------------------------------------------------

SCHEMES = ("draft-cavage", "rfc9421")


def other_scheme(scheme: str) -> str:
    return SCHEMES[1] if scheme == SCHEMES[0] else SCHEMES[0]


def knock_again(status: int, tried: tuple[str, ...]) -> str | None:
    """After a 401 on the first scheme, try the other one at once (Fedify's double-knock)."""
    if status == 401 and len(tried) == 1:
        return other_scheme(tried[0])
    return None
