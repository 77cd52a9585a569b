"""HTML article pages -> metadata + a cleaned Body. Pure: strings in, data out.

    page bytes | decode_html | lxml | read_meta (JSON-LD NewsArticle incl. @graph and @id
        references, OpenGraph, <meta>, <link rel=canonical>, tag links) | find_body
        (itemprop=articleBody, CMS classes, <article>; the innermost of nested ones)
        | htmlbody.clean_container -> PageArticle(meta, body)

lxml is used directly (not BeautifulSoup's tree): the same parser at a fraction of the cost; the
ingest benchmark needs >= 100 pages/s. `clean_fragment` (markdown, JSON body_html) lives in
`htmlbody` with the rest of the body cleaning and is re-exported here.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from siarkan.articles.htmlbody import (
    absolute_url,
    class_xpath,
    clean_container,
    clean_fragment,
    image_src,
    xml_text,
)
from siarkan.articles.lead import split_dateline
from siarkan.articles.model import Image, picture_name, same_picture
from siarkan.articles.paging import Paging, find_paging
from siarkan.articles.text import ArticleRejected, Body, parse_datetime, parse_report
from siarkan.articles.whitespace import inline

__all__ = ["NoArticleFound", "PageArticle", "PageMeta", "clean_fragment", "decode_html",
           "parse_page", "read_meta"]  # fmt: skip

# --- decoding ---------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


_WHATWG_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


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
    # A page labelled ISO-8859-1 or US-ASCII is windows-1252, as every browser reads it (WHATWG
    # Encoding Standard): its “quotes” and – dashes (0x80-0x9f) are not C1 control characters.
    codec = _WHATWG_ALIASES.get(codec, codec)
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
    paging: Paging | None = None  # the report goes on over other pages (articles.paging)


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
    """The page's article node, with its image resolved when it is a reference to another
    node of the graph (Yoast and Rank Math: "image": {"@id": "...#primaryimage"})."""
    nodes: list[dict[str, Any]] = []
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = (script.text or "").strip()
        # Some CMSs wrap JSON-LD in HTML comments or CDATA.
        text = re.sub(r"^(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)$", "", text).strip()
        try:
            nodes.extend(_ld_nodes(json.loads(text, strict=False)))
        except (ValueError, RecursionError):
            warnings.append("a JSON-LD block is not valid JSON (ignored)")
    for wanted in ARTICLE_TYPES:
        for node in nodes:
            if wanted in _ld_types(node):
                return _resolve_image(node, nodes)
    return None


def _resolve_image(article: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    image = article.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    if not isinstance(image, dict) or set(image) - {"@id", "@type"} or not image.get("@id"):
        return article
    target = next(
        (n for n in nodes if n.get("@id") == image["@id"] and set(n) - {"@id", "@type"}), None
    )
    return article if target is None else {**article, "image": target}


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


_CREDIT_IN_CAPTION = re.compile(
    r"\s*[(\[]?\s*(?:foto|photo|gambar|dok(?:umentasi)?\.?)\s*[:/]\s*(?P<credit>[^)\]]{2,120})[)\]]?\s*$",
    re.I,
)


# A wire photo's credit, agency first: "... (12/11/2026). ANTARA FOTO/Asep Fathulrahman/nym."
_AGENCY_CREDIT = re.compile(
    r"\s+(?P<credit>[A-Z]{2,}(?:\s+[A-Z]{2,})*\s+(?:FOTO|PHOTO)\s*/\s*[^()\[\]]{2,120})$"
)
# The portals' own: "... Cisadane. (Liputan6.com/Pramita Tristiawati)", "[Suara.com/Hairul]",
# "(CNN Indonesia/Safir Makki)", "(ANTARA/Mulyana)" (an outlet's capitalised name, a person's
# after the slash), and a bare agency credit after the last sentence: "... ANTARA/Mulyana".
_SITE_CREDIT = re.compile(
    r"\s*[(\[](?P<credit>[A-Za-z][\w-]*(?:\.[a-z]{2,6}){1,2}\s*/\s*[^()\[\]]{2,120}"
    r"|[A-Z][\w-]*(?:\s[A-Z][\w-]*){0,2}\s*/\s*[A-Z][a-z]+(?:\s[A-Z][\w.'’-]*){0,4})[)\]]\s*$"
    r"|(?<=[.)])\s+(?P<agency>[A-Z]{2,}(?:\s[A-Z]{2,}){0,3}\s*/\s*[^()\[\]/.]{2,80})$"
)


_CREDIT_TAIL = 400


def split_caption_credit(caption: str) -> tuple[str, str]:
    """'Warga mengungsi. (Foto: PROLOGMEDIA/Dhimas)' -> ('Warga mengungsi.', 'PROLOGMEDIA/...');
    'Warga mengantre. ANTARA FOTO/Asep' -> ('Warga mengantre.', 'ANTARA FOTO/Asep')."""
    # A credit closes the caption and is short (its name part is at most 120 characters):
    # look only at the caption's end. Searched over the whole text, _AGENCY_CREDIT tried every
    # capitalised word as a start and ran to the end from each (quadratic: a 120 kB caption of
    # "AA AA ..." from an imported page took minutes).
    offset = max(0, len(caption) - _CREDIT_TAIL)
    tail = caption[offset:]
    m = _AGENCY_CREDIT.search(tail) or _CREDIT_IN_CAPTION.search(tail) or _SITE_CREDIT.search(tail)
    if m is None:
        return caption, ""
    credit = m.group("credit") or m.group("agency")
    return caption[: offset + m.start()].rstrip(), inline(credit)


_NEAR_CAPTION = 600  # characters: a caption's neighbourhood, not the whole story


def _caption_of(img: lxml.html.HtmlElement) -> str:
    """The caption printed with a picture: its <figure>'s <figcaption>, else an element whose
    class says "caption" next to it (JNews' p.wp-caption-text, Kompas' div.photo__caption)."""
    figure = next(img.iterancestors("figure"), None)
    figcaption = figure.find(".//figcaption") if figure is not None else None
    if figcaption is not None:
        return str(figcaption.text_content())
    for ancestor in islice(img.iterancestors(), 4):
        if len(ancestor.text_content()) > _NEAR_CAPTION:
            break
        for el in ancestor.iterdescendants():
            if "caption" in str(el.get("class") or "").lower() and inline(el.text_content()):
                return str(el.text_content())
    return ""


def _name_words(text: str) -> list[str]:
    return re.sub(r"[\W_]+", " ", text).casefold().split()


def _described(alt: str | None, url: str) -> str:
    """The alt text, or "" when it only repeats the upload's file name ("gas-oplosan-lebak"),
    as CMSs write when the editor gave none: it describes nothing, yet Mastodon would show it
    as the picture's description (the attachment's `name`) and feed readers as its alt."""
    name = picture_name(url)
    words = _name_words(alt or "")
    if words in (_name_words(name), _name_words(name.rsplit(".", 1)[0])):
        return ""
    return alt or ""


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
    url = absolute_url(url or (og[0] if og else None), base)
    if url is None:
        return None
    if og and same_picture(url, og[0]):
        alt = _described(_first(metas, "og:image:alt"), url)
        width = width or _int(_first(metas, "og:image:width"))
        height = height or _int(_first(metas, "og:image:height"))
    for img in doc.iter("img"):
        src = image_src(img)
        if src and same_picture(src, url):
            alt = alt or _described(img.get("alt"), url)
            caption = caption or _caption_of(img)
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


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\.(?:co\.id|com|id|net|org)$", "", name.casefold()))


def _is_site_name(author: str, site_names: set[str]) -> bool:
    """<meta name="author" content="Tribun Banten"> on TribunBanten.com names the site, not a
    reporter: the body's credit line ("Laporan Wartawan ..., Nama") says who wrote it."""
    return _squash(author) in {_squash(n) for n in site_names}


