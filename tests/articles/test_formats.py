"""Markdown with front matter and JSON payloads (the admin API shape) -> Article."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from siarkan.articles.jsonin import ArticleInvalid, article_from_payload, articles_from_json
from siarkan.articles.markdown import parse_markdown, split_front_matter
from siarkan.articles.model import RelatedLink, Status
from siarkan.articles.text import ArticleRejected
from siarkan.config import Settings, SiteSettings

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
JAKARTA = ZoneInfo("Asia/Jakarta")
BODY = "SERANG, PROLOGMEDIA – Hujan deras mengguyur Serang.\n\nParagraf kedua. (fai/idh)"


@pytest.fixture
def site(settings: Settings) -> SiteSettings:
    return settings.site


# --- markdown ---------------------------------------------------------------------------------


def test_sample_markdown(site: SiteSettings) -> None:
    text = (SAMPLES / "kampanye-cek-kesehatan-puskesmas.md").read_text(encoding="utf-8")
    built = parse_markdown(text, settings=site, source="s.md", id_seed="s.md")
    a = built.article
    assert built.warnings == ()
    assert a.title.startswith("Puskesmas Kramatwatu Gelar Cek Kesehatan Gratis")
    assert a.dateline == "PROLOGMEDIA"
    assert a.paragraphs[0].startswith("Peringatan Hari Kesehatan Nasional (HKN) ke-61")
    assert a.paragraphs[-1].endswith("membawa kartu identitas.")
    assert a.section == "Kesehatan"
    assert a.tags == ("kesehatan", "puskesmas", "Kabupaten Serang", "hipertensi")
    assert a.authors == ("Rina Marlina",)
    assert a.publish_at == datetime(2025, 11, 20, 0, 30, tzinfo=UTC)
    assert a.image is not None and a.image.credit == "Foto: PROLOGMEDIA/Rina Marlina"
    assert a.image.alt.startswith("Petugas Puskesmas Kramatwatu")
    assert a.related == (
        RelatedLink(
            "Banjir Rendam Tiga Kecamatan di Kabupaten Serang, 1.240 Warga Mengungsi",
            "https://prologmedia.example/daerah/2025/03/banjir-rendam-tiga-kecamatan-kabupaten-serang",
        ),
        RelatedLink(
            "Festival Kopi Banten Digelar di Alun-alun Pandeglang, Hadirkan 80 Pelaku UMKM"
        ),
    )
    assert "Baca" not in a.body_html and "rin/idh" not in a.text


def test_markdown_aliases_and_draft(site: SiteSettings) -> None:
    text = (
        "---\ntitle: 2025\ndate: 2025-03-11\nauthor: Ani, S.H.\ntags: banjir, serang\n"
        "draft: true\ncategories: [Daerah]\nlayout: post\n---\n" + BODY
    )
    built = parse_markdown(text, settings=site, source="x", id_seed="x")
    a = built.article
    assert a.title == "2025"
    assert a.published_at == datetime(2025, 3, 11, tzinfo=JAKARTA)
    assert a.authors == ("Ani, S.H.",)
    assert a.tags == ("banjir", "serang")
    assert a.status is Status.DRAFT
    assert a.section == "Daerah"
    assert built.warnings == ("front matter key 'layout' ignored",)


def test_markdown_heading_title_and_markup(site: SiteSettings) -> None:
    text = (
        "\ufeff# Judul dari Heading\r\n\r\n**SERANG, PROLOGMEDIA** – Teks *miring* dan "
        "[tautan](/berita/x).\r\n\r\n<script>alert(1)</script>\r\n\r\n## Subjudul\r\n\r\n"
        "- satu\r\n- dua\r\n"
    )
    a = parse_markdown(text, settings=site, source="x", id_seed="x").article
    assert a.title == "Judul dari Heading"
    assert a.dateline == "SERANG, PROLOGMEDIA"
    assert a.paragraphs == ("Teks miring dan tautan.", "Subjudul", "satu", "dua")
    assert "<script" not in a.body_html and "alert" not in a.body_html
    # No canonical URL: a relative link has nothing to resolve against and is dropped.
    assert "href" not in a.body_html


def test_markdown_without_title_derives_one_with_a_warning(site: SiteSettings) -> None:
    built = parse_markdown(
        "PROLOGMEDIA – Warga Kec. Cibeber belajar di tenda darurat. Sekolah rusak.\n\nDua.",
        settings=site,
        source="x",
        id_seed="x",
    )
    assert built.article.title == "Warga Kec. Cibeber belajar di tenda darurat"
    assert built.warnings and "derived from the lead" in built.warnings[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: [unclosed\n---\nTeks.", "front matter line"),
        ("---\n- a\n- b\n---\nTeks.", "expected key: value pairs"),
        ("---\ntitle: T\n---\n", "holds no text"),
        ("---\ntitle: T\npublish_at: besok pagi\n---\nTeks.", "front matter: publish_at"),
        ("---\ntitle: T\nimage: {url: /relatif.jpg}\n---\nTeks.", "front matter: image.url"),
        # PyYAML builds the date itself and raises ValueError, which crashed the whole batch.
        ("---\ntitle: T\ndate: 2025-13-45\n---\nTeks.", "front matter: invalid date"),
    ],
)
def test_markdown_errors(site: SiteSettings, text: str, message: str) -> None:
    with pytest.raises(ArticleRejected, match=message.replace(".", r"\.")):
        parse_markdown(text, settings=site, source="x", id_seed="x")


def test_front_matter_needs_the_fence_at_the_start() -> None:
    assert split_front_matter("Teks\n---\ntitle: x\n---\n") == ({}, "Teks\n---\ntitle: x\n---\n")


# --- JSON -------------------------------------------------------------------------------------


def test_sample_json(site: SiteSettings) -> None:
    text = (SAMPLES / "siswa-belajar-di-tenda-lebak.json").read_text(encoding="utf-8")
    [built] = articles_from_json(text, settings=site, source="s.json", id_seed="s.json")
    assert not isinstance(built, ArticleRejected)
    a = built.article
    assert a.dateline == "LEBAK, PROLOGMEDIA"
    assert a.authors == ("Erna Wulandari",)
    assert a.published_at == datetime(2025, 7, 14, 10, tzinfo=JAKARTA)  # naive -> site zone
    assert len(a.related) == 2 and len(a.paragraphs) >= 10
    assert a.image is not None and (a.image.width, a.image.height) == (1280, 720)


def test_payload_error_paths(site: SiteSettings) -> None:
    payload = {
        "tittle": "salah ketik",
        "body_text": BODY,
        "image": {"url": "ftp://x.example/a.jpg", "width": 0},
        "related": [{"title": "", "url": "https://ok.example"}],
        "canonical_url": "/relatif",
        "published_at": "kemarin",
        "status": "terbit",
        "id": "punya spasi",
    }
    with pytest.raises(ArticleInvalid) as info:
        article_from_payload(payload, settings=site, source="api")
    paths = dict(info.value.errors)
    assert paths["title"] == "required"
    assert paths["tittle"] == "unknown field"
    assert paths["image.url"] == "an absolute http(s) URL"
    assert "image.width" in paths and "related.0.title" in paths and "id" in paths
    assert paths["canonical_url"] == "an absolute http(s) URL"
    assert paths["published_at"].startswith("an ISO 8601 date")
    assert "status" in paths


@pytest.mark.parametrize(
    "url",
    [
        "https://a b.example/berita",  # urlsplit takes it; no reader or server would
        "https://news.example/berita baru",
        "https://news.example:99999/x",
        "https://news.example/x\x00",
        'https://news.example/"x"',
        "https:///berita",
    ],
)
def test_a_url_no_reader_could_follow_is_refused(site: SiteSettings, url: str) -> None:
    """Stored, it would be every feed's broken link and every post's dead one."""
    payload = {"title": "Judul", "body_text": BODY, "canonical_url": url}
    with pytest.raises(ArticleInvalid) as info:
        article_from_payload(payload, settings=site, source="api")
    assert dict(info.value.errors)["canonical_url"] == "an absolute http(s) URL"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"title": "T"}, "body_html"),
        ({"title": "T", "body_text": "a", "body_html": "<p>b</p>"}, "body_text"),
        ({"title": "  ", "body_text": "a"}, "title"),
        ({"title": "T", "body_html": "<script>x</script>"}, "body_html"),
        ({"title": "T", "paragraphs": ["", " "]}, "paragraphs"),
    ],
)
def test_payload_body_rules(site: SiteSettings, payload: dict[str, object], path: str) -> None:
    with pytest.raises(ArticleInvalid) as info:
        article_from_payload(payload, settings=site, source="api")
    assert path in dict(info.value.errors)


def test_payload_forms(site: SiteSettings) -> None:
    a = article_from_payload(
        {
            "title": "Judul",
            "paragraphs": ["SERANG, PROLOGMEDIA – Satu.", "Baca Juga: Lain", "Dua."],
            "authors": "H. Rahmat, S.H.",
            "tags": "a, b, a",
            "image": "https://img.example/a.jpg",
            "publish_at": "2030-01-01T08:00:00",
            "language": "ID",
        },
        settings=site,
        source="api",
    )
    assert a.paragraphs == ("Satu.", "Dua.") and a.dateline == "SERANG, PROLOGMEDIA"
    assert a.related == (RelatedLink("Lain"),)
    assert a.authors == ("H. Rahmat, S.H.",)
    assert a.tags == ("a", "b")
    assert a.image is not None and a.image.url == "https://img.example/a.jpg"
    assert a.publish_at == datetime(2030, 1, 1, 8, tzinfo=JAKARTA)
    assert a.language == "id"
    assert a.slug == "judul"


def test_body_text_repeating_the_title_loses_it(site: SiteSettings) -> None:
    a = article_from_payload(
        {"title": "Banjir di Serang", "body_text": "Banjir di Serang\n\n" + BODY},
        settings=site,
        source="api",
    )
    assert a.dateline == "SERANG, PROLOGMEDIA" and a.paragraphs[0].startswith("Hujan deras")
    b = article_from_payload(
        {"title": "Lain", "body_text": "Subjudul pendek\n\nIsi berita."},
        settings=site,
        source="api",
    )
    assert b.paragraphs == ("Subjudul pendek", "Isi berita.")


def test_body_html_is_cleaned_and_resolved_against_the_canonical_url(site: SiteSettings) -> None:
    a = article_from_payload(
        {
            "title": "T",
            "canonical_url": "https://news.example/berita/t",
            "body_html": '<p onclick="x()"><b>PROLOGMEDIA</b> – Isi <a href="/lain">lain</a>.</p>',
        },
        settings=site,
        source="api",
    )
    assert a.dateline == "PROLOGMEDIA"
    assert a.body_html == (
        '<p>Isi <a href="https://news.example/lain" rel="nofollow noopener">lain</a>.</p>'
    )


def test_ids_are_stable(site: SiteSettings) -> None:
    base = {"title": "Judul Sama", "body_text": "Isi."}
    first = article_from_payload(base, settings=site, source="api")
    again = article_from_payload(
        {**base, "body_text": "Isi yang diubah."}, settings=site, source="api"
    )
    assert first.id == again.id  # same slug, no canonical URL
    canon = {**base, "canonical_url": "https://news.example/a"}
    assert (
        article_from_payload(canon, settings=site, source="api").id
        == article_from_payload({**canon, "title": "Judul Baru"}, settings=site, source="api").id
    )
    assert article_from_payload({**base, "id": "kustom-1"}, settings=site, source="api").id == (
        "kustom-1"
    )
    seeded = article_from_payload(base, settings=site, source="api", id_seed="/berkas/a.json")
    assert seeded.id != first.id


def test_json_list_fails_item_by_item(site: SiteSettings) -> None:
    text = json.dumps([{"title": "Satu", "body_text": "Isi."}, {"body_text": "Tanpa judul."}])
    results = articles_from_json(text, settings=site, source="l.json", id_seed="l.json")
    assert not isinstance(results[0], ArticleRejected)
    assert isinstance(results[1], ArticleInvalid)
    assert dict(results[1].errors) == {"[1].title": "required"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not valid JSON"), ("[]", "non-empty list"), ('"x"', "non-empty list")],
)
def test_json_file_errors(site: SiteSettings, text: str, message: str) -> None:
    with pytest.raises(ArticleRejected, match=message):
        articles_from_json(text, settings=site, source="x", id_seed="x")


def test_deeply_nested_json_is_rejected_not_a_crash(site: SiteSettings) -> None:
    with pytest.raises(ArticleRejected, match="nested too deeply"):
        articles_from_json("[" * 200_000, settings=site, source="d.json", id_seed="d.json")
