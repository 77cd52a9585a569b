"""Markdown reports with YAML front matter -> Article. Pure.

    text | split_front_matter | map keys (date -> published_at, author -> authors, draft ...)
        | markdown-it (CommonMark) -> HTML | clean_fragment (dateline, Baca Juga, sanitize)
        | title: front matter, else a leading "# Heading", else the first short line, else
          derived from the lead (with a warning) | jsonin.build_article

The front matter is checked with the same ArticleIn model as JSON, so a bad value reads the
same whichever way it came in ("front matter: publish_at: an ISO 8601 date ...").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import yaml
from markdown_it import MarkdownIt

from siarkan.articles.htmlbody import clean_fragment
from siarkan.articles.jsonin import ArticleInvalid, Built, build_article, validate_payload
from siarkan.articles.text import ArticleRejected, derive_title, looks_like_title, parse_datetime
from siarkan.articles.whitespace import inline, normalize_newlines
from siarkan.config import SiteSettings

_FENCE = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_H1 = re.compile(r"\A#[ \t]+(?P<title>[^\n]+?)[ \t#]*(?:\n|\Z)")

# Front matter names used by Hugo, Jekyll and WordPress exports -> ArticleIn fields.
ALIASES = {
    "date": "published_at",
    "published": "published_at",
    "pubdate": "published_at",
    "updated": "updated_at",
    "lastmod": "updated_at",
    "modified": "updated_at",
    "author": "authors",
    "canonical": "canonical_url",
    "lang": "language",
    "description": "subtitle",
    "category": "section",
}
FIELDS = frozenset(
    {
        "id", "slug", "title", "subtitle", "dateline", "authors", "section", "tags", "language",
        "canonical_url", "image", "related", "published_at", "updated_at", "publish_at", "status",
    }
)  # fmt: skip
_DATE_FIELDS = ("published_at", "updated_at", "publish_at")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """'---\\nyaml\\n---\\nbody' -> (mapping, body). No fence: ({}, text)."""
    m = _FENCE.match(text)
    if m is None:
        return {}, text
    try:
        data = yaml.safe_load(m.group("yaml"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArticleRejected(f"front matter{where}: invalid YAML ({problem})") from None
    except ValueError as exc:
        # PyYAML builds dates itself: `date: 2025-13-45` fails in datetime, not as YAMLError.
        raise ArticleRejected(f"front matter: invalid date ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArticleRejected("front matter: expected key: value pairs")
    return data, text[m.end() :]


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # CommonMark with raw HTML allowed: the sanitizer decides what survives, not the parser.
    return MarkdownIt("commonmark", {"html": True})


def render(markdown: str) -> str:
    return str(_renderer().render(markdown))


def map_front_matter(
    data: dict[str, Any], settings: SiteSettings
) -> tuple[dict[str, Any], list[str]]:
    """Front matter -> ArticleIn fields, plus warnings for keys that are ignored."""
    fields: dict[str, Any] = {}
    warnings: list[str] = []
    for raw_key, value in data.items():
        key = ALIASES.get(str(raw_key).lower(), str(raw_key).lower())
        if key == "draft":
            if value is True:
                fields["status"] = "draft"
            continue
        if key == "categories":
            if "section" not in data and isinstance(value, list) and value:
                fields.setdefault("section", str(value[0]))
            continue
        if key not in FIELDS:
            warnings.append(f"front matter key {raw_key!r} ignored")
            continue
        if key in fields:
            continue  # "date" and "published_at" both given: the first wins
        if key in _DATE_FIELDS and isinstance(value, date | datetime):
            value = parse_datetime(value, settings.tz)
        if key in ("title", "slug", "section", "subtitle", "dateline") and isinstance(
            value, int | float
        ):
            value = str(value)
        fields[key] = value
    return fields, warnings


def parse_markdown(
    text: str, *, settings: SiteSettings, source: str, id_seed: str | None = None
) -> Built:
    data, markdown = split_front_matter(normalize_newlines(text))
    fields, warnings = map_front_matter(data, settings)
    markdown = markdown.strip("\n")
    title = fields.get("title")
    if not title:
        heading = _H1.match(markdown)
        first_line, _, rest = markdown.partition("\n")
        if heading is not None:
            title, markdown = heading.group("title"), markdown[heading.end() :]
        elif (
            rest.strip()
            and looks_like_title(first_line)
            and not first_line.startswith(("#", "*", "-", ">", "!", "[", "<", "|"))
        ):
            title, markdown = first_line, rest
    # Not validated yet (that needs the body): `canonical: [a, b]` must not reach urljoin.
    base = fields.get("canonical_url")
    body = clean_fragment(render(markdown), base_url=base if isinstance(base, str) else None)
    if not body.paragraphs:
        raise ArticleRejected("the markdown body holds no text")
    if not title:
        title = derive_title(body.paragraphs[0])
        warnings.append(f"no title; derived from the lead: {title!r}")
    fields["title"] = inline(str(title))
    # The rendered body satisfies "one body field" for validation; `body` is what is used.
    fields["body_html"] = "<p>…</p>"
    try:
        model = validate_payload(fields)
    except ArticleInvalid as exc:
        raise ArticleInvalid([(f"front matter: {path}", msg) for path, msg in exc.errors]) from None
    article = build_article(model, body, settings=settings, source=source, id_seed=id_seed)
    return Built(article, tuple(warnings))
