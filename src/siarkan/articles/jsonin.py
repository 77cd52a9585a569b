"""JSON payloads -> Article. Used by the admin API (POST /api/articles) and `siarkan import`.

    dict | cms.translate (a WordPress or Ghost post -> our shape; ours passes as is)
        | validate (ArticleIn; errors as (dotted.path, message)) | body (body_text -> text
        pipeline, body_html -> HTML cleaning, paragraphs -> text pipeline) | build_article

`build_article` is also where the markdown, text and HTML importers end: one place decides ids,
slugs, languages and time zones. Ids are stable so re-importing hits the same row: the explicit
id, else a UUID5 of the canonical URL, else of the caller's seed (a file path), else of the slug.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from siarkan.articles import cms
from siarkan.articles.hashtags import merge_tags
from siarkan.articles.htmlbody import clean_fragment
from siarkan.articles.model import Article, Image, RelatedLink, Status
from siarkan.articles.schema import BODY_FIELDS, ArticleIn
from siarkan.articles.text import ArticleRejected, Body, aware, parse_report
from siarkan.articles.whitespace import inline
from siarkan.config import SiteSettings
from siarkan.urls import slugify

ID_NAMESPACE = uuid.NAMESPACE_URL


class ArticleInvalid(ArticleRejected):
    """Validation failed; `errors` are (dotted field path, message) pairs, e.g.
    ("image.url", "an absolute http(s) URL")."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors))


@dataclass(frozen=True, slots=True)
class Built:
    article: Article
    warnings: tuple[str, ...] = ()


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_too_short": "must not be empty",
}


def _path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def _message(error: dict[str, Any]) -> str:
    message = _MESSAGES.get(error["type"])
    if message:
        return message
    if str(error["type"]).startswith(("datetime", "date_")):
        return "an ISO 8601 date and time, like 2025-07-14T10:00:00+07:00"
    text = str(error["msg"])
    return text.removeprefix("Value error, ")


def validate_payload(data: object) -> ArticleIn:
    """Raise ArticleInvalid listing every problem at once."""
    if not isinstance(data, dict):
        raise ArticleInvalid([("(root)", "an article must be a JSON object")])
    errors: list[tuple[str, str]] = []
    given = [name for name in BODY_FIELDS if data.get(name)]
    if not given:
        errors.append(("body_html", "required: one of body_html, body_text or paragraphs"))
    elif len(given) > 1:
        errors.append(
            (given[1], f"give only one of {', '.join(BODY_FIELDS)} (also got {given[0]})")
        )
    try:
        model = ArticleIn.model_validate(data)
    except ValidationError as exc:
        errors.extend((_path(e["loc"]), _message(dict(e))) for e in exc.errors())
        raise ArticleInvalid(errors) from None
    if errors:
        raise ArticleInvalid(errors)
    return model


def stable_id(*, explicit: str | None, canonical_url: str | None, seed: str) -> str:
    if explicit:
        return explicit
    if canonical_url:
        return str(uuid.uuid5(ID_NAMESPACE, canonical_url))
    return str(uuid.uuid5(ID_NAMESPACE, f"siarkan:{seed}"))


def body_from_input(model: ArticleIn) -> Body:
    if model.body_html:
        return clean_fragment(model.body_html, base_url=model.canonical_url)
    if model.body_text:
        report = parse_report(model.body_text)
        # A first line repeating the title is the title pasted into the body; any other short
        # first line is a genuine paragraph (a subheading, a one-line lead).
        if report.title is not None and inline(report.title).casefold() != model.title.casefold():
            report = parse_report(model.body_text, detect_title=False)
        return report.body
    return parse_report("\n\n".join(model.paragraphs or ()), detect_title=False).body


def _merge_related(*groups: Sequence[RelatedLink]) -> tuple[RelatedLink, ...]:
    seen: dict[tuple[str, str | None], RelatedLink] = {}
    for group in groups:
        for link in group:
            seen.setdefault((link.title.casefold(), link.url), link)
    return tuple(seen.values())


