"""The W3C Feed Validation Service's rules that bite, re-checked on our output.

Each check cites the validator source it mirrors (github w3c/feedvalidator, src/feedvalidator):
the real service needs the network, so the tests run these on every feed instead. Returns a
list of problems; an empty list means "no errors, no warnings" for these rules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from email.utils import parsedate_tz
from urllib.parse import urlsplit

import html5lib
from html5lib.html5parser import ParseError
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"

# validators.py rfc2822_re: day-of-week optional, numeric zone (or UT/GMT/US zones), no "WIB"
RFC2822_RE = re.compile(
    r"^(((Mon)|(Tue)|(Wed)|(Thu)|(Fri)|(Sat)|(Sun)), )?\d\d? ((Jan)|(Feb)|(Mar)|(Apr)|(May)|"
    r"(Jun)|(Jul)|(Aug)|(Sep)|(Oct)|(Nov)|(Dec)) \d\d\d\d \d\d:\d\d(:\d\d)? "
    r"(([+-]?\d\d[03]0)|(UT)|(GMT)|(EST)|(EDT)|(CST)|(CDT)|(MST)|(MDT)|(PST)|(PDT)|Z)$"
)
# validators.py rfc3339
RFC3339_RE = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*)?(Z|([+-]\d\d:\d\d))$")
# validators.py rfc2396_full: absolute, ASCII URI characters only
FULL_URI_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z+\-\.]*:(//)?[0-9a-zA-Z;/?:@&=+$\.\-_!~*'()%,#]+$")
# validators.py absUrlMixin: href/src that do not start with a scheme are relative
ANCHOR_RE = re.compile(r"<a\s+href=(?:\"(.*?)\"|'(.*?)'|([\w-]+))[\s>]", re.IGNORECASE)
IMG_RE = re.compile(r"<img\s+[^>]*src=(?:\"(.*?)\"|'(.*?)'|([\w-]+))[\s>]", re.IGNORECASE)
ABSREF_RE = re.compile(r"\w+:")
# validators.py HTMLValidator.acceptable_elements (the ones a news body could contain)
ACCEPTABLE = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "li", "mark", "ol", "p", "picture", "pre", "q", "s", "small",
    "source", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul", "video", "audio", "track",
}  # fmt: skip
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BAD_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f\ufffd]")


def check_html(html: str, where: str) -> list[str]:
    """validators.py HTMLValidator + absUrlMixin + checkStyle."""
    problems: list[str] = []
    try:
        fragment = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parseFragment(html)
    except ParseError as exc:
        return [f"{where}: NotHtml (html5lib strict): {exc}"]
    for element in fragment.iter():
        if not isinstance(element.tag, str) or element.tag == "DOCUMENT_FRAGMENT":
            continue
        if element.tag not in ACCEPTABLE:
            problems.append(f"{where}: SecurityRisk <{element.tag}>")
        for name in element.attrib:
            if name == "style" or name.startswith("on"):
                problems.append(f"{where}: SecurityRiskAttr {name}= on <{element.tag}>")
    for match in IMG_RE.findall(html) + ANCHOR_RE.findall(html):
        ref = next(part for part in match if part) if any(match) else ""
        if not ABSREF_RE.match(ref.strip()):
            problems.append(f"{where}: ContainsRelRef {ref!r}")
    return problems


def check_rfc822(value: str, where: str, now: dt.datetime | None = None) -> list[str]:
    if not RFC2822_RE.match(value):
        return [f"{where}: InvalidRFC2822Date {value!r}"]
    parsed = parsedate_tz(value)
    assert parsed is not None
    date = dt.date(*parsed[:3])
    if "," in value and date.strftime("%a") != value[:3]:
        return [f"{where}: IncorrectDOW {value!r}"]
    return []


def _links(parent: etree._Element, tag: str) -> list[etree._Element]:
    return parent.findall(tag)


def _self_link(links: list[etree._Element], media_type: str, where: str) -> list[str]:
    selfs = [link for link in links if link.get("rel") == "self"]
    if not selfs:
        return [f"{where}: MissingAtomSelfLink"]
    problems = []
    href = selfs[0].get("href", "")
    if not urlsplit(href).netloc:
        problems.append(f"{where}: RelativeSelf {href!r}")
    if selfs[0].get("type") != media_type:
        problems.append(f"{where}: self link type {selfs[0].get('type')!r}")
    return problems


def check_rss(body: bytes) -> list[str]:
    problems: list[str] = []
    text = body.decode("utf-8")
    if BAD_CHARS_RE.search(text):
        problems.append("BadCharacters")
    root = etree.fromstring(body)
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        if channel.find(required) is None or not (channel.findtext(required) or "").strip():
            problems.append(f"channel: Missing {required}")
    if channel.find("language") is None:
        problems.append("channel: MissingDCLanguage")
    links = _links(channel, f"{{{ATOM}}}link")
    problems += _self_link(links, "application/rss+xml", "channel")
    if not FULL_URI_RE.match(channel.findtext("link") or ""):
        problems.append("channel: InvalidFullLink <link>")
    seen_item = False
    for child in channel:
        if child.tag == "item":
            seen_item = True
        elif seen_item:
            problems.append(f"channel: MisplacedItem (<{child.tag}> after an item)")
    image_url = channel.findtext("image/url")
    if image_url is not None:
        # image.py url: the text after the last dot, if one word, must be jpg/jpeg/gif/png.
        extension = image_url.split(".")[-1].lower()
        if re.match(r"^\w+$", extension) and extension not in ("jpg", "jpeg", "gif", "png"):
            problems.append(f"channel: ImageUrlFormat {image_url!r}")
        if channel.findtext("image/title") != channel.findtext("title"):
            problems.append("channel: ImageTitleDoesntMatch")
        if channel.findtext("image/link") != channel.findtext("link"):
            problems.append("channel: ImageLinkDoesntMatch")
    for date_tag in ("lastBuildDate", "pubDate"):
        if channel.find(date_tag) is not None:
            problems += check_rfc822(channel.findtext(date_tag) or "", f"channel {date_tag}")
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item")):
        where = f"item {index}"
        tags = [child.tag for child in item]
        if re.search(r"<[a-zA-Z/]", item.findtext("title") or ""):
            problems.append(f"{where}: ContainsHTML title")
        if "title" not in tags and "description" not in tags:
            problems.append(f"{where}: ItemMustContainTitleOrDescription")
        guid = item.find("guid")
        if guid is None:
            problems.append(f"{where}: MissingGuid")
        else:
            value = guid.text or ""
            if value in guids:
                problems.append(f"{where}: DuplicateValue guid")
            guids.add(value)
            permalink = guid.get("isPermaLink", "true") == "true"
            if permalink and not FULL_URI_RE.match(value):
                problems.append(f"{where}: InvalidHttpGUID {value!r}")
        if item.find("link") is not None and not FULL_URI_RE.match(item.findtext("link") or ""):
            problems.append(f"{where}: InvalidFullLink")
        if item.find("description") is not None:  # item.py do_description: safeHtml
            problems += check_html(item.findtext("description") or "", f"{where} description")
        if f"{{{CONTENT}}}encoded" in tags:
            if "description" not in tags or tags.index("description") > tags.index(
                f"{{{CONTENT}}}encoded"
            ):
                problems.append(f"{where}: NeedDescriptionBeforeContent")
            problems += check_html(item.findtext(f"{{{CONTENT}}}encoded") or "", where)
        if "author" in tags and f"{{{DC}}}creator" in tags:
            problems.append(f"{where}: DuplicateItemSemantics author/dc:creator")
        for author in item.findall("author"):
            if not EMAIL_RE.match((author.text or "").split(" ")[0]):
                problems.append(f"{where}: InvalidContact author")
        for creator in item.findall(f"{{{DC}}}creator"):
            if EMAIL_RE.match(creator.text or ""):
                problems.append(f"{where}: bare e-mail as author")
        if item.find("pubDate") is not None:
            problems += check_rfc822(item.findtext("pubDate") or "", f"{where} pubDate")
        enclosures = item.findall("enclosure")
        if len(enclosures) > 1:
            problems.append(f"{where}: DuplicateEnclosure")
        for enclosure in enclosures:
            for attr in ("url", "length", "type"):
                if enclosure.get(attr) is None:
                    problems.append(f"{where}: enclosure MissingAttribute {attr}")
            if not (enclosure.get("length") or "x").isdigit():
                problems.append(f"{where}: enclosure InvalidIntegerAttribute length")
        for category in item.findall("category"):
            if not (category.text or "").strip():
                problems.append(f"{where}: NotBlank category")
        if item.find(f"{{{MEDIA}}}group") is not None:
            problems.append(f"{where}: media:group (MediaGroupWithoutAlternatives)")
    return problems


def check_atom(body: bytes) -> list[str]:
    problems: list[str] = []
    if BAD_CHARS_RE.search(body.decode("utf-8")):
        problems.append("BadCharacters")
    root = etree.fromstring(body)
    a = f"{{{ATOM}}}"
    for required in ("id", "title", "updated"):
        if root.find(a + required) is None:
            problems.append(f"feed: Missing {required}")
    if not RFC3339_RE.match(root.findtext(a + "updated") or ""):
        problems.append("feed: InvalidRFC3339Date updated")
    feed_links = root.findall(a + "link")
    problems += _self_link(feed_links, "application/atom+xml", "feed")
    problems += _duplicate_alternates(feed_links, "feed")
    feed_author = root.find(a + "author") is not None
    ids: set[str] = set()
    for index, entry in enumerate(root.findall(a + "entry")):
        where = f"entry {index}"
        entry_id = entry.findtext(a + "id") or ""
        if not FULL_URI_RE.match(entry_id):
            problems.append(f"{where}: InvalidFullLink id")
        if entry_id in ids:
            problems.append(f"{where}: DuplicateEntries")
        ids.add(entry_id)
        for tag in ("updated", "published"):
            value = entry.findtext(a + tag)
            if value is not None and not RFC3339_RE.match(value):
                problems.append(f"{where}: InvalidRFC3339Date {tag}")
        if entry.find(a + "updated") is None:
            problems.append(f"{where}: Missing updated")
        authors = entry.findall(a + "author")
        if not authors and not feed_author:
            problems.append(f"{where}: MissingAuthor")
        for author in authors:
            if not (author.findtext(a + "name") or "").strip():
                problems.append(f"{where}: author without name")
        links = entry.findall(a + "link")
        problems += _duplicate_alternates(links, where)
        for link in links:
            if link.get("rel") in {
                "current",
                "first",
                "last",
                "next",
                "previous",
                "next-archive",
                "prev-archive",
            }:
                problems.append(f"{where}: FeedHistoryRelInEntry")
        content = entry.find(a + "content")
        if content is not None:
            if content.get("type") not in (None, "text", "html", "xhtml"):
                problems.append(f"{where}: content type {content.get('type')!r}")
            if content.get("type") == "html":
                problems += check_html(content.text or "", where)
        elif not any(link.get("rel", "alternate") == "alternate" for link in links):
            problems.append(f"{where}: MissingContentOrAlternate")
        if entry.find(f"{{{MEDIA}}}group") is not None:
            problems.append(f"{where}: media:group (MediaGroupWithoutAlternatives)")
    return problems


def _duplicate_alternates(links: list[etree._Element], where: str) -> list[str]:
    """link.py / entry.py: two alternate links with the same type and hreflang."""
    seen: set[tuple[str, str]] = set()
    problems: list[str] = []
    for link in links:
        if link.get("rel", "alternate") != "alternate":
            continue
        key = (link.get("type", ""), link.get("hreflang", ""))
        if key in seen:
            problems.append(f"{where}: DuplicateAtomLink alternate")
        seen.add(key)
    return problems


def check_json_feed(body: bytes) -> list[str]:
    """JSON Feed 1.1 (jsonfeed.org/version/1.1): required members and their types."""
    problems: list[str] = []
    feed = json.loads(body)
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("version")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title (required string)")
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        if key in feed and not FULL_URI_RE.match(feed[key]):
            problems.append(f"{key}: not an absolute URL")
    for hub in feed.get("hubs", []):
        if set(hub) != {"type", "url"}:
            problems.append("hubs: each needs type and url")
    for author in feed.get("authors", []):
        if not author.get("name"):
            problems.append("authors: name")
    if not isinstance(feed.get("items"), list):
        return [*problems, "items (required array)"]
    for key in feed:
        if key not in {
            "version",
            "title",
            "home_page_url",
            "feed_url",
            "description",
            "user_comment",
            "next_url",
            "icon",
            "favicon",
            "authors",
            "language",
            "expired",
            "hubs",
            "items",
        } and not key.startswith("_"):
            problems.append(f"unknown top-level member {key!r}")
    ids: set[str] = set()
    for index, item in enumerate(feed["items"]):
        where = f"item {index}"
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}: id (required string)")
        if item.get("id") in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(item.get("id"))
        if "content_html" not in item and "content_text" not in item:
            problems.append(f"{where}: content_html or content_text required")
        for key in ("date_published", "date_modified"):
            if key in item and not RFC3339_RE.match(item[key]):
                problems.append(f"{where}: {key} not RFC 3339")
        for key in ("url", "image"):
            if key in item and not FULL_URI_RE.match(item[key]):
                problems.append(f"{where}: {key} not an absolute URL")
        if "tags" in item and not all(isinstance(t, str) for t in item["tags"]):
            problems.append(f"{where}: tags must be strings")
        for attachment in item.get("attachments", []):
            if not attachment.get("url") or not attachment.get("mime_type"):
                problems.append(f"{where}: attachment needs url and mime_type")
        if "content_html" in item:
            problems += check_html(item["content_html"], where)
    return problems


CHECKS = {"rss": check_rss, "atom": check_atom, "json": check_json_feed}
