"""HTML bodies -> Body: the cleaning shared by article pages, markdown and JSON body_html.

    container | related-link boxes (linksisip, lihatjg, ...) -> RelatedLink
        | drop junk (scripts, ads, share bars, newsletter boxes, iframes) | lazy images
        | blocks (p, h2-h4, lists, quotes, figures; loose text split at <br><br>)
        | "Baca Juga:" paragraphs -> RelatedLink | dateline and editor initials trimmed
        | sanitize -> Body

Pure: an lxml tree (owned by the caller, modified in place) or an HTML string in, data out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from siarkan.articles.model import RelatedLink
from siarkan.articles.sanitize import sanitize_html
from siarkan.articles.text import (
    Body,
    inline,
    is_caption_line,
    is_copyright,
    is_noise_line,
    looks_like_headline,
    match_credit,
    match_dateline,
    match_initials,
    related_link,
    related_marker,
)


def absolute_url(url: str | None, base: str | None) -> str | None:
    """`url` resolved against `base`; None unless it ends up an absolute http(s) URL."""
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
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
    r"|embed|sticky|widget|sidebar|pagination|paging|print|nav)(?![a-z0-9])"
)
RELATED_BOX_CLASSES = (
    "linksisip", "lihatjg", "baca-juga", "bacajuga", "baca_juga", "read__also", "readalso",
    "lihat-juga", "inline-related", "artikel-sisipan", "related-inline",
)  # fmt: skip
_FIND_RELATED_BOXES = class_xpath(RELATED_BOX_CLASSES)
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
                related_link(a.text_content(), absolute_url(a.get("href"), base)) for a in links
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
        src = image_src(img)
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
        if pending_marker and el.tag in ("ul", "ol"):
            # "Baca Juga:" over a list of related headlines.
            items = [li for li in el.iter("li") if inline(_raw_text(li))]
            if items and all(looks_like_headline(inline(_raw_text(li))) for li in items):
                for li in items:
                    link = next((a for a in li.iter("a") if inline(a.text_content())), None)
                    href = link.get("href") if link is not None else None
                    related.append(related_link(_raw_text(li), absolute_url(href, base_url)))
                pending_marker = False
                continue
        if el.tag != "p":
            pending_marker = False  # the marker's headline comes next or not at all
        if el.tag == "p" and texts:
            text = texts[0]
            links = [a for a in el.iter("a") if inline(a.text_content())]
            if pending_marker:
                pending_marker = False
                if looks_like_headline(text):
                    href = links[0].get("href") if links else None
                    related.append(related_link(text, absolute_url(href, base_url)))
                    continue
            if is_noise_line(text):
                continue
            if is_caption_line(text) and blocks and _takes_caption(blocks[-1]):
                # "(Foto: Istimewa)" under a picture: its caption, not a paragraph of the story.
                _add_caption(blocks[-1], text)
                continue
            rest = related_marker(text)
            if rest is not None:
                if links:
                    related.extend(
                        related_link(a.text_content(), absolute_url(a.get("href"), base_url))
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


def clean_fragment(html: str, *, base_url: str | None) -> Body:
    """An HTML body (markdown output, JSON body_html) -> Body, with the same rules as pages."""
    if not html.strip():
        return Body(paragraphs=(), html="")
    container = lxml.html.fragment_fromstring(html, create_parent="div")
    return clean_container(container, base_url=base_url, page=False)
