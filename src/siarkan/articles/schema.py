"""The JSON shape of one article, as the admin API (POST /api/articles) and `siarkan import
file.json` accept it. Validation only; `jsonin` turns a valid ArticleIn into an Article.

    {"title": "...", "body_text" | "body_html" | "paragraphs": ..., "tags": [...], ...}

Unknown fields are errors (a typo such as "tittle" must not silently drop data). Timestamps are
ISO 8601; naive ones are taken in the site's time zone by `jsonin`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

BODY_FIELDS = ("body_html", "body_text", "paragraphs")


# Never in a URL as written (RFC 3986 section 2; WHATWG URL): whitespace, controls, <>"\.
# urlsplit is lenient and takes "https://a b.example/x"; stored, it would be a feed's broken
# link (the W3C validator's "not a valid URI") and a post's dead one.
_NOT_IN_URL = re.compile(r'[\s\x00-\x1f\x7f<>"\\]')


def _absolute_http(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError:
        raise ValueError("an absolute http(s) URL") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or _NOT_IN_URL.search(value) is not None
    ):
        raise ValueError("an absolute http(s) URL")
    return value


def _listify(value: Any) -> Any:
    """ "A, B" or "A" -> ["A", "B"] / ["A"]; None -> []."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _single_author(value: Any) -> Any:
    # An author's name may contain a comma ("H. Rahmat, S.H."): one string is one author.
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return value


def _image_from_url(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else value


AbsoluteUrl = Annotated[str, Field(max_length=2000), AfterValidator(_absolute_http)]
Text = Annotated[str, Field(max_length=100_000)]
ShortText = Annotated[str, Field(max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ImageIn(_Strict):
    url: AbsoluteUrl
    alt: ShortText = ""
    caption: Annotated[str, Field(max_length=2000)] = ""
    credit: ShortText = ""
    media_type: Annotated[str, Field(pattern=r"^image/[a-z0-9.+-]+$")] | None = None
    width: Annotated[int, Field(ge=1, le=100_000)] | None = None
    height: Annotated[int, Field(ge=1, le=100_000)] | None = None
    length: Annotated[int, Field(ge=0)] | None = None


class RelatedIn(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=500)]
    url: AbsoluteUrl | None = None


class ArticleIn(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")] | None = None
    slug: Annotated[str, Field(max_length=200)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=500)]
    subtitle: Annotated[str, Field(max_length=2000)] | None = None
    dateline: Annotated[str, Field(max_length=200)] | None = None
    body_html: Annotated[str, Field(max_length=2_000_000)] | None = None
    body_text: Annotated[str, Field(max_length=2_000_000)] | None = None
    paragraphs: list[Text] | None = None
    authors: Annotated[list[ShortText], BeforeValidator(_single_author)] = []
    section: Annotated[str, Field(max_length=100)] | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=200)]], BeforeValidator(_listify)] = []
    language: Annotated[str, Field(pattern=r"^[a-zA-Z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")] | None = None
    canonical_url: AbsoluteUrl | None = None
    image: Annotated[ImageIn | None, BeforeValidator(_image_from_url)] = None
    related: list[RelatedIn] = []
    published_at: datetime | None = None
    updated_at: datetime | None = None
    publish_at: datetime | None = None
    status: Literal["draft", "scheduled", "published", "retracted"] = "published"
