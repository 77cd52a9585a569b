"""What a CMS sends -> what siarkan does with it (pure: no I/O, no clock).

    JSON object | recognise (by keys only that shape has) | translate
        -> Upsert(an ArticleIn-shaped dict, names: our field -> the CMS's field, for errors)
         | Retract(id, canonical_url, reason)     the post left the public web
         | Ignore(reason)                         not an article (an attachment, a menu item)

The shapes, as the software sends them:

- siarkan's own (schema.ArticleIn): passed through untouched. Its `title` is a string; every
  other shape below has a key ArticleIn forbids, so no payload matches two shapes.
- WordPress REST post (GET /wp-json/wp/v2/posts/<id>, `?_embed` adds `_embedded`):
  `title.rendered`, `content.rendered`/`protected`, `guid.rendered`, `date_gmt` (UTC written
  without a zone), `status`, `_embedded.author[]`, `_embedded["wp:featuredmedia"][0]`,
  `_embedded["wp:term"]` (one list per taxonomy). WordPress core
  `class-wp-rest-posts-controller.php` get_item_schema / prepare_item_for_response.
- WP Webhooks plugin triggers post_create / post_update / post_trash: `{"post_id", "post": the
  WP_Post row (post_title, post_content unrendered, post_date_gmt "Y-m-d H:i:s" or
  "0000-00-00 00:00:00" for an undated draft, post_status, post_name, guid, post_type...),
  "post_thumbnail": URL or false, "post_permalink", "taxonomies": {taxonomy: {slug: term}}}`
  (Ironikus/wp-webhooks core/includes/integrations/wordpress/triggers/post_create.php).
- Ghost webhook body: `{"post": {"current": {...}, "previous": {...}}}`; a deleted post has an
  empty `current` and the whole post in `previous` (Ghost
  ghost/core/core/server/services/webhooks/serialize.js, test/e2e-webhooks snapshots).

One post is one article whichever way it arrives: WordPress posts are keyed by their guid
(`https://site/?p=123`, which WordPress never rewrites, unlike the permalink), Ghost posts by
their uuid. A post that is not public (a draft, private, password-protected, trashed,
members-only, deleted) is a Retract: withdrawn if siarkan published it, nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from siarkan.articles.cms import ghost, wordpress
from siarkan.articles.cms.common import Ignore, Intent, PayloadInvalid, Retract, Upsert
from siarkan.articles.cms.wordpress import autop

__all__ = [
    "Ignore", "Intent", "PayloadInvalid", "Retract", "Upsert", "autop", "recognise",
    "rename_errors", "translate",
]  # fmt: skip


def recognise(data: object) -> str:
    """'wordpress' | 'wp-webhooks' | 'ghost' | 'siarkan' (anything else is validated as ours)."""
    if not isinstance(data, dict):
        return "siarkan"
    title = data.get("title")
    if isinstance(title, dict) and "rendered" in title:
        return "wordpress"
    post = data.get("post")
    if isinstance(post, dict):
        if "post_id" in data or "post_title" in post or "post_content" in post:
            return "wp-webhooks"
        if "current" in post or "previous" in post:
            return "ghost"
    if isinstance(data.get("page"), dict) and "current" in data["page"]:
        return "ghost"
    return "siarkan"


def translate(data: object) -> Intent:
    kind = recognise(data)
    if kind == "siarkan":
        return Upsert(data)
    assert isinstance(data, dict)
    return _TRANSLATORS[kind](data)


def rename_errors(
    errors: Iterable[tuple[str, str]], names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """("image.url", msg) -> ("_embedded.wp:featuredmedia.0.source_url", msg): the exact
    field if named, else the nearest named parent ("tags.2" -> "_embedded.wp:term")."""
    renamed = []
    for path, message in errors:
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            name = names.get(".".join(parts[:end]))
            if name is not None:
                path = name
                break
        renamed.append((path, message))
    return renamed


_TRANSLATORS: dict[str, Callable[[dict[str, Any]], Intent]] = {
    "wordpress": wordpress.from_rest,
    "wp-webhooks": wordpress.from_webhook,
    "ghost": ghost.from_webhook,
}
