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

import html
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml.etree import ParserError

ID_NAMESPACE = uuid.NAMESPACE_URL


@dataclass(frozen=True, slots=True)
class Upsert:
    data: Any  # a dict for ArticleIn; anything else fails its validation as usual
    # siarkan field path -> the CMS's own name for it ("title" -> "title.rendered").
    names: Mapping[str, str] = field(default_factory=dict)
    cms: str = "siarkan"


@dataclass(frozen=True, slots=True)
class Retract:
    id: str
    canonical_url: str | None
    reason: str
    cms: str


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str
    cms: str


Intent = Upsert | Retract | Ignore


class PayloadInvalid(ValueError):
    """The payload has a CMS's shape but a field that shape cannot hold; `errors` name the
    fields in the CMS's terms, like jsonin.ArticleInvalid."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors))


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


# --- shared helpers -------------------------------------------------------------------------


def _text(fragment: Any) -> str:
    """Rendered HTML (a title, a caption, a term name) -> plain text, entities decoded:
    WordPress renders "Banjir &#8211; Longsor" and term names as "A &amp; B"."""
    if not isinstance(fragment, str) or not fragment.strip():
        return ""
    if "<" not in fragment:
        return " ".join(html.unescape(fragment).split())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except ParserError:
        return " ".join(html.unescape(fragment).split())
    return " ".join(root.text_content().split())


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rendered(value: Any) -> Any:
    """WordPress's {"rendered": ...} wrapper; a bare value passes (older plugins flatten it)."""
    return value.get("rendered") if isinstance(value, dict) else value


