"""Real answers of the admin API and the Ghost webhook, over loopback HTTP, checked against
the OpenAPI document the same app serves: each status must be documented for its operation,
sent with the documented media type, and its body must match that status's schema (what
schemathesis's response_schema_conformance checks; schemathesis is not a dev dependency)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from siarkan.config import AdminSettings, Settings
from siarkan.store.db import Database
from siarkan.web.app import create_app
from tests.helpers import serve_app
from tests.schema_check import schema_errors
from tests.test_admin_api import TOKEN, call, report
from tests.test_cms_webhooks import SECRET, ghost_event, ghost_headers


@pytest.fixture
async def live(db_settings: Settings, db: Database, port: int) -> AsyncIterator[str]:
    admin = AdminSettings(token="test-token-123", ghost_secret=SECRET)
    app = create_app(
        db_settings.model_copy(update={"admin": admin}), db=db, roles={"web"}, migrate=False
    )
    async with serve_app(app, port) as base:
        yield base


def conformance_errors(
    spec: dict[str, Any],
    path: str,
    method: str,
    status: int,
    content_type: str,
    body: Any,
) -> list[str]:
    """Why an answer does not match the document ([] when it does)."""
    responses = spec["paths"][path][method]["responses"]
    if str(status) not in responses:
        return [f"{method.upper()} {path}: status {status} is not documented"]
    content = responses[str(status)].get("content")
    if not content:
        return [f"{method.upper()} {path} {status}: no body documented"]
    media_type = content_type.partition(";")[0].strip()
    if media_type not in content:
        return [f"{method.upper()} {path} {status}: {media_type} is not one of {list(content)}"]
    return schema_errors(body, content[media_type]["schema"], spec)


async def exchange(
    base: str, spec: dict[str, Any], path: str, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    """One request; fails the test when the answer is not what the document says."""
    status, headers, body = await call(method.upper(), f"{base}{url}", **kwargs)
    assert status < 500, body
    errors = conformance_errors(spec, path, method, status, headers["Content-Type"], body)
    assert not errors, (method, url, status, errors, body)
    return status, body


async def test_every_operation_answers_as_documented(live: str) -> None:
    _, _, spec = await call("GET", f"{live}/api/openapi.json")
    statuses: dict[tuple[str, str], set[int]] = {}

    async def check(path: str, method: str, url: str, **kwargs: Any) -> Any:
        status, body = await exchange(live, spec, path, method, url, **kwargs)
        statuses.setdefault((path, method), set()).add(status)
        return body

    articles, one, ghost = "/api/articles", "/api/articles/{key}", "/api/hooks/ghost"
    created = await check(articles, "post", articles, headers=TOKEN, json=report())
    slug = created["article"]["slug"]
    await check(articles, "post", articles, headers=TOKEN, json=report())  # unchanged
    other = report(title="Festival Kopi", canonical_url="https://prologmedia.example/kopi")
    await check(articles, "post", articles, headers=TOKEN, json=[other, {"title": "Tanpa isi"}])
    await check(articles, "post", articles, headers=TOKEN, json={"title": ""})  # 422
    await check(articles, "post", articles, headers=TOKEN, json=[])  # 422, an empty batch
    await check(articles, "post", articles, headers={**TOKEN, "Content-Type": "text/plain"})
    await check(
        articles, "post", articles, data=b"{", headers={**TOKEN, "Content-Type": "application/json"}
    )
    await check(articles, "post", articles, json=report())  # 401
    x = report(id="art-x", title="Jembatan Putus", canonical_url="https://prologmedia.example/x")
    await check(articles, "post", articles, headers=TOKEN, json=x)
    moved = {**x, "canonical_url": report()["canonical_url"]}  # taken: 409
    await check(articles, "post", articles, headers=TOKEN, json=moved)

    await check(articles, "get", f"{articles}?limit=5", headers=TOKEN)
    await check(articles, "get", f"{articles}?status=AAA", headers=TOKEN)
    await check(one, "get", f"{articles}/{slug}", headers=TOKEN)
    await check(one, "get", f"{articles}/tidak-ada", headers=TOKEN)
    await check(one, "delete", f"{articles}/{slug}", headers=TOKEN)
    await check(one, "delete", f"{articles}/tidak-ada", headers=TOKEN)

    signed = json.dumps(ghost_event("post.published")).encode()
    for _ in range(2):  # the second delivery is a duplicate
        await check(ghost, "post", ghost, data=signed, headers=ghost_headers(signed))
    deleted = json.dumps(ghost_event("post.deleted")).encode()
    await check(ghost, "post", ghost, data=deleted, headers=ghost_headers(deleted))
    await check(ghost, "post", ghost, data=signed, headers=ghost_headers(signed, secret="x"))

    assert statuses == {
        (articles, "post"): {200, 201, 400, 401, 409, 415, 422},
        (articles, "get"): {200, 400},
        (one, "get"): {200, 404},
        (one, "delete"): {200, 404},
        (ghost, "post"): {200, 201, 401},
    }


async def test_a_wrong_answer_fails_the_check(live: str) -> None:
    """The check above can fail: the real answers, each altered the way a drift would."""
    _, _, spec = await call("GET", f"{live}/api/openapi.json")
    _, created = await exchange(
        live, spec, "/api/articles", "post", "/api/articles", headers=TOKEN, json=report()
    )
    json_type = "application/json; charset=utf-8"

    def errors(body: Any, status: int = 201, content_type: str = json_type) -> list[str]:
        return conformance_errors(spec, "/api/articles", "post", status, content_type, body)

    assert errors(created) == []
    article = {
        ("permalink" if name == "url" else name): v for name, v in created["article"].items()
    }
    renamed = {**created, "article": article}
    assert errors(renamed) == [
        "$.article: 'url' is a required property",
        "$.article: Additional properties are not allowed ('permalink' was unexpected)",
    ]
    assert errors({**created, "outcome": "stored"})  # not an Outcome
    assert errors({**created, "article": {**created["article"], "tags": "banjir"}})
    assert errors({"outcome": "created"})  # no article
    assert errors(created, status=418)  # an undocumented status
    assert errors(created, content_type="text/html")  # an undocumented media type
    problem = {"type": "about:blank", "title": "x", "status": 422, "detail": "y"}
    assert errors(problem, status=422, content_type="application/problem+json") == []
    assert errors(problem, status=422)  # a problem sent as plain JSON
    assert errors({**problem, "errors": [{"loc": "title"}]}, 422, "application/problem+json")
