"""Validators and freshness for the public pages and the ActivityPub documents.

    what a response is made of (a change key read *before* the content, or the body itself)
        | weak_etag -> W/"..."
    If-None-Match matches (weak comparison, as the feeds do: feeds.http.etag_matches)?
        -> 304 carrying the ETag, Cache-Control and Vary a 200 would (RFC 9110 §15.4.5)
        -> else the full response, with the same headers

Weak tags: a page is "the same" for the change key it was rendered under, not byte for byte
(RFC 9110 §8.8.1), and a change key read before the content can only make a tag older than
its body, never newer, so a client is never told "unchanged" about content it has not seen.
The feeds keep their own, tuned path (feeds/http.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from aiohttp import web

from siarkan.feeds.http import etag_matches

# Home, channel, tag and article pages change when an article is stored, edited or retracted:
# a minute of freshness, then a revalidation that usually ends in a 304.
PAGE_CACHE = "public, max-age=60"


def weak_etag(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so ("ab", "c") and ("a", "bc") never share a tag.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return f'W/"{digest.hexdigest()[:32]}"'


def not_modified(
    request: web.Request, etag: str, headers: Mapping[str, str]
) -> web.Response | None:
    """A 304 if the client already holds `etag` (If-None-Match); None to send the body."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is None or not etag_matches(if_none_match, etag):
        return None
    return web.Response(status=304, headers={**headers, "ETag": etag})


def validated(response: web.Response, etag: str, cache_control: str) -> web.Response:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    return response


def by_body(request: web.Request, response: web.Response, cache_control: str) -> web.Response:
    """Validators for a response whose inputs have no change key (a profile with its follower
    count and replies, a preview): the tag is the body's own hash, so it is exact."""
    body = response.body
    assert isinstance(body, bytes)  # rendered text, encoded by web.Response
    etag = weak_etag(response.content_type, body)
    kept = {name: response.headers[name] for name in ("Vary",) if name in response.headers}
    unchanged = not_modified(request, etag, {**kept, "Cache-Control": cache_control})
    return unchanged or validated(response, etag, cache_control)
