"""HTML article pages and HTML bodies -> metadata + a cleaned Body. Pure: strings in, data out.

    page | decode_html | lxml | read_meta (JSON-LD NewsArticle incl. @graph, OpenGraph, <meta>,
        <link rel=canonical>) | find_body (itemprop=articleBody, CMS classes, <article>)
        | clean_container -> Body

    clean_container: related-link boxes -> RelatedLink | drop junk (scripts, ads, share bars,
        newsletter boxes, iframes) | lazy images | blocks (p, h2-h4, lists, quotes, figures,
        loose text split at <br><br>) | "Baca Juga:" paragraphs -> RelatedLink | dateline and
        editor initials trimmed | sanitize

Markdown and JSON `body_html` go through `clean_fragment`, the same cleaning without the page.
lxml is used directly (not BeautifulSoup's tree): same parser, a fraction of the cost, and the
ingest benchmark needs >= 100 pages/s.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from siarkan.articles.model import Image, RelatedLink
from siarkan.articles.sanitize import sanitize_html
from siarkan.articles.text import (
    ArticleRejected,
    Body,
    inline,
    looks_like_headline,
    match_credit,
    match_dateline,
    match_initials,
    parse_datetime,
    parse_report,
    related_link,
    related_marker,
    split_dateline,
)

# --- decoding ---------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Bytes -> text: BOM, then the HTTP charset, then <meta charset>, else UTF-8 (strict, so
    a wrong guess is reported with its byte offset instead of turning into mojibake)."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(codec, errors="replace").lstrip("\ufeff")
    declared = charset
    if declared is None:
        m = _META_CHARSET.search(data, 0, 4096)
        declared = m.group(1).decode("ascii") if m else None
    codec = "utf-8"
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = "utf-8"
    if codec == "utf-8":
        return data.decode("utf-8")  # UnicodeDecodeError carries the offset
    # A declared legacy charset (windows-1252, iso-8859-1) is trusted; stray bytes are replaced.
    return data.decode(codec, errors="replace")


# --- page metadata ----------------------------------------------------------------------------

ARTICLE_TYPES = (
    "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "Article", "BlogPosting", "LiveBlogPosting",
    "Report",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None = None
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    section: str | None = None
    tags: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    canonical_url: str | None = None
    image: Image | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class PageArticle:
    meta: PageMeta
    body: Body
    warnings: tuple[str, ...] = ()


class NoArticleFound(ArticleRejected):
    pass


def _ld_types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    types = raw if isinstance(raw, list) else [raw]
    return {t.rsplit("/", 1)[-1].removeprefix("schema:") for t in types if isinstance(t, str)}


def _ld_nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _ld_nodes(item)
    elif isinstance(value, dict):
        yield value
        if "@graph" in value:
            yield from _ld_nodes(value["@graph"])


def _ld_article(doc: lxml.html.HtmlElement, warnings: list[str]) -> dict[str, Any] | None:
    nodes: list[dict[str, Any]] = []
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = (script.text or "").strip()
        # Some CMSs wrap JSON-LD in HTML comments or CDATA.
        text = re.sub(r"^(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)$", "", text).strip()
        try:
            nodes.extend(_ld_nodes(json.loads(text, strict=False)))
        except ValueError:
            warnings.append("a JSON-LD block is not valid JSON (ignored)")
    for wanted in ARTICLE_TYPES:
        for node in nodes:
            if wanted in _ld_types(node):
                return node
    return None


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("@id")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = inline(str(value))
        return text or None
    return None


def _ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = [_ld_text(item) for item in items]
    return [n for n in names if n and not n.startswith(("http://", "https://"))]


def _int(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("value")
    m = re.match(r"\s*(\d{1,6})", str(value)) if value is not None else None
    return int(m.group(1)) if m else None


def _absolute(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


_CREDIT_IN_CAPTION = re.compile(
    r"\s*[(\[]?\s*(?:foto|photo|gambar|dok(?:umentasi)?\.?)\s*[:/]\s*(?P<credit>[^)\]]{2,120})[)\]]?\s*$",
    re.I,
)


def split_caption_credit(caption: str) -> tuple[str, str]:
    """'Warga mengungsi. (Foto: PROLOGMEDIA/Dhimas)' -> ('Warga mengungsi.', 'PROLOGMEDIA/...')."""
    m = _CREDIT_IN_CAPTION.search(caption)
    if m is None:
        return caption, ""
    return caption[: m.start()].rstrip(), inline(m.group("credit"))


def _same_image(a: str, b: str) -> bool:
    return urlsplit(a).path.rsplit("/", 1)[-1] == urlsplit(b).path.rsplit("/", 1)[-1]


def _image_src(img: lxml.html.HtmlElement) -> str | None:
    """The real source of a lazy-loaded image (data-src & co.), not its placeholder."""
    src = (img.get("src") or "").strip()
    if src and not src.startswith("data:") and not re.search(r"(?i)placeholder|blank\.gif", src):
        return src
    for attr in ("data-src", "data-lazy-src", "data-original", "data-url"):
        if img.get(attr):
            return str(img.get(attr)).strip()
    srcset = img.get("data-srcset") or img.get("srcset")
    if srcset:
        return str(srcset).strip().split(",")[0].split()[0]
    return None


def _first(metas: dict[str, list[str]], key: str) -> str | None:
    values = metas.get(key)
    return values[0] if values else None


def _find_image(
    doc: lxml.html.HtmlElement,
    ld: dict[str, Any] | None,
    metas: dict[str, list[str]],
    base: str | None,
) -> Image | None:
    ld_image = ld.get("image") if ld else None
    if isinstance(ld_image, list):
        ld_image = ld_image[0] if ld_image else None
    url: str | None = None
    alt = caption = credit = ""
    width = height = None
    if isinstance(ld_image, dict):
        url = _ld_text(ld_image.get("url") or ld_image.get("contentUrl"))
        caption = _ld_text(ld_image.get("caption")) or ""
        credit = (
            _ld_text(ld_image.get("creditText"))
            or _ld_text(ld_image.get("copyrightHolder"))
            or _ld_text(ld_image.get("author"))
            or ""
        )
        width, height = _int(ld_image.get("width")), _int(ld_image.get("height"))
    elif isinstance(ld_image, str):
        url = ld_image
    og = metas.get("og:image") or metas.get("og:image:url") or metas.get("twitter:image")
    url = _absolute(url or (og[0] if og else None), base)
    if url is None:
        return None
    if og and _same_image(url, og[0]):
        alt = _first(metas, "og:image:alt") or ""
        width = width or _int(_first(metas, "og:image:width"))
        height = height or _int(_first(metas, "og:image:height"))
    for img in doc.iter("img"):
        src = _image_src(img)
        if src and _same_image(src, url):
            alt = alt or img.get("alt") or ""
            figure = next(img.iterancestors("figure"), None)
            figcaption = figure.find(".//figcaption") if figure is not None else None
            if figcaption is not None and not caption:
                caption = figcaption.text_content()
            break
    caption, caption_credit = split_caption_credit(inline(caption))
    media_type = _first(metas, "og:image:type")
    return Image(
        url=url,
        alt=inline(alt),
        caption=caption,
        credit=inline(credit) or caption_credit,
        media_type=media_type,
        width=width,
        height=height,
    )


def _strip_site_name(title: str, site_names: set[str]) -> str:
    """'Judul Berita | Prolog Media' -> 'Judul Berita'."""
    parts = re.split(r"\s+[|\-–—:•·]+\s+", title)
    if len(parts) > 1 and parts[-1].casefold() in site_names:
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:•·")
    return title


def _language(value: str | None) -> str | None:
    """'id-ID' / 'id_ID' / 'in' -> 'id' (primary subtag; 'in' is Indonesian's old code)."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip())[0].lower()
    if not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return "id" if primary == "in" else primary


def _dedupe(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        value = inline(value)
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return tuple(seen.values())


def _split_keywords(values: list[str]) -> list[str]:
    return [part for value in values for part in value.split(",")]


def read_meta(
    doc: lxml.html.HtmlElement, *, url: str | None, tz: tzinfo, warnings: list[str]
) -> tuple[PageMeta, dict[str, Any] | None, str | None]:
    """Page metadata, the JSON-LD article node (if any) and the base URL for the body."""
    metas: dict[str, list[str]] = {}
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if key and content and content.strip():
            metas.setdefault(key.strip(), []).append(content.strip())
    canonical = base_href = None
    for link in doc.iter("link", "base"):
        if link.tag == "base" and base_href is None:
            base_href = link.get("href")
        elif "canonical" in (link.get("rel") or "").lower().split() and canonical is None:
            canonical = link.get("href")
    ld = _ld_article(doc, warnings)

    def first(*keys: str) -> str | None:
        for key in keys:
            if metas.get(key):
                return metas[key][0]
        return None

    ld_url = None
    if ld:
        main = ld.get("mainEntityOfPage")
        ld_url = _ld_text(main.get("@id") if isinstance(main, dict) else main) or _ld_text(
            ld.get("url")
        )
    og_url = first("og:url")
    # A relative canonical (seen in the wild) is resolved against the best absolute URL known.
    anchor = url or _absolute(og_url, None) or _absolute(ld_url, None)
    # A fetched page that names no canonical URL is its own.
    canonical_url = (
        _absolute(canonical, anchor)
        or _absolute(og_url, anchor)
        or _absolute(ld_url, anchor)
        or _absolute(url, None)
    )
    base = _absolute(base_href, url or canonical_url) or url or canonical_url

    site_names = {n.casefold() for n in (first("og:site_name"), first("application-name")) if n}
    if ld and isinstance(ld.get("publisher"), dict) and _ld_text(ld["publisher"]):
        site_names.add(str(_ld_text(ld["publisher"])).casefold())
    title = _ld_text(ld.get("headline") or ld.get("name")) if ld else None
    if not title:
        h1 = next(doc.iter("h1"), None)
        candidates = (
            first("og:title"),
            first("twitter:title"),
            h1.text_content() if h1 is not None else None,
            doc.findtext(".//title"),
        )
        title = next((inline(_strip_site_name(c, site_names)) for c in candidates if c), None)

    subtitle = _ld_text(ld.get("alternativeHeadline")) if ld else None
    description = (_ld_text(ld.get("description")) if ld else None) or first(
        "og:description", "description", "twitter:description"
    )

    authors = _ld_names(ld.get("author")) if ld else []
    if not authors:
        authors = [a for a in metas.get("article:author", []) if not a.startswith("http")]
    if not authors:
        authors = metas.get("author", []) or [
            a.text_content() for a in doc.iter("a") if a.get("rel") == "author"
        ]
    section = (_ld_text(ld.get("articleSection")) if ld else None) or first("article:section")
    tags = metas.get("article:tag", [])
    if not tags and ld and ld.get("keywords"):
        keywords = ld["keywords"]
        tags = keywords if isinstance(keywords, list) else [str(keywords)]
    if not tags:
        tags = metas.get("news_keywords", []) or metas.get("keywords", [])
    published = (ld.get("datePublished") if ld else None) or first(
        "article:published_time", "datepublished", "pubdate", "publishdate", "date"
    )
    modified = (ld.get("dateModified") if ld else None) or first(
        "article:modified_time", "og:updated_time", "datemodified"
    )
    language = _language(
        (_ld_text(ld.get("inLanguage")) if ld else None) or doc.get("lang") or first("og:locale")
    )
    meta = PageMeta(
        title=inline(title) if title else None,
        subtitle=subtitle or description,
        authors=_dedupe([str(a) for a in authors]),
        section=inline(section) if section else None,
        tags=_dedupe([str(t) for t in _split_keywords([str(t) for t in tags])]),
        published_at=parse_datetime(_ld_text(published) or published, tz),
        updated_at=parse_datetime(_ld_text(modified) or modified, tz),
        canonical_url=canonical_url,
        image=_find_image(doc, ld, metas, base),
        language=language,
    )
    if first("og:type") == "article" and ld is None:
        ld = {}
    return meta, ld, base


# --- finding the body -------------------------------------------------------------------------

# Article-body containers of common Indonesian and international CMSs (WordPress, Kompas,
# Detik, Tribun, Tempo, jnews/tagdiv themes).
BODY_CLASSES = (
    "detail-text", "read__content", "entry-content", "post-content", "article-content",
    "article-body", "articlebody", "detail__body-text", "txt-article", "content-detail",
    "detail-content", "story-body", "post-body", "news-content", "isi-berita", "itp_bodycontent",
    "td-post-content", "single-content", "the-content", "artikel-content", "side-article",
)  # fmt: skip


def _class_xpath(classes: tuple[str, ...], tag: str = "*") -> etree.XPath:
    tests = " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')" for c in classes
    )
    return etree.XPath(f"descendant-or-self::{tag}[{tests}]")


_FIND_ITEMPROP_BODY = etree.XPath(
    "descendant::*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]"
)
_FIND_BODY_CLASS = _class_xpath(BODY_CLASSES)


def _p_text_length(el: lxml.html.HtmlElement) -> int:
    return sum(len(p.text_content()) for p in el.iter("p"))


def _best(candidates: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement | None:
    scored = [(_p_text_length(c), c) for c in candidates]
    scored = [(score, c) for score, c in scored if score > 0]
    return max(scored, key=lambda pair: pair[0])[1] if scored else None


def find_body(doc: lxml.html.HtmlElement, *, is_article: bool) -> lxml.html.HtmlElement | None:
    for finder in (_FIND_ITEMPROP_BODY, _FIND_BODY_CLASS):
        found = _best(list(finder(doc)))
        if found is not None:
            return found
    found = _best(list(doc.iter("article")))
    if found is not None or not is_article:
        return found
    # The page says it is an article but uses no known container: the element holding the
    # most paragraph text.
    totals: dict[lxml.html.HtmlElement, int] = {}
    for p in doc.iter("p"):
        parent = p.getparent()
        if parent is not None:
            totals[parent] = totals.get(parent, 0) + len(p.text_content())
    if not totals:
        return None
    parent, total = max(totals.items(), key=lambda pair: pair[1])
    return parent if total >= 200 else None


# --- cleaning a body container ----------------------------------------------------------------

JUNK_TAGS = (
    "script", "style", "noscript", "iframe", "form", "button", "input", "select", "textarea",
    "svg", "nav", "aside", "footer", "header", "object", "embed", "video", "audio", "canvas",
    "template", "link", "meta",
)  # fmt: skip
_JUNK_CLASS = re.compile(
    r"(?<![a-z0-9])(?:share|sharing|social|sosmed|newsletter|subscribe|subscription|langganan"
    r"|advert\w*|ads|ad|adsbygoogle|ad-slot|iklan|banner|promo|comments?|komentar|related"
    r"|terkait|popular|populer|terpopuler|recommend\w*|rekomendasi|breadcrumbs?|byline"
    r"|post-meta|entry-meta|article-meta|author|penulis|tags?|tag-list|topik|video-embed"
    r"|embed|sticky|widget|sidebar|pagination|paging|print|nav)(?![a-z0-9])"
)
RELATED_BOX_CLASSES = (
    "linksisip", "lihatjg", "baca-juga", "bacajuga", "baca_juga", "read__also", "readalso",
    "lihat-juga", "inline-related", "artikel-sisipan", "related-inline",
)  # fmt: skip
_FIND_RELATED_BOXES = _class_xpath(RELATED_BOX_CLASSES)
_NOISE_LINE = re.compile(
    r"^(?:advertisement|iklan|scroll to (?:continue|resume) with content|gulir untuk melanjutkan"
    r"|ads|sponsored)$",
    re.I,
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "ul",
        "ol",
        "figure",
        "table",
        "pre",
        "dl",
    }
)
CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "main", "center", "body", "html", "span", "font", "tbody",
     "thead", "tr", "td", "th"}
)  # fmt: skip
_HEADING_MAP = {"h1": "h2", "h5": "h4", "h6": "h4"}
_INLINE_TRIM_TAGS = frozenset({"strong", "b", "em", "i", "span", "a", "font", "u"})


