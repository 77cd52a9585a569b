"""The admin API's OpenAPI 3.1 document (GET /api/openapi.json), built from its models.

    ArticleIn (articles/schema.py: what a push may hold)          -> requestBody schemas
    admin_shapes.RESPONSE_MODELS (what every answer is built from) -> response schemas
        -> components.schemas, each operation's statuses -> a $ref (or oneOf of them)

OpenAPI 3.1 schemas are JSON Schema, so pydantic's output fits as is. Response schemas are
pydantic's "serialization" mode: what the models send, not what they would accept.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from siarkan.articles.model import Status
from siarkan.articles.schema import ArticleIn
from siarkan.config import Settings
from siarkan.web.admin_shapes import (
    MAX_BATCH,
    MAX_LIST,
    PROBLEM,
    RESPONSE_MODELS,
    ArticlePage,
    ArticleView,
    Batch,
    Duplicate,
    Ignored,
    Problem,
    Retracted,
    Shape,
    Stored,
    Withdrawn,
)

REF = "#/components/schemas/{model}"


def _ref(model: type[Shape]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def answer(description: str, *models: type[Shape]) -> dict[str, Any]:
    """One status of an operation: its body is one of `models` (each named exactly once, so
    oneOf holds: their required fields and `outcome` values tell them apart)."""
    schema = _ref(models[0]) if len(models) == 1 else {"oneOf": [_ref(m) for m in models]}
    media_type = PROBLEM if models == (Problem,) else "application/json"
    return {"description": description, "content": {media_type: {"schema": schema}}}


def fault(description: str) -> dict[str, Any]:
    return answer(description, Problem)


def component_schemas() -> dict[str, Any]:
    """ArticleIn and its parts, every response model and its parts, under their class names."""
    article_schema = ArticleIn.model_json_schema(ref_template=REF)
    request_defs = article_schema.pop("$defs", {})
    _, response = models_json_schema(
        [(model, "serialization") for model in RESPONSE_MODELS], ref_template=REF
    )
    response_defs = response.get("$defs", {})
    if clash := set(request_defs) & set(response_defs):  # one would hide the other
        raise RuntimeError(f"request and response models share the names {sorted(clash)}")
    return {"ArticleIn": article_schema, **request_defs, **response_defs}


def openapi_document(settings: Settings) -> dict[str, Any]:
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    # Every bearer-guarded operation can answer these two (see admin._unauthorized).
    guarded = {
        "401": fault("no or wrong token"),
        "403": fault("no admin.token: the admin API is off"),
    }
    key_param = {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "article id or slug",
    }
    # A push (POST /api/articles, a CMS webhook) is one payload or a list: what each answers.
    pushed = {
        "201": answer("created", Stored),
        "200": answer(
            "updated or unchanged, retracted or absent, ignored, or a batch's results",
            Stored,
            Withdrawn,
            Ignored,
            Batch,
        ),
        "400": fault("not JSON"),
        "409": fault("id, slug or URL taken"),
        "413": fault("body or batch too large"),
        "415": fault("not application/json"),
        "422": fault("invalid article, or an empty batch"),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{settings.site.name} — siarkan admin API", "version": "1"},
        "servers": [{"url": settings.site.base_url.rstrip("/")}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": component_schemas(),
        },
        "paths": {
            "/api/articles": {
                "post": {
                    "summary": "Create or update an article (or a list of them)",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "description": (
                            "an ArticleIn (or a list); also taken as they come, translated: "
                            "a WordPress REST post (/wp-json/wp/v2/posts/<id>, ?_embed) or "
                            "a page of them, a WP Webhooks post_create / post_update / "
                            "post_trash body, a Ghost post.* webhook body"
                        ),
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/ArticleIn"},
                                        {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/ArticleIn"},
                                            "minItems": 1,
                                            "maxItems": MAX_BATCH,
                                        },
                                    ],
                                }
                            }
                        },
                    },
                    "responses": {**pushed, **guarded},
                },
                "get": {
                    "summary": "List articles, newest first",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": [s.value for s in Status]},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                    ],
                    "responses": {
                        "200": answer("a page of articles", ArticlePage),
                        "400": fault("bad status, limit or offset"),
                        **guarded,
                    },
                },
            },
            "/api/hooks/ghost": {
                "post": {
                    "summary": "Ghost's post.* webhooks, signed with admin.ghost_secret",
                    "parameters": [
                        {
                            "name": "X-Ghost-Signature",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "sha256=<hex HMAC of body + t>, t=<ms timestamp>",
                        }
                    ],
                    "responses": {
                        **pushed,
                        "200": answer(
                            "updated, unchanged, retracted, absent or ignored; a batch's "
                            "results; or a duplicate delivery, applied once already",
                            Stored,
                            Withdrawn,
                            Ignored,
                            Batch,
                            Duplicate,
                        ),
                        "401": fault("missing, forged or stale"),
                        "403": fault("no admin.ghost_secret"),
                    },
                },
            },
            "/api/articles/{key}": {
                "get": {
                    "summary": "One article, any status",
                    "security": secured,
                    "parameters": [key_param],
                    "responses": {
                        "200": answer("the article", ArticleView),
                        **guarded,
                        "404": fault("unknown"),
                    },
                },
                "delete": {
                    "summary": "Retract an article (feeds drop it, followers get a Delete)",
                    "security": secured,
                    "parameters": [key_param],
                    "responses": {
                        "200": answer("retracted", Retracted),
                        **guarded,
                        "404": fault("unknown"),
                    },
                },
            },
        },
    }
