"""Who we are on the fediverse, rendered: actor documents, WebFinger, host-meta, NodeInfo.

    settings + channel + actors row | render_actor      -> AS2 actor (Organization/Service/...)
    settings + channel              | render_webfinger  -> JRD (RFC 7033)
    settings                        | render_host_meta  -> XRD (RFC 6415)
    settings + usage                | render_nodeinfo   -> NodeInfo 2.0 / 2.1

Pure functions; the HTTP layer (federation/http.py) looks rows up and serialises.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from html import escape
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from siarkan import urls
from siarkan.config import ChannelSettings, Settings
from siarkan.federation.vocab import ACTIVITY_JSON, CONTEXT, as_time

SOFTWARE = "siarkan"
REPOSITORY = "https://github.com/siarkan/siarkan"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
NODEINFO_VERSIONS = ("2.0", "2.1")


def software_version() -> str:
    try:
        return metadata.version("siarkan")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


@dataclass(frozen=True, slots=True)
class ActorRecord:
    """The stored half of an actor (the `actors` row): key and creation time."""

    name: str
    username: str
    key_id: str
    public_key_pem: str
    created_at: datetime


def _image(url: str) -> dict[str, Any]:
    media_type, _ = mimetypes.guess_type(urlsplit(url).path)
    image: dict[str, Any] = {"type": "Image", "url": url}
    if media_type:
        image["mediaType"] = media_type
    return image


def _text_html(text: str) -> str:
    """Plain text from the YAML -> the paragraphs of HTML a profile summary is made of."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def field_value_html(value: str) -> str:
    """A profile field value; URLs become links marked the way Mastodon marks them.

    Mastodon (app/models/account/field.rb) renders `rel="me"` links so a page linking back
    can verify the field; the invisible spans hide the scheme like its own formatter does.
    """
    if not value.startswith(("https://", "http://")) or " " in value:
        return escape(value)
    scheme, _, rest = value.partition("://")
    return (
        f'<a href="{escape(value)}" target="_blank" rel="nofollow noopener noreferrer me" '
        f'translate="no"><span class="invisible">{escape(scheme)}://</span>'
        f'<span class="">{escape(rest)}</span><span class="invisible"></span></a>'
    )


def display_name(settings: Settings, channel: ChannelSettings) -> str:
    return channel.fediverse.display_name or channel.title or settings.site.name


def render_actor(
    settings: Settings, channel: ChannelSettings, record: ActorRecord
) -> dict[str, Any]:
    fedi = channel.fediverse
    actor_id = urls.actor_url(settings, channel.name)
    summary = fedi.summary or channel.description
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": actor_id,
        "type": fedi.actor_type,
        "preferredUsername": record.username,
        "name": display_name(settings, channel),
        "summary": _text_html(summary),
        "url": urls.profile_url(settings, record.username),
        "inbox": urls.actor_inbox_url(settings, channel.name),
        "outbox": urls.actor_outbox_url(settings, channel.name),
        "followers": urls.actor_followers_url(settings, channel.name),
        "following": urls.actor_following_url(settings, channel.name),
        "featured": urls.actor_featured_url(settings, channel.name),
        "endpoints": {"sharedInbox": urls.shared_inbox_url(settings)},
        "manuallyApprovesFollowers": fedi.manually_approves_followers,
        "discoverable": fedi.discoverable,
        "indexable": fedi.indexable,
        "published": as_time(record.created_at),
        # Our article pages name this account in <meta name="fediverse:creator">; Mastodon
        # shows it on a link's preview card only for a page on a domain listed here
        # (FetchLinkCardService#attempt_opengraph, Account#can_be_attributed_from?).
        "attributionDomains": [urlsplit(settings.site.base_url).hostname],
        "publicKey": {
            "id": record.key_id,
            "owner": actor_id,
            "publicKeyPem": record.public_key_pem,
        },
    }
    icon = fedi.icon or settings.site.icon
    if icon:
        document["icon"] = _image(icon)
    if fedi.header:
        document["image"] = _image(fedi.header)
    fields = dict(fedi.fields) or {"Situs": settings.site.base_url}
    document["attachment"] = [
        {"type": "PropertyValue", "name": name, "value": field_value_html(value)}
        for name, value in fields.items()
    ]
    return document


def render_webfinger(settings: Settings, channel: ChannelSettings) -> dict[str, Any]:
    """JRD for acct:username@host; `self` equals the actor id (Mastodon's round-trip check)."""
    username = channel.fediverse.username or channel.name
    actor_id = urls.actor_url(settings, channel.name)
    profile = urls.profile_url(settings, username)
    return {
        "subject": f"acct:{username}@{settings.site.host}",
        "aliases": [profile, actor_id],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_id},
            {"rel": SUBSCRIBE_REL, "template": urls.authorize_interaction_template(settings)},
        ],
    }


def render_host_meta(settings: Settings) -> str:
    template = f"{settings.site.base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


def render_nodeinfo_links(settings: Settings) -> dict[str, Any]:
    return {
        "links": [
            {"rel": NODEINFO_SCHEMA.format(version=v), "href": urls.nodeinfo_url(settings, v)}
            for v in NODEINFO_VERSIONS
        ]
    }


@dataclass(frozen=True, slots=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


def render_nodeinfo(settings: Settings, version: str, usage: Usage) -> dict[str, Any]:
    """NodeInfo 2.0 / 2.1 (nodeinfo.diaspora.software); 2.1 adds software.repository/homepage."""
    software: dict[str, Any] = {"name": SOFTWARE, "version": software_version()}
    if version == "2.1":
        software["repository"] = REPOSITORY
        software["homepage"] = REPOSITORY
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": usage.users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {"nodeName": settings.site.name, "nodeDescription": settings.site.description},
    }
