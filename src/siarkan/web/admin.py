"""The admin API: a CMS pushes articles in, or retracts them (Bearer `admin.token`).

    POST   /api/articles          one article object, or a list of them (a webhook batch)
        | Content-Type application/json (415) | size bound (admin.max_body_bytes -> 413)
        | JSON (400) | cms.translate (siarkan's shape, a WordPress REST post, a WP Webhooks
        post_create/post_update/post_trash body, a Ghost webhook body) ->
          Upsert | jsonin.article_from_upsert (422 with every field error, in the CMS's
                   names) | importer.store_article (upsert and publishing in one
                   transaction) -> 201 created / 200 updated or unchanged, Location
          Retract (a draft, trashed, private, deleted post) -> 200 retracted, or 200 absent
                   when siarkan never had it
          Ignore (an attachment, a Ghost page) -> 200 ignored
    GET    /api/articles          newest first (?status=, ?limit=, ?offset=)
    GET    /api/articles/{key}    id or slug, any status
    DELETE /api/articles/{key}    retract: feeds drop it, followers get a Delete
    GET    /api/openapi.json      the contract (web/openapi.py), built from the pydantic models
                                  that validate requests (ArticleIn) and build every answer
                                  (web/admin_shapes.py)

Errors are RFC 9457 problem documents (application/problem+json). In a batch each item stands
alone: a malformed one is reported with its index and the others are stored. Every body is
built through a model of admin_shapes (answer(), problem()), so the document cannot drift.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from siarkan.articles import cms
from siarkan.articles.importer import release_pending, store_article
from siarkan.articles.jsonin import ArticleInvalid, article_from_upsert, translate
from siarkan.articles.model import Article, Status, article_to_dict
from siarkan.articles.text import ArticleRejected
from siarkan.config import Settings
from siarkan.distribution.http import wake_worker
from siarkan.publishing import article_changed
from siarkan.store.articles import (
    Outcome,
    find_article,
    get_article,
    list_articles,
    retract_article,
)
from siarkan.urls import article_url
from siarkan.web.admin_shapes import (
    MAX_BATCH,
    MAX_LIST,
    PROBLEM,
    ArticlePage,
    ArticleView,
    Batch,
    BatchCounts,
    BatchIgnored,
    BatchItem,
    BatchRejected,
    BatchStored,
    BatchWithdrawn,
    FieldError,
    Ignored,
    Problem,
    Retracted,
    Shape,
    Stored,
    Withdrawn,
)
from siarkan.web.keys import CLOCK, DB, METRICS, SETTINGS
from siarkan.web.openapi import openapi_document
from siarkan.web.security import same_secret

log = logging.getLogger("siarkan.admin")
routes = web.RouteTableDef()

MAX_OFFSET = 2**63 - 1  # a database integer: a larger offset was an OverflowError (500)


def is_admin(request: web.Request) -> bool:
    """Constant-time check of `Authorization: Bearer <admin.token>`; False when none is set."""
    token = request.app[SETTINGS].admin.token
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    # The scheme is case-insensitive (RFC 9110 section 11.1): "bearer x" is "Bearer x".
    if token is None or scheme.lower() != "bearer":
        return False
    return same_secret(credentials.strip(), token.get_secret_value())


def answer(
    shape: Shape, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer whose body is a documented shape (see admin_shapes)."""
    return web.json_response(shape.body(), status=status, headers=headers)


def problem(
    status: int, title: str, detail: str, *, errors: list[FieldError] | None = None
) -> web.Response:
    shape = Problem(type="about:blank", title=title, status=status, detail=detail)
    if errors is not None:  # given or left out, never null (see admin_shapes)
        shape = shape.model_copy(update={"errors": errors})
    headers = {"WWW-Authenticate": 'Bearer realm="siarkan"'} if status == 401 else None
    return web.Response(
        status=status,
        text=json.dumps(shape.body(), ensure_ascii=False),
        content_type=PROBLEM,
        headers=headers,
    )


