"""Reading a publisher's site the way a well-behaved crawler does, for one run.

    Crawler.fetch(url, listed=False)   what the operator named (an import argument, a source):
                                       fetched as asked, like a feed reader does
    Crawler.fetch(url, listed=True)    what a feed or sitemap listed: robots.txt of its origin
                                       must allow it, and every redirect hop's target too
        | wait for the host's turn: one request at a time per host, `crawl_delay` seconds from
          the end of one to the start of the next (robots.txt's Crawl-delay when it names one,
          capped at `max_crawl_delay`, or at `crawl_delay` if that is longer)
        | remote.fetch (SSRF guard, size and time bounds, the instance's User-Agent (robots.txt
          too: its product token is the one robots.txt groups name), conditional headers)

A Crawler lives for one run (one `siarkan import`, one poll of a source): robots.txt is fetched
once per origin (scheme, host, port; RFC 9309 §2.3) when a listed URL first needs it, and kept
for the run (§2.4 allows up to 24 hours; a run is shorter). robots.txt itself is fetched
without waiting for a turn: a redirect hop checked while its host's turn is held may need it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp

from siarkan.articles.remote import (
    FETCH_TIMEOUT,
    AddressRefused,
    Fetched,
    HTTPStatusRejected,
    Validators,
    fetch,
)
from siarkan.articles.robots import Robots, robots_from_answer
from siarkan.articles.text import ArticleRejected
from siarkan.config import ImportSettings

ROBOTS_TIMEOUT = 15.0


class Disallowed(ArticleRejected):
    """robots.txt keeps us away from this URL; `lasting` is False when robots.txt could not be
    read (a later run may find it and be allowed)."""

    def __init__(self, reason: str, *, lasting: bool) -> None:
        super().__init__(reason)
        self.lasting = lasting


def origin_of(url: str) -> tuple[str, str]:
    """(key, robots.txt URL) of the origin `url` belongs to; ArticleRejected for an address
    with no valid port ("http://host:abc/", ":99999"), which a sitemap may well list: one bad
    <loc> is one failed page, not a ValueError that ends the whole import."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ArticleRejected(f"fetch failed: {exc} in {url}") from None
    key = f"{scheme}://{(parts.hostname or '').lower()}:{port}"
    return key, f"{scheme}://{parts.netloc}/robots.txt"


class HostTurns:
    """One request at a time per host, `delay` seconds between the end of one and the start of
    the next (the host is the name: its ports and schemes are one server to its owner)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._free_at: dict[str, float] = {}

    @asynccontextmanager
    async def turn(self, host: str, delay: float) -> AsyncIterator[None]:
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            wait = self._free_at.get(host, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._free_at[host] = loop.time() + delay


class Crawler:
    """One run's polite fetching (see the module docstring); not shared between runs."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: ImportSettings,
        *,
        allow_private: bool,
        user_agent: str,
    ) -> None:
        self.session = session
        self.settings = settings
        self.allow_private = allow_private
        # Required, not defaulted to USER_AGENT: a crawler always runs for an instance, and
        # the site's operator should see which (siarkan.instance_user_agent).
        self.user_agent = user_agent
        self.turns = HostTurns()
        self._robots: dict[str, asyncio.Task[Robots]] = {}

    async def robots(self, url: str) -> Robots:
        """The robots.txt rules for `url`'s origin, fetched on first use in this run."""
        key, robots_url = origin_of(url)
        task = self._robots.get(key)
        if task is None:
            task = self._robots[key] = asyncio.ensure_future(self._load(robots_url))
        # Shared by every page of the origin: one page's fetch timing out while it waits
        # (a redirect hop checked inside its time limit) must not cancel it for the others.
        return await asyncio.shield(task)

    async def _load(self, robots_url: str) -> Robots:
        try:
            # Redirects are followed (up to remote.MAX_REDIRECTS; RFC 9309 §2.3.1.2 asks for
            # at least five) and the rules apply to the origin first asked.
            fetched = await fetch(
                self.session,
                robots_url,
                allow_private=self.allow_private,
                time_limit=ROBOTS_TIMEOUT,
                headers={"Accept": "text/plain, */*;q=0.5"},
                user_agent=self.user_agent,
            )
        except HTTPStatusRejected as exc:
            return robots_from_answer(robots_url, exc.status, b"")
        except AddressRefused as exc:
            if origin_of(exc.url)[0] == origin_of(robots_url)[0]:
                # The site itself is refused: so is the page's own fetch, which says so
                # ("refused: ... non-public"), more use to the reader than "robots.txt
                # unreachable".
                return Robots(robots_url)
            # A robots.txt redirected to an address we never connect to was not read: that
            # is no leave to crawl the site (§2.3.1.4).
            return robots_from_answer(robots_url, None, b"", problem=str(exc))
        except (ArticleRejected, OSError) as exc:
            return robots_from_answer(robots_url, None, b"", problem=str(exc))
        return robots_from_answer(robots_url, fetched.status, fetched.body)

    async def check(self, url: str) -> None:
        """Disallowed unless robots.txt lets us fetch `url` (always, with the switch off)."""
        if not self.settings.respect_robots_txt:
            return
        robots = await self.robots(url)
        reason = robots.refusal(url)
        if reason is not None:
            raise Disallowed(reason, lasting=robots.unreachable is None)

    def _delay(self, url: str) -> float:
        if self.settings.respect_robots_txt:
            task = self._robots.get(origin_of(url)[0])
            if task is not None and task.done() and not task.cancelled() and not task.exception():
                named = task.result().crawl_delay
                if named is not None:
                    # The cap bounds what a site may ask, but never below our own pace: a
                    # site asking for 30 s is not read faster than crawl_delay for it.
                    cap = max(self.settings.max_crawl_delay, self.settings.crawl_delay)
                    return min(named, cap)
        return self.settings.crawl_delay

    async def fetch(
        self,
        url: str,
        *,
        listed: bool,
        validators: Validators | None = None,
        time_limit: float = FETCH_TIMEOUT,
    ) -> Fetched:
        """GET `url` in its host's turn; ArticleRejected (Disallowed for robots.txt) if not."""
        check = self.check if listed else None
        if check is not None:
            await check(url)
        host = (urlsplit(url).hostname or "").lower()
        async with self.turns.turn(host, self._delay(url)):
            return await fetch(
                self.session,
                url,
                allow_private=self.allow_private,
                time_limit=time_limit,
                headers=validators.request_headers() if validators else None,
                check_hop=check,
                user_agent=self.user_agent,
            )
