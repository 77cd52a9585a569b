"""What receivers other than Mastodon reject or mis-display in our post objects.

- Misskey (and its forks) refuses a Note whose `url` is on a host unrelated to its `id`
  (`ApNoteService.createNote`: "note id and url has unrelated host"), so `url` must stay on our
  host even when the article has a canonical URL on the publisher's site.
- Pleroma/Akkoma default an attachment without `mediaType` to application/octet-stream
  (`AttachmentValidator.fix_media_type`) and show it as an unknown file, not an image.
- Misskey (`ApNoteService.createNote`: `cw = note.summary`), GoToSocial (`internal/ap`
  `ExtractSummary`), Pleroma and Akkoma show an object's plain `summary` as a content warning
  over everything else, whatever its type (WordPress ActivityPub #735: an Article's excerpt
  became a multi-line warning on Akkoma and GoToSocial). Mastodon reads `summaryMap` when there
  is no `summary` (`StatusParser#spoiler_text`) and shows it as the text of an Article.
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
from siarkan.federation.activitystreams import render_accept, render_reject
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
  - name: laporan
    title: Laporan Prolog
    fediverse: {enabled: true, username: laporan, object_type: Article}
  - name: bencana
    title: Bencana Prolog
    fediverse:
      enabled: true
      username: bencana
      object_type: Article
      content_warning: "Bencana: banjir"
"""
WHEN = datetime(2026, 11, 4, 9, 16, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return parse_settings(CONFIG, "test_receiver_interop", env={})


def render(
    settings: Settings, article: Article, channel_name: str = "utama"
) -> list[dict[str, Any]]:
    channel = settings.channel(channel_name)
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


def _mastodon_spoiler_text(obj: dict[str, Any]) -> str | None:
    """Mastodon's StatusParser#spoiler_text: `summary`, else the first `summaryMap` value."""
    if obj.get("summary"):
        return str(obj["summary"])
    summary_map = obj.get("summaryMap")
    if isinstance(summary_map, dict) and summary_map:
        return str(next(iter(summary_map.values())))
    return None


def test_article_lead_is_no_content_warning_elsewhere(settings: Settings) -> None:
    article = make_report()
    (obj,) = render(settings, article, "laporan")
    assert obj["type"] == "Article" and obj["name"] == article.title
    # Misskey, GoToSocial, Pleroma: no plain summary, so no warning over the article.
    assert "summary" not in obj and obj.get("sensitive") is not True
    # Mastodon still shows title + lead + link, in the article's language.
    assert obj["summaryMap"] == {article.language: _mastodon_spoiler_text(obj)}
    assert article.lead.split(".")[0] in (_mastodon_spoiler_text(obj) or "")


def test_article_content_warning_is_the_warning_everywhere(settings: Settings) -> None:
    (obj,) = render(settings, make_report(), "bencana")
    assert obj["summary"] == "Bencana: banjir" and obj["sensitive"] is True
    assert "summaryMap" not in obj  # one value of as:summary, not two that disagree


def test_accept_and_reject_address_a_follower_embedded_as_an_object() -> None:
    # ActivityStreams lets `actor` be the actor object itself; the Accept's `to` is its id.
    follow = {
        "id": "https://x.example/follows/1",
        "type": "Follow",
        "actor": {"id": "https://x.example/users/ani", "type": "Person"},
        "object": "https://news.example/ap/actors/utama",
    }
    for render_answer in (render_accept, render_reject):
        answer = render_answer("https://news.example/ap/a/1", follow["object"], follow)
        assert answer["to"] == ["https://x.example/users/ani"]
