"""A tiny fediverse server for tests: actors with RSA keys, an inbox that records, signing.

    server = RemoteServer(port); async with server.running(): ...
    alice = server.add_actor("alice")                 # served at /users/alice (+ #main-key)
    await server.post(inbox_url, activity, alice)     # signed POST (cavage or rfc9421)

It stands in for Mastodon in tests that need many controlled cases (forged, stale, wrong key);
tests/interop covers a real independent implementation (Fedify).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from siarkan.federation.signatures import sign_cavage, sign_rfc9421
from tests.helpers import serve_app

AS = "https://www.w3.org/ns/activitystreams"


@lru_cache(maxsize=16)
def rsa_key(index: int) -> RSAPrivateKey:
    """RSA keys are slow to make: a few, shared by every test in the session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class RemoteActor:
    server: RemoteServer
    name: str
    key: RSAPrivateKey
    also_known_as: list[str] = field(default_factory=list)
    gone: bool = False
    # GoToSocial's key ids are a path of their own, answered with a stub of the actor.
    key_path: bool = False

    @property
    def id(self) -> str:
        return f"{self.server.base}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.id}/main-key" if self.key_path else f"{self.id}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    def key_stub(self) -> dict[str, Any]:
        """What GoToSocial serves at a key id: the owner's id and key, no inbox."""
        full = self.document()
        return {k: full[k] for k in ("@context", "id", "type", "preferredUsername", "publicKey")}

    def document(self) -> dict[str, Any]:
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": self.id,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": self.inbox,
            "outbox": f"{self.id}/outbox",
            "endpoints": {"sharedInbox": f"{self.server.base}/inbox"},
            "alsoKnownAs": self.also_known_as,
            "publicKey": {
                "id": self.key_id,
                "owner": self.id,
                "publicKeyPem": public_pem(self.key),
            },
        }


class RemoteServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.actors: dict[str, RemoteActor] = {}
        self.received: list[dict[str, Any]] = []
        self.fetches: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/users/{name}", self._actor)
        self.app.router.add_get("/users/{name}/main-key", self._key)
        self.app.router.add_post("/users/{name}/inbox", self._inbox)
        self.app.router.add_post("/inbox", self._inbox)
        self._keys = 0

    def add_actor(self, name: str, key: RSAPrivateKey | None = None) -> RemoteActor:
        if key is None:
            key = rsa_key(self._keys % 4)
            self._keys += 1
        actor = RemoteActor(self, name, key)
        self.actors[name] = actor
        return actor

    async def _actor(self, request: web.Request) -> web.Response:
        self.fetches.append(request.path)
        actor = self.actors.get(request.match_info["name"])
        if actor is None:
            return web.Response(status=404)
        if actor.gone:
            return web.Response(status=410)
        return web.json_response(actor.document(), content_type="application/activity+json")

    async def _key(self, request: web.Request) -> web.Response:
        self.fetches.append(request.path)
        actor = self.actors.get(request.match_info["name"])
        if actor is None or not actor.key_path:
            return web.Response(status=404)
        return web.json_response(actor.key_stub(), content_type="application/activity+json")

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(
            {"path": request.path, "headers": dict(request.headers), "json": json.loads(body)}
        )
        return web.Response(status=202)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RemoteServer]:
        async with serve_app(self.app, self.port):
            yield self


def signed_headers(
    url: str,
    body: bytes,
    actor: RemoteActor,
    *,
    scheme: str = "cavage",
    now: datetime | None = None,
    key_id: str | None = None,
) -> dict[str, str]:
    now = now or datetime.now(UTC)
    base = {"Content-Type": "application/activity+json"}
    sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
    added = sign("POST", url, base, body, key_id or actor.key_id, actor.key, now)
    return {**base, **added}


async def post(
    session: aiohttp.ClientSession,
    url: str,
    activity: dict[str, Any] | bytes,
    actor: RemoteActor | None,
    **options: Any,
) -> int:
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = (
        signed_headers(url, body, actor, **options)
        if actor is not None
        else {"Content-Type": "application/activity+json"}
    )
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status
