"""The inbox: verify a signed POST, then let its type's handler act, once per activity id.

    InboxRequest | size (413) | parse signature (401) | blocked domain (403)
        | coverage + Date/created window + (Content-)Digest (401) | JSON (400)
        | signer key: memory -> table -> fetch; refetched once on failure (rotation) (401)
        | key owner == activity actor (401), unless forwarded with an LD signature (202, ignored)
        | HANDLERS[type] -> effects  (remote fetches happen here, outside any transaction)
        | InboxWriter: inbox_seen + effects of many requests in one transaction -> 202

401 for anything we cannot verify, never 5xx: Fedify re-signs ("double-knocks") on any answer
>= 400 and treats 2xx as delivered, so a 5xx would only make it retry the same bad request.
"""

from __future__ import annotations

import codecs
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, select

from siarkan import urls
from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.federation.audience import domain_blocked
from siarkan.federation.fetch import FetchError
from siarkan.federation.handlers import (
    HANDLERS,
    InboxContext,
    Refused,
)
from siarkan.federation.keys import fediverse_channels
from siarkan.federation.remote import RemoteDirectory, RemoteKey, same_host
from siarkan.federation.signatures import (
    RequestView,
    SignatureError,
    SignedRequest,
    check_signed_request,
    parse_signed_request,
    verify_signature,
)
from siarkan.federation.vocab import first_id
from siarkan.federation.writer import InboxWriter
from siarkan.metrics import Metrics
from siarkan.replays import ReplayGuard
from siarkan.store.db import Database
from siarkan.store.tables import followers, interactions, remote_actors

log = logging.getLogger(__name__)


@dataclass(slots=True)
class InboxRequest:
    method: str
    target_uri: str  # absolute, as the sender addressed it
    headers: dict[str, str]  # signatures.header_map
    body: bytes
    inbox_actor: str | None = None  # channel name of a personal inbox
    path_qs: str | None = None  # raw path + query, if the server has it at hand


@dataclass(frozen=True, slots=True)
class Verdict:
    status: int
    reason: str

    @property
    def accepted(self) -> bool:
        return self.status == 202


ACCEPTED = Verdict(202, "accepted")


# --- the inbox ------------------------------------------------------------------------------------


