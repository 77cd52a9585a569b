"""HTML bodies -> Body: the cleaning shared by article pages, markdown and JSON body_html.

    container | related-link boxes (linksisip, baca-juga*, id="bacajuga" ...) -> RelatedLink
        | drop junk (scripts, ads, share bars, newsletter boxes, bylines, iframes) | lazy images
        | blocks (p, h2-h4, lists, quotes, figures, caption boxes, detik's picture tables,
          captions beside their picture; loose text split at <br><br>)
        | "Baca Juga:" paragraphs and headings, linked headlines -> RelatedLink
        | furniture paragraphs dropped (articles.furniture: ads, promos, pagination, captions)
        | credits above the lead, dateline (alone above the lead too), editor initials,
          credits and hashtags (-> Body.tags) at the end trimmed
        | sanitize -> Body

Pure: an lxml tree (owned by the caller, modified in place) or an HTML string in, data out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import takewhile
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from siarkan.articles.lead import LEAD_SEARCH, locate_lead
from siarkan.articles.model import RelatedLink
from siarkan.articles.sanitize import sanitize_html
from siarkan.articles.text import (
    Body,
    is_caption_line,
    is_copyright,
    is_furniture,
    looks_like_headline,
    match_closing,
    match_credit,
    related_link,
    related_marker,
)
from siarkan.articles.whitespace import inline

# C0 controls: libxml2's HTML parser keeps them in text, but lxml refuses to write such text
# back into the tree (ValueError "All strings must be XML compatible") when a block is trimmed.
# Those that Python counts as whitespace become a space; the rest go, as in whitespace.normalize,
# and so do U+FFFE and U+FFFF, which XML 1.0 (section 2.2) forbids too.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL_TABLE = str.maketrans(
    {c: None for c in (*range(0x00, 0x09), *range(0x0E, 0x1C), 0xFFFE, 0xFFFF)}
    | {c: " " for c in (0x0B, 0x0C, *range(0x1C, 0x20))}
)


def xml_text(html: str) -> str:
    """HTML source with the characters XML text cannot hold removed (see _CONTROLS). One
    search over a whole page in the common case (none there), not two substitutions."""
    return html if _CONTROLS.search(html) is None else html.translate(_CONTROL_TABLE)


def absolute_url(url: str | None, base: str | None) -> str | None:
    """`url` resolved against `base`; None unless it ends up an absolute http(s) URL."""
    if not url:
        return None
    url = url.strip()
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
    except ValueError:  # "http://[::1" or "http://[null]/": urlsplit checks bracketed hosts
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def image_src(img: lxml.html.HtmlElement) -> str | None:
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


def class_xpath(classes: tuple[str, ...], tag: str = "*") -> etree.XPath:
    tests = " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')" for c in classes
    )
    return etree.XPath(f"descendant-or-self::{tag}[{tests}]")


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
    r"|embed|sticky|widget|sidebar|pagination|paging|print|nav"
    # ad slots of WordPress news themes (tagDiv "td-a-rec", Jannah "stream-item", Sahifa
    # "e3lan"), Google News / WhatsApp boxes, bylines and timestamps inside the body, and
    # wp_link_pages() page numbers
    r"|td-a-rec|td-a-ad|stream-item|e3lan|gnews|google-news|wa-channel|writer|reporter|date"
    r"|time|pagelinks|page-links|post-page-numbers"
    # "Daftar Isi" boxes (detik's itp__toc / table-content, Easy Table of Contents' ez-toc-*):
    # the story's own subheadings again, as links; detik's video box under the story (aevp,
    # pip-vid), whose headline is a video's, not the report's
    r"|toc|table-content|ez-toc[\w-]*|aevp|pip-vid"
    # social embeds whose widget script is gone: blockquote.instagram-media holds only "Lihat
    # postingan ini di Instagram" / "Sebuah kiriman dibagikan oleh ...", blockquote.twitter-tweet
    # the post's text without the account, which would read as the reporter's own words
    r"|twitter-tweet|instagram-media|tiktok-embed|fb-post)(?![a-z0-9])"
)
# Related-link boxes by class or id: detik's "linksisip", Kompas' "read__also", antaranews'
# "baca-juga", Liputan6's "baca-juga-collections", okezone's id="bacajuga" ...
_RELATED_BOX = re.compile(
    r"(?<![a-z0-9])(?:linksisip|lihatjg|baca[-_]?juga[\w-]*|read__also|readalso"
    r"|lihat[-_]?juga[\w-]*|inline-related|artikel-sisipan|related-inline)(?![a-z0-9])"
)
_MARKED = etree.XPath("descendant::*[@class or @id]")
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


def _marks(el: lxml.html.HtmlElement) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _headline_links(el: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The links of `el` that carry a headline: not empty, not the "BACA JUGA:" marker."""
    links = []
    for a in el.iter("a"):
        text = inline(a.text_content())
        if text and related_marker(text) != "":
            links.append(a)
    return links


