"""Sending the hub's messages: intent verification, content distribution, external-hub pings.

    websub_verify | GET callback?hub.mode&hub.topic&hub.challenge&hub.lease_seconds
                  | (&hub.verify_token, if the subscriber sent one: PubSubHubbub 0.3)
                  | 2xx + the challenge echoed -> verified (W3C WebSub §5.3) | settle
    websub        | render the topic now (feeds package) | POST body + Link hub/self
                  | X-Hub-Signature: sha256=HMAC(secret, body) (§7, §8) | settle (410 ends it)
    websub_ping   | POST hub.mode=publish&hub.url=<topic> to settings.websub.external_hub

All three go through the same queue, lifecycle and breaker as ActivityPub deliveries.
A callback is anyone's URL: verification and distribution resolve its host themselves, refuse
loopback / private / link-local / metadata addresses (the rule of federation/fetch.py, lifted by
`federation.allow_private_addresses` for tests) and connect to the address they checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict
from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.distribution.lifecycle import (
    Effect,
    Failure,
    Kind,
    Obsolete,
    Refused,
    Response,
    State,
)
from siarkan.distribution.queue import Claimed, Done
from siarkan.distribution.sending import MAX_RESPONSE, Sent, describe_error, request_timeout
from siarkan.distribution.topics import RenderTopic, Topic, TopicBody, parse_topic
from siarkan.distribution.websub import end_subscription, settle_verification
from siarkan.federation.fetch import AddressNotAllowed, FetchError, UnusableURL, open_pinned
from siarkan.feeds.cache import Rendered
from siarkan.feeds.service import FeedService
from siarkan.store.db import Database
from siarkan.store.tables import websub_subscriptions
from siarkan.urls import websub_hub_url


def hub_signature(secret: str, body: bytes) -> str:
    """`X-Hub-Signature: sha256=<hex>` (WebSub §8: sha1, sha256, sha384 or sha512)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verification_url(callback: str, params: Mapping[str, str]) -> str:
    """The callback with the hub.* query appended, keeping the subscriber's own query (§5.3)."""
    parts = urlsplit(callback)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def challenge_echoed(body: bytes, challenge: str) -> bool:
    return body.strip() == challenge.encode("ascii")


class FeedRenderer:
    """Topic -> its current document, from the feeds package (the same bytes GET would return)."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.service = FeedService(settings, db, clock)

    def refresh(self) -> None:
        # A notification is queued in the transaction that changed the feed: never answer it
        # from a change key read before that commit.
        self.service.cache.invalidate()

    async def __call__(self, topic: Topic) -> TopicBody | None:
        kind, _, slug = topic.scope.partition("/")
        spec = await self.service.spec(topic.channel, kind or None, slug)
        if spec is None:
            return None
        entry = await self.service.document(spec, None, topic.fmt)
        if not isinstance(entry, Rendered):
            return None
        return TopicBody(entry.body, entry.content_type)


async def _subscriptions(conn: AsyncConnection, rows: Sequence[Claimed]) -> dict[int, RowMapping]:
    ids = {r.subscription_id for r in rows if r.subscription_id is not None}
    if not ids:
        return {}
    result = await conn.execute(
        select(websub_subscriptions).where(websub_subscriptions.c.id.in_(ids))
    )
    return {row["id"]: row for row in result.mappings()}


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    retry_after: str | None


class _Base:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session
        self.timeout = request_timeout(settings.delivery)

    async def close(self) -> None:
        """The session belongs to the process (web/app.py), not to the sender."""

    async def _request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        limits: aiohttp.ClientTimeout,
    ) -> _Answer | Refused | Failure:
        """One request to a subscriber's URL, only to an address the SSRF rule allows."""
        try:
            async with open_pinned(
                self.session,
                method,
                url,
                allow_private=self.settings.federation.allow_private_addresses,
                headers=headers,
                data=body,
                limits=limits,
            ) as response:
                content = await response.content.read(MAX_RESPONSE)
                return _Answer(response.status, content, response.headers.get("Retry-After"))
        except (AddressNotAllowed, UnusableURL) as exc:  # never to be sent: refused, at once
            return Refused(str(exc), answered=False)
        except FetchError as exc:  # DNS trouble, nothing answering: may pass
            return Failure(str(exc)[:500])
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Failure(describe_error(exc))


