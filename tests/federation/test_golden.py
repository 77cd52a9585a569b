"""What we federate, byte for byte: golden files under tests/golden/activitypub/.

Reviewed by eye once; a change in rendering shows up as a diff here. Regenerate after a
deliberate change with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/federation/test_golden.py` and
read the diff before committing.
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siarkan import urls
from siarkan.config import Settings, parse_settings
from siarkan.excerpts import mastodon_length
from siarkan.federation.activitystreams import (
    minimal_follow,
    render_accept,
    render_announce,
    render_create,
    render_delete,
    render_update,
    render_update_actor,
)
from siarkan.federation.actors import (
    ActorRecord,
    Usage,
    render_actor,
    render_host_meta,
    render_nodeinfo,
    render_webfinger,
)
from siarkan.federation.publish import excerpts_for, render_parts
from tests.helpers import make_report

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "activitypub"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CONFIG = """
site:
  name: Prolog Media
  base_url: https://news.example
  description: Berita Banten dan sekitarnya
  icon: https://news.example/static/logo.png
channels:
  - name: utama
    title: Prolog Media
    fediverse:
      enabled: true
      username: prologmedia
      summary: "Berita terkini dari Banten.\\n\\nAkun resmi redaksi Prolog Media."
      header: https://news.example/static/header.jpg
      fields: {Situs: "https://news.example", Redaksi: "redaksi@news.example"}
    excerpts: {mode: thread, max_parts: 6}
  - name: banten
    title: Prolog Media — Banten
    match: {sections: [Banten]}
    fediverse: {enabled: true, announce_by: utama, content_warning: "Bencana: banjir"}
  - name: laporan
    title: Laporan Panjang
    fediverse: {enabled: true, object_type: Article, actor_type: Service}
"""

# RFC 9421 B.1.1's public test key: a fixed PEM keeps the golden actor stable.
PUBLIC_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAhAKYdtoeoy8zcAcR874L\n"
    "8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgaj\n"
    "zrw3MOEt8uA5txSKobBpKDeBLOsdJKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTS\n"
    "d/QBwVW9OwNFhekro3RtlinV0a75jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqG\n"
    "TlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dS\n"
    "FFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ1\n"
    "0wIDAQAB\n"
    "-----END PUBLIC KEY-----\n"
)
WHEN = datetime(2026, 11, 4, 9, 16, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return parse_settings(CONFIG, "test_golden", env={})


def check(name: str, document: Any) -> None:
    path = GOLDEN / name
    text = (
        json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if not isinstance(document, str)
        else document
    )
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {path.name} was missing and has been written: review it")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def record(settings: Settings, name: str) -> ActorRecord:
    channel = settings.channel(name)
    return ActorRecord(
        name, channel.fediverse.username or name, urls.actor_key_id(settings, name),
        PUBLIC_PEM, datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
    )  # fmt: skip


def posts_for(settings: Settings, channel_name: str) -> list[dict[str, Any]]:
    channel = settings.channel(channel_name)
    article = make_report()
    excerpts = excerpts_for(settings, channel, article)
    uris = [urls.post_uri(settings, f"{channel_name}-{k}") for k in range(len(excerpts))]
    return render_parts(settings, channel, article, excerpts, uris, [WHEN] * len(excerpts))


def test_actor_and_discovery_documents(settings: Settings) -> None:
    utama = settings.channel("utama")
    check("actor-utama.json", render_actor(settings, utama, record(settings, "utama")))
    check(
        "actor-laporan.json",
        render_actor(settings, settings.channel("laporan"), record(settings, "laporan")),
    )
    check("webfinger-utama.json", render_webfinger(settings, utama))
    check("host-meta.xml", render_host_meta(settings))
    check("nodeinfo-2.1.json", render_nodeinfo(settings, "2.1", Usage(3, 2, 3, 41)))


def test_thread_notes(settings: Settings) -> None:
    parts = posts_for(settings, "utama")
    assert len(parts) > 1
    for k, obj in enumerate(parts):
        check(f"note-thread-{k + 1}.json", obj)
    check("create-thread-1.json", render_create(urls.activity_uri(settings, "c1"), parts[0]))


def test_summary_note_with_content_warning(settings: Settings) -> None:
    (note,) = posts_for(settings, "banten")
    check("note-summary-cw.json", note)
    assert note["summary"] == "Bencana: banjir" and note["sensitive"] is True


def test_article_object_for_article_channels(settings: Settings) -> None:
    (article,) = posts_for(settings, "laporan")
    check("article-summary.json", article)
    assert article["type"] == "Article" and article["name"] and article["summaryMap"]["id"]
    assert "summary" not in article  # Misskey, GoToSocial, Pleroma: a content warning


def test_other_activities(settings: Settings) -> None:
    (note,) = posts_for(settings, "banten")
    actor = urls.actor_url(settings, "banten")
    followers = urls.actor_followers_url(settings, "banten")
    edited = {**note, "updated": "2026-11-04T10:00:00Z"}
    check("update.json", render_update(urls.activity_uri(settings, "u1"), edited, WHEN))
    check(
        "delete.json",
        render_delete(
            urls.activity_uri(settings, "d1"), actor, followers, note["id"], "Note", WHEN
        ),
    )
    check(
        "announce.json",
        render_announce(
            urls.activity_uri(settings, "a1"), urls.actor_url(settings, "utama"),
            urls.actor_followers_url(settings, "utama"), note["id"], actor, WHEN,
        ),
    )  # fmt: skip
    follow = minimal_follow("https://m.example/users/ani#follows/9", "https://m.example/users/ani",
                            urls.actor_url(settings, "utama"))  # fmt: skip
    check("accept.json", render_accept(urls.activity_uri(settings, "k1"), follow["object"], follow))
    utama = settings.channel("utama")
    check(
        "update-actor.json",
        render_update_actor(
            urls.activity_uri(settings, "r1"),
            render_actor(settings, utama, record(settings, "utama")),
            urls.actor_followers_url(settings, "utama"),
            WHEN,
        ),
    )


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</p>\s*<p>", "\n\n", content)))


@pytest.mark.parametrize("channel_name", ["utama", "banten"])
def test_mastodon_length_including_the_content_warning(
    settings: Settings, channel_name: str
) -> None:
    """500 as Mastodon counts it: URLs as 23, and the content warning counts too."""
    for note in posts_for(settings, channel_name):
        warning = note.get("summary") or ""
        assert mastodon_length(_plain(note["content"])) + len(warning) <= 500
        assert "<img" not in note["content"]
        assert len(note.get("attachment", [])) <= 4
        tags = [t["name"] for t in note.get("tag", [])]
        assert all(name.startswith("#") and name in _plain(note["content"]) for name in tags)
