"""DeliveryClient over real loopback HTTP: aiohttp inboxes, and byte-level peers that frame,
stall, close and lie in the ways real servers do.

    test -> DeliveryClient.post -> 127.0.0.1 -> aiohttp app | RawPeer (one handler per connection)
         -> Answer / DeliveryError, checked against what the peer saw (bytes, connections)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from siarkan.config import Settings
from siarkan.distribution import client as client_module
from siarkan.distribution.activitypub import ActivityPubSender
from siarkan.distribution.client import (
    AddressRefused,
    Answer,
    DeliveryClient,
    DeliveryError,
    parse_target,
)
from siarkan.distribution.lifecycle import Kind, Refused, Response
from siarkan.distribution.queue import Claimed
from siarkan.federation.keys import KeyPair, rotate_key
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import actors
from tests.distribution.conftest import add_activity, seed_actor
from tests.distribution.servers import Inbox
from tests.helpers import free_port, serve_app

AGENT = "siarkan-test/1.0"
BODY = b'{"type":"Create","id":"https://news.example/a/1"}'
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


# --- peers ----------------------------------------------------------------------------------------


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request as sent: (head without the blank line, body by Content-Length)."""
    head = (await reader.readuntil(b"\r\n\r\n"))[:-4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


Script = Callable[[int, asyncio.StreamReader, asyncio.StreamWriter, "RawPeer"], Awaitable[None]]


class RawPeer:
    """An HTTP peer written byte by byte: `script(n, reader, writer, peer)` serves the n-th TCP
    connection (from 0). Every request read through `peer.read` is kept in `requests`."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[tuple[int, bytes, bytes]] = []  # (connection, head, body)
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def read(self, n: int, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        head, body = await read_request(reader)
        self.requests.append((n, head, body))
        return head, body

    async def serve_requests(
        self, n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bytes
    ) -> None:
        """Answer every request on this connection with `answer` until the client leaves."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await self.read(n, reader)
                writer.write(answer)
                await writer.drain()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        try:
            await self.script(n, reader, writer, self)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> RawPeer:
        self.server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Script], Awaitable[RawPeer]]]:
    peers: list[RawPeer] = []

    async def start(script: Script) -> RawPeer:
        peer = await RawPeer(script).start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        await peer.stop()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def app_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """An aiohttp app on a loopback port; every path goes to `handler`. Yields its base URL."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(handler: Handler) -> str:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
            return await stack.enter_async_context(serve_app(app, free_port()))

        yield start


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., DeliveryClient]]:
    clients: list[DeliveryClient] = []

    def build(**overrides: object) -> DeliveryClient:
        options: dict[str, object] = {
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "user_agent": AGENT,
            "allow_private": True,
        }
        options.update(overrides)
        built = DeliveryClient(**options)  # type: ignore[arg-type]
        clients.append(built)
        return built

    yield build
    for built in clients:
        await built.close()


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the request on the wire ----------------------------------------------------------------------


async def test_a_202_is_returned_and_the_request_arrives_as_sent(app_server, make_client) -> None:  # type: ignore[no-untyped-def]
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def inbox(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        return web.Response(status=202)

    base = await app_server(inbox)
    headers = {
        "Host": "news.example",
        "Date": "Tue, 04 Nov 2026 09:15:00 GMT",
        "Content-Type": "application/activity+json",
        "Signature": 'keyId="https://news.example/actor#main-key",signature="c2ln"',
    }
    answer = await make_client().post(f"{base}/users/a/inbox?page=2&x=%20y", headers, BODY)

    assert answer == Answer(202, None)
    [request] = seen
    assert request.method == "POST"
    assert request.path_qs == "/users/a/inbox?page=2&x=%20y"
    assert request.version == (1, 1)
    assert request.headers["Host"] == "news.example"  # the signed Host, not the netloc
    assert request.headers["User-Agent"] == AGENT
    assert request.headers["Content-Length"] == str(len(BODY))
    assert bodies == [BODY]
    for name, value in headers.items():
        assert request.headers.getall(name) == [value]


async def test_host_defaults_to_the_netloc(app_server, make_client) -> None:  # type: ignore[no-untyped-def]
    hosts: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        hosts.append(request.headers["Host"])
        return web.Response(status=202)

    base = await app_server(inbox)
    assert (await make_client().post(f"{base}/inbox", {}, b"{}")).status == 202
    assert hosts == [base.removeprefix("http://")]


async def test_the_head_has_one_host_and_our_content_length(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """Byte-level: the caller's Host (any case) replaces the netloc instead of adding a second
    one, and a caller's Content-Length is dropped for the real one."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    headers = {"host": "news.example", "content-length": "999", "Accept": "application/json"}
    assert (await make_client().post(f"{peer.url}/inbox", headers, BODY)).status == 202

    [(_, head, body)] = peer.requests
    assert head.split(b"\r\n") == [
        b"POST /inbox HTTP/1.1",
        b"Host: news.example",
        b"User-Agent: " + AGENT.encode(),
        b"Accept: application/json",
        f"Content-Length: {len(BODY)}".encode(),
    ]
    assert body == BODY


