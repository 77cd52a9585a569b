"""What every CMS translation shares: the intents (what to do with a payload) and the small
readers of loosely typed JSON fields. Pure."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lxml.html
from lxml.etree import ParserError

from siarkan.articles.htmlbody import absolute_url as resolve_url

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


def plain_text(fragment: Any) -> str:
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


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rendered(value: Any) -> Any:
    """WordPress's {"rendered": ...} wrapper; a bare value passes (older plugins flatten it)."""
    return value.get("rendered") if isinstance(value, dict) else value


def absolute_url(url: Any) -> str | None:
    """A CMS's URL field (entities decoded: WordPress renders "&amp;") as the page importer
    reads its links: an absolute http(s) URL, else None."""
    if not isinstance(url, str):
        return None
    return resolve_url(html.unescape(url), None)


def stable_id(url: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, url))


def put(data: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        data[key] = value