def _in_tree(el: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    return el is root or any(a is root for a in el.iterancestors())


def _take_related_boxes(
    container: lxml.html.HtmlElement, base: str | None, related: list[RelatedLink]
) -> None:
    for box in list(_FIND_RELATED_BOXES(container)):
        if box is container or not _in_tree(box, container):
            continue  # inside a box already taken
        links = [a for a in box.iter("a") if inline(a.text_content())]
        if links:
            related.extend(
                related_link(a.text_content(), _absolute(a.get("href"), base)) for a in links
            )
        else:
            text = inline(box.text_content())
            rest = related_marker(text)
            if rest:
                related.append(related_link(rest))
        box.drop_tree()


def _drop_junk(container: lxml.html.HtmlElement) -> None:
    etree.strip_elements(container, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    etree.strip_elements(container, *JUNK_TAGS, with_tail=False)
    total = len(container.text_content()) or 1
    for el in list(container.iterdescendants()):
        marks = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        # Never throw away a wrapper that holds most of the story.
        if (
            marks.strip()
            and _JUNK_CLASS.search(marks)
            and _in_tree(el, container)
            and len(el.text_content()) < total / 2
        ):
            el.drop_tree()
    for img in list(container.iter("img")):
        src = _image_src(img)
        if src is None or img.get("width") == "1" or img.get("height") == "1":
            img.drop_tree()
        else:
            img.set("src", src)
    for br in container.iter("br"):
        # Line breaks count as spaces in the plain text ("Baca Juga:<br>Judul").
        br.tail = "\n" + (br.tail or "")


def _has_block(el: lxml.html.HtmlElement) -> bool:
    return next(el.iterdescendants(*BLOCK_TAGS, "div"), None) is not None


class _Walker:
    """Turns a container into a flat list of block elements; loose inline content becomes <p>
    elements split at <br><br> (the Detik/Tribun style of body without <p>)."""

    def __init__(self, container: lxml.html.HtmlElement) -> None:
        self.blocks: list[lxml.html.HtmlElement] = []
        self._run: list[str | lxml.html.HtmlElement] = []
        self._make = container.makeelement
        self.walk(container)
        self.flush()

    def flush(self) -> None:
        run, self._run = self._run, []
        if not any(
            (isinstance(item, str) and item.strip())
            or (not isinstance(item, str) and (item.text_content().strip() or item.tag == "img"
                                               or next(item.iter("img"), None) is not None))
            for item in run
        ):  # fmt: skip
            return
        p = self._make("p", {})
        last: lxml.html.HtmlElement | None = None
        for item in run:
            if isinstance(item, str):
                if last is None:
                    p.text = (p.text or "") + item
                else:
                    last.tail = (last.tail or "") + item
            else:
                p.append(item)  # moves the node (and its tail) out of the source tree
                last = item
        self.blocks.append(p)

    def text(self, value: str | None) -> None:
        if value:
            self._run.append(value)

    def walk(self, el: lxml.html.HtmlElement) -> None:
        self.text(el.text)
        for child in list(el):
            tag = child.tag if isinstance(child.tag, str) else ""
            tail, is_block = child.tail, False
            if tag in BLOCK_TAGS:
                is_block = True
                self.flush()
                if tag == "table" and next(child.iter("p"), None) is not None:
                    self.walk(child)  # a layout table around paragraphs
                else:
                    self.blocks.append(child)
            elif tag in CONTAINER_TAGS and (tag not in ("span", "font") or _has_block(child)):
                is_block = True
                self.flush()
                self.walk(child)
                self.flush()
            elif tag == "br":
                previous = self._run[-1] if self._run else None
                if (
                    previous is not None
                    and not isinstance(previous, str)
                    and previous.tag == "br"
                    and not (previous.tail or "").strip()
                ):
                    self._run.pop()
                    self.flush()
                    self.text(tail)
                    continue
                self._run.append(child)
            elif tag:
                self._run.append(child)  # inline: its tail travels with it
            if is_block:
                self.text(tail)


def _segments(el: lxml.html.HtmlElement) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """Every text slot of `el` in document order: (node, "text" | "tail")."""
    yield el, "text"
    for child in el:
        yield from _segments(child)
        yield child, "tail"


def _trim(el: lxml.html.HtmlElement, count: int, *, from_end: bool) -> None:
    """Remove `count` characters of text from the start (or end) of a block, across tags."""
    slots = list(_segments(el))
    if from_end:
        slots.reverse()
    started = not from_end  # from the end, trailing whitespace goes first and is not counted
    for node, attr in slots:
        if count <= 0:
            break
        value = getattr(node, attr) or ""
        if not started:
            value = value.rstrip()
            started = bool(value)
        take = min(count, len(value))
        if from_end:
            setattr(node, attr, value[: len(value) - take] or None)
        else:
            setattr(node, attr, value[take:] or None)
        count -= take
    for child in list(el.iter(*_INLINE_TRIM_TAGS)):
        if child is not el and not (child.text or "").strip() and len(child) == 0:
            child.drop_tree()


def _raw_text(el: lxml.html.HtmlElement) -> str:
    return "".join(el.itertext())


@dataclass
class _Block:
    el: lxml.html.HtmlElement
    texts: list[str]


def _block_texts(el: lxml.html.HtmlElement) -> list[str]:
    tag = el.tag
    if tag in ("ul", "ol"):
        return [t for t in (inline(_raw_text(li)) for li in el.iter("li")) if t]
    if tag == "blockquote":
        inner = [inline(_raw_text(p)) for p in el.iter("p")]
        return [t for t in inner if t] or [inline(_raw_text(el))]
    if tag == "figure":
        return []
    if tag == "table":
        rows = []
        for tr in el.iter("tr"):
            cells = [inline(_raw_text(td)) for td in tr if td.tag in ("td", "th")]
            if any(cells):
                rows.append(" | ".join(cells))
        return rows
    text = inline(_raw_text(el))
    return [text] if text else []


def _table_to_paragraphs(block: _Block) -> None:
    """Data tables are outside the allow-list: keep their rows as paragraphs."""
    parent = block.el.makeelement("div", {})
    for row in block.texts:
        p = block.el.makeelement("p", {})
        p.text = row
        parent.append(p)
    block.el = parent


def _lead_dateline(blocks: list[_Block]) -> str | None:
    for block in blocks:
        if block.el.tag == "figure":
            continue
        if block.el.tag != "p":
            return None
        raw = _raw_text(block.el)
        m = match_dateline(raw)
        if m is None:
            return None
        _trim(block.el, m.end, from_end=False)
        block.texts = _block_texts(block.el)
        return m.dateline
    return None


def _trailer(blocks: list[_Block]) -> tuple[str | None, list[str]]:
    """Editor initials "(fai/idh)" and credit lines at the very end of the body."""
    initials: str | None = None
    authors: list[str] = []
    while blocks:
        block = next((b for b in reversed(blocks) if b.texts), None)
        if block is None or block.el.tag != "p":
            break
        text = block.texts[-1]
        credit = match_credit(text)
        if credit is not None:
            if credit[0]:
                authors.insert(0, credit[1])
            blocks.remove(block)
            continue
        raw = _raw_text(block.el).rstrip()
        m = match_initials(raw)
        if m is None or initials is not None:
            break
        initials = re.sub(r"\s+", "", m.group("initials"))
        _trim(block.el, len(raw) - m.start(), from_end=True)
        block.texts = _block_texts(block.el)
        if not block.texts:
            blocks.remove(block)
            continue
        break
    return initials, authors


def clean_container(
    container: lxml.html.HtmlElement, *, base_url: str | None, page: bool = True
) -> Body:
    """`page`: the container comes from a whole page, whose <h1> is the title (dropped); in a
    fragment (markdown, JSON) an <h1> is a section heading (kept as <h2>)."""
    related: list[RelatedLink] = []
    _take_related_boxes(container, base_url, related)
    if page:
        etree.strip_elements(container, "h1", with_tail=False)
    _drop_junk(container)
    blocks: list[_Block] = []
    pending_marker = False
    for el in _Walker(container).blocks:
        el.tag = _HEADING_MAP.get(el.tag, el.tag)
        texts = _block_texts(el)
        has_image = el.tag == "figure" or next(el.iter("img"), None) is not None
        if not texts and not has_image:
            continue
        if el.tag == "p" and texts:
            text = texts[0]
            links = [a for a in el.iter("a") if inline(a.text_content())]
            if pending_marker:
                pending_marker = False
                if looks_like_headline(text):
                    href = links[0].get("href") if links else None
                    related.append(related_link(text, _absolute(href, base_url)))
                    continue
            if _NOISE_LINE.match(text):
                continue
            rest = related_marker(text)
            if rest is not None:
                if links:
                    related.extend(
                        related_link(a.text_content(), _absolute(a.get("href"), base_url))
                        for a in links
                    )
                elif rest:
                    related.append(related_link(rest))
                else:
                    pending_marker = True
                continue
        block = _Block(el, texts)
        if el.tag == "table":
            _table_to_paragraphs(block)
        blocks.append(block)
    dateline = _lead_dateline(blocks)
    initials, authors = _trailer(blocks)
    blocks = [
        b for b in blocks if b.texts or b.el.find(".//img") is not None or b.el.tag == "figure"
    ]
    html = "".join(lxml.html.tostring(b.el, encoding="unicode", with_tail=False) for b in blocks)
    return Body(
        paragraphs=tuple(t for b in blocks for t in b.texts),
        html=sanitize_html(html, base_url=base_url),
        dateline=dateline,
        related=tuple(related),
        initials=initials,
        authors=tuple(authors),
    )


def _fromstring(html: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration (XHTML pages).
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        raise NoArticleFound("empty HTML document") from None


def clean_fragment(html: str, *, base_url: str | None) -> Body:
    """An HTML body (markdown output, JSON body_html) -> Body, with the same rules as pages."""
    if not html.strip():
        return Body(paragraphs=(), html="")
    container = lxml.html.fragment_fromstring(html, create_parent="div")
    return clean_container(container, base_url=base_url, page=False)


def parse_page(html: str, *, url: str | None, tz: tzinfo) -> PageArticle:
    """A whole article page -> PageArticle, or NoArticleFound with a one-line reason."""
    warnings: list[str] = []
    doc = _fromstring(html)
    meta, ld, base = read_meta(doc, url=url, tz=tz, warnings=warnings)
    container = find_body(doc, is_article=ld is not None)
    body: Body | None = None
    if container is not None:
        body = clean_container(container, base_url=base)
    if (body is None or not body.paragraphs) and ld and isinstance(ld.get("articleBody"), str):
        body = parse_report(ld["articleBody"], detect_title=False).body
    if body is None:
        raise NoArticleFound(
            "no article found in the HTML (no JSON-LD NewsArticle, <article> or article body)"
        )
    if not body.paragraphs:
        raise NoArticleFound("the article body is empty")
    if meta.subtitle and _repeats_lead(meta.subtitle, body.paragraphs[0]):
        meta = replace(meta, subtitle=None)
    return PageArticle(meta=meta, body=body, warnings=tuple(warnings))


def _repeats_lead(description: str, lead: str) -> bool:
    """Most CMSs fill the description with the lead's first sentence: not a subtitle."""
    text = split_dateline(inline(description))[1].rstrip(" .…").casefold()[:80]
    return bool(text) and lead.casefold().startswith(text)
