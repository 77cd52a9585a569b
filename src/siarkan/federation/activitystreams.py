"""Posts and activities as ActivityStreams 2.0 documents. Pure: data in, dicts out.

    Article + Excerpt + PostRef | render_post    -> Note (default) or Article object
    object                      | object_hash    -> sha256 of what a reader would see
    activity id + actor + ...   | render_create / render_update / render_delete /
                                  render_announce / render_accept / render_reject /
                                  render_update_actor

Mastodon shows only Note natively; an Article becomes <h2>name</h2> + summary + link there, so
the Article form carries a deliberate summary (PROTOCOLS.md, Mastodon PR #6218), as `summaryMap`:
other servers take a plain `summary` for a content warning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siarkan.articles.model import Article
from siarkan.config import ChannelSettings
from siarkan.excerpts import Excerpt, deep_link, pick_hashtags
from siarkan.federation.vocab import AS_CONTEXT, CONTEXT, PUBLIC, as_time, first_id

# Objects need only the terms they use; actors carry the full set (vocab.CONTEXT).
POST_CONTEXT: list[Any] = [AS_CONTEXT, {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}]
# The AS2 context types `formerType` as "@id", which makes "Note" a URL relative to the
# document, not as:Note: JSON-LD readers drop it (Fedify: "Ignoring unknown vocabulary entity
# type reference: Note"). Typed "@vocab", the same plain "Note" that Pleroma sends and plain
# JSON readers compare with expands to as:Note (JSON-LD 1.1 §4.2.2, IRI expansion with vocab).
TOMBSTONE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {**POST_CONTEXT[1], "formerType": {"@id": "as:formerType", "@type": "@vocab"}},
]


@dataclass(frozen=True, slots=True)
class PostRef:
    """Where one excerpt part lives in the fediverse."""

    uri: str
    actor: str  # actor id (attributedTo)
    followers: str  # followers collection id (cc)
    permalink: str  # the post's `url`: on our host (urls.object_link; Misskey checks the host)
    in_reply_to: str | None  # the previous part of the thread, if any
    context: str | None  # the first part's uri: groups a thread (FEP-7888 `context`)
    published: datetime
    updated: datetime | None = None


def _hashtag_objects(
    article: Article, excerpt: Excerpt, tag_url: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Hashtag objects for the #Tags the excerpt's text carries (Mastodon links only these)."""
    originals = dict(pick_hashtags(article.tags, len(article.tags)))
    return [
        {"type": "Hashtag", "href": tag_url(originals.get(name, name)), "name": f"#{name}"}
        for name in excerpt.hashtags
    ]


def _attachment(article: Article) -> list[dict[str, Any]]:
    image = article.image
    if image is None:
        return []
    # Pleroma/Akkoma take an attachment without mediaType for application/octet-stream and
    # show it as a file, not an image (AttachmentValidator.fix_media_type): guess from the URL.
    media_type = image.type_or_guess() or ""
    document: dict[str, Any] = {
        # Mastodon treats Document with an image mediaType as an image too; Image is plainer.
        "type": "Image" if media_type.startswith("image/") or not media_type else "Document",
        "url": image.url,
        "name": image.alt or image.caption or "",
    }
    if media_type:
        document["mediaType"] = media_type
    if image.width:
        document["width"] = image.width
    if image.height:
        document["height"] = image.height
    return [document]


def render_post(
    channel: ChannelSettings,
    article: Article,
    excerpt: Excerpt,
    ref: PostRef,
    *,
    tag_url: Callable[[str], str],
) -> dict[str, Any]:
    """One excerpt part as a Note (or Article), ready to embed in Create/Update."""
    fedi = channel.fediverse
    language = excerpt.language or article.language
    obj: dict[str, Any] = {
        "@context": POST_CONTEXT,
        "id": ref.uri,
        "type": fedi.object_type,
        "attributedTo": ref.actor,
        "to": [PUBLIC],
        "cc": [ref.followers],
        "published": as_time(ref.published),
        "url": deep_link(ref.permalink, excerpt.anchor),
        "inReplyTo": ref.in_reply_to,
    }
    if ref.context:
        obj["context"] = ref.context
    if ref.updated is not None:
        obj["updated"] = as_time(ref.updated)
    if fedi.object_type == "Article":
        obj["name"] = article.title
        obj["content"] = article.body_html
        obj["contentMap"] = {language: article.body_html}
        if fedi.content_warning:
            obj["summary"] = fedi.content_warning
            obj["sensitive"] = True
        else:
            # Mastodon shows an Article as name + summary + link, reading `summaryMap` when
            # there is no `summary` (status_parser.rb #spoiler_text). Misskey, GoToSocial,
            # Pleroma and Akkoma read only `summary`, as a content warning over the whole
            # article (ApNoteService.createNote `cw`, gotosocial internal/ap ExtractSummary;
            # WordPress ActivityPub #735): the lead as a language map is an abstract to all.
            obj["summaryMap"] = {language: excerpt.body_text or article.lead}
    else:
        obj["content"] = excerpt.html
        obj["contentMap"] = {language: excerpt.html}
        if fedi.content_warning:
            # Mastodon shows `summary` of a Note as its content warning.
            obj["summary"] = fedi.content_warning
            obj["sensitive"] = True
        else:
            obj["sensitive"] = False
    tags = _hashtag_objects(article, excerpt, tag_url)
    if tags:
        obj["tag"] = tags
    attachment = _attachment(article) if excerpt.index == 0 else []
    if attachment:
        obj["attachment"] = attachment
    return obj


