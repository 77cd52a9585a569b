"""HTTP/1.1 POSTs for deliveries: the one request a fan-out makes thousands of times.

    post(url, headers, body) | an idle keep-alive connection to that origin from the pool,
        or: resolve (address guard, cached) -> connect (TLS with the host's name)
        | one write: request line, headers, body | llhttp (httptools) parses the answer
        -> Answer(status, Retry-After) | the connection goes back to the pool if it may

Why not aiohttp's client here: measured inside the worker, aiohttp spent about as much CPU on
each delivery POST (request and response objects, timers, cookie and trace hooks, a parser per
response) as the RSA signature the request needs. A delivery only needs a status and
Retry-After; this client does that and no more (benchmarks/fanout.py). Everything else that goes
out (WebSub, remote fetches) stays on aiohttp.

Deliveries go to addresses remote actors give us, so the same guard as for fetches applies
(federation/fetch.py): every address a host resolves to must be public, unless
`federation.allow_private_addresses` is set (tests), and we connect to the address we checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

from siarkan.federation.fetch import AddressNotAllowed, FetchError, resolve, split_http_url

KEEPALIVE_IDLE = 15.0  # seconds an idle connection is kept (aiohttp's default)
MAX_IDLE = 1024  # idle connections kept in all; more are closed when released
MAX_HEAD = 64 * 1024  # bytes of status line and headers read before giving up on an answer
DNS_TTL = 300.0
MAX_TARGETS = 50_000  # parsed inbox URLs kept (a fan-out repeats the same ones)


class DeliveryError(Exception):
    """No answer: connect, TLS, reset, timeout or a broken response."""


class UnusableTarget(DeliveryError):
    """Nothing can be sent to this URL (bad scheme, port, characters): no host is to blame."""


class AddressRefused(UnusableTarget):
    """The host resolves to an address we never send to (private, loopback, metadata...)."""


class _Closed(DeliveryError):
    """The peer closed the connection before the answer was complete."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    netloc: str
    path: str  # path and query, as sent on the request line


_NOT_ON_REQUEST_LINE = re.compile(r"[\x00-\x20\x7f]")


