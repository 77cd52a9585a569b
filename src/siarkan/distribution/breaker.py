"""Per-host health: circuit breaker, "unavailable" domains, slow start. Pure.

    hosts row -> HostHealth -> after_success / after_failure / held_until -> HostHealth -> row

    healthy ──breaker_failures failures in a row──> open (no claims until breaker_open_until)
    open ──time passes──> half-open: one probe at a time ──success──> healthy
                                                        └─failure──> open again
    failures on `unavailable_days` distinct days ──> unavailable: probed once per
        UNAVAILABLE_PROBE only; its rows wait (queue.py kills them once older than the retry
        span) ──any success──> healthy

Mastodon does the same (`DeliveryFailureTracker`: 7 distinct failure days mark a domain
unavailable, one success clears it) except that it stops sending to unavailable domains
altogether; we probe now and then so a domain that comes back is noticed without waiting for it
to write to us first. The breaker keys on host:port (URL authority), as the queue's `host` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# How often an unavailable domain gets one probe delivery.
UNAVAILABLE_PROBE = timedelta(hours=1)
# A success refreshes last_success_at (a write) at most this often.
SUCCESS_REFRESH = timedelta(minutes=5)
# Failure days kept: enough to count `unavailable_days` distinct days.
MAX_FAILURE_DAYS = 31


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failures: int = 5  # consecutive failures that open the breaker
    open_for: timedelta = timedelta(minutes=5)
    unavailable_days: int = 7


@dataclass(frozen=True, slots=True)
class HostHealth:
    host: str
    consecutive_failures: int = 0
    breaker_open_until: datetime | None = None
    failure_days: tuple[str, ...] = ()  # distinct ISO dates (UTC) with a failure
    unavailable: bool = False
    last_success_at: datetime | None = None
    signature_scheme: str | None = None

    def is_open(self, now: datetime) -> bool:
        return self.breaker_open_until is not None and self.breaker_open_until > now

    @property
    def probing(self) -> bool:
        """Unproven, failing, half-open or unavailable: one delivery in flight until one succeeds.

        A host that times out would otherwise hold `per_host` of our connections for the whole
        read timeout on every try. (queue.claim_sql mirrors this rule in SQL.)
        """
        return self.unavailable or self.last_success_at is None or self.consecutive_failures > 0


def allowance(
    health: HostHealth | None, policy: BreakerPolicy, per_host: int, now: datetime
) -> int:
    """How many deliveries to this host may be in flight at once (0: breaker open)."""
    if health is None:
        return 1  # slow start: an unknown host gets one request until it answers
    if health.is_open(now):
        return 0
    return 1 if health.probing else per_host


def _fresh(health: HostHealth, now: datetime) -> bool:
    """Its last success is recent enough not to be written again."""
    return health.last_success_at is not None and now - health.last_success_at < SUCCESS_REFRESH


def success_changes_nothing(health: HostHealth, now: datetime) -> bool:
    """after_success(health, now) == health, without building the new value: a fan-out asks
    this for nearly every row it records."""
    return (
        health.consecutive_failures == 0
        and health.breaker_open_until is None
        and not health.failure_days
        and not health.unavailable
        and _fresh(health, now)
    )


def after_success(health: HostHealth, now: datetime, scheme: str | None = None) -> HostHealth:
    fresh = _fresh(health, now)
    return replace(
        health,
        consecutive_failures=0,
        breaker_open_until=None,
        failure_days=(),
        unavailable=False,
        last_success_at=health.last_success_at if fresh else now,
        signature_scheme=scheme or health.signature_scheme,
    )


def after_failure(health: HostHealth, now: datetime, policy: BreakerPolicy) -> HostHealth:
    failures = health.consecutive_failures + 1
    today = now.date().isoformat()
    days = health.failure_days if today in health.failure_days else (*health.failure_days, today)
    days = days[-MAX_FAILURE_DAYS:]
    unavailable = health.unavailable or len(days) >= policy.unavailable_days
    open_until = health.breaker_open_until
    if unavailable:
        open_until = now + UNAVAILABLE_PROBE
    elif failures >= policy.failures:
        open_until = now + policy.open_for
    return replace(
        health,
        consecutive_failures=failures,
        breaker_open_until=open_until,
        failure_days=days,
        unavailable=unavailable,
    )


def held_until(health: HostHealth, until: datetime) -> HostHealth:
    """The host asked us to wait (429 / 503 with Retry-After): claims skip it until then."""
    current = health.breaker_open_until
    if current is not None and current >= until:
        return health
    return replace(health, breaker_open_until=until)


def state_label(health: HostHealth, now: datetime, policy: BreakerPolicy) -> str:
    if health.unavailable:
        return "unavailable"
    if health.is_open(now):
        return "open"
    if health.consecutive_failures >= policy.failures:
        return "half-open"
    if health.consecutive_failures:
        return "failing"
    return "ok"
