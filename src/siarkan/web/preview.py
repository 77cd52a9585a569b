"""GET /preview/{article}: the posts an article becomes, as a follower would see them.

id|slug | store.get_article | visible? (else 404 unless the admin token is presented)
    | ?channel= (else the first channel that takes it) | ?mode= (else the channel's)
    | federation.publish.excerpts_for (exactly what publishing posts)
    | preview_cards (pure: account, numbering, count vs limit, timing)
    | templates/preview.html (no JavaScript, loads nothing: static/preview.css is inlined,
      and allowed by its hash in the page's Content-Security-Policy)
    -> a public article's preview: ETag of the body, revalidated on every view (an editor
       checking an edit must see it); a draft's (admin only): never stored
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from siarkan.articles.model import Article
from siarkan.channels import channels_for
from siarkan.config import ChannelSettings, Settings
from siarkan.excerpts import Excerpt
from siarkan.federation.publish import excerpts_for
from siarkan.store.articles import get_article
from siarkan.web.admin import is_admin
from siarkan.web.httpcache import by_body
from siarkan.web.keys import CLOCK, DB, SETTINGS
from siarkan.web.pages import is_public
from siarkan.web.security import content_security_policy, html_headers, style_hash
from siarkan.web.templating import render_html

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Style:
    """The stylesheet inlined into every preview, and the headers that allow exactly it."""

    css: Markup
    headers: Mapping[str, str]


_STYLE = web.AppKey("preview_style", Style)

MODES = ("summary", "thread", "series")
MODE_LABELS = {"summary": "Ringkasan", "thread": "Utas", "series": "Seri"}


@dataclass(frozen=True, slots=True)
class Account:
    display_name: str
    handle: str  # "@user@host"
    initials: str
    hue: int  # avatar placeholder colour, stable per account


@dataclass(frozen=True, slots=True)
class Card:
    number: str  # "2/6", "" for a single post
    html: Markup  # our own escaped output (siarkan.excerpts renders and escapes it)
    text: str
    length: int
    limit: int
    meter: int  # percent of the limit used, capped at 100
    over: bool
    context: str  # "Membalas 1/6", "Terbit +2 jam", or ""
    link: str | None


@dataclass(frozen=True, slots=True)
class Switch:
    label: str
    url: str
    current: bool


def account_for(settings: Settings, channel: ChannelSettings) -> Account:
    fedi = channel.fediverse
    name = fedi.display_name or channel.title
    user = fedi.username or channel.name
    words = [w for w in name.replace("—", " ").split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or user[:2].upper()
    return Account(
        display_name=name,
        handle=f"@{user}@{settings.site.host}",
        initials=initials,
        hue=zlib.crc32(user.encode()) % 360,
    )


def _after(delta: timedelta) -> str:
    """ "+2 jam 30 menit" (Indonesian units)."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{v} {unit}" for v, unit in ((days, "hari"), (hours, "jam"), (minutes, "menit")) if v]
    return "+" + " ".join(parts) if parts else "segera"


def preview_cards(parts: list[Excerpt], channel: ChannelSettings, limit: int) -> list[Card]:
    """Pure: excerpts -> what each card shows."""
    cards = []
    for part in parts:
        if part.total == 1:
            context = ""
        elif part.mode == "series":
            context = "Terbit " + (
                "pertama"
                if part.index == 0
                else _after(channel.excerpts.series_interval * part.index)
            )
        else:
            context = f"Membalas {part.index}/{part.total}" if part.index else "Awal utas"
        cards.append(
            Card(
                number=f"{part.index + 1}/{part.total}" if part.total > 1 else "",
                html=Markup(part.html),  # noqa: S704 - built and escaped by siarkan.excerpts
                text=part.text,
                length=part.length,
                limit=limit,
                meter=min(100, round(100 * part.length / limit)),
                over=part.length > limit,
                context=context,
                link=part.link,
            )
        )
    return cards


def switches(
    path: str, settings: Settings, channel: ChannelSettings, mode: str
) -> tuple[list[Switch], list[Switch]]:
    """Links to the same preview on every channel and in every mode."""
    by_channel = [
        Switch(
            c.title,
            f"{path}?{urlencode({'channel': c.name, 'mode': mode})}",
            c.name == channel.name,
        )
        for c in settings.channels
    ]
    by_mode = [
        Switch(
            MODE_LABELS[m], f"{path}?{urlencode({'channel': channel.name, 'mode': m})}", m == mode
        )
        for m in MODES
    ]
    return by_channel, by_mode


async def lifespan(app: web.Application) -> AsyncIterator[None]:
    css = (resources.files("siarkan") / "web" / "static" / "preview.css").read_text("utf-8")
    policy = content_security_policy(style_hash(css))
    app[_STYLE] = Style(Markup(css), html_headers(policy))  # noqa: S704 - our own file
    yield


def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render_html(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def _channel(settings: Settings, article: Article, name: str | None) -> ChannelSettings | None:
    if name:
        return next((c for c in settings.channels if c.name == name), None)
    accepting = channels_for(settings, article)
    return accepting[0] if accepting else settings.channels[0]


@routes.get("/preview/{article}")
async def preview(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[DB].connect() as conn:
        article = await get_article(conn, request.match_info["article"])
    # Drafts and scheduled reports are not public yet: only the admin may preview them.
    if article is None or not (is_public(article, request.app[CLOCK].now()) or is_admin(request)):
        return _error(
            request,
            404,
            "Artikel tidak ditemukan",
            "Artikel yang ingin dipratinjau tidak ada atau belum diterbitkan.",
        )
    if not settings.channels:
        return _error(request, 404, "Belum ada kanal", "Tambahkan kanal di berkas konfigurasi.")
    channel = _channel(settings, article, request.query.get("channel"))
    if channel is None:
        return _error(
            request,
            400,
            "Kanal tidak dikenal",
            f"Tidak ada kanal bernama {request.query.get('channel')!r}.",
        )
    mode = request.query.get("mode") or channel.excerpts.mode
    if mode not in MODES:
        return _error(request, 400, "Mode tidak dikenal", "Pilih ringkasan, utas, atau seri.")
    channel = channel.model_copy(update={"excerpts": channel.excerpts.overridden(mode=mode)})
    parts = excerpts_for(settings, channel, article)
    by_channel, by_mode = switches(request.path, settings, channel, mode)
    style = request.app[_STYLE]
    response = render_html(
        request,
        "preview.html",
        {
            "article": article,
            "channel": channel,
            "mode": mode,
            "mode_label": MODE_LABELS[mode],
            "account": account_for(settings, channel),
            "cards": preview_cards(parts, channel, channel.excerpts.max_chars),
            "content_warning": channel.fediverse.content_warning,
            "object_type": channel.fediverse.object_type,
            "by_channel": by_channel,
            "by_mode": by_mode,
            "preview_css": style.css,
        },
        security=style.headers,
    )
    # A tool page: never indexed (it repeats the article's text).
    response.headers["X-Robots-Tag"] = "noindex"
    if not is_public(article, request.app[CLOCK].now()):
        # A draft, shown to the admin only: no cache may keep it (RFC 9111 §5.2.2.5).
        response.headers["Cache-Control"] = "no-store"
        return response
    # Stored, but always revalidated: an editor checking an edit sees it at once, in a 304
    # when nothing changed. Not "public": a shared cache keeps no answer to an admin's
    # request (RFC 9111 §3.5).
    return by_body(request, response, "no-cache")