def _absolute(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    url = html.unescape(url.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _key(url: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, url))


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        data[key] = value


# --- WordPress --------------------------------------------------------------------------------

# WordPress's own types that are not articles (WP Webhooks fires post_create for uploads too:
# it hooks add_attachment, post_create.php).
_WP_NOT_ARTICLES = {
    "attachment",
    "revision",
    "nav_menu_item",
    "custom_css",
    "customize_changeset",
    "oembed_cache",
    "user_request",
}
# The category every post gets when none is chosen says nothing about the section.
_WP_DEFAULT_CATEGORIES = {"uncategorized", "tak-berkategori"}
_WP_NO_DATE = "0000-00-00 00:00:00"
_WP_HIDDEN = {
    "draft": "a draft",
    "pending": "pending review",
    "private": "private",
    "auto-draft": "an auto-draft",
    "inherit": "a revision",
    "trash": "in the trash",
}


def _wp_gmt(value: Any) -> str | None:
    """WordPress's GMT dates carry no zone ("2025-11-14T03:20:00", or "2025-11-14 03:20:00"
    in a WP_Post row): they are UTC, and say so here so the site's zone is not applied."""
    if not isinstance(value, str) or not value.strip() or value.strip() == _WP_NO_DATE:
        return None
    stamp = value.strip().replace(" ", "T", 1)
    return stamp if stamp.endswith("Z") or "+" in stamp[10:] else stamp + "+00:00"


def _wp_local(value: Any) -> str | None:
    """The site-time `date`: naive, so build_article reads it in site.timezone (which must be
    WordPress's own zone for it to be right; the GMT field is preferred whenever present)."""
    if not isinstance(value, str) or not value.strip() or value.strip() == _WP_NO_DATE:
        return None
    return value.strip().replace(" ", "T", 1)


def _wp_id(guid: Any, link: Any, post_id: Any) -> tuple[str | None, str]:
    """(id, the field it came from). The guid is "https://site/?p=<ID>" from the post's first
    save on; without it (a REST request that filtered it out with _fields) the same URL is
    rebuilt from the link's origin and the numeric ID."""
    guid_url = _absolute(_rendered(guid))
    if guid_url:
        return _key(guid_url), "guid"
    link_url = _absolute(link)
    if link_url and isinstance(post_id, int):
        parts = urlsplit(link_url)
        return _key(f"{parts.scheme}://{parts.netloc}/?p={post_id}"), "id"
    return None, "guid"


def _wp_status(status: Any, *, password: bool) -> tuple[str | None, str | None]:
    """(siarkan status, or None with why the post is not public)."""
    if password:
        return None, "password-protected"
    if status in (None, "publish"):
        return "published", None
    if status == "future":
        return "scheduled", None
    return None, _WP_HIDDEN.get(str(status), f"status {status!r}")


def _wp_slug(value: Any) -> str | None:
    # Non-Latin slugs are stored percent-encoded; a trashed post's gets "__trashed" appended.
    if not isinstance(value, str) or not value.strip():
        return None
    return unquote(value.strip()).removesuffix("__trashed") or None


def _wp_section(categories: Iterable[Mapping[str, Any]]) -> str | None:
    for term in categories:
        if str(term.get("slug", "")).lower() in _WP_DEFAULT_CATEGORIES:
            continue
        name = _text(term.get("name"))
        if name:
            return name
    return None


def _wp_terms(embedded: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """_embedded["wp:term"] is one list per taxonomy (categories, then tags, then custom ones);
    each term names its taxonomy."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    groups = embedded.get("wp:term")
    for group in groups if isinstance(groups, list) else ():
        for term in group if isinstance(group, list) else ():
            if isinstance(term, dict) and isinstance(term.get("taxonomy"), str):
                found.setdefault(term["taxonomy"], []).append(term)
    return found


def _auto_excerpt(excerpt: str, body_html: str) -> bool:
    """WordPress fills `excerpt` with the body's first 55 words when the editor wrote none:
    that is the lead again, not a standfirst. A hand-written excerpt does not open the body."""
    head = re.sub(r"\s*(\[…\]|\[\.\.\.\]|…|\.\.\.)\s*$", "", excerpt)[:60]
    return bool(head) and head in _text(body_html)[: len(head) + 200]


def _wp_media(
    embedded: Mapping[str, Any], post: Mapping[str, Any], names: dict[str, str]
) -> dict[str, Any] | None:
    base = "_embedded.wp:featuredmedia.0"
    media = embedded.get("wp:featuredmedia")
    first = media[0] if isinstance(media, list) and media else None
    # An unauthenticated _embed can hold {"code": "rest_forbidden", ...} in place of a media item.
    if isinstance(first, dict) and first.get("source_url") and first.get("media_type") == "image":
        details = _obj(first.get("media_details"))
        image: dict[str, Any] = {"url": first["source_url"]}
        _put(image, "alt", _text(first.get("alt_text")))
        _put(image, "caption", _text(_rendered(first.get("caption"))))
        mime = first.get("mime_type")
        if isinstance(mime, str) and mime.startswith("image/"):
            image["media_type"] = mime
        for side in ("width", "height"):
            if isinstance(details.get(side), int) and details[side] > 0:
                image[side] = details[side]
        names.update(
            {
                "image": base,
                "image.url": f"{base}.source_url",
                "image.alt": f"{base}.alt_text",
                "image.caption": f"{base}.caption.rendered",
                "image.media_type": f"{base}.mime_type",
                "image.width": f"{base}.media_details.width",
                "image.height": f"{base}.media_details.height",
            }
        )
        return image
    # Jetpack adds the featured image's URL to every REST post, _embed or not.
    if post.get("jetpack_featured_media_url"):
        names.update(
            {"image": "jetpack_featured_media_url", "image.url": "jetpack_featured_media_url"}
        )
        return {"url": post["jetpack_featured_media_url"]}
    return None


def _wordpress(post: dict[str, Any]) -> Intent:
    if post.get("type") in _WP_NOT_ARTICLES:
        return Ignore(f"a WordPress {post['type']}, not a post", "wordpress")
    content = _obj(post.get("content"))
    link = _absolute(post.get("link"))
    article_id, id_field = _wp_id(post.get("guid"), post.get("link"), post.get("id"))
    if article_id is None:
        raise PayloadInvalid([("guid.rendered", "required: the post's guid (or its id and link)")])
    status, hidden = _wp_status(post.get("status"), password=bool(content.get("protected")))
    if status is None:
        return Retract(article_id, link, f"the WordPress post is {hidden}", "wordpress")
    names = {
        "id": "guid.rendered" if id_field == "guid" else "id",
        "title": "title.rendered",
        "body_html": "content.rendered",
        "subtitle": "excerpt.rendered",
        "slug": "slug",
        "canonical_url": "link",
        "updated_at": "modified_gmt",
        "authors": "_embedded.author",
        "section": "_embedded.wp:term",
        "tags": "_embedded.wp:term",
    }
    data: dict[str, Any] = {"id": article_id, "status": status}
    _put(data, "title", _text(_rendered(post.get("title"))))
    body = _rendered(content) if content else None
    _put(data, "body_html", body)
    excerpt = _text(_rendered(post.get("excerpt")))
    if excerpt and not _auto_excerpt(excerpt, body or ""):
        data["subtitle"] = excerpt
    _put(data, "slug", _wp_slug(post.get("slug")))
    _put(data, "canonical_url", link)
    published = _wp_gmt(post.get("date_gmt"))
    names["published_at"] = names["publish_at"] = "date_gmt"
    if published is None:
        published = _wp_local(post.get("date"))
        names["published_at"] = names["publish_at"] = "date"
    _put(data, "publish_at" if status == "scheduled" else "published_at", published)
    _put(data, "updated_at", _wp_gmt(post.get("modified_gmt")))
    embedded = _obj(post.get("_embedded"))
    authors = embedded.get("author")
    _put(
        data,
        "authors",
        [
            _text(a["name"])
            for a in (authors if isinstance(authors, list) else ())
            # A site that hides its users answers {"code": "rest_user_cannot_view", ...} here.
            if isinstance(a, dict) and isinstance(a.get("name"), str) and _text(a["name"])
        ],
    )
    terms = _wp_terms(embedded)
    _put(data, "section", _wp_section(terms.get("category", ())))
    _put(
        data,
        "tags",
        [_text(t.get("name")) for t in terms.get("post_tag", ()) if _text(t.get("name"))],
    )
    _put(data, "image", _wp_media(embedded, post, names))
    return Upsert(data, names, "wordpress")


# WP_Post.post_content is stored unrendered: the classic editor's paragraphs are blank lines
# (wpautop adds <p> on display) and its captions are [caption] shortcodes.
_BLOCK_TAG = re.compile(
    r"</?(p|div|h[1-6]|ul|ol|li|blockquote|figure|table|pre|hr|section|iframe)[\s/>]", re.I
)
_LEADING_COMMENTS = re.compile(r"^(?:\s*<!--.*?-->)+\s*", re.S)
_CAPTION = re.compile(r"\[caption[^\]]*\](.*?)\[/caption\]", re.S)
_CAPTION_MEDIA = re.compile(r"^\s*((?:<a[^>]*>\s*)?<img[^>]*>(?:\s*</a>)?)(.*)$", re.S)
_MEDIA_SHORTCODE = re.compile(
    r"\[(gallery|embed|audio|video|playlist)\b[^\]]*\](?:.*?\[/\1\])?", re.S
)


def _caption_figure(match: re.Match[str]) -> str:
    inner = _CAPTION_MEDIA.match(match.group(1))
    if inner is None:
        return match.group(1)
    caption = inner.group(2).strip()
    return f"<figure>{inner.group(1)}<figcaption>{caption}</figcaption></figure>"


def autop(content: str) -> str:
    """Unrendered post_content -> HTML with paragraphs (the gist of WordPress's wpautop): each
    blank-line-separated chunk that does not open with a block element becomes a <p>. Block
    editor content (every chunk a <!-- wp:... --> comment and its element) passes unchanged."""
    content = _MEDIA_SHORTCODE.sub("", _CAPTION.sub(_caption_figure, content))
    out = []
    for chunk in re.split(r"\n\s*\n", content.replace("\r\n", "\n")):
        chunk = chunk.strip()
        if not chunk:
            continue
        opening = _LEADING_COMMENTS.sub("", chunk)
        if not opening or _BLOCK_TAG.match(opening):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br>") + "</p>")
    return "\n".join(out)


def _wp_webhook(data: dict[str, Any]) -> Intent:
    post = data["post"]
    if post.get("post_type") in _WP_NOT_ARTICLES or str(post.get("post_type", "")).startswith(
        "wp_"
    ):
        return Ignore(f"a WordPress {post.get('post_type')}, not a post", "wp-webhooks")
    link = _absolute(data.get("post_permalink"))
    article_id, id_field = _wp_id(post.get("guid"), link, post.get("ID", data.get("post_id")))
    if article_id is None:
        raise PayloadInvalid([("post.guid", "required: the post's guid")])
    status, hidden = _wp_status(post.get("post_status"), password=bool(post.get("post_password")))
    if status is None:
        # A trashed post's permalink has "__trashed" added to its slug: without it, it is the
        # URL it was published under (what an article first read from the site's feed is
        # known by). A draft's is "?p=<ID>", which no stored article has.
        was = link.replace("__trashed/", "/") if link and "__trashed" in link else None
        return Retract(article_id, was, f"the WordPress post is {hidden}", "wp-webhooks")
    names = {
        "id": "post.guid" if id_field == "guid" else "post_id",
        "title": "post.post_title",
        "body_html": "post.post_content",
        "subtitle": "post.post_excerpt",
        "slug": "post.post_name",
        "canonical_url": "post_permalink",
        "updated_at": "post.post_modified_gmt",
        "image": "post_thumbnail",
        "image.url": "post_thumbnail",
        "section": "taxonomies.category",
        "tags": "taxonomies.post_tag",
    }
    out: dict[str, Any] = {"id": article_id, "status": status}
    _put(out, "title", _text(post.get("post_title")))
    content = post.get("post_content")
    _put(out, "body_html", autop(content) if isinstance(content, str) else content)
    _put(out, "subtitle", _text(post.get("post_excerpt")))
    _put(out, "slug", _wp_slug(post.get("post_name")))
    _put(out, "canonical_url", link)
    published = _wp_gmt(post.get("post_date_gmt"))
    names["published_at"] = names["publish_at"] = "post.post_date_gmt"
    if published is None:
        published = _wp_local(post.get("post_date"))
        names["published_at"] = names["publish_at"] = "post.post_date"
    _put(out, "publish_at" if status == "scheduled" else "published_at", published)
    _put(out, "updated_at", _wp_gmt(post.get("post_modified_gmt")))
    thumbnail = data.get("post_thumbnail")
    if isinstance(thumbnail, str) and thumbnail:  # false when the post has none
        out["image"] = {"url": thumbnail}
    taxonomies = _obj(data.get("taxonomies"))

    def terms(taxonomy: str) -> list[Mapping[str, Any]]:
        # {slug: term} per taxonomy; PHP's empty array arrives as [] instead of {}.
        found = taxonomies.get(taxonomy)
        values = found.values() if isinstance(found, dict) else ()
        return [t for t in values if isinstance(t, dict)]

    _put(out, "section", _wp_section(terms("category")))
    _put(out, "tags", [_text(t.get("name")) for t in terms("post_tag") if _text(t.get("name"))])
    return Upsert(out, names, "wp-webhooks")


# --- Ghost ----------------------------------------------------------------------------------


def _ghost(data: dict[str, Any]) -> Intent:
    if "post" not in data:
        return Ignore("a Ghost page, not a post", "ghost")
    body = data["post"]
    current = _obj(body.get("current"))
    previous = _obj(body.get("previous"))
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
    _put(out, "title", current.get("title"))
    if current.get("html"):
        out["body_html"] = current["html"]
    else:  # an empty post renders html null; its plaintext then says whether there is text
        _put(out, "body_text", current.get("plaintext"))
    _put(out, "subtitle", _text(current.get("custom_excerpt")))
    _put(out, "slug", current.get("slug"))
    _put(out, "canonical_url", url)
    _put(
        out, "publish_at" if status == "scheduled" else "published_at", current.get("published_at")
    )
    _put(out, "updated_at", current.get("updated_at"))
    authors = current.get("authors")
    _put(
        out,
        "authors",
        [
            a["name"]
            for a in (authors if isinstance(authors, list) else ())
            if isinstance(a, dict) and a.get("name")
        ],
    )
    tags = [t for t in (current.get("tags") or ()) if _ghost_public_tag(t)]
    primary = _obj(current.get("primary_tag"))
    if _ghost_public_tag(primary):
        out["section"] = primary["name"]
    _put(
        out,
        "tags",
        [t["name"] for t in tags if t is not primary and t.get("name") != out.get("section")],
    )
    if current.get("feature_image"):
        image: dict[str, Any] = {"url": current["feature_image"]}
        _put(image, "alt", _text(current.get("feature_image_alt")))
        _put(image, "caption", _text(current.get("feature_image_caption")))
        out["image"] = image
    return Upsert(out, names, "ghost")


def _ghost_url(post: Mapping[str, Any]) -> str | None:
    # canonical_url is set only when the post first appeared elsewhere; url is its Ghost page.
    return _absolute(post.get("canonical_url")) or _absolute(post.get("url"))


def _ghost_public_tag(tag: Any) -> bool:
    # Internal tags ("#kirim-ke-fediverse") organise the newsroom and are never shown.
    return (
        isinstance(tag, dict)
        and isinstance(tag.get("name"), str)
        and bool(tag["name"].strip())
        and tag.get("visibility", "public") == "public"
        and not tag["name"].startswith("#")
    )


_TRANSLATORS = {"wordpress": _wordpress, "wp-webhooks": _wp_webhook, "ghost": _ghost}
