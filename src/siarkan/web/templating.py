"""Jinja2 for the public HTML pages: autoescaped, templates shipped inside the package, each
page sent with the security headers of web/security.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from aiohttp import web

from siarkan.web.keys import TEMPLATES
from siarkan.web.security import PAGE_HEADERS


def make_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("siarkan", "web/templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )


def render_html(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    security: Mapping[str, str] = PAGE_HEADERS,
) -> web.Response:
    body = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=security
    )