# --- keep-alive -----------------------------------------------------------------------------------


async def test_sequential_posts_share_one_connection(app_server, make_client) -> None:  # type: ignore[no-untyped-def]
    transports: list[int] = []

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        transports.append(id(request.transport))
        return web.Response(status=202)

    base = await app_server(inbox)
    c = make_client()
    for path in ("/a/inbox", "/b/inbox", "/inbox", "/a/inbox", "/inbox?x=1"):
        assert (await c.post(base + path, {}, BODY)).status == 202
    assert len(transports) == 5
    assert len(set(transports)) == 1


async def test_concurrent_posts_open_one_connection_each_then_reuse_them(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    gate = asyncio.Event()

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        await gate.wait()  # hold the first answers until all three connections are open
        writer.write(ACCEPTED)
        await writer.drain()
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    c = make_client()
    first = [asyncio.create_task(c.post(f"{peer.url}/inbox", {}, BODY)) for _ in range(3)]
    for _ in range(100):
        if len(peer.requests) == 3:
            break
        await asyncio.sleep(0.01)
    gate.set()
    assert [a.status for a in await asyncio.gather(*first)] == [202] * 3
    assert peer.connections == 3  # one request at a time per connection

    again = await asyncio.gather(*(c.post(f"{peer.url}/inbox", {}, BODY) for _ in range(3)))
    assert [a.status for a in again] == [202] * 3
    assert peer.connections == 3  # all three came back to the pool
    assert sorted(n for n, _, _ in peer.requests[3:]) == [0, 1, 2]


async def test_each_origin_has_its_own_pool(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    one, two = await raw(script), await raw(script)
    c = make_client()
    for _ in range(3):
        assert (await c.post(f"{one.url}/inbox", {}, BODY)).status == 202
        assert (await c.post(f"{two.url}/inbox", {}, BODY)).status == 202
    assert (one.connections, two.connections) == (1, 1)
    assert (len(one.requests), len(two.requests)) == (3, 3)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_an_answer_that_ends_the_connection_is_not_reused(raw, make_client, answer) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        # Keep the socket open: the client must not reuse it on the answer's word alone.
        await peer.serve_requests(n, reader, writer, answer)

    peer = await raw(script)
    c = make_client()
    for _ in range(3):
        assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert peer.connections == 3


# --- Retry-After ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", ["120", "Wed, 05 Nov 2026 10:00:00 GMT"])
async def test_retry_after_is_passed_through(app_server, make_client, status, value) -> None:  # type: ignore[no-untyped-def]
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Retry-After": value})

    answer = await make_client().post(f"{await app_server(busy)}/inbox", {}, BODY)
    assert answer == Answer(status, value)


async def test_retry_after_does_not_leak_into_the_next_answer(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    answers = [
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After:  30 \r\nContent-Length: 4\r\n\r\nslow",
        ACCEPTED,
    ]

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        for answer in answers:
            await peer.read(n, reader)
            writer.write(answer)
            await writer.drain()
        await reader.read()

    peer = await raw(script)
    c = make_client()
    assert await c.post(f"{peer.url}/inbox", {}, BODY) == Answer(429, "30")
    assert await c.post(f"{peer.url}/inbox", {}, BODY) == Answer(202, None)
    assert peer.connections == 1


async def test_an_answer_split_into_tiny_segments(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """Header names and values cut across TCP segments still parse (llhttp calls back in
    pieces; Retry-After must be whole)."""
    answer = (
        b"HTTP/1.1 503 Service Unavailable\r\nServer: nginx\r\nRetry-After: 3600\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nmaintenance"
    )

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        for i in range(0, len(answer), 5):
            writer.write(answer[i : i + 5])
            await writer.drain()
            await asyncio.sleep(0.002)
        await reader.read()

    peer = await raw(script)
    assert await make_client().post(f"{peer.url}/inbox", {}, BODY) == Answer(503, "3600")


# --- connections closed by the server -------------------------------------------------------------


async def test_an_idle_connection_closed_by_the_server_is_replaced(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """The server answers one request per connection and hangs up after (an idle timeout of
    zero): the client sees the close while the connection is pooled and opens a new one."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(ACCEPTED)  # keep-alive by HTTP/1.1 default...
        await writer.drain()  # ... and closed right after

    peer = await raw(script)
    c = make_client()
    for i in range(3):
        assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
        await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle
        assert peer.connections == i + 1
    assert [n for n, _, _ in peer.requests] == [0, 1, 2]


async def test_a_close_racing_the_next_request_is_retried_once(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """The server times the idle connection out just as the next request arrives: it reads it
    (or not) and closes without a byte. Nothing was answered, so one more try on a new
    connection; the dropped copy is the only duplicate."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(ACCEPTED)
        await writer.drain()
        if n == 0:
            await peer.read(n, reader)  # the second request: dropped without an answer
            return
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    c = make_client()
    assert (await c.post(f"{peer.url}/first", {}, BODY)).status == 202
    assert (await c.post(f"{peer.url}/second", {}, BODY)).status == 202
    assert (await c.post(f"{peer.url}/third", {}, BODY)).status == 202
    assert peer.connections == 2
    paths = [(n, head.split(b" ")[1]) for n, head, _ in peer.requests]
    assert paths == [(0, b"/first"), (0, b"/second"), (1, b"/second"), (1, b"/third")]


async def test_a_reused_connection_that_breaks_mid_answer_is_not_retried(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """Part of an answer came back: the request was processed, so it is not sent again."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(ACCEPTED)
        await peer.read(n, reader)
        writer.write(b"HTTP/1.1 202 Acc")
        await writer.drain()

    peer = await raw(script)
    c = make_client()
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    with pytest.raises(DeliveryError, match="connection closed"):
        await c.post(f"{peer.url}/inbox", {}, BODY)
    assert (peer.connections, len(peer.requests)) == (1, 2)


async def test_a_connection_idle_too_long_is_not_reused(raw, make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(client_module, "KEEPALIVE_IDLE", 0.05)

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    c = make_client()
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert peer.connections == 1
    await asyncio.sleep(0.1)
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert peer.connections == 2


# --- timeouts and refusals ------------------------------------------------------------------------


async def test_no_answer_times_out_after_read_timeout(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def silent(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        await reader.read()  # until the client gives up

    peer = await raw(silent)
    c = make_client(read_timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="timeout"):
        await c.post(f"{peer.url}/inbox", {}, BODY)
    assert 0.25 <= time.perf_counter() - started < 0.8
    await asyncio.sleep(0.05)
    assert peer.connections == 1 and len(peer.requests) == 1


async def test_a_timeout_on_a_reused_connection_is_not_retried(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """A slow server is not sent the POST a second time, and the caller waits read_timeout, not
    twice that: only a connection closed before any answer is retried."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        if n == 0:
            writer.write(ACCEPTED)
            await peer.read(n, reader)
        await reader.read()  # silent from here on

    peer = await raw(script)
    c = make_client(read_timeout=0.3)
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="timeout"):
        await c.post(f"{peer.url}/inbox", {}, BODY)
    assert time.perf_counter() - started < 0.55
    await asyncio.sleep(0.05)
    assert (peer.connections, len(peer.requests)) == (1, 2)


async def test_a_closed_port_fails_fast(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client(connect_timeout=5.0)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match=r"cannot connect to 127\.0\.0\.1: ConnectionRefused"):
        await c.post(f"http://127.0.0.1:{closed_port()}/inbox", {}, BODY)
    assert time.perf_counter() - started < 1.0


async def test_a_server_that_hangs_up_at_once_fails_fast(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def hang_up(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        return

    peer = await raw(hang_up)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="connection closed"):
        await make_client(read_timeout=5.0).post(f"{peer.url}/inbox", {}, BODY)
    assert time.perf_counter() - started < 1.0


# --- framings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "reused"),
    [
        (
            b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"7\r\nqueued \r\n3\r\nfor\r\n0\r\n\r\n",
            202,
            True,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;ext=1\r\ndone\r\n0\r\nX-Trailer: yes\r\n\r\n",
            200,
            True,
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, True),
        (
            b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n\r\nends when the socket does",
            201,
            False,
        ),
        (b"HTTP/1.0 200 OK\r\n\r\nends when the socket does", 200, False),
    ],
    ids=["chunked", "chunked-trailer", "no-body", "read-until-close", "http-1.0-until-close"],
)
async def test_answer_framings(raw, make_client, answer, status, reused) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(answer)
        await writer.drain()
        if b"Transfer-Encoding" in answer or b"204" in answer:
            await peer.serve_requests(n, reader, writer, answer)
        # otherwise: return, which closes the socket and so ends the body

    peer = await raw(script)
    c = make_client()
    for _ in range(2):
        assert await c.post(f"{peer.url}/inbox", {}, BODY) == Answer(status, None)
    assert peer.connections == (1 if reused else 2)


@pytest.mark.parametrize(
    ("interim", "final", "expected"),
    [
        (b"HTTP/1.1 100 Continue\r\n\r\n", ACCEPTED, Answer(202, None)),
        (
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nRetry-After: 9\r\n\r\n",
            ACCEPTED,
            Answer(202, None),
        ),
        (
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
            Answer(429, "5"),
        ),
    ],
    ids=["100", "103-with-headers", "two-interims"],
)
async def test_interim_answers_are_skipped(raw, make_client, interim, final, expected) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                await peer.read(n, reader)
                writer.write(interim)
                await writer.drain()
                await asyncio.sleep(0.01)  # the final answer in a later segment
                writer.write(final)
                await writer.drain()

    peer = await raw(script)
    c = make_client()
    for _ in range(2):
        assert await c.post(f"{peer.url}/inbox", {}, BODY) == expected
    assert peer.connections == 1


async def test_an_interim_answer_then_a_close_is_an_error(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()

    peer = await raw(script)
    with pytest.raises(DeliveryError, match="connection closed"):
        await make_client().post(f"{peer.url}/inbox", {}, BODY)


# --- bounded answers ------------------------------------------------------------------------------


async def test_an_answer_larger_than_max_body_keeps_its_status(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    big = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, big)

    peer = await raw(script)
    c = make_client(max_body=1024)
    for _ in range(2):
        assert await c.post(f"{peer.url}/inbox", {}, BODY) == Answer(400, None)
    assert peer.connections == 2  # the rest of the body was never read: not reusable


async def test_an_endless_answer_is_cut_short(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """A chunked body that never ends: the status comes back once max_body is passed."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"400\r\n" + b"y" * 0x400 + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.001)

    peer = await raw(script)
    started = time.perf_counter()
    answer = await make_client(max_body=8192, read_timeout=2.0).post(f"{peer.url}/i", {}, BODY)
    assert answer == Answer(500, None)
    assert time.perf_counter() - started < 1.0


async def test_an_answer_of_exactly_max_body_is_read_and_reused(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    fits = b"HTTP/1.1 202 Accepted\r\nContent-Length: 1024\r\n\r\n" + b"z" * 1024

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, fits)

    peer = await raw(script)
    c = make_client(max_body=1024)
    for _ in range(3):
        assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert peer.connections == 1


# --- broken answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 2x2 Accepted\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Length: twelve\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # a TLS handshake on a plain port
    ],
    ids=["ssh", "bad-status", "bad-length", "bad-chunk", "tls"],
)
async def test_garbage_is_a_delivery_error(raw, make_client, garbage) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(garbage)
        await writer.drain()
        await reader.read()  # keep the socket open: the error must come from parsing

    peer = await raw(script)
    c = make_client(read_timeout=3.0)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="bad HTTP response"):
        await c.post(f"{peer.url}/inbox", {}, BODY)
    assert time.perf_counter() - started < 1.0
    with pytest.raises(DeliveryError):
        await c.post(f"{peer.url}/inbox", {}, BODY)
    assert peer.connections == 2  # the broken connection was not pooled


# --- the address guard ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254"])
async def test_private_addresses_are_refused(raw, make_client, host) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    port = peer.url.rsplit(":", 1)[1]
    guarded = make_client(allow_private=False)
    with pytest.raises(AddressRefused, match="non-public address"):
        await guarded.post(f"http://{host}:{port}/inbox", {}, BODY)
    assert peer.connections == 0


async def test_private_addresses_work_when_allowed(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    assert (await make_client(allow_private=True).post(f"{peer.url}/in", {}, BODY)).status == 202
    assert peer.connections == 1


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(sqlite_url))
    yield database
    await database.close()


@pytest.mark.parametrize("allow_private", [False, True])
async def test_the_sender_turns_a_refused_address_into_refused(
    sqlite_db: Database, settings: Settings, key_pair: KeyPair, allow_private: bool
) -> None:
    settings = settings.model_copy(
        update={
            "federation": settings.federation.model_copy(
                update={"allow_private_addresses": allow_private}
            )
        }
    )
    await seed_actor(sqlite_db, settings, key_pair)
    activity_id = await add_activity(sqlite_db, settings)
    inbox = Inbox(key_pair.public_pem)
    async with inbox.running():
        row = Claimed(
            id=1,
            kind=Kind.ACTIVITYPUB,
            target=inbox.url("/users/u1/inbox"),
            host=inbox.host,
            activity_id=activity_id,
            subscription_id=None,
            topic=None,
            actor_name="utama",
            shared=False,
            attempts=0,
        )
        sender = ActivityPubSender(settings)
        try:
            async with sqlite_db.connect() as conn:
                await sender.prepare(conn, [row], {})
            sent = await sender.send(row, datetime.now(UTC))
        finally:
            await sender.close()

    if allow_private:
        assert sent.result == Response(202, None)
        [received] = inbox.received
        assert received.signature_ok is True
    else:
        assert isinstance(sent.result, Refused)
        assert sent.result.answered is False  # nothing sent: the host's health is left alone
        assert "non-public address (127.0.0.1)" in sent.result.reason
        assert inbox.received == []


# --- injection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Signature": 'keyId="k"\r\nX-Evil: 1'},
        {"Signature": "a\nb"},
        {"Digest": "sha-256=x\r"},
        {"X-Evil\r\nX-More": "1"},
        {"Host": "news.example\r\nX-Evil: 1"},
    ],
    ids=["crlf-value", "lf-value", "cr-value", "crlf-name", "crlf-host"],
)
async def test_line_breaks_in_headers_are_refused(raw, make_client, headers) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    c = make_client()
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    with pytest.raises(DeliveryError, match="line break"):
        await c.post(f"{peer.url}/inbox", headers, BODY)
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202  # the pool is intact
    assert (peer.connections, len(peer.requests)) == (1, 2)
    assert all(b"X-Evil" not in head for _, head, _ in peer.requests)


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example/in box",
        "http://news.example/inbox\r\nX-Evil: 1",
        "http://news.example/inbox HTTP/1.1\r\nHost: evil.example\r\n\r\nGET /",
        "http://news.example/in\x00box",
        "http://news.example/in\x7fbox",
        "http://news.example/inbox?q=a b",
        "http://news.example/kotak-masuk-é",
        "ftp://news.example/inbox",
        "http:///inbox",
        "http://user:pw@news.example/inbox",
        "http://news.example:99999/inbox",
        "http://[::1/inbox",
        "http://[news.example]/inbox",
    ],
)
def test_unusable_inbox_urls_are_refused(url: str) -> None:
    with pytest.raises(DeliveryError):
        parse_target(url)


async def test_an_unusable_url_sends_nothing(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    with pytest.raises(DeliveryError, match="request line"):
        await make_client().post(f"{peer.url}/inbox\r\nX-Evil: 1", {}, BODY)
    assert peer.connections == 0


@pytest.mark.parametrize(
    ("url", "origin", "path"),
    [
        ("https://News.Example/inbox", ("https", "news.example", 443), "/inbox"),
        ("http://news.example", ("http", "news.example", 80), "/"),
        ("http://news.example:8080/a?b=c&d", ("http", "news.example", 8080), "/a?b=c&d"),
        ("http://[2001:db8::1]:8443/i", ("http", "2001:db8::1", 8443), "/i"),
        ("http://news.example/a%20b?x=%0D%0A", ("http", "news.example", 80), "/a%20b?x=%0D%0A"),
    ],
)
def test_usable_inbox_urls(url: str, origin: tuple[str, str, int], path: str) -> None:
    target = parse_target(url)
    assert (target.origin, target.path) == (origin, path)


# --- hostile answers, pool upkeep, addresses ------------------------------------------------------


async def test_endless_answer_headers_are_cut_short(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """A server that never ends its headers: the client stops at MAX_HEAD bytes instead of
    buffering them, well before read_timeout."""
    sent = 0

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        nonlocal sent
        await peer.read(n, reader)
        writer.write(b"HTTP/1.1 202 Accepted\r\nX-Long: ")
        while True:
            writer.write(b"a" * 4096)
            sent += 4096
            await writer.drain()
            await asyncio.sleep(0)

    peer = await raw(script)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="headers longer"):
        await make_client(read_timeout=5.0).post(f"{peer.url}/inbox", {}, BODY)
    assert time.perf_counter() - started < 2.0
    assert sent < 50 * client_module.MAX_HEAD  # it stopped reading, not the server writing


async def test_headers_just_under_the_cap_are_read(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    padding = b"X-Pad: " + b"p" * (client_module.MAX_HEAD - 200) + b"\r\n"
    answer = (
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 30\r\n" + padding + b"Content-Length: 0\r\n\r\n"
    )

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        for i in range(0, len(answer), 1000):  # in many segments: the count spans them
            writer.write(answer[i : i + 1000])
            await writer.drain()
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    assert await make_client().post(f"{peer.url}/inbox", {}, BODY) == Answer(429, "30")


async def test_pooled_connections_the_server_closes_leave_the_pool(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    """Closed idle connections neither count against MAX_IDLE nor stay in the pool."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.read(n, reader)
        writer.write(ACCEPTED)
        await writer.drain()  # then hang up while the client holds the connection idle

    peer = await raw(script)
    c = make_client()
    answers = await asyncio.gather(*(c.post(f"{peer.url}/inbox", {}, BODY) for _ in range(5)))
    assert {a.status for a in answers} == {202}
    for _ in range(50):
        if c._idle_count == 0:
            break
        await asyncio.sleep(0.02)
    assert (c._idle_count, c._idle) == (0, {})


@pytest.mark.parametrize("apart", [False, True], ids=["same-segment", "while-idle"])
async def test_a_second_answer_makes_the_connection_unusable(raw, make_client, apart) -> None:  # type: ignore[no-untyped-def]
    """A server that answers twice: the extra answer (with the first, or later while the
    connection is idle) must not be taken for the answer to the next request."""
    gone = b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        if n == 0:
            await peer.read(n, reader)
            writer.write(ACCEPTED if apart else ACCEPTED + gone)
            await writer.drain()
            if apart:
                await asyncio.sleep(0.02)
                writer.write(gone)
                await writer.drain()
            await asyncio.sleep(5)
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    c = make_client()
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    await asyncio.sleep(0.05)
    assert (await c.post(f"{peer.url}/inbox", {}, BODY)).status == 202
    assert peer.connections == 2


async def test_connections_idle_too_long_are_swept(raw, make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Sending to one origin closes another origin's connections once they idled too long."""
    monkeypatch.setattr(client_module, "KEEPALIVE_IDLE", 0.05)
    closed = asyncio.Event()

    async def quiet(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)
        closed.set()

    async def busy(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    first, second = await raw(quiet), await raw(busy)
    c = make_client()
    assert (await c.post(f"{first.url}/inbox", {}, BODY)).status == 202
    await asyncio.sleep(0.1)
    assert (await c.post(f"{second.url}/inbox", {}, BODY)).status == 202
    await asyncio.wait_for(closed.wait(), 1.0)
    await asyncio.sleep(0)
    assert list(c._idle) == [("http", "127.0.0.1", second.server.sockets[0].getsockname()[1])]


async def test_a_failed_connect_forgets_the_addresses(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The host may have moved: after a failed connect its name is looked up again."""
    lookups: list[str] = []

    async def fake_resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(client_module, "resolve", fake_resolve)
    c = make_client()
    url = f"http://moved.example:{closed_port()}/inbox"
    for _ in range(2):
        with pytest.raises(DeliveryError, match="cannot connect"):
            await c.post(url, {}, BODY)
    assert lookups == ["moved.example", "moved.example"]


async def test_an_unreachable_first_address_leaves_time_for_the_next(
    raw, make_client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """192.0.2.1 (TEST-NET-1) never answers, or fails at once: either way 127.0.0.1 is tried
    within connect_timeout."""

    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    async def fake_resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
        return ["192.0.2.1", "127.0.0.1"]

    peer = await raw(script)
    monkeypatch.setattr(client_module, "resolve", fake_resolve)
    port = peer.server.sockets[0].getsockname()[1]
    started = time.perf_counter()
    c = make_client(connect_timeout=1.0)
    assert (await c.post(f"http://two.example:{port}/inbox", {}, BODY)).status == 202
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ([], []),
        (["2001:db8::1"], ["2001:db8::1"]),
        (["2001:db8::1", "2001:db8::2", "192.0.2.1"], ["2001:db8::1", "192.0.2.1", "2001:db8::2"]),
        (["192.0.2.1", "192.0.2.2", "2001:db8::1"], ["192.0.2.1", "2001:db8::1", "192.0.2.2"]),
        (["192.0.2.1", "192.0.2.2"], ["192.0.2.1", "192.0.2.2"]),
    ],
)
def test_address_families_take_turns(addresses: list[str], expected: list[str]) -> None:
    assert client_module.interleave(addresses) == expected


async def test_a_header_outside_latin_1_is_unusable_and_sends_nothing(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    with pytest.raises(client_module.UnusableTarget, match="Latin-1"):
        await make_client().post(f"{peer.url}/inbox", {"X-Name": "Media 📰"}, BODY)
    assert peer.connections == 0


async def test_a_callers_user_agent_replaces_ours(raw, make_client) -> None:  # type: ignore[no-untyped-def]
    async def script(n, reader, writer, peer) -> None:  # type: ignore[no-untyped-def]
        await peer.serve_requests(n, reader, writer, ACCEPTED)

    peer = await raw(script)
    await make_client().post(f"{peer.url}/inbox", {"user-agent": "other/2"}, BODY)
    [(_, head, _)] = peer.requests
    agents = [line for line in head.split(b"\r\n") if line.lower().startswith(b"user-agent:")]
    assert agents == [b"User-Agent: other/2"]


async def test_the_sender_signs_with_a_rotated_key_at_the_next_batch(
    sqlite_db: Database, settings: Settings, key_pair: KeyPair
) -> None:
    """After `siarkan keys rotate` the next batch signs with the new key: receivers that fetched
    the actor again would refuse the old one (401) while a cache by age kept it."""
    await seed_actor(sqlite_db, settings, key_pair)
    activity_id = await add_activity(sqlite_db, settings)
    row = Claimed(
        id=1, kind=Kind.ACTIVITYPUB, target="https://m.example/inbox", host="m.example",
        activity_id=activity_id, subscription_id=None, topic=None, actor_name="utama",
        shared=False, attempts=0,
    )  # fmt: skip
    sender = ActivityPubSender(settings)
    try:
        async with sqlite_db.connect() as conn:
            await sender.prepare(conn, [row], {})
        before = sender._keys["utama"][0]
        async with sqlite_db.begin() as conn:
            await rotate_key(conn, "utama", datetime.now(UTC))
        async with sqlite_db.connect() as conn:
            await sender.prepare(conn, [row], {})
            public = await conn.scalar(
                select(actors.c.public_key_pem).where(actors.c.name == "utama")
            )
        after = sender._keys["utama"][0]
    finally:
        await sender.close()
    assert after is not before
    assert (
        public
        == after.private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
