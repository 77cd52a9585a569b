"""Federation over HTTP: discovery, actors, collections, objects, inboxes.

    GET  /.well-known/webfinger | host-meta | nodeinfo, /nodeinfo/2.0|2.1   discovery
    GET  /ap/actors/{name}            actor (JSON-LD) or -> profile page (browsers)
    GET  /@{username}                 profile page (HTML) or -> actor (AP clients)
    GET  /ap/actors/{name}/outbox|followers|following|featured
    GET  /ap/posts/{token}            object, 410 Tombstone once deleted (404 if deleted
                                      before its release), or -> permalink
    GET  /ap/activities/{token}       an activity as sent
    POST /ap/actors/{name}/inbox, /ap/inbox    signed deliveries (inbox.py)

lifespan: actor keys (idempotent across nodes), the remote actor directory and the inbox.

Documents are public for one to five minutes (Mastodon serves its own for three:
`expires_in 3.minutes` in its ActivityPub controllers), with an ETag of the bytes and their
media type. The same URL answers AP JSON, its JSON-LD form or a redirect to HTML by Accept:
each answer says Vary: Accept.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from siarkan import urls
from siarkan.config import ChannelSettings, Settings
from siarkan.federation import collections
from siarkan.federation.activitystreams import TOMBSTONE_CONTEXT, render_tombstone
from siarkan.federation.actors import (
    NODEINFO_SCHEMA,
    NODEINFO_VERSIONS,
    ActorRecord,
    display_name,
    render_actor,
    render_host_meta,
    render_nodeinfo,
    render_nodeinfo_links,
    render_webfinger,
)
from siarkan.federation.fetch import Signer
from siarkan.federation.inbox import Inbox, InboxRequest
from siarkan.federation.keys import ensure_actors, fediverse_channels, load_signing_key
from siarkan.federation.remote import RemoteDirectory
from siarkan.federation.schedule import DELETED, PUBLISHED, was_released
from siarkan.federation.signatures import header_map, sign_cavage
from siarkan.federation.vocab import (
    ACTIVITY_JSON,
    JRD_JSON,
    LD_JSON_AS,
    activity_media_type,
    dumps,
    wants_activity_json,
)
from siarkan.store.db import Database
from siarkan.store.tables import activities, actors, posts
from siarkan.web.httpcache import PAGE_CACHE, by_body, not_modified, weak_etag
from siarkan.web.keys import CLOCK, DB, HTTP, METRICS, SETTINGS
from siarkan.web.pages import local_time, not_found_for, shorten
from siarkan.web.templating import render_html

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

INBOX = web.AppKey("federation_inbox", Inbox)
REMOTE = web.AppKey("federation_remote", RemoteDirectory)

CORS = {"Access-Control-Allow-Origin": "*"}


# --- lifespan ------------------------------------------------------------------------------------


def fetch_signer(settings: Settings, db: Database, app: web.Application) -> Signer | None:
    """Sign our GETs with the site actor's key: Mastodon in secure mode (authorized fetch)
    refuses unsigned fetches of its actors."""
    channels = fediverse_channels(settings)
    if not channels:
        return None
    name = channels[0].name

    async def sign(method: str, url: str, headers: Mapping[str, str]) -> Mapping[str, str]:
        async with db.connect() as conn:
            key = await load_signing_key(conn, name)
        return sign_cavage(
            method, url, headers, None, key.key_id, key.private_key, app[CLOCK].now()
        )

    return sign


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    settings, db = app[SETTINGS], app[DB]
    async with db.begin() as conn:
        created = await ensure_actors(conn, settings, app[CLOCK].now())
    if created:
        log.info("actor keys created", extra={"actors": created})
    remote = RemoteDirectory(
        settings, db, lambda: app[HTTP], app[CLOCK], fetch_signer(settings, db, app)
    )
    inbox = Inbox(settings, db, remote, app[CLOCK], app[METRICS])
    app[REMOTE] = remote
    app[INBOX] = inbox
    yield
    await inbox.close()


# --- helpers -------------------------------------------------------------------------------------


def ap_body_response(
    request: web.Request, body: bytes, *, status: int = 200, cache: int = 60
) -> web.Response:
    media_type = activity_media_type(request.headers.get("Accept", ""))
    headers = {"Vary": "Accept", "Cache-Control": f"public, max-age={cache}", **CORS}
    if status == 200:
        # Per media type too: the two forms are two representations (RFC 9110 §8.8.3).
        etag = weak_etag(media_type, body)
        if (unchanged := not_modified(request, etag, headers)) is not None:
            return unchanged
        headers["ETag"] = etag
    return web.Response(
        body=body,
        status=status,
        headers={
            "Content-Type": media_type
            if media_type == LD_JSON_AS
            else f"{media_type}; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
            **headers,
        },
    )


def ap_response(
    request: web.Request, document: Any, *, status: int = 200, cache: int = 60
) -> web.Response:
    return ap_body_response(request, dumps(document).encode("utf-8"), status=status, cache=cache)


def json_response(document: Any, content_type: str = "application/json") -> web.Response:
    return web.Response(
        body=dumps(document).encode("utf-8"),
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300", **CORS},
    )


def _channel_by_name(settings: Settings, name: str) -> ChannelSettings:
    for channel in fediverse_channels(settings):
        if channel.name == name:
            return channel
    raise web.HTTPNotFound(text="no such actor")


def _channel_by_username(settings: Settings, username: str) -> ChannelSettings | None:
    username = username.lower()
    for channel in fediverse_channels(settings):
        if (channel.fediverse.username or "").lower() == username:
            return channel
    return None


def channel_for_resource(settings: Settings, resource: str) -> ChannelSettings | None:
    """WebFinger resource -> channel: `acct:user@host` (our host only) or an actor/profile URL."""
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        for channel in fediverse_channels(settings):
            username = channel.fediverse.username or channel.name
            if resource in (
                urls.actor_url(settings, channel.name),
                urls.profile_url(settings, username),
            ):
                return channel
        return None
    account = resource.removeprefix("acct:").lstrip("@")
    user, sep, host = account.rpartition("@")
    if not sep or host.lower() != settings.site.host.lower():
        return None
    return _channel_by_username(settings, user)


async def _actor_record(db: Database, channel_name: str) -> ActorRecord:
    async with db.connect() as conn:
        row = (await conn.execute(select(actors).where(actors.c.name == channel_name))).first()
    if row is None:
        raise web.HTTPNotFound(text="actor not created yet")
    return ActorRecord(row.name, row.username, row.key_id, row.public_key_pem, row.created_at)


def _page_args(request: web.Request) -> tuple[bool, int | None]:
    page = request.query.get("page") in ("true", "1")
    raw = request.query.get("max_id")
    try:
        max_id = int(raw) if raw else None
    except ValueError:
        raise web.HTTPBadRequest(text="max_id must be a number") from None
    return page, max_id


# --- discovery -----------------------------------------------------------------------------------


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    resource = request.query.get("resource")
    if not resource:
        raise web.HTTPBadRequest(text="resource parameter required", headers=CORS)
    channel = channel_for_resource(settings, resource)
    if channel is None:
        raise web.HTTPNotFound(text="no such account", headers=CORS)
    return json_response(render_webfinger(settings, channel), JRD_JSON)


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    return web.Response(
        text=render_host_meta(request.app[SETTINGS]),
        content_type="application/xrd+xml",
        charset="utf-8",
        headers=CORS,
    )


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    return json_response(render_nodeinfo_links(request.app[SETTINGS]))


@routes.get("/nodeinfo/{version}")
async def nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in NODEINFO_VERSIONS:
        raise web.HTTPNotFound(text="NodeInfo 2.0 and 2.1 are served")
    settings = request.app[SETTINGS]
    async with request.app[DB].connect() as conn:
        counts = await collections.usage(conn, settings, request.app[CLOCK].now())
    profile = NODEINFO_SCHEMA.format(version=version) + "#"
    return json_response(
        render_nodeinfo(settings, version, counts), f'application/json; profile="{profile}"'
    )


@routes.get("/authorize_interaction")
async def authorize_interaction(request: web.Request) -> web.Response:
    """The WebFinger subscribe template: send people to the page of what they asked about."""
    settings = request.app[SETTINGS]
    channel = channel_for_resource(settings, request.query.get("uri", ""))
    if channel is None:
        raise web.HTTPNotFound(text="nothing to follow here")
    username = channel.fediverse.username or channel.name
    raise web.HTTPFound(urls.profile_url(settings, username))


# --- actors and profile pages --------------------------------------------------------------------


@routes.get("/ap/actors/{name}")
async def actor(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_name(settings, request.match_info["name"])
    record = await _actor_record(request.app[DB], channel.name)
    if not wants_activity_json(request.headers.get("Accept", "")):
        raise web.HTTPFound(urls.profile_url(settings, record.username), headers={"Vary": "Accept"})
    return ap_response(request, render_actor(settings, channel, record), cache=180)


@routes.get("/@{username}")
async def profile(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_username(settings, request.match_info["username"])
    if channel is None:
        return not_found_for(request, "no such account")
    if wants_activity_json(request.headers.get("Accept", "")):
        raise web.HTTPFound(urls.actor_url(settings, channel.name), headers={"Vary": "Accept"})
    record = await _actor_record(request.app[DB], channel.name)
    document = render_actor(settings, channel, record)
    async with request.app[DB].connect() as conn:
        followers = await collections.followers_collection(
            conn, settings, channel, page=False, max_id=None
        )
        recent = (
            await conn.execute(
                select(posts.c.object, posts.c.article_id)
                .where(
                    posts.c.actor_name == channel.name,
                    posts.c.state == PUBLISHED,
                    posts.c.part == 0,
                )
                .order_by(posts.c.published_at.desc(), posts.c.id.desc())
                .limit(10)
            )
        ).all()
        # Replies and counts are kept for moderation; public only where the channel says so.
        shown = (
            await collections.reactions(conn, channel.name, [r.article_id for r in recent])
            if channel.fediverse.show_replies
            else {}
        )
    posts_shown = [
        (row.object, shown.get(row.article_id), _when(settings, row.object.get("published")))
        for row in recent
    ]
    handle = f"@{record.username}@{settings.site.host}"
    # What a link preview of the profile says (Mastodon's LinkDetailsExtractor, Facebook and
    # WhatsApp read og:description, else the description): the account's own summary.
    about = shorten(channel.fediverse.summary or channel.description, 200)
    response = render_html(
        request,
        "profile.html",
        {
            "settings": settings,
            "channel": channel,
            "actor": document,
            "name": display_name(settings, channel),
            "handle": handle,
            "description": about or f"{display_name(settings, channel)} di fediverse: {handle}",
            "followers_count": followers["totalItems"],
            "posts": posts_shown,
        },
    )
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = f'<{document["id"]}>; rel="alternate"; type="{ACTIVITY_JSON}"'
    # Follower count, posts and replies have no change key: the tag is the page's own hash.
    return by_body(request, response, PAGE_CACHE)


def _when(settings: Settings, published: object) -> str:
    """A post's `published` as readers of the site see times ("Rabu, 4 November 2026 16.15 WIB")."""
    if not isinstance(published, str):
        return ""
    try:
        return local_time(settings, datetime.fromisoformat(published))
    except ValueError:
        return published