# Indonesia's second-level domains: the site's name is the label before them ("x.co.id").
_SECOND_LEVEL = frozenset(
    ["co", "or", "go", "ac", "sch", "web", "my", "net", "biz", "mil", "desa", "ponpes"]
)


def _host_name(url: str | None) -> str | None:
    """The site's name as its host spells it: "https://www.cnnindonesia.com/..." ->
    "cnnindonesia", "https://banten.kabar.co.id/" -> "kabar". A page naming itself only in
    <meta name="author"> ("CNN Indonesia", no og:site_name) is recognised by it (squashed, as
    _is_site_name compares). A blog's own subdomain ("nama.blogspot.com") is not its name."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:  # "http://[::1" and the like
        return None
    labels = host.split(".") if host else []
    if len(labels) < 2:
        return None
    if len(labels) > 2 and labels[-1] == "id" and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2]


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


# Tag links: WordPress' the_tags() marks them rel="tag"; other CMSs link /tag/<slug> from a box
# whose class says so (detik "detail__body-tag", Kompas "tag__article__wrap", tagDiv "td-tags").
_TAG_PATH = re.compile(r"/(?:tag|tags|topik|topic)/[^/?#]", re.IGNORECASE)
_TAG_BOX = re.compile(r"(?<![a-z])(?:tags?|tagcloud\d*|topik|topics?)(?![a-z])")
# ... but not the site-wide tag cloud or trending topics of a sidebar, menu or footer.
_NOT_ARTICLE = re.compile(
    r"(?:^|\s|[-_])(?:sidebar|widget|menu|trending|populer|popular|terpopuler)(?:$|\s|[-_\d])"
)
_TAG_MAX = 20


def _is_microdata_article(el: lxml.html.HtmlElement) -> bool:
    """<div class="post hentry" itemscope itemtype="http://schema.org/BlogPosting">: Blogger's
    post, the article of a page without <article> (inside the "widget Blog" of its layout)."""
    itemtype = el.get("itemtype")
    return itemtype is not None and itemtype.rstrip("/").rsplit("/", 1)[-1] in ARTICLE_TYPES


def _outside_article(a: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement] | None:
    """The ancestors of `a` up to its <article> (a theme's entry-footer with the tags is part
    of the post), or None when one of them is page frame: a sidebar, menu or site footer."""
    ancestors: list[lxml.html.HtmlElement] = []
    for el in a.iterancestors():
        if el.tag in ("article", "body") or _is_microdata_article(el):
            break
        marks = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        frame = el.tag in ("aside", "nav", "header", "footer") or _NOT_ARTICLE.search(marks)
        if frame and (el.tag != "footer" or next(el.iterancestors("article"), None) is None):
            return None
        ancestors.append(el)
    return ancestors


def _tag_links(doc: lxml.html.HtmlElement) -> list[str]:
    tags: list[str] = []
    for a in doc.iter("a"):
        rel = (a.get("rel") or "").lower().split()
        by_rel = "tag" in rel and "category" not in rel
        if not by_rel and not _TAG_PATH.search(a.get("href") or ""):
            continue
        ancestors = _outside_article(a)
        if ancestors is None:
            continue
        marks = [f"{el.get('class') or ''} {el.get('id') or ''}".lower() for el in ancestors[:4]]
        if by_rel or any(_TAG_BOX.search(m) for m in marks):
            name = inline(a.text_content()).lstrip("#").strip()
            if name and len(name) <= 60:
                tags.append(name)
        if len(tags) >= _TAG_MAX:
            break
    return tags


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
    anchor = url or absolute_url(og_url, None) or absolute_url(ld_url, None)
    # A fetched page that names no canonical URL is its own.
    canonical_url = (
        absolute_url(canonical, anchor)
        or absolute_url(og_url, anchor)
        or absolute_url(ld_url, anchor)
        or absolute_url(url, None)
    )
    base = absolute_url(base_href, url or canonical_url) or url or canonical_url

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

    # the host too: a page may name its site nowhere but in <meta name="author">
    host_name = _host_name(canonical_url)
    author_sites = site_names | {host_name} if host_name else site_names

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
        tags = metas.get("news_keywords", [])
    if not tags:
        # <meta name="keywords"> is often the site's own SEO list ("berita banten, berita
        # terkini"): the article's tag links say more.
        tags = _tag_links(doc) or metas.get("keywords", [])
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
        authors=_dedupe([str(a) for a in authors if not _is_site_name(str(a), author_sites)]),
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
# Detik, Tribun, Tempo, jnews/tagdiv themes, Blogger's post-body, sindonews' detail-desc).
BODY_CLASSES = (
    "detail-text", "read__content", "entry-content", "post-content", "article-content",
    "article-body", "articlebody", "detail__body-text", "txt-article", "content-detail",
    "detail-content", "story-body", "post-body", "news-content", "isi-berita", "itp_bodycontent",
    "td-post-content", "single-content", "the-content", "artikel-content", "side-article",
    "article-content-body", "detail-desc",
)  # fmt: skip


_FIND_ITEMPROP_BODY = etree.XPath(
    "descendant::*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]"
)
_FIND_BODY_CLASS = class_xpath(BODY_CLASSES)


def _p_text_length(el: lxml.html.HtmlElement) -> int:
    return sum(len(p.text_content()) for p in el.iter("p"))


# An inner container holding this much of an outer one's paragraph text, and every paragraph
# of it that reads like story, is the same story without the outer one's header, byline and
# share bar (Jannah: article.post-content around div.entry-content).
_NESTED_SHARE = 0.97
_SHORT_P = 120  # a caption, a byline: not a paragraph of the story


def _holds_the_story(inner: lxml.html.HtmlElement, outer: lxml.html.HtmlElement) -> bool:
    return not any(
        len(p.text_content().strip()) >= _SHORT_P and not any(a is inner for a in p.iterancestors())
        for p in outer.iter("p")
    )


# Blogger's div.post-body (one <div> a line, as its editor writes) and sindonews'
# div.detail-desc (text split by <br><br>) hold the story without a single <p>: such a
# container counts by its text, outside scripts, when no candidate has paragraphs.
_LOOSE_TEXT = etree.XPath("descendant::text()[not(ancestor::script or ancestor::style)]")
_LOOSE_MIN = 200  # characters: a story, not a byline box that happens to carry a body class


def _loose_text_length(el: lxml.html.HtmlElement) -> int:
    return sum(len(text.strip()) for text in _LOOSE_TEXT(el))


def _best(
    candidates: list[lxml.html.HtmlElement],
    score: Callable[[lxml.html.HtmlElement], int] = _p_text_length,
    least: int = 1,
) -> lxml.html.HtmlElement | None:
    scored = [(score(c), c) for c in candidates]
    scored = [(value, c) for value, c in scored if value >= least]
    if not scored:
        return None
    top, best = max(scored, key=lambda pair: pair[0])
    for value, inner in scored:  # document order: a deeper one comes after its ancestor
        if (
            value >= top * _NESTED_SHARE
            and any(a is best for a in inner.iterancestors())
            and _holds_the_story(inner, best)
        ):
            best = inner
    return best


def find_body(doc: lxml.html.HtmlElement, *, is_article: bool) -> lxml.html.HtmlElement | None:
    for finder in (_FIND_ITEMPROP_BODY, _FIND_BODY_CLASS):
        found = _best(list(finder(doc)))
        if found is not None:
            return found
    articles = list(doc.iter("article"))
    found = _best(articles)
    if found is None:
        # Only when no container has paragraphs: a loose one must not beat an <article>.
        marked = [*_FIND_ITEMPROP_BODY(doc), *_FIND_BODY_CLASS(doc), *articles]
        found = _best(marked, _loose_text_length, _LOOSE_MIN)
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


def _fromstring(html: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration (XHTML pages).
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        return lxml.html.document_fromstring(xml_text(html))
    except (etree.ParserError, ValueError):
        raise NoArticleFound("empty HTML document") from None


def parse_page(
    html: str, *, url: str | None, tz: tzinfo, article_url: str | None = None
) -> PageArticle:
    """A whole article page -> PageArticle, or NoArticleFound with a one-line reason.
    `article_url`: page 1's address when this is a later page of a split report."""
    warnings: list[str] = []
    doc = _fromstring(html)
    # Before the body is cleaned: the paging box inside it goes with the furniture.
    paging = find_paging(doc, page_url=url, article_url=article_url) if url else None
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
    return PageArticle(meta=meta, body=body, warnings=tuple(warnings), paging=paging)


def _words(text: str) -> str:
    """Lowercase words only: "Pemerintah Kabupaten (Pemkab) Serang," -> "pemerintah kabupaten
    serang"; a description trims the lead's abbreviations and punctuation."""
    return " ".join(re.sub(r"\([^)]*\)", " ", text).casefold().replace("’", "'").split())


_WORD_CHARS = re.compile(r"[^\w\s]")


def _repeats_lead(description: str, lead: str) -> bool:
    """Most CMSs fill the description with the lead's first sentence: not a subtitle."""
    text = _WORD_CHARS.sub("", _words(split_dateline(inline(description))[1]))[:80].strip()
    return bool(text) and " ".join(_WORD_CHARS.sub("", _words(lead)).split()).startswith(text)
