"""What receivers other than Mastodon reject or mis-display in our post objects.

- Misskey (and its forks) refuses a Note whose `url` is on a host unrelated to its `id`
  (`ApNoteService.createNote`: "note id and url has unrelated host"), so `url` must stay on our
  host even when the article has a canonical URL on the publisher's site.
- Pleroma/Akkoma default an attachment without `mediaType` to application/octet-stream
  (`AttachmentValidator.fix_media_type`) and show it as an unknown file, not an image.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from siarkan import urls
from siarkan.articles.model import Article, Image
from siarkan.config import Settings, parse_settings
from siarkan.federation.publish import excerpts_for, render_parts
from tests.helpers import make_report

CONFIG = """
site:
  name: Prolog Media
  base_url: https://fedi.news.example
channels:
  - name: utama
    title: Prolog Media
    fediverse: {enabled: true, username: prologmedia}
    excerpts: {mode: thread, max_parts: 4}
"""
WHEN = datetime(2026, 11, 4, 9, 16, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return parse_settings(CONFIG, "test_receiver_interop", env={})


def render(settings: Settings, article: Article) -> list[dict[str, Any]]:
    channel = settings.channel("utama")
    excerpts = excerpts_for(settings, channel, article)
    uris = [urls.post_uri(settings, f"p{k}") for k in range(len(excerpts))]
    return render_parts(settings, channel, article, excerpts, uris, [WHEN] * len(excerpts))


def test_note_url_stays_on_our_host_when_the_canonical_is_elsewhere(settings: Settings) -> None:
    canonical = "https://prologmedia.example/daerah/2026/11/banjir-serang"
    article = make_report(canonical_url=canonical)
    parts = render(settings, article)
    assert len(parts) > 1
    for obj in parts:
        assert urlsplit(obj["url"]).hostname == urlsplit(obj["id"]).hostname
        assert obj["url"].split("#", 1)[0] == urls.article_url(settings, article)
    # Readers are still sent to the publisher's page from the text.
    assert f'href="{canonical}"' in parts[-1]["content"]


def test_note_url_is_the_canonical_when_it_is_on_our_host(settings: Settings) -> None:
    canonical = "https://fedi.news.example/berita/banjir-serang"
    (first, *_) = render(settings, make_report(canonical_url=canonical))
    assert first["url"].split("#", 1)[0] == canonical


def test_image_attachment_without_media_type_gets_one_from_its_url(settings: Settings) -> None:
    base = make_report()
    assert base.image is not None
    image = dataclasses.replace(base.image, media_type=None)
    (first, *_) = render(settings, make_report(image=image))
    (attachment,) = first["attachment"]
    assert attachment["type"] == "Image"
    assert attachment["mediaType"] == "image/jpeg"


def test_image_attachment_with_an_unknown_extension_has_no_guessed_type(
    settings: Settings,
) -> None:
    image = Image(url="https://cdn.prologmedia.example/media/12345", alt="Banjir")
    (first, *_) = render(settings, make_report(image=image))
    (attachment,) = first["attachment"]
    assert attachment["type"] == "Image" and "mediaType" not in attachment
