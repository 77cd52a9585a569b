"""Delivering one activity to one inbox: signed per request, double-knock, follower sync.

    claimed rows | prepare  (activity bodies, signing keys, follower digests: one query each,
                             cached across batches)
                 | send     (sign with the host's remembered scheme or federation.first_knock,
                             POST; a 401 re-signs with the other scheme at once)
                 -> Sent(result, scheme that worked)
    finished tries | settle (410 Gone: the follower rows behind that inbox are removed)

The activity is serialised once (activities.body) and only the headers differ per inbox: the
Signature covers Host and Date, so it cannot be shared between requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import instance_user_agent, urls
from siarkan.config import Settings
from siarkan.distribution.client import DeliveryClient, DeliveryError, UnusableTarget
from siarkan.distribution.lifecycle import (
    Effect,
    Failure,
    Kind,
    Obsolete,
    Refused,
    Response,
    knock_again,
)
from siarkan.distribution.queue import Claimed, Done, skip_target
from siarkan.distribution.sending import MAX_RESPONSE, Sent
from siarkan.federation.keys import SigningKey, load_signing_key
from siarkan.federation.signatures import sign_cavage, sign_rfc9421
from siarkan.store.tables import activities, actors, followers

log = logging.getLogger(__name__)

ACTIVITY_JSON = "application/activity+json"
BODY_CACHE = 256  # activities kept in memory; a fan-out uses one


def follower_sync_digest(follower_ids: Sequence[str]) -> str:
    """FEP-8fcf partial collection digest: XOR of SHA-256(id) over the ids, as hex."""
    acc = bytes(32)
    for follower_id in follower_ids:
        digest = hashlib.sha256(follower_id.encode("utf-8")).digest()
        acc = bytes(a ^ b for a, b in zip(acc, digest, strict=True))
    return acc.hex()


def collection_synchronization(settings: Settings, actor: str, domain: str, digest: str) -> str:
    """FEP-8fcf header value (the HTTP Signatures parameter syntax, as Mastodon sends it)."""
    collection = urls.actor_followers_url(settings, actor)
    partial = urls.followers_sync_url(settings, actor, domain)
    return f'collectionId="{collection}", url="{partial}", digest="{digest}"'


def authority(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class ActivityPubSender:
    """The `activitypub` kind: POST a signed activity to an inbox."""

    kind = Kind.ACTIVITYPUB

    def __init__(
        self,
        settings: Settings,
        sign_pool: Executor | None = None,
        client: DeliveryClient | None = None,
    ) -> None:
        self.settings = settings
        self.sign_pool = sign_pool
        self.client = client or DeliveryClient(
            connect_timeout=settings.delivery.connect_timeout,
            read_timeout=settings.delivery.read_timeout,
            user_agent=instance_user_agent(settings.site.base_url),
            allow_private=settings.federation.allow_private_addresses,
            max_body=MAX_RESPONSE,
        )
        self._bodies: OrderedDict[int, bytes] = OrderedDict()
        self._keys: dict[str, tuple[SigningKey, datetime]] = {}  # by key_created_at
        self._sync: dict[int, str] = {}  # delivery id -> Collection-Synchronization
        self._schemes: dict[str, str] = {}  # host -> scheme that worked

    # --- batch loading ------------------------------------------------------------------------

    async def prepare(
        self, conn: AsyncConnection, rows: Sequence[Claimed], schemes: Mapping[str, str]
    ) -> None:
        self._schemes.update(schemes)
        wanted = {r.activity_id for r in rows if r.activity_id is not None} - self._bodies.keys()
        if wanted:
            result = await conn.execute(
                select(activities.c.id, activities.c.body).where(activities.c.id.in_(wanted))
            )
            for activity_id, body in result.all():
                self._bodies[activity_id] = body.encode("utf-8")
            while len(self._bodies) > BODY_CACHE:
                self._bodies.popitem(last=False)
        names = {r.actor_name for r in rows if r.actor_name}
        if names:
            # One indexed read per batch tells which keys changed: after `siarkan keys rotate`
            # the next batch signs with the new key (a cache by age kept signing with the old
            # one, refused by receivers that had fetched the new one, for up to a minute).
            generations = dict(
                (
                    await conn.execute(
                        select(actors.c.name, actors.c.key_created_at).where(
                            actors.c.name.in_(names)
                        )
                    )
                ).all()
            )
            for actor in names:
                generation = generations.get(actor)
                cached = self._keys.get(actor)
                if generation is None:
                    self._keys.pop(actor, None)
                elif cached is None or cached[1] != generation:
                    self._keys[actor] = (await load_signing_key(conn, actor), generation)
        await self._prepare_sync(conn, [r for r in rows if r.shared and r.actor_name])

    async def _prepare_sync(self, conn: AsyncConnection, rows: Sequence[Claimed]) -> None:
        """One query per actor for the follower digests of every shared inbox in the batch."""
        by_actor: dict[str, list[Claimed]] = {}
        for row in rows:
            by_actor.setdefault(row.actor_name or "", []).append(row)
        for actor, items in by_actor.items():
            hosts = {urlsplit(r.target).netloc.lower() for r in items}
            result = await conn.execute(
                select(followers.c.follower_uri).where(
                    followers.c.actor_name == actor,
                    followers.c.state == "accepted",
                    followers.c.host.in_(hosts),
                )
            )
            by_authority: dict[str, list[str]] = {}
            for (uri,) in result.all():
                by_authority.setdefault(authority(uri), []).append(uri)
            for row in items:
                where = authority(row.target)
                digest = follower_sync_digest(by_authority.get(where, []))
                domain = urlsplit(row.target).netloc.lower()
                self._sync[row.id] = collection_synchronization(
                    self.settings, actor, domain, digest
                )

    # --- one request --------------------------------------------------------------------------

    def _sign(
        self, scheme: str, url: str, headers: dict[str, str], body: bytes, key: SigningKey,
        now: datetime,
    ) -> dict[str, str]:  # fmt: skip
        signer = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
        return signer("POST", url, headers, body, key.key_id, key.private_key, now)

    async def send(self, row: Claimed, now: datetime) -> Sent:
        sync = self._sync.pop(row.id, None)
        body = self._bodies.get(row.activity_id) if row.activity_id is not None else None
        if body is None:
            return Sent(Obsolete("the activity no longer exists"))
        cached = self._keys.get(row.actor_name or "")
        if cached is None:
            return Sent(Obsolete(f"no signing key for actor {row.actor_name!r}"))
        key = cached[0]
        base = {"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON}
        if sync is not None:
            base["Collection-Synchronization"] = sync
        scheme = self._schemes.get(row.host) or self.settings.federation.first_knock
        tried: tuple[str, ...] = ()
        while True:
            tried = (*tried, scheme)
            if self.sign_pool is not None:
                # RSA signing releases the GIL (cryptography): on a multi-core host the loop
                # keeps sending while another core signs.
                signed = await asyncio.get_running_loop().run_in_executor(
                    self.sign_pool, self._sign, scheme, row.target, base, body, key, now
                )
            else:
                signed = self._sign(scheme, row.target, base, body, key, now)
            try:
                answer = await self.client.post(row.target, base | signed, body)
            except UnusableTarget as exc:  # private address, or a URL nothing can be sent to
                return Sent(Refused(str(exc), answered=False))
            except DeliveryError as exc:
                return Sent(Failure(str(exc)[:500]))
            status, retry_after = answer.status, answer.retry_after
            again = knock_again(status, tried)
            if again is None:
                worked = scheme if 200 <= status < 300 and len(tried) > 1 else None
                if worked:
                    self._schemes[row.host] = worked
                return Sent(Response(status, retry_after), scheme=worked)
            scheme = again

    async def close(self) -> None:
        await self.client.close()

    # --- effects ------------------------------------------------------------------------------

    async def settle(self, conn: AsyncConnection, done: Sequence[Done], now: datetime) -> None:
        for item in done:
            if Effect.REMOVE_TARGET not in item.outcome.effects:
                continue
            row = item.row
            # 410 Gone from an inbox: the account (or, from a shared inbox, the server) is gone.
            # Mastodon does the same when a remote account is deleted.
            removed = await conn.execute(
                delete(followers).where(
                    followers.c.actor_name == row.actor_name,
                    or_(followers.c.inbox == row.target, followers.c.shared_inbox == row.target),
                )
            )
            skipped = await skip_target(conn, row.kind, row.target, "410 Gone earlier")
            log.info(
                "inbox gone: followers removed",
                extra={
                    "delivery_id": row.id,
                    "inbox": row.target,
                    "actor": row.actor_name,
                    "followers_removed": removed.rowcount,
                    "deliveries_skipped": skipped,
                },
            )
