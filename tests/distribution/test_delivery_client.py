"""The delivery client against real loopback servers: aiohttp ones, and raw sockets that
misbehave byte by byte."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from siarkan.distribution.client import (
    AddressRefused,
    DeliveryClient,
    DeliveryError,
    parse_target,
)


def client(**overrides: object) -> DeliveryClient:
    options: dict[str, object] = {
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "user_agent": "siarkan-test",
        "allow_private": True,
    }
    options.update(overrides)
    return DeliveryClient(**options)  # type: ignore[arg-type]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[RawHandler], Awaitable[tuple[str, list[int]]]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: RawHandler) -> tuple[str, list[int]]:
        connections: list[int] = []

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            try:
                await handler(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}", connections

    yield start
    for server in servers:
        server.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


async def test_post_sends_headers_and_body_and_reuses_the_connection(serve) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, str, dict[str, str], bytes, object]] = []

    async def inbox(request: web.Request) -> web.Response:
        seen.append(
            (
                request.method,
                request.path_qs,
                dict(request.headers),
                await request.read(),
                request.transport,
            )
        )
        return web.Response(status=202)

    base = await serve(inbox)
    c = client()
    body = b'{"type": "Create"}'
    headers = {"Host": "news.example", "Content-Type": "application/activity+json"}
    for _ in range(3):
        answer = await c.post(f"{base}/users/a/inbox?x=1", headers, body)
        assert answer.status == 202 and answer.retry_after is None
    await c.close()
    method, path, sent, got, _ = seen[0]
    assert (method, path, got) == ("POST", "/users/a/inbox?x=1", body)
    assert sent["Host"] == "news.example"  # the signed Host is the one sent
    assert sent["User-Agent"] == "siarkan-test"
    assert sent["Content-Length"] == str(len(body))
    assert sent["Content-Type"] == "application/activity+json"
    assert len({id(s[4]) for s in seen}) == 1  # one keep-alive connection


async def test_host_defaults_to_the_url_authority(serve) -> None:  # type: ignore[no-untyped-def]
    hosts: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        hosts.append(request.headers["Host"])
        return web.Response(status=202)

    base = await serve(inbox)
    c = client()
    await c.post(f"{base}/inbox", {}, b"{}")
    await c.close()
    assert hosts == [base.removeprefix("http://")]


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_passed_on(serve, status: int) -> None:  # type: ignore[no-untyped-def]
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Retry-After": "120"})

    c = client()
    answer = await c.post(f"{await serve(busy)}/inbox", {}, b"{}")
    await c.close()
    assert (answer.status, answer.retry_after) == (status, "120")


async def test_a_kept_alive_connection_closed_by_the_server_is_replaced(raw) -> None:  # type: ignore[no-untyped-def]
    """The server drops a reused connection after reading the request, before any answer
    (an idle timeout racing our write): the client tries once more on a new connection."""
    served: list[int] = []

    async def drop_the_second_request(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        first_connection = not served
        served.append(1)
        await read_request(reader)
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        if first_connection:
            await read_request(reader)  # ... and close without a word

    base, connections = await raw(drop_the_second_request)
    c = client()
    assert (await c.post(f"{base}/inbox", {}, b"{}")).status == 202
    assert (await c.post(f"{base}/inbox", {}, b"{}")).status == 202
    await c.close()
    assert len(connections) == 2


async def test_a_connection_that_answered_then_broke_is_not_retried(raw) -> None:  # type: ignore[no-untyped-def]
    """Part of an answer arrived: the request was processed, so no second try."""

    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 202 Acc")
        await writer.drain()

    base, connections = await raw(half_answer)
    c = client()
    with pytest.raises(DeliveryError):
        await c.post(f"{base}/inbox", {}, b"{}")
    await c.close()
    assert len(connections) == 1


async def test_no_answer_is_a_timeout(raw) -> None:  # type: ignore[no-untyped-def]
    async def silent(reader: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    base, _ = await raw(silent)
    c = client(read_timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="timeout"):
        await c.post(f"{base}/inbox", {}, b"{}")
    assert time.perf_counter() - started < 1.5
    await c.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nConnection: close\r\n\r\nthe body ends when the socket does",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["chunked", "read-until-close", "interim-100"],
)
async def test_answer_framings(raw, answer: bytes) -> None:  # type: ignore[no-untyped-def]
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    base, _ = await raw(respond)
    c = client()
    status = int(answer.rsplit(b"HTTP/1.1 ", 1)[1][:3])
    assert (await c.post(f"{base}/inbox", {}, b"{}")).status == status
    await c.close()


async def test_a_huge_answer_is_cut_short_and_its_connection_dropped(raw) -> None:  # type: ignore[no-untyped-def]
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 1000000\r\n\r\n")
            writer.write(b"x" * 1_000_000)
            try:
                await writer.drain()
            except ConnectionError:
                return

    base, connections = await raw(flood)
    c = client(max_body=1024)
    for _ in range(2):
        assert (await c.post(f"{base}/inbox", {}, b"{}")).status == 400
    await c.close()
    assert len(connections) == 2


@pytest.mark.parametrize(
    "garbage", [b"SMTP ready\r\n\r\n", b"HTTP/1.1 2x2 What\r\n\r\n"], ids=["not-http", "bad-status"]
)
async def test_garbage_is_an_error(raw, garbage: bytes) -> None:  # type: ignore[no-untyped-def]
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(garbage)
        await writer.drain()
        await asyncio.sleep(0.5)

    base, _ = await raw(respond)
    c = client()
    with pytest.raises(DeliveryError):
        await c.post(f"{base}/inbox", {}, b"{}")
    await c.close()


async def test_private_addresses_are_refused_unless_allowed(serve) -> None:  # type: ignore[no-untyped-def]
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=202)

    base = await serve(inbox)
    guarded = client(allow_private=False)
    with pytest.raises(AddressRefused, match="non-public"):
        await guarded.post(f"{base}/inbox", {}, b"{}")
    with pytest.raises(AddressRefused):
        await guarded.post("http://localhost:9/inbox", {}, b"{}")
    with pytest.raises(AddressRefused):
        await guarded.post("http://169.254.169.254/latest/meta-data", {}, b"{}")
    assert (await client().post(f"{base}/inbox", {}, b"{}")).status == 202


async def test_nothing_listening_fails_fast() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = client()
    started = time.perf_counter()
    with pytest.raises(DeliveryError, match="cannot connect"):
        await c.post(f"http://127.0.0.1:{port}/inbox", {}, b"{}")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example/in box",
        "http://news.example/inbox\r\nX-Evil: 1",
        "ftp://news.example/inbox",
        "http://user:pw@news.example/inbox",
        "http://news.example:99999/inbox",
    ],
)
def test_unusable_inbox_urls(url: str) -> None:
    with pytest.raises(DeliveryError):
        parse_target(url)


async def test_header_values_cannot_smuggle_lines(serve) -> None:  # type: ignore[no-untyped-def]
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=202)

    base = await serve(inbox)
    c = client()
    with pytest.raises(DeliveryError, match="line break"):
        await c.post(f"{base}/inbox", {"Signature": "x\r\nX-Evil: 1"}, b"{}")
    await c.close()
