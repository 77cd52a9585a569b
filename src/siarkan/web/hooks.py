"""Webhooks from CMSs that cannot send our bearer token.

    POST /api/hooks/ghost      Ghost's post.published, post.published.edited,
                               post.unpublished, post.deleted (also post.scheduled ...)
        | admin.ghost_secret set (403) | size bound, JSON media type (413, 415)
        | X-Ghost-Signature checked against the raw body (401: missing, forged or stale)
        | JSON (400) | signature claimed in signatures_seen (a replay: 200 "duplicate")
        | admin.accept_payload (the same path as POST /api/articles); the claim is released
          if that does not answer 2xx

Ghost signs `body + timestamp` with HMAC-SHA256 and sends
`X-Ghost-Signature: sha256=<hex>, t=<milliseconds since the epoch>` when the webhook has a
secret (Ghost ghost/core/core/server/services/webhooks/WebhookTrigger.js). It treats any non-2xx
answer as a failure and retries; a 410 makes it delete the webhook, so nothing here answers 410.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

from aiohttp import web

from siarkan.store import replays
from siarkan.web.admin import Refused, accept_payload, answer, decode_json, problem, read_body
from siarkan.web.admin_shapes import Duplicate
from siarkan.web.keys import CLOCK, DB, SETTINGS
from siarkan.web.security import same_secret

log = logging.getLogger("siarkan.hooks")
routes = web.RouteTableDef()

GHOST_SIGNATURE = "X-Ghost-Signature"


def _signature_fields(header: str) -> tuple[str, str]:
    """(sha256, t) of an X-Ghost-Signature header; empty strings for missing fields."""
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields[name.strip().lower()] = value.strip()
    return fields.get("sha256", ""), fields.get("t", "")


def ghost_replay_key(header: str) -> str:
    """The replay key of a verified X-Ghost-Signature: the HMAC alone, as it was checked (hex
    in any case), so that a replay cannot pass as new by respelling the header (`T=` first,
    upper-case hex, other spaces)."""
    signature, _ = _signature_fields(header)
    return replays.signature_digest("ghost", signature.lower())


def ghost_signature_problem(
    header: str | None, body: bytes, secret: str, *, now: datetime, max_age: int
) -> str | None:
    """None when `header` is Ghost's signature of `body` made within max_age seconds of now;
    otherwise why not (for the 401's detail)."""
    if not header:
        return f"missing {GHOST_SIGNATURE}: give the Ghost webhook the secret in admin.ghost_secret"
    signature, stamp = _signature_fields(header)
    if not signature or not (stamp.isascii() and stamp.isdigit()):  # "²" is a digit to isdigit
        return f"{GHOST_SIGNATURE} is not of the form sha256=<hex>, t=<milliseconds>"
    expected = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    if not same_secret(signature.lower(), expected):
        return f"{GHOST_SIGNATURE} does not match the body signed with admin.ghost_secret"
    age = abs(now.timestamp() * 1000 - int(stamp)) / 1000
    if age > max_age:
        return f"{GHOST_SIGNATURE} was made {age:.0f} s away from now (at most {max_age} s)"
    return None


# How long a claim holds before the request is applied. Applying a payload is local database
# work, done in well under a second; a claim still unconfirmed after this was left by a
# process that died mid-way, and Ghost's retry of those bytes (it retries a failed or
# timed-out request within seconds) takes it over instead of being told "duplicate".
CLAIM_LEASE = timedelta(seconds=30)


@routes.post("/api/hooks/ghost")
async def ghost_hook(request: web.Request) -> web.Response:
    admin = request.app[SETTINGS].admin
    if admin.ghost_secret is None:
        return problem(403, "Ghost webhook disabled", "set admin.ghost_secret in the config")
    try:
        raw = await read_body(request)
    except Refused as refused:
        return refused.response
    reason = ghost_signature_problem(
        request.headers.get(GHOST_SIGNATURE),
        raw,
        admin.ghost_secret.get_secret_value(),
        now=request.app[CLOCK].now(),
        max_age=admin.ghost_max_age,
    )
    if reason is not None:
        log.warning("Ghost webhook refused", extra={"reason": reason})
        return problem(401, "Unauthorized", reason)
    try:
        data = decode_json(raw)
    except Refused as refused:
        return refused.response
    # The same signature again: Ghost retrying the very same request (it signs once and its
    # HTTP client retries a timed-out attempt), or someone playing a captured one back (an old
    # post.published after post.deleted would publish the post again). Either way it has been
    # applied, or is being applied: 200, and nothing is done twice. Never 410: Ghost deletes a
    # webhook on 410. Claimed in the database, not in memory: several nodes share the work, and
    # a replay sent to another node, or after a restart, must be recognised too.
    digest = ghost_replay_key(request.headers.get(GHOST_SIGNATURE) or "")
    db = request.app[DB]
    async with db.begin() as conn:
        fresh = await replays.claim(conn, digest, now=request.app[CLOCK].now(), lease=CLAIM_LEASE)
    if not fresh:
        return answer(Duplicate(status="duplicate", detail="already applied"))
    applied = False
    try:
        response = await accept_payload(request, data)
        applied = response.status < 300
    finally:
        async with db.begin() as conn:
            if applied:
                # A signature is accepted max_age either side of its timestamp: kept
                # 2 * max_age from now, it outlives every moment it could be accepted again.
                window = timedelta(seconds=2 * admin.ghost_max_age)
                await replays.confirm(conn, digest, now=request.app[CLOCK].now(), window=window)
            else:  # refused or failed: Ghost's retry of these bytes must be applied
                await replays.release(conn, digest)
    return response