# Fields that change without the reader seeing a different post: a re-save must not send Update
# just because `updated` moved (WordPress ActivityPub #2618, #628).
_VOLATILE = frozenset({"updated", "published", "@context"})


def object_hash(obj: dict[str, Any]) -> str:
    stable = {k: v for k, v in obj.items() if k not in _VOLATILE}
    blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _embedded(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "@context"}


def _activity(
    kind: str, activity_id: str, actor: str, obj: Any, *, to: list[str], cc: list[str]
) -> dict[str, Any]:
    return {
        "@context": POST_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor,
        "to": to,
        "cc": cc,
        "object": obj,
    }


def render_create(activity_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Create with the same audience as its object (Mastodon copies it from the activity)."""
    activity = _activity(
        "Create",
        activity_id,
        obj["attributedTo"],
        _embedded(obj),
        to=list(obj["to"]),
        cc=list(obj["cc"]),
    )
    activity["published"] = obj["published"]
    return activity


def render_update(activity_id: str, obj: dict[str, Any], when: datetime) -> dict[str, Any]:
    activity = _activity(
        "Update",
        activity_id,
        obj["attributedTo"],
        _embedded(obj),
        to=list(obj["to"]),
        cc=list(obj["cc"]),
    )
    activity["published"] = as_time(when)
    return activity


def render_tombstone(uri: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    return {"id": uri, "type": "Tombstone", "formerType": former_type, "deleted": as_time(deleted)}


def render_delete(
    activity_id: str,
    actor: str,
    followers: str,
    object_uri: str,
    former_type: str,
    deleted: datetime,
) -> dict[str, Any]:
    activity = _activity(
        "Delete",
        activity_id,
        actor,
        render_tombstone(object_uri, former_type, deleted),
        to=[PUBLIC],
        cc=[followers],
    )
    activity["@context"] = TOMBSTONE_CONTEXT
    activity["published"] = as_time(deleted)
    return activity


def render_announce(
    activity_id: str,
    actor: str,
    followers: str,
    object_uri: str,
    object_actor: str,
    published: datetime,
) -> dict[str, Any]:
    """A boost by the site-wide account; cc the original author like Mastodon does."""
    activity = _activity(
        "Announce", activity_id, actor, object_uri, to=[PUBLIC], cc=[followers, object_actor]
    )
    activity["published"] = as_time(published)
    return activity


def render_accept(activity_id: str, actor: str, follow: dict[str, Any]) -> dict[str, Any]:
    """Accept embedding the Follow as received (Mastodon matches on the Follow's id)."""
    return _activity("Accept", activity_id, actor, _embedded(follow), to=_follower(follow), cc=[])


def render_reject(activity_id: str, actor: str, follow: dict[str, Any]) -> dict[str, Any]:
    return _activity("Reject", activity_id, actor, _embedded(follow), to=_follower(follow), cc=[])


def _follower(follow: dict[str, Any]) -> list[str]:
    """The Follow's actor as an id: some servers embed the actor object in the Follow."""
    follower = first_id(follow.get("actor"))
    return [follower] if follower else []


def render_update_actor(
    activity_id: str, actor_document: dict[str, Any], followers: str, when: datetime
) -> dict[str, Any]:
    """Update(actor): how followers learn a new key or profile (Mastodon refreshes on it)."""
    activity = _activity(
        "Update",
        activity_id,
        actor_document["id"],
        _embedded(actor_document),
        to=[PUBLIC],
        cc=[followers],
    )
    activity["@context"] = CONTEXT
    activity["published"] = as_time(when)
    return activity


def minimal_follow(follow_id: str, follower: str, target: str) -> dict[str, Any]:
    """A Follow rebuilt from stored ids (for approving a held request later)."""
    return {"id": follow_id, "type": "Follow", "actor": follower, "object": target}