@lru_cache(maxsize=4096)
def _origin(scheme: str, netloc: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an authority, checked once per authority: a fan-out has
    thousands of inboxes on a few hundred servers."""
    try:
        _, host, port = split_http_url(f"{scheme}://{netloc}/")
    except FetchError as exc:
        raise UnusableTarget(str(exc)) from None
    return scheme, host, port


def parse_target(url: str) -> _Target:
    """An inbox URL checked for what may go on a request line (no CR, LF, spaces, controls)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a bad [IPv6] host
        raise UnusableTarget(f"not an http(s) URL: {url[:200]}") from None
    origin = _origin(parts.scheme, parts.netloc)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not (path + parts.netloc).isascii() or _NOT_ON_REQUEST_LINE.search(path):
        raise UnusableTarget(f"inbox URL not usable on a request line: {url[:200]}")
    return _Target(origin, parts.netloc, path)


def request_head(target: _Target, headers: Mapping[str, str], length: int, agent: str) -> bytes:
    """The request line and headers; Host from `headers` when given (it is signed), User-Agent
    from `headers` when given, else `agent`.

    UnusableTarget when a header cannot go on the wire (a line break, or a character outside
    Latin-1): sending it again would not help, and no host is to blame."""
    lines = [f"POST {target.path} HTTP/1.1"]
    host = None
    first = [f"User-Agent: {agent}"]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "host":
            host = value
        elif lowered == "user-agent":
            first = [f"User-Agent: {value}"]
        elif lowered != "content-length":
            lines.append(f"{name}: {value}")
    lines[1:1] = [f"Host: {host or target.netloc}", *first]
    lines.append(f"Content-Length: {length}")
    text = "\r\n".join(lines)
    # One scan of the whole head instead of four per header: every CR and LF must be one of
    # the line ends just joined in.
    if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
        for name, value in [*headers.items(), ("User-Agent", agent)]:
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise UnusableTarget(f"header {name!r} has a line break")
        raise UnusableTarget("a header has a line break")
    try:
        return (text + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise UnusableTarget(
            f"a header is not Latin-1: {exc.object[exc.start : exc.end]!r}"
        ) from None


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, the answer read by llhttp."""

    def __init__(self, origin: tuple[str, str, int], max_body: int) -> None:
        self.origin = origin
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self.got_bytes = False  # anything received for the current request
        self.on_idle_lost: Callable[[_Connection], None] | None = None  # set while pooled
        self._head = 0  # bytes received while the status line and headers are incomplete
        self._status = 0
        self._retry_after: str | None = None
        self._body = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not subclass asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.on_idle_lost is not None:
            # Servers close idle keep-alive connections: leave the pool now, so a dead one
            # neither holds a place in it nor is handed out.
            self.on_idle_lost(self)
            return
        if self._status >= 200:
            # Read-until-close bodies end here; the status is all we wanted.
            self._finish(reusable=False)
        else:
            self._fail(_Closed(f"connection closed: {exc}" if exc else "connection closed"))

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:
            # Bytes nobody asked for (on an idle connection): whatever they are, the next
            # answer read here could be theirs.
            self.abort()
            return
        self.got_bytes = True
        if self._status == 0:
            self._head += len(data)
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(DeliveryError(f"bad HTTP response: {exc}"))
            self.abort()
            return
        if self._status == 0 and self._head > MAX_HEAD:
            # llhttp keeps a header until it ends: a server sending endless headers would
            # otherwise grow our memory without bound.
            self._fail(DeliveryError(f"answer headers longer than {MAX_HEAD} bytes"))
            self.abort()

    # llhttp callbacks

    def on_message_begin(self) -> None:
        if self.waiter is None or self.waiter.done():
            self.reusable = False  # a second answer to one request: the stream is not ours
        self._status, self._retry_after, self._body = 0, None, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1").strip()

    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        self._head = 0

    def on_body(self, body: bytes) -> None:
        self._body += len(body)
        if self._body > self.max_body:
            self._finish(reusable=False)  # answers to deliveries are tiny; stop reading
            self.abort()

    def on_message_complete(self) -> None:
        if self._status < 200:
            self._status = 0  # 1xx: the real answer follows
            return
        self._finish(reusable=self.parser.should_keep_alive())

    # one request

    def send(self, data: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.got_bytes = False
        self._status = self._head = 0
        self.transport.write(data)
        return self.waiter

    def abort(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def _finish(self, *, reusable: bool) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.reusable = reusable and not self.closed
            waiter.set_result(Answer(self._status, self._retry_after))

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class DeliveryClient:
    """Keep-alive pools per origin; limits on concurrency are the worker's (per host, global)."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        user_agent: str,
        allow_private: bool = False,
        max_body: int = 64 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.user_agent = user_agent
        self.allow_private = allow_private
        self.max_body = max_body
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._idle_count = 0
        self._swept = 0.0
        self._addresses: dict[tuple[str, int], tuple[list[str], float]] = {}
        self._targets: dict[str, _Target] = {}

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """One POST; DeliveryError (AddressRefused) when there is no answer to give."""
        target = self._targets.get(url)
        if target is None:
            target = parse_target(url)
            if len(self._targets) >= MAX_TARGETS:
                self._targets.clear()
            self._targets[url] = target
        data = request_head(target, headers, len(body), self.user_agent) + body
        conn = self._pooled(target.origin)
        if conn is not None:
            try:
                return await self._exchange(conn, target, data)
            except _Closed:
                # A kept-alive connection the server closed meanwhile fails before any byte
                # of an answer: try once on a new one (receivers dedupe by activity id). Not
                # after a timeout: a slow server would get the POST twice, and we would wait
                # twice read_timeout.
                if conn.got_bytes:
                    raise
        conn = await self._connect(target.origin)
        return await self._exchange(conn, target, data)

    async def close(self) -> None:
        for pool in self._idle.values():
            for conn in pool:
                conn.on_idle_lost = None
                if conn.transport is not None:
                    conn.transport.close()
        self._idle.clear()
        self._idle_count = 0

    # --- internals ------------------------------------------------------------------------------

    async def _exchange(self, conn: _Connection, target: _Target, data: bytes) -> Answer:
        loop = asyncio.get_running_loop()
        waiter = conn.send(data)
        timer = loop.call_later(self.read_timeout, _expire, conn, waiter)
        try:
            answer = await waiter
        except asyncio.CancelledError:
            conn.abort()
            raise
        except BaseException:
            conn.abort()
            raise
        finally:
            timer.cancel()
        conn.waiter = None
        if conn.reusable and self._idle_count < MAX_IDLE:
            now = loop.time()
            if now - self._swept > KEEPALIVE_IDLE:
                self._sweep(now)
            conn.idle_since = now
            conn.on_idle_lost = self._forget
            self._idle.setdefault(target.origin, []).append(conn)
            self._idle_count += 1
        else:
            conn.abort()
        return answer

    def _pooled(self, origin: tuple[str, str, int]) -> _Connection | None:
        pool = self._idle.get(origin)
        if not pool:
            return None
        now = asyncio.get_running_loop().time()
        while pool:
            conn = pool.pop()
            self._idle_count -= 1
            conn.on_idle_lost = None
            if not conn.closed and now - conn.idle_since < KEEPALIVE_IDLE:
                return conn
            conn.abort()
        return None

    def _forget(self, conn: _Connection) -> None:
        """A pooled connection was closed (by the server, or aborted on stray bytes)."""
        conn.on_idle_lost = None
        pool = self._idle.get(conn.origin)
        if pool is not None and conn in pool:
            pool.remove(conn)
            self._idle_count -= 1
            if not pool:
                del self._idle[conn.origin]

    def _sweep(self, now: float) -> None:
        """Close connections idle longer than KEEPALIVE_IDLE (at most once per that period),
        so origins we stopped sending to do not hold sockets until the worker stops."""
        self._swept = now
        for pool in list(self._idle.values()):
            for conn in [c for c in pool if now - c.idle_since >= KEEPALIVE_IDLE]:
                conn.abort()  # connection_lost -> _forget, on the next loop turn

    async def _resolve(self, host: str, port: int) -> list[str]:
        key = (host, port)
        cached = self._addresses.get(key)
        now = asyncio.get_running_loop().time()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            addresses = await resolve(host, port, allow_private=self.allow_private)
        except AddressNotAllowed as exc:
            raise AddressRefused(str(exc)) from None
        except FetchError as exc:
            raise DeliveryError(str(exc)) from None
        self._addresses[key] = (addresses, now + DNS_TTL)
        return addresses

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        """A new connection to one of the host's checked addresses, IPv6 and IPv4 taking turns
        (RFC 8305 order); each try gets an equal share of what is left of connect_timeout, so
        an unreachable first address does not use it all."""
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = None
        if scheme == "https":
            tls = self._ssl = self._ssl or ssl.create_default_context()
        deadline = loop.time() + self.connect_timeout
        last = "timeout"
        try:
            async with asyncio.timeout(self.connect_timeout):
                addresses = interleave(await self._resolve(host, port))
        except TimeoutError:
            raise DeliveryError(f"cannot resolve {host}: timeout") from None
        for index, address in enumerate(addresses):
            share = (deadline - loop.time()) / (len(addresses) - index)
            if share <= 0:
                break
            try:
                async with asyncio.timeout(share):
                    _, protocol = await loop.create_connection(
                        lambda: _Connection(origin, self.max_body),
                        address,
                        port,
                        ssl=tls,
                        server_hostname=host if tls is not None else None,
                    )
            except TimeoutError:
                last = "timeout"
                continue
            except (OSError, ssl.SSLError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            return protocol
        # The host may have moved: look its name up again next time.
        self._addresses.pop((host, port), None)
        raise DeliveryError(f"cannot connect to {host}: {last}")


def interleave(addresses: list[str]) -> list[str]:
    """IPv6 and IPv4 addresses alternating, each family in resolver order, the first family
    first (RFC 8305 section 4)."""
    if len(addresses) < 2:
        return addresses
    first = ":" in addresses[0]
    same = [a for a in addresses if (":" in a) == first]
    other = [a for a in addresses if (":" in a) != first]
    mixed: list[str] = []
    for index in range(max(len(same), len(other))):
        mixed += same[index : index + 1] + other[index : index + 1]
    return mixed


def _expire(conn: _Connection, waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(DeliveryError("timeout"))
    with contextlib.suppress(Exception):
        conn.abort()
