"""Webhooks from CMSs that cannot send our bearer token.

    POST /api/hooks/ghost      Ghost's post.published, post.published.edited,
                               post.unpublished, post.deleted (also post.scheduled ...)
        | admin.ghost_secret set (403) | size bound, JSON media type (413, 415)
        | X-Ghost-Signature checked against the raw body (401: missing, forged or stale)
        | JSON (400) | admin.accept_payload (the same path as POST /api/articles)

Ghost signs `body + timestamp` with HMAC-SHA256 and sends
`X-Ghost-Signature: sha256=<hex>, t=<milliseconds since the epoch>` when the webhook has a
secret (Ghost ghost/core/core/server/services/webhooks/WebhookTrigger.js). It treats any non-2xx
answer as a failure and retries; a 410 makes it delete the webhook, so nothing here answers 410.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from siarkan.replays import ReplayGuard
from siarkan.web.admin import Refused, accept_payload, decode_json, problem, read_body
from siarkan.web.keys import CLOCK, SETTINGS
from siarkan.web.security import same_secret

log = logging.getLogger("siarkan.hooks")
routes = web.RouteTableDef()
GHOST_REPLAYS = web.AppKey("ghost_replays", ReplayGuard)

GHOST_SIGNATURE = "X-Ghost-Signature"


def ghost_signature_problem(
    header: str | None, body: bytes, secret: str, *, now: datetime, max_age: int
) -> str | None:
    """None when `header` is Ghost's signature of `body` made within max_age seconds of now;
    otherwise why not (for the 401's detail)."""
    if not header:
        return f"missing {GHOST_SIGNATURE}: give the Ghost webhook the secret in admin.ghost_secret"
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields[name.strip().lower()] = value.strip()
    signature, stamp = fields.get("sha256", ""), fields.get("t", "")
    if not signature or not (stamp.isascii() and stamp.isdigit()):  # "²" is a digit to isdigit
        return f"{GHOST_SIGNATURE} is not of the form sha256=<hex>, t=<milliseconds>"
    expected = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    if not same_secret(signature.lower(), expected):
        return f"{GHOST_SIGNATURE} does not match the body signed with admin.ghost_secret"
    age = abs(now.timestamp() * 1000 - int(stamp)) / 1000
    if age > max_age:
        return f"{GHOST_SIGNATURE} was made {age:.0f} s away from now (at most {max_age} s)"
    return None


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
    # The same signature again: Ghost retrying the very same request (it signs once and its
    # HTTP client retries a timed-out attempt), or someone playing a captured one back (an old
    # post.published after post.deleted would publish the post again). Either way it has been
    # applied: 200, and nothing is done twice. Never 410: Ghost deletes a webhook on 410.
    signature = (request.headers.get(GHOST_SIGNATURE) or "").encode("utf-8", "surrogatepass")
    replays = request.app[GHOST_REPLAYS]
    now = request.app[CLOCK].now().timestamp()
    if replays.seen(signature, now):
        return web.json_response({"status": "duplicate", "detail": "already applied"})
    try:
        data = decode_json(raw)
    except Refused as refused:
        return refused.response
    response = await accept_payload(request, data)
    if response.status < 300:
        replays.remember(signature, now)
    return response


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    # A signature is accepted for max_age seconds either side of now: remembered that long.
    app[GHOST_REPLAYS] = ReplayGuard(2 * app[SETTINGS].admin.ghost_max_age, size=10_000)
    yield
