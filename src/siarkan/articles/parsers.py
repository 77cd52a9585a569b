"""Bytes -> articles, one parser per input kind. Pure: no I/O, no clock, no database.

bytes | check_bytes (empty? binary?) | decode | PARSERS[kind]
    text     -> whatsapp.strip_chat_styling | text.parse_report -> jsonin.build_article
    markdown -> markdown.parse_markdown  -> jsonin.build_article
    json     -> jsonin.articles_from_json (one article or a list)
    html     -> html.parse_page          -> jsonin.build_article
-> [Parsed(source, article, warnings) | Failed(source, one-line reason)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from siarkan.articles.html import PageArticle, decode_html, parse_page
from siarkan.articles.jsonin import (
    ArticleInvalid,
    Built,
    articles_from_json,
    build_article,
    validate_payload,
)
from siarkan.articles.markdown import parse_markdown
from siarkan.articles.model import Article
from siarkan.articles.text import ArticleRejected, Body, derive_title, parse_report
from siarkan.articles.whatsapp import strip_chat_styling
from siarkan.config import SiteSettings

KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}


@dataclass(frozen=True, slots=True)
class Parsed:
    source: str  # what the user named: a path as given, or a URL
    article: Article
    warnings: tuple[str, ...] = ()
    # A report split over pages: the addresses read after page 1 (its pages 2..N in order, or
    # the one show-all page); empty for a report on one page.
    more_pages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Failed:
    source: str
    reason: str


ParseOutcome = Parsed | Failed


def check_bytes(data: bytes) -> None:
    if not data.strip():
        raise ArticleRejected("empty file" if not data else "the file holds only whitespace")
    nul = data.find(b"\x00")
    # UTF-16 text is full of NULs too, but the publisher's files are UTF-8; HTML with a UTF-16
    # BOM is decoded by decode_html before this check matters.
    if nul >= 0 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleRejected(f"binary data, not text (NUL byte at offset {nul})")


def decode_utf8(data: bytes) -> str:
    """UTF-8 (BOM or not); UTF-16 only with its BOM (Windows Notepad's "Unicode")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleRejected("not valid UTF-16 text despite its byte order mark") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ArticleRejected(
            f"not UTF-8 text: invalid byte 0x{bad:02x} at offset {exc.start}"
        ) from None


@dataclass(frozen=True, slots=True)
class ParseContext:
    settings: SiteSettings
    source: str  # stored in Article.source
    id_seed: str  # stable across re-imports of the same file / URL
    url: str | None = None  # the page URL, for pages fetched from the web
    charset: str | None = None  # from the HTTP Content-Type


def _parse_text(data: bytes, ctx: ParseContext) -> list[Built | ArticleRejected]:
    report = parse_report(strip_chat_styling(decode_utf8(data)))
    if not report.body.paragraphs:
        raise ArticleRejected("no text in the file")
    warnings: tuple[str, ...] = ()
    title = report.title
    if title is None:
        title = derive_title(report.body.paragraphs[0])
        warnings = (f"no title line; derived from the lead: {title!r}",)
    model = validate_payload({"title": title, "paragraphs": list(report.body.paragraphs)})
    article = build_article(
        model, report.body, settings=ctx.settings, source=ctx.source, id_seed=ctx.id_seed
    )
    return [Built(article, warnings)]


def _parse_markdown(data: bytes, ctx: ParseContext) -> list[Built | ArticleRejected]:
    text = decode_utf8(data)
    return [parse_markdown(text, settings=ctx.settings, source=ctx.source, id_seed=ctx.id_seed)]


def _parse_json(data: bytes, ctx: ParseContext) -> list[Built | ArticleRejected]:
    return articles_from_json(
        decode_utf8(data).removeprefix("\ufeff"),
        settings=ctx.settings,
        source=ctx.source,
        id_seed=ctx.id_seed,
    )


# Page metadata that fails validation is dropped with a warning rather than losing the page.
_OPTIONAL_PAGE_FIELDS = ("image", "canonical_url", "language", "subtitle", "section")