def _add_headlines(
    el: lxml.html.HtmlElement, rest: str | None, base: str | None, related: list[RelatedLink]
) -> bool:
    """The headlines of a related block to `related`: its links, else the text after its
    marker (`rest`, see related_marker). False when it holds none."""
    links = _headline_links(el)
    if links:
        related.extend(
            related_link(a.text_content(), absolute_url(a.get("href"), base)) for a in links
        )
    elif rest:
        related.append(related_link(rest))
    return bool(links or rest)


def _take_related_boxes(
    container: lxml.html.HtmlElement, base: str | None, related: list[RelatedLink]
) -> None:
    for box in list(_MARKED(container)):
        if not _RELATED_BOX.search(_marks(box)) or not _in_tree(box, container):
            continue  # inside a box already taken
        text = inline(box.text_content())
        rest = related_marker(text)
        if not _add_headlines(box, rest, base, related) and rest == "":
            # Only the marker (okezone: <p id="bacajuga"><a>BACA JUGA:</a></p>): its headline
            # is the next paragraph, which the block loop takes.
            marker = box.makeelement("p", {})
            marker.text = text
            marker.tail = box.tail
            box.getparent().replace(box, marker)
            continue
        box.drop_tree()


def _drop_junk(container: lxml.html.HtmlElement) -> None:
    etree.strip_elements(container, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    etree.strip_elements(container, *JUNK_TAGS, with_tail=False)
    total = len(container.text_content()) or 1
    for el in list(_MARKED(container)):
        # Never throw away a wrapper that holds most of the story, nor words of a paragraph
        # (<p>Pada <span class="date">Senin</span> ...</p>).
        if (
            _JUNK_CLASS.search(_marks(el))
            and _in_tree(el, container)
            and len(el.text_content()) < total / 2
            and not (el.tag in _INLINE_TEXT_TAGS and _in_paragraph(el, container))
        ):
            el.drop_tree()
    for img in list(container.iter("img")):
        src = image_src(img)
        if src is None or img.get("width") == "1" or img.get("height") == "1":
            img.drop_tree()
        else:
            img.set("src", src)
    for br in container.iter("br"):
        # Line breaks count as spaces in the plain text ("Baca Juga:<br>Judul").
        br.tail = "\n" + (br.tail or "")


_INLINE_TEXT_TAGS = frozenset({*_INLINE_TRIM_TAGS, "time", "abbr", "small", "sup", "sub", "mark"})


def _in_paragraph(el: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    for ancestor in el.iterancestors():
        if ancestor.tag == "p":
            return True
        if ancestor is root:
            return False
    return False


def _has_block(el: lxml.html.HtmlElement) -> bool:
    return next(el.iterdescendants(*BLOCK_TAGS, "div"), None) is not None


_CAPTION_CLASS = re.compile(r"caption")


def _caption_box(el: lxml.html.HtmlElement) -> bool:
    """A picture with its caption outside <figure> (WordPress' [caption] shortcode in themes
    without HTML5 captions: <div class="wp-caption"><img><p class="wp-caption-text">): made a
    <figure> in place, so the caption is not taken for a paragraph of the story."""
    if el.find(".//img") is None:
        return False
    captions = [
        c for c in el.iterdescendants() if _CAPTION_CLASS.search(str(c.get("class") or "").lower())
    ]
    if not captions or any(c.tag in BLOCK_TAGS - {"p"} for c in el.iterdescendants()):
        return False
    outside = len(el.text_content()) - sum(len(c.text_content()) for c in captions[:1])
    if outside > 40 or sum(1 for p in el.iter("p") if p not in captions) > 1:
        return False
    if el.tag == "table":
        # Blogger's picture: <table class="tr-caption-container"><tr><td><a><img></a></td>
        # </tr><tr><td class="tr-caption">caption</td></tr></table>; no table rows in a figure.
        _make_figure(el, next(el.iter("img")), inline(captions[0].text_content()))
        return True
    el.tag = "figure"
    captions[0].tag = "figcaption"
    return True


# detik's picture inside the story: <table class="pic_artikel_sisip_table"><tr><td><div
# class="pic_artikel_sisip"><div class="pic"><img></div><span>caption</span></div>; its class
# says picture, not caption (the detik scrapers in the wild drop the whole table).
_PICTURE_BOX = re.compile(r"(?<![a-z0-9])pic_artikel_sisip(?:_table)?(?![a-z0-9])")


def _picture_box(el: lxml.html.HtmlElement) -> bool:
    """A picture box by class (see _PICTURE_BOX), rewritten in place: <figure> with its image
    and the box's text as <figcaption>, or, when its image is gone, a loose caption."""
    if not _PICTURE_BOX.search(str(el.get("class") or "").lower()):
        return False
    img = next(el.iter("img"), None)
    text = inline(el.text_content())
    _make_figure(el, img, text)
    if img is None:
        el.tag = "figcaption"
        el.text = text
    return True


def _make_figure(el: lxml.html.HtmlElement, img: lxml.html.HtmlElement | None, text: str) -> None:
    """`el` emptied and made <figure><img><figcaption>text</figcaption></figure> (no image:
    left empty, for the caller)."""
    for child in list(el):
        el.remove(child)
    el.text = None
    for name in list(el.attrib):
        del el.attrib[name]
    if img is None:
        return
    img.tail = None
    el.tag = "figure"
    el.append(img)
    if text:
        caption = el.makeelement("figcaption", {})
        caption.text = text
        el.append(caption)


_LOOSE_CAPTION_MAX = 400  # characters: a caption, not a paragraph of story in a styled box


def _loose_caption(el: lxml.html.HtmlElement) -> bool:
    """A caption beside its picture rather than around it (a theme's p.wp-caption-text after
    the <img>, div.photo__caption beside div.photo__wrap as in Kompas' photo markup, a
    div.foto-caption), or one whose picture was a <picture>/<amp-img> the cleaning dropped:
    made a <figcaption> block, which clean_container hangs on the picture above it or drops.
    Never story."""
    if not _CAPTION_CLASS.search(str(el.get("class") or "").lower()):
        return False
    if el.find(".//img") is not None or any(
        c.tag in BLOCK_TAGS for c in el.iterdescendants() if c.tag != "p"
    ):
        return False
    if sum(1 for _ in el.iter("p")) > 1:
        return False
    return 0 < len(inline(el.text_content())) <= _LOOSE_CAPTION_MAX


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
            if (tag in ("table", "div") and _picture_box(child)) or (
                tag in ("div", "p", "table") and _caption_box(child)
            ):
                is_block = True
                self.flush()
                self.blocks.append(child)
            elif tag in ("div", "p") and _loose_caption(child):
                is_block = True
                self.flush()
                child.tag = "figcaption"
                self.blocks.append(child)
            elif tag in BLOCK_TAGS:
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
    """The lead's dateline, trimmed off. As in text reports (lead.locate_lead), the lead may sit
    under a dateline alone in its paragraph ("<p><strong>Tangerang</strong> -</p>") and, in a
    body pasted from another page, under its header lines; those go with the dateline."""
    paragraphs = [b for b in blocks if b.el.tag != "figure" and b.texts]  # not a picture
    # The lead and what stands above it are <p>s; the one after the last searched may finish
    # its dateline.
    leading = list(takewhile(lambda b: b.el.tag == "p", paragraphs[: LEAD_SEARCH + 1]))
    lead = locate_lead([_raw_text(b.el) for b in leading], inline)
    if lead is None:
        return None
    return _cut_dateline(
        blocks, leading[: lead.index], leading[lead.index], lead.start, lead.dateline
    )


def _cut_dateline(
    blocks: list[_Block], above: list[_Block], lead: _Block, end: int, dateline: str
) -> str:
    for gone in above:
        blocks.remove(gone)
    _trim(lead.el, end, from_end=False)
    lead.texts = _block_texts(lead.el)
    return dateline


def _trailer(blocks: list[_Block]) -> tuple[str | None, list[str], list[str]]:
    """Editor initials "(fai/idh)", credit lines and hashtags at the very end of the body
    (as text.strip_trailer): (initials, authors, hashtags)."""
    initials: str | None = None
    authors: list[str] = []
    hashtags: list[str] = []
    while blocks:
        block = next((b for b in reversed(blocks) if b.texts), None)
        if block is None or block.el.tag != "p":
            break
        text = block.texts[-1]
        # "Penulis: A<br>Editor: B<br>COPYRIGHT © ANTARA 2026": one credit per line.
        lines = [line for line in map(inline, _raw_text(block.el).split("\n")) if line]
        if len(lines) > 1 and all(match_credit(line) or is_copyright(line) for line in lines):
            for line in reversed(lines):
                credit = match_credit(line)
                if credit is not None and credit[0]:
                    authors.insert(0, credit[1])
            blocks.remove(block)
            continue
        if is_copyright(text):
            blocks.remove(block)
            continue
        credit = match_credit(text)
        if credit is not None:
            if credit[0]:
                authors.insert(0, credit[1])
            blocks.remove(block)
            continue
        raw = _raw_text(block.el).rstrip()
        closing = match_closing(raw, initials=initials is None)
        if not closing.found:
            break
        initials = initials or closing.initials
        hashtags[:0] = closing.hashtags
        _trim(block.el, len(raw) - closing.end, from_end=True)
        block.texts = _block_texts(block.el)
        if not block.texts:
            blocks.remove(block)
            continue
        break
    return initials, authors, hashtags


def _takes_caption(block: _Block) -> bool:
    """A picture without a caption: a <figure>, or a paragraph holding only an image."""
    el = block.el
    if el.find(".//figcaption") is not None:
        return False
    if el.tag == "figure":
        return True
    return el.tag == "p" and not block.texts and el.find(".//img") is not None


def _add_caption(block: _Block, text: str) -> None:
    block.el.tag = "figure"
    caption = block.el.makeelement("figcaption", {})
    caption.text = text
    block.el.append(caption)


def _take_marker(
    el: lxml.html.HtmlElement, text: str, base: str | None, related: list[RelatedLink]
) -> bool:
    """A "Baca Juga: <a>Judul</a>" block: its headlines go to `related`. True when `el` is a
    marker block (with or without its headline; see related_marker)."""
    rest = related_marker(text)
    if rest is None:
        return False
    _add_headlines(el, rest, base, related)
    return True


def _link_only(el: lxml.html.HtmlElement) -> bool:
    """All of the block's text is link text (a related headline, not a sentence with a link)."""
    linked = sum(len(inline(a.text_content())) for a in el.iter("a"))
    return linked > 0 and linked >= len(inline(el.text_content())) - 2


def _headlines_by_line(
    el: lxml.html.HtmlElement, base: str | None, related: list[RelatedLink]
) -> bool:
    """Under a "Baca Juga:" marker, one paragraph of linked headlines, one a line (<br>), as
    the IDtheme themes (Bloggingpro, Wartaberita) and Blogger posts print them: each link to
    `related`, not the paragraph as one headline under the first link's address."""
    lines = [line for line in map(inline, _raw_text(el).split("\n")) if line]
    links = _headline_links(el)
    if len(lines) < 2 or len(links) != len(lines) or not _link_only(el):
        return False
    if not all(looks_like_headline(line) and related_marker(line) is None for line in lines):
        return False
    related.extend(related_link(a.text_content(), absolute_url(a.get("href"), base)) for a in links)
    return True


def _is_furniture(el: lxml.html.HtmlElement, text: str) -> bool:
    """An ad label, promo, pagination or caption block; a block of several lines (<br>) is
    furniture when every line is ("Simak Video ...<br>[Gambas:Video 20detik]")."""
    if is_furniture(text):
        return True
    lines = [line for line in map(inline, _raw_text(el).split("\n")) if line]
    return len(lines) > 1 and all(is_furniture(line) for line in lines)


_FILE_PATH = re.compile(r"\.(?:pdf|jpe?g|png|gif|webp|docx?|xlsx?|pptx?|zip|mp[34])$", re.I)


def _related_by_shape(el: lxml.html.HtmlElement, text: str, base: str | None) -> RelatedLink | None:
    """A paragraph that is nothing but a link to another article of the same site, worded like
    a headline (disway-style related links without a "Baca Juga" marker)."""
    if base is None or not looks_like_headline(text) or len(text.split()) < 4:
        return None
    links = [a for a in el.iter("a") if inline(a.text_content())]
    hrefs = {absolute_url(a.get("href"), base) for a in links}
    if len(hrefs) != 1 or not _link_only(el):
        return None
    url = hrefs.pop()
    if url is None:
        return None
    parts = urlsplit(url)
    if (
        parts.netloc.removeprefix("www.") != urlsplit(base).netloc.removeprefix("www.")
        or _FILE_PATH.search(parts.path)
        or parts.path in ("", "/")
    ):
        return None
    return related_link(text, url)


def _leading_credits(blocks: list[_Block]) -> list[str]:
    """Credit lines above the lead ("Laporan Wartawan TribunBanten.com, Nama", "Penulis: X"):
    taken off so the lead, and its dateline, is the first paragraph. Returns the authors."""
    authors: list[str] = []
    while blocks:
        block = next((b for b in blocks if b.texts), None)
        if block is None or block.el.tag != "p":
            break
        lines = [line for line in map(inline, _raw_text(block.el).split("\n")) if line]
        credits = [match_credit(line) for line in lines]
        if not credits or any(c is None for c in credits):
            break
        authors.extend(c[1] for c in credits if c is not None and c[0])
        blocks.remove(block)
    return authors


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
    pending = False  # a "Baca Juga:" marker waits for its headline(s)
    taken = 0  # headlines taken since that marker
    for el in _Walker(container).blocks:
        el.tag = _HEADING_MAP.get(el.tag, el.tag)
        texts = _block_texts(el)
        has_image = el.tag == "figure" or next(el.iter("img"), None) is not None
        if not texts and not has_image:
            continue
        if el.tag == "figcaption":  # a loose caption (_loose_caption)
            if not is_furniture(texts[0]) and blocks and _takes_caption(blocks[-1]):
                _add_caption(blocks[-1], texts[0])
            continue
        if pending and el.tag in ("ul", "ol"):
            # "Baca Juga:" over a list of related headlines.
            items = [li for li in el.iter("li") if inline(_raw_text(li))]
            if items and all(looks_like_headline(inline(_raw_text(li))) for li in items):
                for li in items:
                    link = next((a for a in li.iter("a") if inline(a.text_content())), None)
                    href = link.get("href") if link is not None else None
                    related.append(related_link(_raw_text(li), absolute_url(href, base_url)))
                pending = False
                continue
        if el.tag in ("h2", "h3", "h4") and texts and _take_marker(el, texts[0], base_url, related):
            # "<h3>Berita Terkait</h3>" over a list of headlines
            pending, taken = related_marker(texts[0]) == "", 0
            continue
        if el.tag != "p":
            pending = False  # the marker's headline comes next or not at all
        if el.tag == "p" and texts:
            text = texts[0]
            if pending and _headlines_by_line(el, base_url, related):
                taken += 1
                continue
            if pending:
                # The headline under the marker; more may follow, each a link of its own.
                headline = looks_like_headline(text) and related_marker(text) is None
                if headline and (taken == 0 or _link_only(el)):
                    links = _headline_links(el)
                    href = links[0].get("href") if links else None
                    related.append(related_link(text, absolute_url(href, base_url)))
                    taken += 1
                    continue
                pending = False
            if is_caption_line(text):
                # "(Foto: Istimewa)" under a picture is its caption; anywhere else it describes
                # a picture that is not there. Neither is story.
                if blocks and _takes_caption(blocks[-1]):
                    _add_caption(blocks[-1], text)
                continue
            if _is_furniture(el, text):
                continue
            if _take_marker(el, text, base_url, related):
                pending, taken = related_marker(text) == "", 0
                continue
            link = _related_by_shape(el, text, base_url)
            if link is not None:
                related.append(link)
                continue
        block = _Block(el, texts)
        if el.tag == "table":
            _table_to_paragraphs(block)
        blocks.append(block)
    lead_authors = _leading_credits(blocks)
    dateline = _lead_dateline(blocks)
    initials, authors, hashtags = _trailer(blocks)
    authors = list(dict.fromkeys([*lead_authors, *authors]))
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
        tags=tuple(hashtags),
    )


def clean_fragment(html: str, *, base_url: str | None) -> Body:
    """An HTML body (markdown output, JSON body_html) -> Body, with the same rules as pages."""
    html = xml_text(html)
    if not html.strip():
        return Body(paragraphs=(), html="")
    container = lxml.html.fragment_fromstring(html, create_parent="div")
    return clean_container(container, base_url=base_url, page=False)