def _unauthorized(request: web.Request) -> web.Response | None:
    if request.app[SETTINGS].admin.token is None:
        return problem(403, "Admin API disabled", "set admin.token in the config to enable it")
    if not is_admin(request):
        return problem(401, "Unauthorized", "send Authorization: Bearer <admin.token>")
    return None


def _errors(exc: ArticleRejected, prefix: str = "") -> list[FieldError]:
    if isinstance(exc, ArticleInvalid):
        return [FieldError(loc=prefix + loc, msg=msg) for loc, msg in exc.errors]
    return [FieldError(loc=prefix.rstrip(".") or "(root)", msg=str(exc))]


def _view(settings: Settings, article: Article) -> ArticleView:
    return ArticleView.model_validate(
        {**article_to_dict(article), "url": article_url(settings, article)}
    )


class Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


class _Conflict(ArticleRejected):
    """The article collides with another stored one (an id, slug or canonical_url that is
    already taken): a database constraint said so, and nothing of this article was stored."""


def is_json_media_type(content_type: str) -> bool:
    """application/json, or a +json type (RFC 6839 §3.1), whatever its parameters."""
    essence = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = essence.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _unsupported_media_type(request: web.Request) -> web.Response | None:
    """415 before reading a byte for a body declared as something else: `curl -d` sends a
    form type, and a body read as JSON anyway would fail with a parse error that names no
    cause. A body sent with no Content-Type at all is read as JSON (simple webhook senders
    omit it; a non-JSON one still gets 400)."""
    sent = request.headers.get("Content-Type")
    if sent is None or is_json_media_type(sent):
        return None
    response = problem(
        415,
        "Unsupported media type",
        f"the body must be JSON sent as Content-Type: application/json, not {sent}",
    )
    # The media types POST accepts here (W3C LDP §7.1, in the IANA header registry).
    response.headers["Accept-Post"] = "application/json"
    return response


async def read_body(request: web.Request) -> bytes:
    """The raw body, or Refused (size first: nothing bigger than the bound is buffered)."""
    if (unsupported := _unsupported_media_type(request)) is not None:
        raise Refused(unsupported)
    limit = request.app[SETTINGS].admin.max_body_bytes
    declared = request.content_length
    raw = b"" if declared is not None and declared > limit else await _read_up_to(request, limit)
    if (declared is not None and declared > limit) or len(raw) > limit:
        raise Refused(problem(413, "Payload too large", f"the body must be at most {limit} bytes"))
    return raw


async def _read_up_to(request: web.Request, limit: int) -> bytes:
    """The body to its end, or its first limit + 1 bytes. StreamReader.read(n) returns what
    has arrived (one network read, ~64 kB), not n bytes: a long report came in cut."""
    body = bytearray()
    while len(body) <= limit:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


async def _read_json(request: web.Request) -> Any:
    return decode_json(await read_body(request))


