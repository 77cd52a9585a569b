"""Reports split over several pages: where the other pages are, and one body from all of them.
Pure: an lxml tree, URLs and Bodies in, data out (fetching them is `multipage`'s job).

    a page's tree (before cleaning) | find_paging: <link rel="next">, <a rel="next"> and every
        link to the SAME article with "?page=N" (Tribun, Kompas, Okezone, Suara), a "/N" path
        suffix (WordPress wp_link_pages: /slug/2/) or a show-all variant ("?page=all", iNews'
        "/all") -> Paging(number, next, last, show_all) | None (one page)
    pages' metadata | same_article (canonical URL without its page, else the title without
        "Halaman 2" / "Halaman all") -> bool
    Bodies of pages 1..N, in order | join_bodies (a block repeated from an earlier page, such
        as furniture the cleaning keeps, dropped) -> one Body

A paging link always names the article's own address: a "?page=2" of another article in a
related-posts box, or a rel="next" to the next post (themes do that), is not our next page.
The paging boxes themselves are furniture: htmlbody drops them (.paging, .pagination,
post-page-numbers) and furniture.is_noise_line their loose labels ("Halaman selanjutnya").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from siarkan.articles.model import RelatedLink
from siarkan.articles.text import Body
from siarkan.articles.whitespace import inline

ALL: Literal["all"] = "all"
PageNumber = int | Literal["all"]


@dataclass(frozen=True, slots=True)
class Paging:
    """Where a page sits in its report: `number` (1 for the first), the URL of the page after
    it (None on the last), the highest page number linked, and the show-all URL if linked."""

    number: int
    next: str | None
    last: int
    show_all: str | None = None


def _split(url: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(host, path without trailing slash, query pairs) of an http(s) URL, else None."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host, parts.path.rstrip("/"), parse_qsl(parts.query, keep_blank_values=True)


_PATH_PAGE = re.compile(r"/(?P<n>\d{1,3}|all)$")


def page_of(url: str, article_url: str) -> PageNumber | None:
    """Which page of the article at `article_url` the address `url` is: 1 for the article
    itself, N for "?page=N" or "/N", ALL for "?page=all" or "/all"; None for another
    address (another article, another host)."""
    here, article = _split(url), _split(article_url)
    if here is None or article is None or here[0] != article[0]:
        return None
    _, path, query = here
    number: str | None = None
    if path != article[1]:
        m = _PATH_PAGE.search(path)
        if m is None or path[: m.start()] != article[1]:
            return None
        number = m.group("n")
    pages = [value for key, value in query if key == "page"]
    if pages:
        if number is not None:
            return None
        number = pages[0].strip().lower()
    if number is None:
        return 1
    if number == ALL:
        return ALL
    if not number.isdigit() or not 1 <= int(number) <= 999:
        return None
    return int(number)


_LINKS = etree.XPath("//link[@href] | //a[@href]")
# Cheap test before any URL is parsed: a page has hundreds of links, few of them to pages.
_MAYBE_PAGE = re.compile(r"[?&]page=|/(?:\d{1,3}|all)/?(?:[?#]|$)", re.IGNORECASE)


def find_paging(
    doc: lxml.html.HtmlElement, *, page_url: str, article_url: str | None = None
) -> Paging | None:
    """The paging of the page at `page_url` (part of the article at `article_url`, page 1's
    address: the page itself when not given), or None when the page names no other page."""
    article_url = article_url or page_url
    current = page_of(page_url, article_url)
    number = current if isinstance(current, int) else 1
    numbered: dict[int, str] = {}
    rel_next: str | None = None
    show_all: str | None = None
    for el in _LINKS(doc):
        href = (el.get("href") or "").strip()
        rel = (el.get("rel") or "").lower().split()
        if not href or href.startswith(("#", "javascript:")):
            continue
        if "next" not in rel and not _MAYBE_PAGE.search(href):
            continue
        try:
            url = urljoin(page_url, href).split("#", 1)[0]
        except ValueError:
            continue
        which = page_of(url, article_url)
        if which is None:
            continue
        if which == ALL:
            show_all = show_all or url
        elif el.tag == "link" and "next" in rel and which > number:
            rel_next = rel_next or url
        elif el.tag == "a":
            if "next" in rel and which > number:
                rel_next = rel_next or url
            numbered.setdefault(which, url)
    following = rel_next or numbered.get(number + 1)
    last = max([number, *numbered])
    if following is None and number == 1:
        return None  # one page (a show-all link alone is no reason to read more)
    return Paging(number=number, next=following, last=last, show_all=show_all)


def show_all_url(article_url: str, paging: Paging, sites: Sequence[str]) -> str | None:
    """The show-all address to try first: the one the page links, else "?page=all" on a site
    known to offer it (`sites`: hosts or parent domains)."""
    if paging.show_all is not None:
        return paging.show_all
    parts = _split(article_url)
    if parts is None:
        return None
    host = parts[0]
    if not any(host == site or host.endswith("." + site) for site in sites):
        return None
    split = urlsplit(article_url)
    query = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k != "page"]
    query.append(("page", ALL))
    return urlunsplit((split.scheme, split.netloc, split.path, urlencode(query), ""))


# --- the same article? ------------------------------------------------------------------------

# "Judul Berita Halaman 2", "Judul - Halaman all", "Judul (Halaman 2 dari 3)": Tribun and Kompas
# name the page in the title of pages after the first and of the show-all page.
_PAGE_LABEL = re.compile(
    r"[\s\-–—|:(]*\b(?:halaman|hal\.?|page)\s+(?:all|semua|\d+(?:\s*(?:dari|of|/)\s*\d+)?)\)?\s*$",
    re.IGNORECASE,
)


def bare_title(title: str | None) -> str:
    text = inline(title or "")
    return _PAGE_LABEL.sub("", text).casefold().strip()


def same_article(
    *,
    title: str | None,
    canonical_url: str | None,
    first_title: str | None,
    first_canonical: str | None,
) -> bool:
    """Whether a later (or show-all) page is the first page's article: its canonical URL is
    the first's or one of its pages (page 2 may name itself, "?page=2", or page 1), else the
    titles agree once the page label is gone. A redirect to the home page or to another
    report fails both."""
    if canonical_url and first_canonical and page_of(canonical_url, first_canonical) is not None:
        return True
    return bool(bare_title(title)) and bare_title(title) == bare_title(first_title)


# --- one body ---------------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _drop_repeats(body: Body, seen: set[str]) -> Body:
    """`body` without the blocks whose whole text an earlier page already had."""
    paragraphs = tuple(p for p in body.paragraphs if _key(p) not in seen)
    if len(paragraphs) == len(body.paragraphs) or not body.html:
        return replace(body, paragraphs=paragraphs)
    container = lxml.html.fragment_fromstring(body.html, create_parent="div")
    for child in list(container):
        text = _key(child.text_content())
        if text and text in seen and next(child.iter("img"), None) is None:
            container.remove(child)
    html = "".join(
        lxml.html.tostring(child, encoding="unicode", with_tail=False) for child in container
    )
    return replace(body, paragraphs=paragraphs, html=html)


def join_bodies(bodies: Sequence[Body]) -> Body:
    """Pages 1..N in order -> one Body: the dateline of page 1, the closing initials of the
    last page, every page's related links, credited authors and closing hashtags once."""
    if not bodies:
        raise ValueError("join_bodies needs at least one body")
    seen = {_key(p) for p in bodies[0].paragraphs}
    parts = [bodies[0]]
    for body in bodies[1:]:
        kept = _drop_repeats(body, seen)
        seen.update(_key(p) for p in kept.paragraphs)
        parts.append(kept)
    related: dict[tuple[str, str | None], RelatedLink] = {}
    for part in parts:
        for link in part.related:
            related.setdefault((link.title.casefold(), link.url), link)
    authors = dict.fromkeys(a for part in parts for a in part.authors)
    tags: dict[str, str] = {}
    for part in parts:
        for tag in part.tags:
            tags.setdefault(tag.casefold(), tag)
    return Body(
        paragraphs=tuple(p for part in parts for p in part.paragraphs),
        html="".join(part.html for part in parts),
        dateline=bodies[0].dateline,
        related=tuple(related.values()),
        initials=next((p.initials for p in reversed(parts) if p.initials), None),
        authors=tuple(authors),
        tags=tuple(tags.values()),
    )
