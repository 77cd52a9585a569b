"""Ghost: the post webhooks' {"post": {"current", "previous"}} body -> intents. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siarkan.articles.cms.common import (
    Ignore,
    Intent,
    PayloadInvalid,
    Retract,
    Upsert,
    absolute_url,
    as_dict,
    plain_text,
    put,
)


def from_webhook(data: dict[str, Any]) -> Intent:
    if "post" not in data:
        return Ignore("a Ghost page, not a post", "ghost")
    body = data["post"]
    current = as_dict(body.get("current"))
    previous = as_dict(body.get("previous"))
    if not current:  # post.deleted: `current` is {} and `previous` holds the post
        key = previous.get("uuid") or previous.get("id")
        if not isinstance(key, str) or not key:
            raise PayloadInvalid([("post.previous.uuid", "required for a deleted post")])
        return Retract(key, _ghost_url(previous), "the Ghost post was deleted", "ghost")
    base = "post.current"
    key = current.get("uuid") or current.get("id")
    if not isinstance(key, str) or not key:
        raise PayloadInvalid([(f"{base}.uuid", "required")])
    status = current.get("status")
    url = _ghost_url(current)
    if status not in ("published", "scheduled"):
        # "draft" after post.unpublished / post.unscheduled; "sent" is an email-only post.
        return Retract(key, url, f"the Ghost post is {status or 'not published'}", "ghost")
    visibility = current.get("visibility", "public")
    if visibility != "public":
        # Ghost hands webhooks the whole text of members-only posts; syndicating it would give
        # away what the paywall keeps.
        return Retract(key, url, f"the Ghost post is for {visibility} members only", "ghost")
    names = {
        name: f"{base}.{ghost}"
        for name, ghost in {
            "id": "uuid",
            "title": "title",
            "body_html": "html",
            "body_text": "plaintext",
            "subtitle": "custom_excerpt",
            "slug": "slug",
            "canonical_url": "canonical_url" if current.get("canonical_url") else "url",
            "published_at": "published_at",
            "publish_at": "published_at",
            "updated_at": "updated_at",
            "authors": "authors",
            "section": "primary_tag",
            "tags": "tags",
            "image": "feature_image",
            "image.url": "feature_image",
            "image.alt": "feature_image_alt",
            "image.caption": "feature_image_caption",
        }.items()
    }
    out: dict[str, Any] = {"id": key, "status": status}
    put(out, "title", current.get("title"))
    if current.get("html"):
        out["body_html"] = current["html"]
    else:  # an empty post renders html null; its plaintext then says whether there is text
        put(out, "body_text", current.get("plaintext"))
    put(out, "subtitle", plain_text(current.get("custom_excerpt")))
    put(out, "slug", current.get("slug"))
    put(out, "canonical_url", url)
    put(out, "publish_at" if status == "scheduled" else "published_at", current.get("published_at"))
    put(out, "updated_at", current.get("updated_at"))
    authors = current.get("authors")
    put(
        out,
        "authors",
        [
            a["name"]
            for a in (authors if isinstance(authors, list) else ())
            if isinstance(a, dict) and a.get("name")
        ],
    )
    tags = current.get("tags")
    tags = [t for t in (tags if isinstance(tags, list) else ()) if _ghost_public_tag(t)]
    primary = as_dict(current.get("primary_tag"))
    if _ghost_public_tag(primary):
        out["section"] = primary["name"]
    put(
        out,
        "tags",
        [t["name"] for t in tags if t is not primary and t.get("name") != out.get("section")],
    )
    if current.get("feature_image"):
        image: dict[str, Any] = {"url": current["feature_image"]}
        put(image, "alt", plain_text(current.get("feature_image_alt")))
        put(image, "caption", plain_text(current.get("feature_image_caption")))
        out["image"] = image
    return Upsert(out, names, "ghost")


def _ghost_url(post: Mapping[str, Any]) -> str | None:
    # canonical_url is set only when the post first appeared elsewhere; url is its Ghost page.
    return absolute_url(post.get("canonical_url")) or absolute_url(post.get("url"))


def _ghost_public_tag(tag: Any) -> bool:
    # Internal tags ("#kirim-ke-fediverse") organise the newsroom and are never shown.
    return (
        isinstance(tag, dict)
        and isinstance(tag.get("name"), str)
        and bool(tag["name"].strip())
        and tag.get("visibility", "public") == "public"
        and not tag["name"].startswith("#")
    )
