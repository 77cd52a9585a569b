"""Signed requests already accepted, remembered until they leave their signature window.

Senders sign every attempt afresh (a new Date or timestamp), so the same signature twice is a
captured request played back, or one sender retrying the very same bytes. Used by the inbox
(HTTP signatures) and the Ghost webhook (X-Ghost-Signature). In memory, per process, bounded.
"""

from __future__ import annotations

REPLAY_CACHE = 200_000


class ReplayGuard:
    """Signatures already accepted, until `window` seconds after they were."""

    def __init__(self, window: int, size: int = REPLAY_CACHE) -> None:
        self.window = window
        self.size = size
        self._seen: dict[bytes, float] = {}

    def seen(self, signature: bytes, now: float) -> bool:
        expiry = self._seen.get(signature)
        return expiry is not None and expiry > now

    def remember(self, signature: bytes, now: float) -> None:
        self._seen[signature] = now + self.window
        while len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]
