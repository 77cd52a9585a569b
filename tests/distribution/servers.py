"""Loopback HTTP peers that fail in scripted ways: fediverse inboxes and WebSub subscribers."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDictProxy

from siarkan.federation.signatures import (
    RequestView,
    header_map,
    load_public_key,
    parse_signed_request,
    verify_signature,
)
from tests.helpers import free_port, serve_app


@dataclass
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts, slow peers)
    body: bytes = b""


@dataclass
class Received:
    path: str
    method: str
    headers: CIMultiDictProxy[str]
    body: bytes
    at: float
    signature_ok: bool | None
    scheme: str | None


class Inbox:
    """Every path is an inbox. Answers come from `script[path]` (popped in order), then `default`.

    With `public_key_pem`, each request's HTTP signature is checked (either scheme); `reject`
    lists schemes answered with 401 (to exercise double-knocking).
    """

    def __init__(self, public_key_pem: str | None = None) -> None:
        self.port = free_port()
        self.public_key_pem = public_key_pem
        self.script: dict[str, list[Reply]] = defaultdict(list)
        self.default = Reply(202)
        self.reject: set[str] = set()
        self.received: list[Received] = []
        self.answered: dict[str, int] = defaultdict(int)  # path -> 2xx answers

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def _check(self, request: web.Request) -> tuple[bool | None, str | None]:
        if self.public_key_pem is None:
            return None, None
        view = RequestView(
            request.method, self.url(request.path_qs), header_map(request.headers.items())
        )
        try:
            signed = parse_signed_request(view)
        except Exception:
            return False, None
        return verify_signature(load_public_key(self.public_key_pem), signed), signed.scheme

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        ok, scheme = self._check(request)
        self.received.append(
            Received(
                request.path, request.method, request.headers, body, time.monotonic(), ok, scheme
            )
        )
        if ok is False or (scheme is not None and scheme in self.reject):
            return web.Response(status=401, text="bad signature")
        script = self.script.get(request.path)
        reply = script.pop(0) if script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if 200 <= reply.status < 300:
            self.answered[request.path] += 1
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Inbox]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        async with serve_app(app, self.port):
            yield self


class Subscriber:
    """A WebSub subscriber: echoes challenges (unless told not to), records notifications."""

    def __init__(self) -> None:
        self.port = free_port()
        self.echo = True
        self.verify_status = 200
        self.verifications: list[dict[str, str]] = []
        self.notifications: list[Received] = []
        self.notify_queries: list[str] = []  # the query string of each notification's URL
        self.notify_script: list[Reply] = []
        # Like NewsBlur's callback (apps/push/views.py): a verification without the
        # hub.verify_token it subscribed with gets 404.
        self.verify_token: str | None = None

    def url(self, path: str = "/callback") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            params = dict(request.query)
            self.verifications.append(params)
            if self.verify_status != 200:
                return web.Response(status=self.verify_status)
            if (
                self.verify_token is not None
                and params.get("hub.verify_token") != self.verify_token
            ):
                return web.Response(status=404)
            text = params.get("hub.challenge", "") if self.echo else "nope"
            return web.Response(text=text)
        body = await request.read()
        self.notify_queries.append(request.rel_url.raw_query_string)
        self.notifications.append(
            Received(request.path, "POST", request.headers, body, time.monotonic(), None, None)
        )
        reply = self.notify_script.pop(0) if self.notify_script else Reply(200)
        return web.Response(status=reply.status, headers=reply.headers)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Subscriber]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        async with serve_app(app, self.port):
            yield self


def link_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """rel -> URL from every Link header."""
    out: dict[str, str] = {}
    for value in headers.getall("Link", []):
        for part in value.split(","):
            url, _, params = part.strip().partition(";")
            rel = params.split("rel=")[-1].strip().strip('"')
            out[rel] = url.strip().strip("<>")
    return out
