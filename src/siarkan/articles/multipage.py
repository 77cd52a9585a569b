"""A fetched article page -> the whole report, when the site split it over pages.

    page 1 (fetched) | parsers.read_page -> PageArticle with its Paging (articles.paging)
        | one page, or page 1 is not the first -> parsers.joined_outcome as it is
        | the site shows all at once ("?page=all" linked, or imports.show_all_sites)?
              fetched; used if it is the same article and longer than page 1
        | else pages 2..N in order, each from the link on the page before (rel="next", the
          next number), every one through the run's Crawler (robots.txt, the host's turn and
          crawl delay, the SSRF guard, size and time limits), each cleaned like page 1
          | stop at imports.max_pages, at an address read before (a loop, a redirect back),
            at a page of another article, at a page with nothing new: warnings
        | paging.join_bodies -> parsers.joined_outcome (page 1's metadata and identity)

A later page that cannot be read fails the article, nothing is stored. A newsroom publishes a
report whole: half of one stored would be federated and put in feeds as the story, and the
rest would reach followers only as an edit (Mastodon shows it as "edited"; WordPress'
ActivityPub users complain of re-federated edits, #2618). The failure also keeps the feed or
sitemap from being remembered (importer._handled), so the next import tries the report again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from siarkan.articles.crawl import Crawler
from siarkan.articles.html import PageArticle
from siarkan.articles.paging import join_bodies, same_article, show_all_url
from siarkan.articles.parsers import Failed, ParseOutcome, joined_outcome, read_page
from siarkan.articles.remote import Fetched
from siarkan.articles.text import ArticleRejected
from siarkan.config import SiteSettings

log = logging.getLogger(__name__)

# Told of each page read after page 1 (a progress display counts it as one more step).
PageHook = Callable[[str], None]


def _address(url: str) -> str:
    """The form two addresses of one page share ("…/x/?page=2" and "…/x?page=2#top")."""
    parts = urlsplit(url.split("#", 1)[0])
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/')}?{parts.query}"


def _keys(page: PageArticle) -> set[str]:
    return {" ".join(p.casefold().split()) for p in page.body.paragraphs}


def _is_same(page: PageArticle, first: PageArticle) -> bool:
    return same_article(
        title=page.meta.title,
        canonical_url=page.meta.canonical_url,
        first_title=first.meta.title,
        first_canonical=first.meta.canonical_url,
    )


def _whole(page: PageArticle, first: PageArticle) -> bool:
    """A show-all answer that is the report: the same article, page 1 in it, and more."""
    keys = _keys(page)
    return (
        _is_same(page, first)
        and len(page.body.paragraphs) > len(first.body.paragraphs)
        and all(key in keys for key in _keys(first))
    )


async def _fetch_page(
    crawler: Crawler, url: str, *, article_url: str, settings: SiteSettings
) -> tuple[Fetched, PageArticle]:
    # Listed: page 1 named pages 2..N, the operator did not; robots.txt decides, as it does
    # for what a feed lists.
    fetched = await crawler.fetch(url, listed=True)
    page = read_page(
        fetched.body,
        url=fetched.url,
        settings=settings,
        charset=fetched.charset,
        article_url=article_url,
    )
    return fetched, page


async def read_report(
    crawler: Crawler,
    fetched: Fetched,
    *,
    settings: SiteSettings,
    on_page: PageHook | None = None,
) -> ParseOutcome:
    """The article behind a fetched HTML page, with every page of it (see the docstring)."""
    url = fetched.url
    try:
        first = read_page(fetched.body, url=url, settings=settings, charset=fetched.charset)
    except ArticleRejected as exc:
        return Failed(url, str(exc))
    paging, limit = first.paging, crawler.settings.max_pages
    if paging is None or paging.number != 1 or paging.next is None or limit == 1:
        return joined_outcome(first, first.body, url=url, settings=settings, more_pages=())

    show_all = show_all_url(url, paging, crawler.settings.show_all_sites)
    if show_all is not None:
        try:
            answer, whole = await _fetch_page(crawler, show_all, article_url=url, settings=settings)
        except ArticleRejected as exc:
            log.info("%s: show-all page %s: %s; reading page by page", url, show_all, exc)
        else:
            if on_page is not None:
                on_page(answer.url)
            if _whole(whole, first):
                return joined_outcome(
                    first, whole.body, url=url, settings=settings, more_pages=(answer.url,)
                )
            log.info("%s: %s is not the whole report: reading page by page", url, show_all)

    pages, read, warnings = [first], [url], []
    seen_addresses = {_address(url)}
    seen_text = _keys(first)
    following: str | None = paging.next
    while following is not None:
        number = len(pages) + 1
        if len(pages) >= limit:
            warnings.append(
                f"the report goes on at {following}: stopped after {limit} pages "
                "(imports.max_pages)"
            )
            break
        if _address(following) in seen_addresses:
            warnings.append(f"page {len(pages)} links back to {following}: stopped there")
            break
        try:
            answer, page = await _fetch_page(crawler, following, article_url=url, settings=settings)
        except ArticleRejected as exc:
            return Failed(
                url,
                f"page {number} of the report ({following}) could not be read: {exc}; not "
                "stored, so that half a story is not published (the next import tries again)",
            )
        if on_page is not None:
            on_page(answer.url)
        if _address(answer.url) in seen_addresses:
            warnings.append(f"{following} leads back to {answer.url}, read before: stopped there")
            break
        if not _is_same(page, first):
            warnings.append(
                f"{following}, linked as page {number}, is another article "
                f"({page.meta.title!r}): not joined"
            )
            break
        fresh = _keys(page) - seen_text
        if not fresh:
            warnings.append(f"page {number} ({answer.url}) repeats earlier pages: stopped there")
            break
        pages.append(page)
        read.append(answer.url)
        seen_addresses.update({_address(following), _address(answer.url)})
        seen_text |= fresh
        following = page.paging.next if page.paging is not None else None
    body = join_bodies([p.body for p in pages])
    return joined_outcome(
        first,
        body,
        url=url,
        settings=settings,
        more_pages=tuple(read[1:]),
        warnings=tuple(warnings),
    )
