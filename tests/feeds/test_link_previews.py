"""Our pages as link-preview fetchers read them: the card a Mastodon server makes of a link.

`card` mirrors Mastodon's LinkDetailsExtractor (app/lib/link_details_extractor.rb): JSON-LD
NewsArticle/WebPage first, then OpenGraph (`property` or `name`), then <meta name=description>
and <title>; a canonical URL on another origin is ignored. A fediverse post links to the
article page, and someone telling friends to follow the account links to its profile page:
either card is this metadata and nothing else.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin, urlsplit

import html5lib
import pytest
from lxml import etree

from siarkan.config import Settings
from tests.feeds.conftest import Live, Store, numbered

ICON = "https://cdn.prologmedia.example/logo-512.png"
# Imported reports keep the publisher's own address as their canonical URL.
PUBLISHER_URL = "https://www.prologmedia.example/berita/banjir-serang"


@pytest.fixture
def feed_settings(feed_settings: Settings) -> Settings:
    """The feed test settings (tests/feeds/conftest.py), with a site icon: every account's
    avatar."""
    site = feed_settings.site.model_copy(update={"icon": ICON})
    return feed_settings.model_copy(update={"site": site})


def card(page_url: str, body: bytes) -> dict[str, Any]:
    root: etree._Element = html5lib.parse(
        body, treebuilder="lxml", namespaceHTMLElements=False
    ).getroot()

    def og(name: str) -> str | None:
        for meta in root.iter("meta"):
            if name in (meta.get("property"), meta.get("name")):
                return meta.get("content")
        return None

    ld: dict[str, Any] = {}
    for script in root.iterfind(".//script[@type='application/ld+json']"):
        data = json.loads(script.text or "null")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("@type") in ("NewsArticle", "WebPage"):
                ld = ld or item

    def first(value: Any) -> Any:
        return value[0] if isinstance(value, list) and value else value

    author = first(ld.get("author")) or {}
    publisher = first(ld.get("publisher")) or {}
    description = root.find(".//meta[@name='description']")
    canonical = root.find(".//link[@rel='canonical']")
    if canonical is not None:
        canonical = canonical.get("href")
    return {
        "title": ld.get("headline") or og("og:title") or root.findtext(".//title"),
        "description": ld.get("description")
        or og("og:description")
        or (description.get("content") if description is not None else None),
        "image": og("og:image"),
        "image_description": og("og:image:alt"),
        "link_type": "article"
        if ld.get("@type") == "NewsArticle" or og("og:type") == "article"
        else "unknown",
        "author_name": author.get("name") or og("og:author"),
        "provider_name": publisher.get("name") or og("og:site_name"),
        "language": ld.get("inLanguage") or og("og:locale") or root.get("lang"),
        "published_at": ld.get("datePublished") or og("article:published_time"),
        "author_account": og("fediverse:creator"),
        "canonical_url": same_origin(page_url, canonical) or page_url,
    }


def same_origin(page_url: str, url: str | None) -> str | None:
    """Mastodon keeps a canonical URL only on the page's own host (valid_url_or_nil with
    same_origin_only), else the card's URL is the page's."""
    if not url:
        return None
    absolute = urljoin(page_url, url)
    return absolute if urlsplit(absolute).hostname == urlsplit(page_url).hostname else None


def can_be_attributed_from(actor: dict[str, Any], domain: str) -> bool:
    """Mastodon's Account#can_be_attributed_from?: the domain or a parent of it is listed."""
    segments = domain.split(".")
    variants = {".".join(segments[i:]) for i in range(len(segments))}
    return bool(variants & set(actor.get("attributionDomains", [])))


async def test_a_post_links_to_an_article_whose_card_is_complete(live: Live, store: Store) -> None:
    article = numbered(3, canonical_url=PUBLISHER_URL)
    await store([article])
    url = f"{live.url}/artikel/berita-nomor-3"
    response, body = await live.get(url)
    assert response.status == 200, body[:300]
    got = card(url, body)
    assert article.image is not None
    assert got == {
        "title": article.title,
        "description": article.subtitle,
        "image": article.image.url,
        "image_description": article.image.alt,
        "link_type": "article",
        "author_name": "Ahmad Fauzi",
        "provider_name": "Prolog Media",
        "language": "id",
        "published_at": "2026-11-01T10:00:00+07:00",
        "author_account": f"@prologmedia@{live.url.removeprefix('http://')}",
        "canonical_url": url,  # the publisher's site is another origin: Mastodon keeps ours
    }


async def test_the_card_links_the_account_that_posts_the_article(live: Live, store: Store) -> None:
    """Mastodon resolves fediverse:creator and attaches the account to the card only when
    the account's attributionDomains cover the card's domain (FetchLinkCardService,
    mastodon/mastodon#30398)."""
    # In Banten, so in both channels: the first, `utama` (@prologmedia), posts it.
    await store([numbered(3, canonical_url=PUBLISHER_URL)])
    url = f"{live.url}/artikel/berita-nomor-3"
    _, body = await live.get(url)
    got = card(url, body)
    assert got["author_account"] == f"@prologmedia@{live.url.removeprefix('http://')}"
    _, actor = await live.get("/ap/actors/utama", headers={"Accept": "application/activity+json"})
    domain = urlsplit(got["canonical_url"]).hostname
    assert domain == "127.0.0.1"
    assert can_be_attributed_from(json.loads(actor), domain)


async def test_a_profile_link_previews_with_the_accounts_avatar_and_summary(
    live: Live,
) -> None:
    """Mastodon's own profile pages carry og:title "Name (@user@host)", the note as
    og:description, the avatar as og:image and profile:username (mastodon/mastodon#21423)."""
    url = f"{live.url}/@prologmedia"
    _, body = await live.get(url, headers={"Accept": "text/html"})
    got = card(url, body)
    host = live.url.removeprefix("http://")
    assert got["title"] == f"Prolog Media — Berita Utama (@prologmedia@{host})"
    assert got["description"] == "Berita dari Banten"  # the account's summary
    assert got["image"] == ICON
    assert got["provider_name"] == "Prolog Media"
    root = html5lib.parse(body, treebuilder="lxml", namespaceHTMLElements=False)
    metas = {m.get("property"): m.get("content") for m in root.iter("meta") if m.get("property")}
    assert metas["og:type"] == "profile" and metas["profile:username"] == "prologmedia"
    assert metas["og:url"] == url


async def test_home_channel_and_tag_pages_preview_with_site_name_and_address(
    live: Live, store: Store
) -> None:
    """A shared section or topic page is a card too: site name, description and its own URL
    (Facebook and WhatsApp fall back to the page's URL as given, tracking parameters and all)."""
    await store([numbered(3)])
    for path, title in (
        ("/", None),
        ("/kanal/utama", "Prolog Media — Berita Utama"),
        ("/kanal/utama/tag/banjir", "#banjir"),
    ):
        url = f"{live.url}{path}"
        _, body = await live.get(url + "?utm_source=wa", headers={"Accept": "text/html"})
        root = html5lib.parse(body, treebuilder="lxml", namespaceHTMLElements=False)
        metas = {
            m.get("property"): m.get("content") for m in root.iter("meta") if m.get("property")
        }
        assert metas["og:site_name"] == "Prolog Media" and metas["og:description"]
        assert metas["og:url"] == url
        if title:
            assert metas["og:title"] == title
