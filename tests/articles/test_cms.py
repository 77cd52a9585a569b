"""WordPress and Ghost payloads -> siarkan articles (pure translation, then the usual build)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siarkan.articles import cms
from siarkan.articles.jsonin import (
    ArticleInvalid,
    Built,
    article_from_payload,
    article_from_upsert,
    articles_from_json,
)
from siarkan.articles.model import Article, Status
from siarkan.config import SiteSettings
from siarkan.web.hooks import ghost_signature_problem
from tests.cms_payloads import SITE, ghost_body, ghost_post, wp_rest_post, wp_webhook

SETTINGS = SiteSettings(name="Banten Pos", base_url="https://siarkan.example")
JAKARTA = timedelta(hours=7)


def build(payload: Any) -> Article:
    intent = cms.translate(payload)
    assert isinstance(intent, cms.Upsert), intent
    return article_from_upsert(intent, settings=SETTINGS, source="api")


def upsert(payload: Any) -> cms.Upsert:
    intent = cms.translate(payload)
    assert isinstance(intent, cms.Upsert), intent
    return intent


# --- recognition ------------------------------------------------------------------------------


def test_a_siarkan_payload_passes_untouched() -> None:
    ours = {"title": "Banjir", "body_text": "Teks.", "tags": ["banjir"], "section": "Banten"}
    intent = cms.translate(ours)
    assert intent == cms.Upsert(ours)
    assert cms.recognise(ours) == "siarkan"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (wp_rest_post(), "wordpress"),
        (wp_webhook(), "wp-webhooks"),
        (wp_webhook("post_update"), "wp-webhooks"),
        (ghost_body("post.published"), "ghost"),
        (ghost_body("post.deleted"), "ghost"),
        # siarkan's schema forbids every key these shapes are recognised by.
        ({"title": "x", "post": "y"}, "siarkan"),
        ({"title": {"raw": "x"}}, "siarkan"),
    ],
)
def test_each_shape_is_recognised_by_keys_only_it_has(payload: Any, kind: str) -> None:
    assert cms.recognise(payload) == kind


# --- WordPress REST -----------------------------------------------------------------------------


def test_a_wordpress_rest_post_becomes_an_article() -> None:
    article = build(wp_rest_post())
    assert article.title == "Banjir Rendam 1.250 Rumah di Kabupaten Serang – BPBD Siaga"
    # date_gmt has no zone but is UTC: 03:15 GMT is 10:15 in Jakarta, as `date` says.
    assert article.published_at == datetime(2026, 11, 4, 3, 15, tzinfo=UTC)
    assert article.updated_at == datetime(2026, 11, 4, 4, 2, 41, tzinfo=UTC)
    assert (
        article.canonical_url == f"{SITE}/2026/11/04/banjir-rendam-1-250-rumah-di-kabupaten-serang/"
    )
    assert article.slug == "banjir-rendam-1-250-rumah-di-kabupaten-serang"
    assert article.authors == ("Ahmad Fauzi",)
    assert article.section == "Banten"
    assert article.tags == ("banjir", "BPBD & Damkar")
    assert article.dateline == "SERANG, BANTENPOS"
    assert not any("Baca Juga" in p for p in article.paragraphs)
    assert [r.title for r in article.related] == ["Jembatan Ciujung Putus Diterjang Arus"]
    assert article.image is not None
    assert (article.image.url, article.image.alt) == (
        f"{SITE}/wp-content/uploads/2026/11/banjir-serang.jpg",
        "Banjir di Cikande",
    )
    assert article.image.caption.startswith("Warga menerobos banjir di Cikande")
    assert (article.image.media_type, article.image.width, article.image.height) == (
        "image/jpeg",
        1280,
        720,
    )
    # WordPress's automatic excerpt is the lead again, not a standfirst.
    assert article.subtitle is None
    assert article.status is Status.PUBLISHED


def test_a_hand_written_excerpt_is_the_subtitle() -> None:
    excerpt = {"rendered": "<p>BPBD membuka tiga posko pengungsian di Cikande.</p>\n"}
    article = build(wp_rest_post(excerpt={**excerpt, "protected": False}))
    assert article.subtitle == "BPBD membuka tiga posko pengungsian di Cikande."


def test_hidden_authors_and_an_unembedded_post() -> None:
    # hquarters.co.id answers _embed with an error object where the author would be.
    post = wp_rest_post()
    post["_embedded"]["author"] = [
        {
            "code": "rest_user_cannot_view",
            "message": "Maaf, Anda tidak diizinkan mengakses data pengguna tanpa autentikasi.",
            "data": {"status": 401},
        }
    ]
    assert build(post).authors == ()
    bare = wp_rest_post(jetpack_featured_media_url=f"{SITE}/wp-content/uploads/a.jpg")
    del bare["_embedded"]
    article = build(bare)
    assert (article.authors, article.section, article.tags) == ((), None, ())
    assert article.image is not None and article.image.url.endswith("/a.jpg")


def test_the_default_category_is_no_section() -> None:
    post = wp_rest_post()
    post["_embedded"]["wp:term"][0] = [
        {"id": 1, "name": "Uncategorized", "slug": "uncategorized", "taxonomy": "category"},
        {"id": 12, "name": "Banten", "slug": "banten", "taxonomy": "category"},
    ]
    assert build(post).section == "Banten"


def test_without_date_gmt_the_site_time_is_read_in_the_site_zone() -> None:
    article = build(wp_rest_post(date_gmt=None))
    assert article.published_at is not None
    assert article.published_at.utcoffset() == JAKARTA
    assert article.published_at == datetime(2026, 11, 4, 3, 15, tzinfo=UTC)


def test_a_future_post_is_scheduled_for_its_date() -> None:
    data = upsert(wp_rest_post(status="future", date_gmt="2026-12-01T01:00:00")).data
    assert (data["status"], data["publish_at"]) == ("scheduled", "2026-12-01T01:00:00+00:00")
    assert "published_at" not in data


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"status": "draft"}, "a draft"),
        ({"status": "private"}, "private"),
        ({"status": "pending"}, "pending review"),
        ({"status": "trash"}, "in the trash"),
        ({"content": {"rendered": "", "protected": True}}, "password-protected"),
    ],
)
def test_a_post_off_the_public_web_is_a_retraction(overrides: dict[str, Any], reason: str) -> None:
    intent = cms.translate(wp_rest_post(**overrides))
    assert isinstance(intent, cms.Retract)
    assert intent.id == build(wp_rest_post()).id
    assert reason in intent.reason


def test_an_attachment_is_ignored() -> None:
    assert isinstance(cms.translate(wp_rest_post(type="attachment")), cms.Ignore)


def test_the_rest_post_and_the_webhook_of_one_post_are_one_article() -> None:
    assert build(wp_rest_post(post_id=777)).id == build(wp_webhook(post_id=777)).id
    assert build(wp_rest_post(post_id=777)).id != build(wp_rest_post(post_id=778)).id
    # Without the guid (?_fields=...), the same guid is rebuilt from the link and the id.
    no_guid = wp_rest_post(post_id=777)
    del no_guid["guid"]
    assert build(no_guid).id == build(wp_rest_post(post_id=777)).id


# --- WP Webhooks ----------------------------------------------------------------------------


def test_a_wp_webhooks_post_create_becomes_an_article() -> None:
    article = build(wp_webhook())
    assert article.title == "Festival Kopi Pandeglang 2026 Hadirkan 40 Petani"
    assert article.published_at == datetime(2026, 11, 4, 3, 15, tzinfo=UTC)
    assert (article.section, article.tags) == ("Ekonomi", ("kopi",))
    assert article.canonical_url == f"{SITE}/2026/11/04/festival-kopi-pandeglang-2026/"
    # Unrendered classic-editor content: blank lines are the paragraphs, [caption] a figure.
    assert article.dateline == "PANDEGLANG, BANTENPOS"
    assert len(article.paragraphs) == 3
    assert article.paragraphs[1].startswith("Kepala Dinas Pertanian")
    assert "<figcaption>Pengunjung mencicipi kopi" in article.body_html
    assert "[caption" not in article.body_html
    assert article.image is not None and article.image.url.endswith("/kopi.jpg")


def test_wp_webhooks_statuses_and_types() -> None:
    trashed = cms.translate(
        wp_webhook("post_trash", post_status="trash", post_name="festival-kopi__trashed")
    )
    assert isinstance(trashed, cms.Retract)
    assert trashed.id == build(wp_webhook()).id
    assert trashed.canonical_url is None  # the fixture's permalink is not the trashed one
    trashed_body = wp_webhook("post_trash", post_status="trash")
    trashed_body["post_permalink"] = f"{SITE}/2026/11/04/festival-kopi-pandeglang-2026__trashed/"
    moved = cms.translate(trashed_body)
    assert isinstance(moved, cms.Retract)
    assert moved.canonical_url == f"{SITE}/2026/11/04/festival-kopi-pandeglang-2026/"
    # The auto-draft WordPress makes when the editor opens "Add New": nothing to publish.
    auto = wp_webhook(
        post_status="auto-draft",
        post_title="Auto Draft",
        post_content="",
        post_date_gmt="0000-00-00 00:00:00",
    )
    assert isinstance(cms.translate(auto), cms.Retract)
    assert isinstance(cms.translate(wp_webhook(post_type="attachment")), cms.Ignore)
    assert isinstance(cms.translate(wp_webhook(post_password="rahasia")), cms.Retract)
    body = wp_webhook()
    body["post_thumbnail"] = False  # get_the_post_thumbnail_url() without a featured image
    body["taxonomies"] = []  # PHP's empty array
    assert build(body).image is None


def test_an_undated_wp_webhooks_post_uses_its_site_time() -> None:
    article = build(wp_webhook(post_date_gmt="0000-00-00 00:00:00"))
    assert article.published_at == datetime(2026, 11, 4, 3, 15, tzinfo=UTC)


def test_block_editor_content_passes_through_autop() -> None:
    blocks = (
        "<!-- wp:paragraph -->\n<p>SERANG – Satu.</p>\n<!-- /wp:paragraph -->\n\n"
        '<!-- wp:heading -->\n<h2 class="wp-block-heading">Sub</h2>\n<!-- /wp:heading -->'
    )
    assert cms.autop(blocks).count("<p>") == 1
    assert cms.autop("<h2>Judul</h2>\n\nSatu\nDua\n\nTiga") == (
        "<h2>Judul</h2>\n<p>Satu<br>Dua</p>\n<p>Tiga</p>"
    )


# --- Ghost ------------------------------------------------------------------------------------


def test_a_ghost_post_published_becomes_an_article() -> None:
    article = build(ghost_body("post.published"))
    post = ghost_post()
    assert article.id == post["uuid"]
    assert article.title == post["title"]
    assert article.subtitle == post["custom_excerpt"]
    assert article.canonical_url == post["url"]
    assert article.published_at == datetime(2026, 11, 5, 4, 0, tzinfo=UTC)
    assert article.authors == ("Rina Marlina",)
    # The primary tag is the section; the internal "#fediverse" tag is the newsroom's own.
    assert (article.section, article.tags) == ("Pendidikan", ())
    assert article.image is not None
    assert article.image.alt == "Tenda darurat di halaman SDN 2 Cibeber"
    assert article.image.caption == "Siswa belajar di tenda darurat, Rabu (5/11/2026)."
    assert article.dateline == "LEBAK"
    assert article.paragraphs[0].startswith("Puluhan siswa SDN 2 Cibeber")


def test_ghost_canonical_url_wins_over_its_own_page() -> None:
    body = ghost_body("post.published", canonical_url="https://bantenpos.example/asli/")
    assert build(body).canonical_url == "https://bantenpos.example/asli/"


@pytest.mark.parametrize(
    ("event", "overrides", "reason"),
    [
        ("post.deleted", {}, "deleted"),
        ("post.unpublished", {}, "draft"),
        ("post.published", {"visibility": "paid"}, "paid members only"),
        ("post.published", {"status": "sent"}, "sent"),
    ],
)
def test_ghost_posts_off_the_public_web_are_retractions(
    event: str, overrides: dict[str, Any], reason: str
) -> None:
    intent = cms.translate(ghost_body(event, **overrides))
    assert isinstance(intent, cms.Retract)
    assert intent.id == ghost_post()["uuid"]
    assert reason in intent.reason


def test_a_scheduled_ghost_post_waits_for_its_time() -> None:
    data = upsert(ghost_body("post.scheduled", status="scheduled")).data
    assert (data["status"], data["publish_at"]) == ("scheduled", "2026-11-05T04:00:00.000Z")


def test_a_ghost_page_is_ignored() -> None:
    assert isinstance(
        cms.translate({"page": {"current": ghost_post(), "previous": {}}}), cms.Ignore
    )


# --- errors in the CMS's terms ----------------------------------------------------------------


def errors_of(payload: Any) -> dict[str, str]:
    with pytest.raises(ArticleInvalid) as caught:
        article_from_payload(payload, settings=SETTINGS, source="api")
    return dict(caught.value.errors)


def test_errors_name_the_wordpress_fields() -> None:
    post = wp_rest_post(title={"rendered": ""}, content={"rendered": "", "protected": False})
    post["_embedded"]["wp:featuredmedia"][0]["source_url"] = "/wp-content/uploads/relatif.jpg"
    errors = errors_of(post)
    assert set(errors) == {
        "title.rendered",
        "content.rendered",
        "_embedded.wp:featuredmedia.0.source_url",
    }, errors
    assert "absolute" in errors["_embedded.wp:featuredmedia.0.source_url"]


def test_errors_name_the_wp_webhooks_and_ghost_fields() -> None:
    assert set(errors_of(wp_webhook(post_title="", post_date_gmt="kemarin"))) == {
        "post.post_title",
        "post.post_date_gmt",
    }
    ghost = errors_of(ghost_body("post.published", html=None, plaintext="", title=""))
    assert set(ghost) == {"post.current.html", "post.current.title"}, ghost
    with pytest.raises(ArticleInvalid) as caught:
        article_from_payload(
            {"post": {"current": {}, "previous": {}}}, settings=SETTINGS, source="api"
        )
    assert caught.value.errors[0][0] == "post.previous.uuid"


def test_a_page_of_wordpress_posts_imports_and_its_draft_fails_alone() -> None:
    page = [
        wp_rest_post(post_id=1),
        wp_rest_post(post_id=2, status="draft"),
        wp_rest_post(post_id=3),
    ]
    results = articles_from_json(
        json.dumps(page), settings=SETTINGS, source="import", id_seed="posts.json"
    )
    assert [type(r).__name__ for r in results] == ["Built", "ArticleInvalid", "Built"]
    assert isinstance(results[1], ArticleInvalid)
    assert results[1].errors == [("[1]", "not imported: the WordPress post is a draft")]
    assert isinstance(results[0], Built) and isinstance(results[2], Built)
    assert results[0].article.id != results[2].article.id


# --- Ghost's signature --------------------------------------------------------------------------


def ghost_sign(body: bytes, secret: str, at: datetime) -> str:
    stamp = str(int(at.timestamp() * 1000))
    digest = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}, t={stamp}"


def test_ghost_signatures() -> None:
    now = datetime(2026, 11, 5, 4, 0, 5, tzinfo=UTC)
    body = json.dumps(ghost_body("post.published")).encode()
    secret = "rahasia-ghost-123"

    def check(header: str | None, payload: bytes = body) -> str | None:
        return ghost_signature_problem(header, payload, secret, now=now, max_age=300)

    assert check(ghost_sign(body, secret, now - timedelta(seconds=20))) is None
    assert check(ghost_sign(body, secret, now).upper().replace("SHA256=", "sha256=")) is None
    assert "missing" in (check(None) or "")
    assert "form" in (check("sha256=abc") or "")
    assert "does not match" in (check(ghost_sign(body, "tebakan", now)) or "")
    assert "does not match" in (check(ghost_sign(body, secret, now), body + b" ") or "")
    # Signed over body + t: the same digest with another timestamp is forged.
    digest = ghost_sign(body, secret, now).split(",")[0]
    assert "does not match" in (check(f"{digest}, t=1") or "")
    assert "s away from now" in (check(ghost_sign(body, secret, now - timedelta(hours=1))) or "")
    assert "s away from now" in (check(ghost_sign(body, secret, now + timedelta(hours=1))) or "")
    # A non-ASCII digit ("²") passes str.isdigit but not int(): the form's error, not a crash.
    superscript = hmac.new(secret.encode(), body + "²".encode(), hashlib.sha256).hexdigest()
    assert "form" in (check(f"sha256={superscript}, t=²") or "")