def read_page(
    data: bytes,
    *,
    url: str | None,
    settings: SiteSettings,
    charset: str | None = None,
    article_url: str | None = None,
) -> PageArticle:
    """HTML bytes -> PageArticle (metadata, cleaned body, paging); ArticleRejected if none."""
    if not data.strip():
        raise ArticleRejected("empty file")
    try:
        text = decode_html(data, charset)
    except UnicodeDecodeError as exc:
        raise ArticleRejected(
            f"not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(and no other charset declared)"
        ) from None
    return parse_page(text, url=url, tz=settings.tz, article_url=article_url)


def _parse_html(data: bytes, ctx: ParseContext) -> list[Built | ArticleRejected]:
    page = read_page(data, url=ctx.url, settings=ctx.settings, charset=ctx.charset)
    return [_built_from_page(page, ctx)]


def _built_from_page(page: PageArticle, ctx: ParseContext) -> Built:
    meta, warnings = page.meta, list(page.warnings)
    title = meta.title
    if not title:
        title = derive_title(page.body.paragraphs[0])
        warnings.append(f"no title in the page; derived from the lead: {title!r}")
    fields: dict[str, Any] = {
        "title": title,
        "subtitle": meta.subtitle,
        "authors": list(meta.authors),
        "section": meta.section,
        "tags": list(meta.tags),
        "canonical_url": meta.canonical_url,
        "image": asdict(meta.image) if meta.image else None,
        "published_at": meta.published_at,
        "updated_at": meta.updated_at,
        "language": meta.language,
        "paragraphs": list(page.body.paragraphs),
    }
    try:
        model = validate_payload(fields)
    except ArticleInvalid as exc:
        dropped = {path.split(".")[0] for path, _ in exc.errors} & set(_OPTIONAL_PAGE_FIELDS)
        if not dropped:
            raise
        warnings.extend(f"ignored invalid {path}: {message}" for path, message in exc.errors)
        model = validate_payload({k: v for k, v in fields.items() if k not in dropped})
    article = build_article(
        model,
        page.body,
        settings=ctx.settings,
        source=ctx.source,
        id_seed=ctx.url or ctx.id_seed,
    )
    return Built(article, tuple(warnings))


PARSERS: dict[str, Callable[[bytes, ParseContext], list[Built | ArticleRejected]]] = {
    "text": _parse_text,
    "markdown": _parse_markdown,
    "json": _parse_json,
    "html": _parse_html,
}


def parse_bytes(data: bytes, kind: str, *, display: str, ctx: ParseContext) -> list[ParseOutcome]:
    """One input's bytes -> its articles (most inputs hold one; a JSON list holds many)."""
    try:
        if kind != "html":
            check_bytes(data)
        elif not data.strip():
            raise ArticleRejected("empty file")
        results = PARSERS[kind](data, ctx)
    except ArticleRejected as exc:
        return [Failed(display, str(exc))]
    outcomes: list[ParseOutcome] = []
    for result in results:
        if isinstance(result, Built):
            outcomes.append(Parsed(display, result.article, result.warnings))
        else:
            outcomes.append(Failed(display, str(result)))
    return outcomes


def parse_page_bytes(
    data: bytes, *, url: str, settings: SiteSettings, charset: str | None = None
) -> ParseOutcome:
    """A fetched article page -> Parsed | Failed (pure)."""
    ctx = ParseContext(settings=settings, source=url, id_seed=url, url=url, charset=charset)
    return parse_bytes(data, "html", display=url, ctx=ctx)[0]


def joined_outcome(
    first: PageArticle,
    body: Body,
    *,
    url: str,
    settings: SiteSettings,
    more_pages: tuple[str, ...],
    warnings: tuple[str, ...] = (),
) -> ParseOutcome:
    """A report read over several pages -> Parsed | Failed (pure). Everything but the body is
    page 1's, its canonical URL and address above all: they make the article's id, which must
    not change between imports whether the pages were joined or read at "?page=all"."""
    ctx = ParseContext(settings=settings, source=url, id_seed=url, url=url)
    try:
        built = _built_from_page(replace(first, body=body), ctx)
    except ArticleRejected as exc:
        return Failed(url, str(exc))
    return Parsed(url, built.article, (*built.warnings, *warnings), more_pages=more_pages)