class VerifySender(_Base):
    kind = Kind.WEBSUB_VERIFY

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        super().__init__(settings, session)
        self.timeout = aiohttp.ClientTimeout(
            total=settings.websub.verify_timeout, connect=settings.delivery.connect_timeout
        )
        self._subs: dict[int, RowMapping] = {}

    async def prepare(
        self, conn: AsyncConnection, rows: Sequence[Claimed], schemes: Mapping[str, str]
    ) -> None:
        self._subs.update(await _subscriptions(conn, rows))

    async def send(self, row: Claimed, now: datetime) -> Sent:
        sub = self._subs.pop(row.subscription_id or 0, None)
        if sub is None or sub["pending_mode"] is None:
            return Sent(Obsolete("no request waiting for verification"))
        mode = sub["pending_mode"]
        challenge = secrets.token_urlsafe(24)
        params = {"hub.mode": mode, "hub.topic": sub["topic"], "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(sub["pending_lease_seconds"])
        if sub["pending_verify_token"]:
            params["hub.verify_token"] = sub["pending_verify_token"]
        detail: dict[str, Any] = {
            "mode": mode,
            "lease_seconds": sub["pending_lease_seconds"],
            "secret": sub["pending_secret"],
            "verify_token": sub["pending_verify_token"],
        }
        answer = await self._request(
            "GET", verification_url(sub["callback"], params), limits=self.timeout
        )
        if not isinstance(answer, _Answer):
            return Sent(answer, detail=detail)
        body, status, retry_after = answer.body, answer.status, answer.retry_after
        if 200 <= status < 300 and not challenge_echoed(body, challenge):
            return Sent(Refused("the callback did not echo hub.challenge"), detail=detail)
        if 400 <= status < 500:
            # §5.3: any answer but 2xx + echo means the subscriber did not ask for this.
            return Sent(Refused(f"the callback answered HTTP {status}"), detail=detail)
        return Sent(Response(status, retry_after), detail=detail)

    async def settle(self, conn: AsyncConnection, done: Sequence[Done], now: datetime) -> None:
        for item in done:
            if item.row.subscription_id is None or not item.outcome.final:
                continue
            if item.outcome.state is State.SENT:
                await settle_verification(conn, item.row.subscription_id, item.detail, now)
            elif item.outcome.state is State.DEAD:
                await settle_verification(conn, item.row.subscription_id, None, now)


class NotifySender(_Base):
    """The `websub` kind: the topic's current content to one subscriber."""

    kind = Kind.WEBSUB

    def __init__(
        self, settings: Settings, session: aiohttp.ClientSession, render: RenderTopic
    ) -> None:
        super().__init__(settings, session)
        self.render = render
        self._subs: dict[int, RowMapping] = {}
        self._bodies: dict[str, TopicBody | None] = {}

    async def prepare(
        self, conn: AsyncConnection, rows: Sequence[Claimed], schemes: Mapping[str, str]
    ) -> None:
        subs = await _subscriptions(conn, rows)
        self._subs.update(subs)
        refresh = getattr(self.render, "refresh", None)
        if refresh is not None:
            refresh()
        # Rendered once per topic and batch; a later batch renders again (content may change).
        self._bodies = {}
        for url in {row["topic"] for row in subs.values()}:
            topic = parse_topic(self.settings, url)
            self._bodies[url] = await self.render(topic) if topic is not None else None

    async def send(self, row: Claimed, now: datetime) -> Sent:
        sub = self._subs.pop(row.subscription_id or 0, None)
        if sub is None or sub["state"] != "active":
            return Sent(Obsolete("the subscription is no longer active"))
        if sub["expires_at"] is not None and sub["expires_at"] <= now:
            return Sent(Obsolete("the subscription's lease has ended"))
        content = self._bodies.get(sub["topic"])
        if content is None:
            return Sent(Obsolete("the topic is no longer served"))
        digest = hashlib.sha256(content.body).hexdigest()
        if sub["sent_digest"] == digest:
            # A change that left this document as it was (an edit on an archive page, a
            # re-save): the subscriber has these bytes already.
            return Sent(Obsolete("the subscriber has this content already"))
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = content.content_type
        # §7: the hub MUST send these Link headers with the content distribution request.
        headers.add("Link", f'<{websub_hub_url(self.settings)}>; rel="hub"')
        headers.add("Link", f'<{sub["topic"]}>; rel="self"')
        if sub["secret"]:
            headers["X-Hub-Signature"] = hub_signature(sub["secret"], content.body)
        sent = await self._post(row.target, content.body, headers)
        return replace(sent, detail={"digest": digest})

    async def _post(self, url: str, body: bytes, headers: CIMultiDict[str]) -> Sent:
        answer = await self._request("POST", url, headers=headers, body=body, limits=self.timeout)
        if not isinstance(answer, _Answer):
            return Sent(answer)
        return Sent(Response(answer.status, answer.retry_after))

    async def settle(self, conn: AsyncConnection, done: Sequence[Done], now: datetime) -> None:
        for item in done:
            if Effect.REMOVE_TARGET in item.outcome.effects and item.row.subscription_id:
                await end_subscription(conn, item.row.subscription_id, "gone")
            elif item.outcome.state is State.SENT and item.detail and item.row.subscription_id:
                await conn.execute(
                    update(websub_subscriptions)
                    .where(websub_subscriptions.c.id == item.row.subscription_id)
                    .values(sent_digest=item.detail["digest"])
                )


class PingSender(NotifySender):
    """The `websub_ping` kind: tell an external hub that a topic changed."""

    kind = Kind.WEBSUB_PING

    async def prepare(
        self, conn: AsyncConnection, rows: Sequence[Claimed], schemes: Mapping[str, str]
    ) -> None:
        return None

    async def send(self, row: Claimed, now: datetime) -> Sent:
        if not row.topic:
            return Sent(Obsolete("no topic"))
        body = urlencode({"hub.mode": "publish", "hub.url": row.topic}).encode("ascii")
        headers: CIMultiDict[str] = CIMultiDict(
            {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return await self._post(row.target, body, headers)

    async def _post(self, url: str, body: bytes, headers: CIMultiDict[str]) -> Sent:
        # The operator's own hub (settings.websub.external_hub), which may be on their network.
        try:
            async with self.session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=self.timeout
            ) as response:
                await response.content.read(MAX_RESPONSE)
                return Sent(Response(response.status, response.headers.get("Retry-After")))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Sent(Failure(describe_error(exc)))

    async def settle(self, conn: AsyncConnection, done: Sequence[Done], now: datetime) -> None:
        return None