def decode_json(raw: bytes) -> Any:
    """The decoded body, or Refused with a 400 saying where it broke."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise Refused(problem(400, "Invalid JSON", detail)) from None
    except UnicodeDecodeError:
        raise Refused(problem(400, "Invalid JSON", "the body is not UTF-8")) from None
    except RecursionError:  # json.loads recurses once per [ or {: a deep nest is not an article
        raise Refused(problem(400, "Invalid JSON", "the body is nested too deeply")) from None
    except ValueError as exc:  # int() refuses over 4300 digits (CVE-2020-10735): was a 500
        raise Refused(problem(400, "Invalid JSON", str(exc))) from None


def _taken_field(message: str) -> str:
    """Which unique column a constraint error names (SQLite: "articles.slug", PostgreSQL: the
    constraint, named by store.tables.NAMING: "uq_articles_slug", "pk_articles" for the id)."""
    for field in ("canonical_url", "slug", "id"):
        if f"articles.{field}" in message or f"uq_articles_{field}" in message:
            return field
    return "id" if "pk_articles" in message else "its id, slug or canonical_url"


async def _store(
    request: web.Request, article: Article, *, release: bool = True
) -> tuple[Outcome, Article]:
    try:
        async with request.app[DB].connect() as conn:
            result = await store_article(
                conn,
                request.app[SETTINGS],
                article,
                now=request.app[CLOCK].now(),
                release=release,
                restore=True,  # an editor's push publishes a retracted report again
            )
    except IntegrityError as exc:  # store_article's transaction rolled back: nothing stored
        log.info("article conflict via API", extra={"article": article.id, "error": str(exc.orig)})
        request.app[METRICS].articles_imported.labels("conflict").inc()
        raise _Conflict(
            f"{_taken_field(str(exc.orig))} already belongs to another stored article"
        ) from None
    request.app[METRICS].articles_imported.labels(str(result.outcome)).inc()
    if result.outcome is not Outcome.UNCHANGED and release:
        wake_worker(request.app)
    log.info(
        "article %s via API",
        result.outcome,
        extra={"article": result.article.id, "slug": result.article.slug},
    )
    return result.outcome, result.article


@routes.post("/api/articles")
async def post_articles(request: web.Request) -> web.Response:
    if (denied := _unauthorized(request)) is not None:
        return denied
    try:
        data = await _read_json(request)
    except Refused as refused:
        return refused.response
    return await accept_payload(request, data)


async def accept_payload(request: web.Request, data: Any) -> web.Response:
    """A decoded body from an authenticated sender (the bearer token here, Ghost's signature
    in web/hooks.py) -> stored, retracted or ignored."""
    if isinstance(data, list):
        return await _post_batch(request, data)
    settings = request.app[SETTINGS]
    try:
        intent = translate(data)
        if isinstance(intent, cms.Upsert):
            article = article_from_upsert(intent, settings=settings.site, source="api")
    except ArticleRejected as exc:
        request.app[METRICS].articles_imported.labels("rejected").inc()
        return problem(422, "Invalid article", str(exc), errors=_errors(exc))
    if isinstance(intent, cms.Ignore):
        log.info("payload ignored", extra={"cms": intent.cms, "reason": intent.reason})
        return answer(Ignored(outcome="ignored", reason=intent.reason))
    if isinstance(intent, cms.Retract):
        withdrawn, retracted = await _withdraw(request, intent)
        if retracted is None:
            return answer(Withdrawn(outcome=withdrawn, reason=intent.reason))
        view = _view(settings, retracted)
        return answer(Withdrawn(outcome=withdrawn, reason=intent.reason, article=view))
    try:
        outcome, stored = await _store(request, article)
    except _Conflict as exc:
        return problem(409, "Conflict", str(exc), errors=_errors(exc))
    status = 201 if outcome is Outcome.CREATED else 200
    return answer(
        Stored(outcome=outcome, article=_view(settings, stored)),
        status=status,
        headers={"Location": f"/api/articles/{stored.id}"},
    )


async def _withdraw(
    request: web.Request, intent: cms.Retract
) -> tuple[Literal["retracted", "absent"], Article | None]:
    """A post its CMS took off the public web: retracted if siarkan has it ("retracted"),
    nothing otherwise ("absent": a draft never published here has nothing to withdraw)."""
    async with request.app[DB].connect() as conn:
        found = await find_article(conn, id=intent.id, canonical_url=intent.canonical_url)
    if found is None:
        log.info("retraction of an unknown post", extra={"article": intent.id, "cms": intent.cms})
        return "absent", None
    return "retracted", await _retract(request, found.id)


async def _retract(request: web.Request, key: str) -> Article | None:
    """Retraction, not erasure: the row stays (410 on its page, Delete to followers)."""
    settings = request.app[SETTINGS]
    now = request.app[CLOCK].now()
    async with request.app[DB].begin() as conn:
        previous = await get_article(conn, key)
        if previous is None:
            return None
        retracted = await retract_article(conn, previous.id, now=now)
        assert retracted is not None  # found just above, in this transaction
        if previous.status is not Status.RETRACTED:
            await article_changed(conn, settings, retracted, previous=previous, now=now)
    wake_worker(request.app)
    log.info("article retracted via API", extra={"article": retracted.id})
    return retracted


async def _post_batch(request: web.Request, items: list[Any]) -> web.Response:
    if not items:
        return problem(422, "Invalid batch", "the list holds no articles")
    if len(items) > MAX_BATCH:
        return problem(413, "Batch too large", f"send at most {MAX_BATCH} articles at a time")
    settings = request.app[SETTINGS]
    results: list[BatchItem] = []
    for index, item in enumerate(items):
        try:
            intent = translate(item)
            if isinstance(intent, cms.Upsert):
                article = article_from_upsert(intent, settings=settings.site, source="api")
                outcome, stored = await _store(request, article, release=False)
        except ArticleRejected as exc:  # invalid, or a conflict (_store counted those)
            if not isinstance(exc, _Conflict):
                request.app[METRICS].articles_imported.labels("rejected").inc()
            errors = _errors(exc, f"[{index}].")
            results.append(BatchRejected(index=index, outcome="rejected", errors=errors))
            continue
        if isinstance(intent, cms.Ignore):
            results.append(BatchIgnored(index=index, outcome="ignored", reason=intent.reason))
        elif isinstance(intent, cms.Retract):
            withdrawn, retracted = await _withdraw(request, intent)
            item = BatchWithdrawn(index=index, outcome=withdrawn, reason=intent.reason)
            if retracted is not None:
                item = item.model_copy(update={"id": retracted.id, "slug": retracted.slug})
            results.append(item)
        else:
            results.append(
                BatchStored(index=index, outcome=outcome, id=stored.id, slug=stored.slug)
            )
    # One bulk release for the batch's posts (if it fails, the scheduler releases them).
    async with request.app[DB].connect() as conn:
        await release_pending(conn, settings, now=request.app[CLOCK].now())
    wake_worker(request.app)
    # 200 even with rejections: the batch as a whole was processed; each item says how it went.
    return answer(Batch(counts=BatchCounts.of(results), results=results))


@routes.get("/api/articles")
async def get_articles(request: web.Request) -> web.Response:
    if (denied := _unauthorized(request)) is not None:
        return denied
    query = request.query
    try:
        status = Status(query["status"]) if "status" in query else None
        limit = min(max(int(query.get("limit", "50")), 1), MAX_LIST)
        offset = min(max(int(query.get("offset", "0")), 0), MAX_OFFSET)
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        return problem(
            400, "Bad query", f"status is one of {choices}; limit and offset are integers"
        )
    settings = request.app[SETTINGS]
    async with request.app[DB].connect() as conn:
        found = await list_articles(conn, status=status, limit=limit, offset=offset)
    items = [_view(settings, article) for article in found]
    return answer(ArticlePage(items=items, limit=limit, offset=offset))


@routes.get("/api/articles/{key}")
async def get_one(request: web.Request) -> web.Response:
    if (denied := _unauthorized(request)) is not None:
        return denied
    async with request.app[DB].connect() as conn:
        article = await get_article(conn, request.match_info["key"])
    if article is None:
        return problem(404, "Not found", f"no article {request.match_info['key']!r}")
    return answer(_view(request.app[SETTINGS], article))


@routes.delete("/api/articles/{key}")
async def delete_one(request: web.Request) -> web.Response:
    """Retraction by id or slug (see _retract)."""
    if (denied := _unauthorized(request)) is not None:
        return denied
    retracted = await _retract(request, request.match_info["key"])
    if retracted is None:
        return problem(404, "Not found", f"no article {request.match_info['key']!r}")
    return answer(Retracted(outcome="retracted", article=_view(request.app[SETTINGS], retracted)))


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app[SETTINGS]))
