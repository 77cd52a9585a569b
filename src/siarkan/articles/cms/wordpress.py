"""WordPress: REST API post objects and the WP Webhooks plugin's post triggers -> intents.
Pure. The shapes are described in the package docstring (cms/__init__.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

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
    rendered,
    stable_id,
)

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
    guid_url = absolute_url(rendered(guid))
    if guid_url:
        return stable_id(guid_url), "guid"
    link_url = absolute_url(link)
    if link_url and isinstance(post_id, int):
        parts = urlsplit(link_url)
        return stable_id(f"{parts.scheme}://{parts.netloc}/?p={post_id}"), "id"
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
        name = plain_text(term.get("name"))
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
    return bool(head) and head in plain_text(body_html)[: len(head) + 200]


def _wp_media(
    embedded: Mapping[str, Any], post: Mapping[str, Any], names: dict[str, str]
) -> dict[str, Any] | None:
    base = "_embedded.wp:featuredmedia.0"
    media = embedded.get("wp:featuredmedia")
    first = media[0] if isinstance(media, list) and media else None
    # An unauthenticated _embed can hold {"code": "rest_forbidden", ...} in place of a media item.
    if isinstance(first, dict) and first.get("source_url") and first.get("media_type") == "image":
        details = as_dict(first.get("media_details"))
        image: dict[str, Any] = {"url": first["source_url"]}
        put(image, "alt", plain_text(first.get("alt_text")))
        put(image, "caption", plain_text(rendered(first.get("caption"))))
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


def _put_date(
    out: dict[str, Any],
    names: dict[str, str],
    post: Mapping[str, Any],
    status: str,
    field: str,
    *,
    prefix: str,
) -> None:
    """The publication (or, scheduled, the release) time: `<field>_gmt`, else the site-time
    `<field>`; errors name whichever was read."""
    published, source = _wp_gmt(post.get(f"{field}_gmt")), f"{field}_gmt"
    if published is None:
        published, source = _wp_local(post.get(field)), field
    names["published_at"] = names["publish_at"] = prefix + source
    put(out, "publish_at" if status == "scheduled" else "published_at", published)


def _post_type(value: Any) -> str:
    # A set lookup hashes its key: a payload's {"type": {...}} must not raise TypeError.
    return value if isinstance(value, str) else ""


def from_rest(post: dict[str, Any]) -> Intent:
    if _post_type(post.get("type")) in _WP_NOT_ARTICLES:
        return Ignore(f"a WordPress {post['type']}, not a post", "wordpress")
    content = as_dict(post.get("content"))
    link = absolute_url(post.get("link"))
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
    put(data, "title", plain_text(rendered(post.get("title"))))
    body = rendered(content) if content else None
    put(data, "body_html", body)
    excerpt = plain_text(rendered(post.get("excerpt")))
    if excerpt and not _auto_excerpt(excerpt, body or ""):
        data["subtitle"] = excerpt
    put(data, "slug", _wp_slug(post.get("slug")))
    put(data, "canonical_url", link)
    _put_date(data, names, post, status, "date", prefix="")
    put(data, "updated_at", _wp_gmt(post.get("modified_gmt")))
    embedded = as_dict(post.get("_embedded"))
    authors = embedded.get("author")
    put(
        data,
        "authors",
        [
            plain_text(a["name"])
            for a in (authors if isinstance(authors, list) else ())
            # A site that hides its users answers {"code": "rest_user_cannot_view", ...} here.
            if isinstance(a, dict) and isinstance(a.get("name"), str) and plain_text(a["name"])
        ],
    )
    terms = _wp_terms(embedded)
    put(data, "section", _wp_section(terms.get("category", ())))
    put(
        data,
        "tags",
        [plain_text(t.get("name")) for t in terms.get("post_tag", ()) if plain_text(t.get("name"))],
    )
    put(data, "image", _wp_media(embedded, post, names))
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


def from_webhook(data: dict[str, Any]) -> Intent:
    post = data["post"]
    post_type = _post_type(post.get("post_type"))
    if post_type in _WP_NOT_ARTICLES or post_type.startswith("wp_"):
        return Ignore(f"a WordPress {post.get('post_type')}, not a post", "wp-webhooks")
    link = absolute_url(data.get("post_permalink"))
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
    put(out, "title", plain_text(post.get("post_title")))
    content = post.get("post_content")
    put(out, "body_html", autop(content) if isinstance(content, str) else content)
    put(out, "subtitle", plain_text(post.get("post_excerpt")))
    put(out, "slug", _wp_slug(post.get("post_name")))
    put(out, "canonical_url", link)
    _put_date(out, names, post, status, "post_date", prefix="post.")
    put(out, "updated_at", _wp_gmt(post.get("post_modified_gmt")))
    thumbnail = data.get("post_thumbnail")
    if isinstance(thumbnail, str) and thumbnail:  # false when the post has none
        out["image"] = {"url": thumbnail}
    taxonomies = as_dict(data.get("taxonomies"))

    def terms(taxonomy: str) -> list[Mapping[str, Any]]:
        # {slug: term} per taxonomy; PHP's empty array arrives as [] instead of {}.
        found = taxonomies.get(taxonomy)
        values = found.values() if isinstance(found, dict) else ()
        return [t for t in values if isinstance(t, dict)]

    put(out, "section", _wp_section(terms("category")))
    put(
        out,
        "tags",
        [plain_text(t.get("name")) for t in terms("post_tag") if plain_text(t.get("name"))],
    )
    return Upsert(out, names, "wp-webhooks")
