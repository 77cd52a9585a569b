"""Remote actors and their keys: memory cache -> `remote_actors` table -> guarded fetch.

    key id  | memory (parsed key) | remote_actors row (parsed once) | fetch key id
            | actor document      -> RemoteKey(owner, public key)
    actor   | memory | row | fetch -> RemoteActor(inbox, sharedInbox, key, alsoKnownAs)

Parsing documents is pure (`parse_actor`, `key_from_document`); `RemoteDirectory` does the I/O.
A document only counts for the host it was fetched from (its `id` must be on that host), and a
key only belongs to the actor whose document lists it: a key document merely claiming an owner
is checked against the owner's actor document.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.federation.fetch import FetchError, Signer, fetch_document
from siarkan.federation.signatures import PublicKey, SignatureError, load_public_key
from siarkan.federation.sqlutil import upsert
from siarkan.federation.vocab import first_id, id_list
from siarkan.store.db import Database
from siarkan.store.tables import remote_actors

log = logging.getLogger(__name__)

# After a signature fails with a cached key, refetch it (the sender may have rotated it), but
# at most once per key in this interval: forged requests must not turn us into a fetch cannon.
REFETCH_INTERVAL = 30.0
MAX_CACHED = 20_000


@dataclass(frozen=True, slots=True)
class RemoteActor:
    uri: str
    inbox: str | None
    shared_inbox: str | None
    key_id: str | None
    public_key_pem: str | None
    also_known_as: tuple[str, ...]
    document: dict[str, Any]

    @property
    def host(self) -> str:
        return urlsplit(self.uri).netloc.lower()


@dataclass(frozen=True, slots=True)
class RemoteKey:
    key_id: str
    owner: str
    public_key: PublicKey
    fetched_at: datetime
    stale: bool = False


# scheme://authority, up to the path: an authority free of what urlsplit treats specially
# (tab/CR/LF it deletes, brackets it validates for IPv6, non-ASCII it checks for NFKC tricks).
_PLAIN_AUTHORITY_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://([^/?#\t\r\n\[\]]*)(?:[/?#]|$)")


def _authority(url: str) -> str:
    """urlsplit(url).netloc, lowercased; the plain case without urlsplit (every inbox request
    asks this twice, and urlsplit cost more than parsing the request's signature)."""
    plain = _PLAIN_AUTHORITY_RE.match(url)
    if plain is not None and plain.group(1).isascii():
        return plain.group(1).lower()
    return urlsplit(url).netloc.lower()


def same_host(a: str, b: str) -> bool:
    return _authority(a) == _authority(b)


def _keys_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    value = document.get("publicKey")
    items = value if isinstance(value, list) else [value]
    return [k for k in items if isinstance(k, dict)]


def key_from_document(document: dict[str, Any], key_id: str) -> tuple[str, str] | None:
    """(owner, PEM) for `key_id` if the document is that key or an actor listing it."""
    if document.get("id") == key_id and isinstance(document.get("publicKeyPem"), str):
        owner = first_id(document.get("owner")) or first_id(document.get("controller"))
        return (owner, document["publicKeyPem"]) if owner else None
    for key in _keys_of(document):
        if key.get("id") == key_id and isinstance(key.get("publicKeyPem"), str):
            owner = first_id(key.get("owner")) or document.get("id")
            if isinstance(owner, str):
                return owner, key["publicKeyPem"]
    return None


def _is_rsa(pem: str) -> bool:
    try:
        return isinstance(load_public_key(pem), RSAPublicKey)
    except SignatureError:
        return False


def parse_actor(document: dict[str, Any], fetched_from: str) -> RemoteActor:
    """An actor document -> RemoteActor; FetchError if it is not one or claims another host."""
    uri = document.get("id")
    if not isinstance(uri, str) or not same_host(uri, fetched_from):
        raise FetchError(f"{fetched_from}: document id is not on the host it came from")
    inbox = document.get("inbox")
    if not isinstance(inbox, str):
        raise FetchError(f"{uri}: not an actor (no inbox)")
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    keys = [k for k in _keys_of(document) if isinstance(k.get("publicKeyPem"), str)]
    # Fedify lists an RSA key (#main-key) and an Ed25519 one (#key-2); HTTP signatures use RSA.
    key = next((k for k in keys if _is_rsa(k["publicKeyPem"])), keys[0] if keys else None)
    return RemoteActor(
        uri=uri,
        inbox=inbox,
        shared_inbox=shared if isinstance(shared, str) else None,
        key_id=key.get("id") if key else None,
        public_key_pem=key.get("publicKeyPem") if key else None,
        also_known_as=tuple(id_list(document.get("alsoKnownAs"))),
        document=document,
    )


class RemoteDirectory:
    """Remote actors and keys for one process; bounded LRU in memory, the table behind it."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        http: Callable[[], aiohttp.ClientSession],
        clock: Clock,
        signer: Signer | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self._http = http
        self.clock = clock
        self.signer = signer
        self._keys: OrderedDict[str, RemoteKey] = OrderedDict()
        self._actors: OrderedDict[str, RemoteActor] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refetched: dict[str, float] = {}

    # --- caches ---------------------------------------------------------------------------

    def _remember_key(self, key: RemoteKey) -> None:
        self._keys[key.key_id] = key
        self._keys.move_to_end(key.key_id)
        while len(self._keys) > MAX_CACHED:
            self._keys.popitem(last=False)

    def _remember_actor(self, actor: RemoteActor) -> None:
        self._actors[actor.uri] = actor
        self._actors.move_to_end(actor.uri)
        while len(self._actors) > MAX_CACHED:
            self._actors.popitem(last=False)

    def cached_key(self, key_id: str, now: datetime | None = None) -> RemoteKey | None:
        """The warm path of every inbox request: no I/O at all (`now`: the request's clock
        reading, when the caller has one)."""
        key = self._keys.get(key_id)
        if key is None:
            return None
        age = ((self.clock.now() if now is None else now) - key.fetched_at).total_seconds()
        if age > self.settings.federation.key_cache_seconds:
            return None
        return key

    def may_refetch(self, key_id: str) -> bool:
        last = self._refetched.get(key_id)
        now = time.monotonic()
        if last is not None and now - last < REFETCH_INTERVAL:
            return False
        self._refetched[key_id] = now
        if len(self._refetched) > MAX_CACHED:
            self._refetched.clear()
        return True

    def forget(self, uri: str) -> None:
        self._actors.pop(uri, None)
        for key_id in [k for k, v in self._keys.items() if v.owner == uri]:
            del self._keys[key_id]

    # --- fetching ----------------------------------------------------------------------------

    async def _fetch(self, url: str) -> tuple[dict[str, Any], str]:
        """Coalesced: concurrent requests signed by one new key cause one fetch."""
        url = url.split("#", 1)[0]
        pending = self._inflight.get(url)
        if pending is not None:
            return await asyncio.shield(pending), url
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            fetched = await fetch_document(
                self._http(), url, self.settings.federation, signer=self.signer
            )
            document = fetched.json()
            future.set_result(document)
            return document, fetched.url
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise their own copy
            raise
        finally:
            del self._inflight[url]

    async def _fetch_actor(self, uri: str) -> RemoteActor:
        document, final_url = await self._fetch(uri)
        actor = parse_actor(document, final_url)
        await self._store(actor)
        self._remember_actor(actor)
        return actor

    async def _store(self, actor: RemoteActor) -> None:
        now = self.clock.now()
        values = {
            "uri": actor.uri,
            "key_id": actor.key_id,
            "public_key_pem": actor.public_key_pem,
            "inbox": actor.inbox,
            "shared_inbox": actor.shared_inbox,
            "document": actor.document,
            "fetched_at": now,
        }
        async with self.db.begin() as conn:
            statement = upsert(
                conn, remote_actors, ["uri"], {k: v for k, v in values.items() if k != "uri"}
            )
            await conn.execute(statement.values(**values))

    async def _load_row(self, column: Any, value: str) -> tuple[RemoteActor, datetime] | None:
        async with self.db.connect() as conn:
            row = (
                (await conn.execute(select(remote_actors).where(column == value)))
                .mappings()
                .first()
            )
        if row is None or row["document"] is None:
            return None
        document = row["document"]
        try:
            actor = parse_actor(document, row["uri"])
        except FetchError:
            return None
        return actor, row["fetched_at"]

    # --- public API -----------------------------------------------------------------------------

    async def actor(self, uri: str, *, fresh: bool = False) -> RemoteActor:
        """The actor at `uri`, from cache when fresh enough; FetchError if unobtainable."""
        if not fresh:
            cached = self._actors.get(uri)
            if cached is not None:
                return cached
            stored = await self._load_row(remote_actors.c.uri, uri)
            max_age = timedelta(seconds=self.settings.federation.key_cache_seconds)
            if stored is not None and self.clock.now() - stored[1] <= max_age:
                self._remember_actor(stored[0])
                return stored[0]
        return await self._fetch_actor(uri)

    async def key(self, key_id: str, *, fresh: bool = False) -> RemoteKey:
        """The public key `key_id` and its owner. Falls back to a stored (stale) key when the
        owner's server cannot be reached: it is still the best evidence we have."""
        if not fresh:
            cached = self.cached_key(key_id)
            if cached is not None:
                return cached
        stored = None if fresh else await self._load_row(remote_actors.c.key_id, key_id)
        max_age = timedelta(seconds=self.settings.federation.key_cache_seconds)
        if stored is not None and self.clock.now() - stored[1] <= max_age:
            return self._key_from_actor(stored[0], key_id, stored[1])
        try:
            return await self._fetch_key(key_id)
        except FetchError:
            if stored is None:
                if not fresh:
                    raise
                stored = await self._load_row(remote_actors.c.key_id, key_id)
                if stored is None:
                    raise
            log.info("using stored key, refresh failed", extra={"key_id": key_id})
            key = self._key_from_actor(stored[0], key_id, stored[1])
            return RemoteKey(key.key_id, key.owner, key.public_key, key.fetched_at, stale=True)

    def _key_from_actor(self, actor: RemoteActor, key_id: str, fetched_at: datetime) -> RemoteKey:
        found = key_from_document(actor.document, key_id)
        if found is None:
            raise FetchError(f"{actor.uri} does not list key {key_id}")
        owner, pem = found
        if owner != actor.uri:
            # A key listed by this actor's document speaks for this actor only: its `owner`
            # field naming another actor (on any host) must not let this document's author
            # sign as that actor.
            raise FetchError(f"{actor.uri} lists key {key_id} as owned by {owner}")
        try:
            public_key = load_public_key(pem)
        except SignatureError as exc:
            raise FetchError(str(exc)) from None
        key = RemoteKey(key_id, owner, public_key, fetched_at)
        self._remember_key(key)
        self._remember_actor(actor)
        return key

    async def _fetch_key(self, key_id: str) -> RemoteKey:
        document, final_url = await self._fetch(key_id)
        found = key_from_document(document, key_id)
        if found is None:
            raise FetchError(f"{key_id}: no such public key in the fetched document")
        owner, _ = found
        if not same_host(owner, key_id) or not same_host(final_url, key_id):
            raise FetchError(f"{key_id}: key and owner are on different hosts")
        # The key must be listed by its owner's actor document, not merely claim the owner.
        # GoToSocial answers its key id (.../main-key) with a stub of the actor: the owner's id
        # and key but no inbox (docs/federation/federating_with_gotosocial.md, "Quirks"), so
        # only a document with an inbox counts as the actor; otherwise fetch the owner.
        if document.get("id") == owner and isinstance(document.get("inbox"), str):
            actor = parse_actor(document, final_url)
            await self._store(actor)
        else:
            actor = await self._fetch_actor(owner)
        return self._key_from_actor(actor, key_id, self.clock.now())

    async def remove(self, uri: str) -> None:
        """Forget a deleted actor everywhere."""
        self.forget(uri)
        async with self.db.begin() as conn:
            await conn.execute(delete(remote_actors).where(remote_actors.c.uri == uri))


async def known_actor(conn: AsyncConnection, uri: str) -> bool:
    row = await conn.scalar(select(remote_actors.c.uri).where(remote_actors.c.uri == uri))
    return row is not None


SignerFactory = Callable[[], Awaitable[Signer | None]]