class Inbox:
    """One per process: verifies and dispatches; state is only caches and the writer."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        remote: RemoteDirectory,
        clock: Clock,
        metrics: Metrics,
        writer: InboxWriter | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.remote = remote
        self.clock = clock
        self.metrics = metrics
        self.writer = writer or InboxWriter(db.engine)
        self.local_actors = {
            urls.actor_url(settings, channel.name): channel.name
            for channel in fediverse_channels(settings)
        }
        self.replays = ReplayGuard(settings.federation.signature_window * 2)
        self._hosts = _our_hosts(settings.site.base_url)
        self._site_host = settings.site.host
        self._verified = metrics.inbox_verifications
        self._verified_ok = metrics.inbox_verifications.labels(result="ok")
        self._forwarded = metrics.inbox_verifications.labels(result="forwarded_ignored")
        self._activities = metrics.inbox_activities
        self._by_type: dict[str, Any] = {}

    def _refuse(self, status: int, reason: str) -> Verdict:
        self._verified.labels(result=f"refused_{status}").inc()
        log.info("inbox refused", extra={"status": status, "reason": reason})
        return Verdict(status, reason)

    async def receive(self, request: InboxRequest) -> Verdict:
        settings = self.settings.federation
        if len(request.body) > settings.max_inbox_bytes:
            return self._refuse(413, "body too large")
        host = request.headers.get("host")
        if host is not None and host.lower() not in self._hosts:
            # Signed for another server (its Host, its @authority): played back here within
            # the signature window, it must not count as sent to us.
            # Named in full: the usual cause is our own proxy rewriting Host (nginx's $host
            # drops a non-default port; without proxy_set_header it sends the upstream's name).
            return self._refuse(
                401,
                f"the request is addressed to another host (Host: {host[:200]}; this site is"
                f" {self._site_host})",
            )
        view = RequestView(request.method, request.target_uri, request.headers, request.path_qs)
        try:
            signed = parse_signed_request(view)
        except SignatureError as exc:
            return self._refuse(401, str(exc))
        blocked = settings.blocked_domains
        if blocked and domain_blocked(signed.key_id, blocked):
            return self._refuse(403, "blocked domain")
        now = self.clock.now()
        timestamp = now.timestamp()
        if self.replays.seen(signed.signature, timestamp):
            return self._refuse(401, "replayed signature")
        try:
            check_signed_request(
                signed, view, request.body, now=now, window=settings.signature_window
            )
        except SignatureError as exc:
            return self._refuse(401, str(exc))
        try:
            # RFC 8259: JSON on the wire is UTF-8 (a BOM may be ignored). Decoding here skips
            # json's encoding sniffing; "utf-8-sig" would go through a Python-level codec.
            body = request.body
            activity = json.loads((body[3:] if body[:3] == codecs.BOM_UTF8 else body).decode())
        except (ValueError, UnicodeDecodeError):
            return self._refuse(400, "body is not JSON")
        except RecursionError:  # json recurses once per [ or {: ~1,000 levels fit in 1 MB
            return self._refuse(400, "body is nested too deeply")
        if not isinstance(activity, dict):
            return self._refuse(400, "body is not a JSON object")
        actor = first_id(activity.get("actor"))
        activity_id = activity.get("id")
        kind = activity.get("type")
        if not isinstance(actor, str) or not isinstance(kind, str):
            return self._refuse(400, "activity without actor or type")
        if blocked and domain_blocked(actor, blocked):
            return self._refuse(403, "blocked domain")

        key = self.remote.cached_key(signed.key_id, now)
        if key is None and _self_delete(activity, actor) and not await self._known(actor):
            # Mastodon sends an account's Delete to every inbox it knows, signed with a key it no
            # longer serves. Of an actor we know nothing of there is nothing to forget: 202, as
            # Mastodon answers (InboxesController#skip_unknown_actor_activity), with no fetch;
            # a 401 would only have it retry for days.
            return ACCEPTED
        try:
            if key is None:
                key = await self.remote.key(signed.key_id)
            if not verify_signature(key.public_key, signed):
                key = await self._refetched_key(signed)
        except FetchError as exc:
            if await self._actor_gone(activity, actor, signed, exc):
                key = None
            else:
                return self._refuse(401, f"signer key unavailable: {exc}")
        except SignatureError as exc:
            return self._refuse(401, str(exc))
        if key is not None and key.owner != actor:
            if not isinstance(activity.get("signature"), dict):
                return self._refuse(401, "the key's owner is not the activity's actor")
            # Forwarded: Mastodon forwards replies (and their Deletes) to the replied-to
            # account's followers, HTTP-signed by the forwarding actor and carrying the author's
            # LD signature (RsaSignature2017). Its own inbox answers 202 once the HTTP signature
            # verifies, and ignores the activity unless the LD signature verifies
            # (app/services/activitypub/process_collection_service.rb, verify_account!). A 401
            # is retried for days: app/workers/activitypub/delivery_worker.rb gives up only on
            # 4xx other than 401/408/429 (JsonLdHelper#response_error_unsalvageable?).
            # LD signatures are not verified here: that needs JSON-LD canonicalisation
            # (URDNA2015) with remote @context documents. So: ignored, no effect, and no
            # inbox_seen row, so the author's own delivery of this id is still processed.
            self.replays.remember(signed.signature, timestamp)
            self._forwarded.inc()
            log.info(
                "inbox ignored a forwarded activity",
                extra={"signer": key.owner, "actor": actor, "activity_id": activity_id},
            )
            return ACCEPTED
        self.replays.remember(signed.signature, timestamp)
        self._verified_ok.inc()

        handler = HANDLERS.get(kind)
        if handler is None or not isinstance(activity_id, str):
            # Unknown types (and id-less transient activities) are accepted and ignored.
            return ACCEPTED
        if not same_host(activity_id, actor):
            # Activity ids are deduplicated across all senders (inbox_seen, interactions): an id
            # on another server's host would let one sender claim another's future activity
            # ids (Mastodon's are guessable: `#likes/123`, `#follows/123/undo`, `#delete`) and
            # have the real one dropped as a duplicate. Accepted and ignored.
            return ACCEPTED
        context = InboxContext(
            settings=self.settings,
            remote=self.remote,
            now=now,
            signer=actor,
            local_actors=self.local_actors,
            inbox_actor=request.inbox_actor,
        )
        try:
            effects = await handler(context, activity)
        except Refused as exc:
            return self._refuse(exc.status, str(exc))
        seen = {
            "activity_id": activity_id,
            "type": kind[:50],
            "actor_uri": actor,
            "received_at": now,
        }
        await self.writer.submit(seen, effects)
        counter = self._by_type.get(kind)
        if counter is None:
            counter = self._by_type[kind] = self._activities.labels(type=kind[:50])
        counter.inc()
        return ACCEPTED

    async def _refetched_key(self, signed: SignedRequest) -> RemoteKey:
        """The signature failed with the key we had: it may have been rotated, so fetch it
        again, once (rate-limited)."""
        if self.remote.may_refetch(signed.key_id):
            fresh = await self.remote.key(signed.key_id, fresh=True)
            if verify_signature(fresh.public_key, signed):
                return fresh
        raise SignatureError("the signature does not verify with the signer's key")

    async def _actor_gone(
        self, activity: dict[str, Any], actor: str, signed: SignedRequest, error: FetchError
    ) -> bool:
        """Mastodon signs Delete(actor) with a key it no longer serves (410 Gone).

        Such a Delete cannot be verified. It is still honoured when (1) it deletes the signer
        itself, (2) the key id belongs to that actor's document, (3) we know the actor, and (4)
        the actor's own URL now answers 410 or 404 — checked by us, so a forger gains nothing:
        the actor really is gone, and all we do is forget it.
        """
        if not _self_delete(activity, actor):
            return False
        if error.status not in (404, 410) or signed.key_id.split("#", 1)[0] != actor:
            return False
        if not await self._known(actor):
            return False
        try:
            await self.remote.actor(actor, fresh=True)
        except FetchError as exc:
            return exc.status in (404, 410)
        return False

    async def _known(self, actor: str) -> bool:
        """Is anything of `actor` stored? Its remote_actors row expires after key_cache_seconds
        (housekeeping), so a replier who is not a follower is known by its interactions."""
        async with self.db.connect() as conn:
            known = await conn.scalar(
                select(
                    exists().where(followers.c.follower_uri == actor)
                    | exists().where(remote_actors.c.uri == actor)
                    | exists().where(interactions.c.actor_uri == actor)
                )
            )
        return bool(known)

    async def close(self) -> None:
        await self.writer.close()


def _our_hosts(base_url: str) -> frozenset[str]:
    """Our Host header, with and without the scheme's default port."""
    parts = urlsplit(base_url)
    netloc = parts.netloc.lower()  # an IPv6 host keeps its brackets here, as in Host
    default = 443 if parts.scheme == "https" else 80
    if parts.port is None:
        return frozenset({netloc, f"{netloc}:{default}"})
    if parts.port == default:
        return frozenset({netloc, netloc.rsplit(":", 1)[0]})
    return frozenset({netloc})


def _self_delete(activity: dict[str, Any], actor: str) -> bool:
    return activity.get("type") == "Delete" and first_id(activity.get("object")) == actor