def _clean_list(values: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        value = inline(value)
        if value:
            seen.setdefault(value.casefold(), value)
    return tuple(seen.values())


def build_article(
    model: ArticleIn,
    body: Body,
    *,
    settings: SiteSettings,
    source: str,
    id_seed: str | None = None,
) -> Article:
    """Validated fields + a cleaned body -> Article (the store computes the content hash)."""
    if not body.paragraphs:
        raise ArticleInvalid([(_body_field(model), "the body holds no text")])
    tz = settings.tz
    title = inline(model.title)
    slug = slugify(model.slug) if model.slug else slugify(title)
    image = Image(**model.image.model_dump()) if model.image else None
    return Article(
        id=stable_id(
            explicit=model.id, canonical_url=model.canonical_url, seed=id_seed or f"slug:{slug}"
        ),
        slug=slug,
        title=title,
        paragraphs=body.paragraphs,
        body_html=body.html,
        language=(model.language or settings.language).lower(),
        subtitle=inline(model.subtitle) if model.subtitle else None,
        dateline=inline(model.dateline) if model.dateline else body.dateline,
        authors=_clean_list(model.authors or body.authors),
        section=inline(model.section) if model.section else None,
        tags=merge_tags(_clean_list(model.tags), body.tags),
        canonical_url=model.canonical_url,
        image=image,
        related=_merge_related([RelatedLink(r.title, r.url) for r in model.related], body.related),
        published_at=_instant(model, "published_at", tz),
        updated_at=_instant(model, "updated_at", tz),
        publish_at=_instant(model, "publish_at", tz),
        status=Status(model.status),
        source=source,
    )


def _instant(model: ArticleIn, field: str, tz: tzinfo) -> datetime | None:
    """The field as an aware datetime that has a UTC equivalent: "9999-12-31T23:59-05:00" is
    valid ISO 8601 but past datetime.max in UTC, and the store writes UTC (was a 500)."""
    value: datetime | None = getattr(model, field)
    if value is None:
        return None
    moment = aware(value, tz)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        problem = "out of range: the instant must fall in years 1-9999 UTC"
        raise ArticleInvalid([(field, problem)]) from None
    return moment


def _body_field(model: ArticleIn) -> str:
    return next((name for name in BODY_FIELDS if getattr(model, name)), "body_html")


def translate(data: object) -> cms.Intent:
    """cms.translate, with its errors as ArticleInvalid (named in the CMS's terms)."""
    try:
        return cms.translate(data)
    except cms.PayloadInvalid as exc:
        raise ArticleInvalid(exc.errors) from None


def article_from_upsert(
    upsert: cms.Upsert, *, settings: SiteSettings, source: str, id_seed: str | None = None
) -> Article:
    """A translated payload -> Article; errors name the fields as the CMS calls them
    ("title.rendered", not "title")."""
    try:
        model = validate_payload(upsert.data)
        return build_article(
            model, body_from_input(model), settings=settings, source=source, id_seed=id_seed
        )
    except ArticleInvalid as exc:
        if not upsert.names:
            raise
        raise ArticleInvalid(cms.rename_errors(exc.errors, upsert.names)) from None


def article_from_payload(
    data: object, *, settings: SiteSettings, source: str, id_seed: str | None = None
) -> Article:
    """One JSON object (already decoded) -> Article, or ArticleInvalid(errors). A post that
    is not public (a WordPress draft, a deleted Ghost post) is an ArticleRejected saying so:
    a file has nothing to withdraw (the admin API acts on those, see web/admin.py)."""
    intent = translate(data)
    if not isinstance(intent, cms.Upsert):
        raise ArticleRejected(f"not imported: {intent.reason}")
    return article_from_upsert(intent, settings=settings, source=source, id_seed=id_seed)


def articles_from_json(
    text: str, *, settings: SiteSettings, source: str, id_seed: str
) -> list[Built | ArticleRejected]:
    """A JSON file: one article or a list of them; a bad item fails alone (its error paths
    start with its index, "[2].title")."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleRejected(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:  # json recurses once per [ or {
        raise ArticleRejected("not valid JSON: nested too deeply") from None
    if isinstance(data, dict):
        article = article_from_payload(data, settings=settings, source=source, id_seed=id_seed)
        return [Built(article)]
    if not isinstance(data, list) or not data:
        raise ArticleRejected("expected an article object or a non-empty list of them")
    results: list[Built | ArticleRejected] = []
    for index, item in enumerate(data):
        key = item.get("slug") or item.get("title") if isinstance(item, dict) else None
        seed = f"{id_seed}#{slugify(str(key)) if key else index}"
        try:
            results.append(
                Built(article_from_payload(item, settings=settings, source=source, id_seed=seed))
            )
        except ArticleInvalid as exc:
            results.append(ArticleInvalid([(f"[{index}].{p}", m) for p, m in exc.errors]))
        except ArticleRejected as exc:  # a draft in a page of WordPress posts fails alone
            results.append(ArticleInvalid([(f"[{index}]", str(exc))]))
    return results