# --- collections ---------------------------------------------------------------------------------


@routes.get("/ap/actors/{name}/outbox")
async def outbox(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_name(settings, request.match_info["name"])
    page, max_id = _page_args(request)
    async with request.app[DB].connect() as conn:
        document = await collections.outbox(conn, settings, channel, page=page, max_id=max_id)
    return ap_response(request, document)


@routes.get("/ap/actors/{name}/followers")
async def followers(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_name(settings, request.match_info["name"])
    page, max_id = _page_args(request)
    async with request.app[DB].connect() as conn:
        document = await collections.followers_collection(
            conn, settings, channel, page=page, max_id=max_id
        )
    return ap_response(request, document)


@routes.get("/ap/actors/{name}/following")
async def following(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_name(settings, request.match_info["name"])
    return ap_response(request, collections.following_collection(settings, channel))


@routes.get("/ap/actors/{name}/featured")
async def featured(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    channel = _channel_by_name(settings, request.match_info["name"])
    async with request.app[DB].connect() as conn:
        document = await collections.featured_collection(conn, settings, channel)
    return ap_response(request, document)


# --- objects and activities ----------------------------------------------------------------------


@routes.get("/ap/posts/{token}")
async def post(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    uri = urls.post_uri(settings, request.match_info["token"])
    async with request.app[DB].connect() as conn:
        row = (
            await conn.execute(
                select(
                    posts.c.object, posts.c.state, posts.c.updated_at, posts.c.published_at
                ).where(posts.c.uri == uri)
            )
        ).first()
    if row is None or not was_released(row.state, row.published_at):
        # Not yet out, or withdrawn before it was (a series part, a quiet-hours part, an
        # article retracted under embargo): nothing was ever here to be "gone" (RFC 9110
        # §15.5.11), so 404 like any unknown id, saying nothing of what was planned.
        raise web.HTTPNotFound(text="no such post")
    wants_json = wants_activity_json(request.headers.get("Accept", ""))
    if row.state == DELETED:
        # Gone for good (AP §6.4 and Mastodon: a Tombstone with 410).
        tombstone = render_tombstone(
            uri, row.object.get("type", "Note"), row.updated_at or request.app[CLOCK].now()
        )
        if wants_json:
            return ap_response(request, {"@context": TOMBSTONE_CONTEXT, **tombstone}, status=410)
        raise web.HTTPGone(text="this post was deleted", headers={"Vary": "Accept"})
    if not wants_json:
        raise web.HTTPFound(row.object["url"], headers={"Vary": "Accept"})
    return ap_response(request, row.object, cache=60)


@routes.get("/ap/activities/{token}")
async def activity(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    uri = urls.activity_uri(settings, request.match_info["token"])
    async with request.app[DB].connect() as conn:
        row = (
            await conn.execute(
                select(activities.c.body, activities.c.type, posts.c.state, posts.c.updated_at)
                .outerjoin(posts, posts.c.uri == activities.c.object_uri)
                .where(activities.c.uri == uri, activities.c.public.is_(True))
            )
        ).first()
    if row is None:
        raise web.HTTPNotFound(text="no such activity")
    if row.state == DELETED and row.type != "Delete":
        # A Create/Update/Announce still carries (or points at) the retracted text: gone with
        # its post, as Mastodon answers for the activities of a deleted status.
        tombstone = render_tombstone(uri, row.type, row.updated_at or request.app[CLOCK].now())
        if wants_activity_json(request.headers.get("Accept", "")):
            return ap_response(request, {"@context": TOMBSTONE_CONTEXT, **tombstone}, status=410)
        raise web.HTTPGone(text="this post was deleted", headers={"Vary": "Accept"})
    return ap_body_response(request, row.body.encode("utf-8"), cache=300)


# --- inboxes -------------------------------------------------------------------------------------


def target_uri(settings: Settings, request: web.Request) -> str:
    """The URL the sender signed: our public scheme and host (TLS may end at a proxy) + the raw
    path. Not the Host header's word: a signature made for another server's inbox must not
    verify here (Inbox.receive also refuses a Host that is not ours)."""
    scheme = settings.site.base_url.split("://", 1)[0]
    return f"{scheme}://{settings.site.host}{request.raw_path}"


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    if request.content_length is not None:
        if request.content_length > limit:
            return None
        # The app's client_max_size is above max_inbox_bytes, so this read is bounded here.
        return await request.read()
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def _receive(request: web.Request, inbox_actor: str | None) -> web.Response:
    settings = request.app[SETTINGS]
    body = await _read_limited(request, settings.federation.max_inbox_bytes)
    if body is None:
        return web.Response(status=413, text="activity larger than max_inbox_bytes")
    verdict = await request.app[INBOX].receive(
        InboxRequest(
            method=request.method,
            target_uri=target_uri(settings, request),
            headers=header_map(request.headers.items()),
            body=body,
            inbox_actor=inbox_actor,
            path_qs=request.raw_path,
        )
    )
    if verdict.accepted:
        return web.Response(status=202)
    return web.Response(status=verdict.status, text=verdict.reason)


@routes.post("/ap/inbox")
async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request, None)


@routes.post("/ap/actors/{name}/inbox")
async def actor_inbox(request: web.Request) -> web.Response:
    channel = _channel_by_name(request.app[SETTINGS], request.match_info["name"])
    return await _receive(request, channel.name)
