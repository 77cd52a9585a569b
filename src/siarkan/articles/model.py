"""The Article type every part of siarkan speaks.

    importer (text | markdown | html | json) -> Article -> store -> feeds / excerpts / federation

An Article is plain, immutable data: importers build it, the store keeps it, renderers read it.
Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    RETRACTED = "retracted"


# WordPress serves one upload in several sizes: "embung-696x464.jpg" is "embung.jpg", and so
# is the "-scaled" original of a large upload.
_WP_SIZE = re.compile(r"(?:-\d{2,5}x\d{2,5}|-scaled)(?=\.\w+$)")


def picture_name(url: str) -> str:
    """The file name of a picture, whatever size of it the URL asks for."""
    try:
        path = urlsplit(url).path
    except ValueError:  # "http://[x/a.jpg" (urlsplit checks the brackets): no picture to match
        return ""
    return _WP_SIZE.sub("", path.rsplit("/", 1)[-1])


def same_picture(a: str, b: str) -> bool:
    """Whether two image URLs show the same picture (maybe in another size)."""
    name = picture_name(a)
    return bool(name) and name == picture_name(b)


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt: str = ""
    caption: str = ""
    credit: str = ""
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    length: int | None = None

    def type_or_guess(self) -> str | None:
        """The stored media type, else an image/* type from the URL's extension, else None.

        Readers and fediverse servers show an enclosure or attachment without a type as a
        file, not a picture (Pleroma: application/octet-stream)."""
        if self.media_type:
            return self.media_type
        guessed, _ = mimetypes.guess_type(urlsplit(self.url).path)
        return guessed if guessed and guessed.startswith("image/") else None


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """A "Baca Juga:" item: kept as data because it is not part of the story."""

    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One news report.

    `paragraphs` are the body's plain-text paragraphs in order, with the dateline already
    removed from the first one and stored in `dateline` (e.g. "SERANG, PROLOGMEDIA");
    `lead` is the first of them. `body_html` is sanitized HTML of the same paragraphs (no
    dateline, no related-link blocks). Timestamps are always time-zone aware.
    """

    id: str
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    body_html: str
    language: str = "id"
    subtitle: str | None = None
    dateline: str | None = None
    authors: tuple[str, ...] = ()
    section: str | None = None
    tags: tuple[str, ...] = ()
    canonical_url: str | None = None
    image: Image | None = None
    related: tuple[RelatedLink, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    publish_at: datetime | None = None
    status: Status = Status.PUBLISHED
    source: str = ""
    content_hash: str = field(default="")

    @property
    def lead(self) -> str:
        return self.paragraphs[0] if self.paragraphs else ""

    @property
    def text(self) -> str:
        """The story as plain text, paragraphs separated by blank lines (no dateline)."""
        return "\n\n".join(self.paragraphs)

    def with_hash(self) -> Article:
        return replace(self, content_hash=compute_content_hash(self))


# Fields that make up "the content": a change in any of them is an edit. Timestamps that the
# store manages (updated_at) and bookkeeping (source, content_hash) are left out, so importing
# the same report twice hashes the same.
_HASHED_FIELDS = (
    "slug",
    "title",
    "paragraphs",
    "body_html",
    "language",
    "subtitle",
    "dateline",
    "authors",
    "section",
    "tags",
    "canonical_url",
    "image",
    "related",
    "published_at",
    "publish_at",
    "status",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def compute_content_hash(article: Article) -> str:
    data = asdict(article)
    payload = {name: _jsonable(data[name]) for name in _HASHED_FIELDS}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def article_to_dict(article: Article) -> dict[str, Any]:
    """Every stored field, JSON-ready (used by `articles show --json` and the admin API)."""
    data: dict[str, Any] = _jsonable(asdict(article))
    data["status"] = str(article.status)
    data["lead"] = article.lead
    return data
