"""HTML pages and bodies: metadata sources, body finding, junk and XSS removal, related links."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from siarkan.articles.html import (
    NoArticleFound,
    clean_fragment,
    decode_html,
    parse_page,
    split_caption_credit,
)
from siarkan.articles.model import RelatedLink
from siarkan.articles.sanitize import sanitize_html

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
JAKARTA = ZoneInfo("Asia/Jakarta")
PAGE_URL = "https://news.example/berita/2025/10/judul"


def page(body: str, head: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>"
        f"{head}</head><body>{body}</body></html>"
    )


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


STORY = "<p>SERANG, PROLOGMEDIA – Paragraf pembuka berita.</p><p>Paragraf kedua berita.</p>"


def test_sample_page() -> None:
    html = (SAMPLES / "festival-kopi-pandeglang.html").read_text(encoding="utf-8")
    result = parse_page(html, url=None, tz=JAKARTA)
    meta, body = result.meta, result.body
    assert meta.title == (
        "Festival Kopi Banten Digelar di Alun-alun Pandeglang, Hadirkan 80 Pelaku UMKM"
    )
    # The page's canonical link is relative: resolved against og:url.
    assert meta.canonical_url == (
        "https://prologmedia.example/ekonomi/2025/10/festival-kopi-banten-alun-alun-pandeglang"
    )
    assert meta.authors == ("Dhimas Prasetyo",)
    assert meta.section == "Ekonomi"
    assert meta.tags == ("UMKM", "kopi", "Pandeglang", "festival")
    assert meta.published_at == datetime(2025, 10, 18, 2, 15, tzinfo=UTC)
    assert meta.updated_at == datetime(2025, 10, 18, 4, 40, tzinfo=UTC)
    assert meta.language == "id"
    assert meta.image is not None
    assert (
        meta.image.url == "https://prologmedia.example/media/2025/10/festival-kopi-pandeglang.jpg"
    )
    assert meta.image.alt.startswith("Pengunjung mencicipi kopi robusta")
    assert meta.image.credit == "PROLOGMEDIA/Dhimas Prasetyo"
    assert (meta.image.width, meta.image.height) == (1200, 675)
    assert body.dateline == "PANDEGLANG, PROLOGMEDIA"
    assert body.initials == "dhi/idh"
    assert body.paragraphs[0].startswith("Aroma kopi robusta")
    assert body.paragraphs[-1].endswith("22.00 WIB.")
    assert [r.title for r in body.related] == [
        "Banjir Rendam Tiga Kecamatan di Kabupaten Serang, 1.240 Warga Mengungsi",
        "Puskesmas Kramatwatu Gelar Cek Kesehatan Gratis, Ratusan Warga Antre Sejak Pagi",
    ]
    assert all(r.url and r.url.startswith("https://prologmedia.example/") for r in body.related)
    text = " ".join(body.paragraphs)
    for junk in (
        "Facebook",
        "WhatsApp",
        "Salin tautan",
        "Berlangganan",
        "Iklan",
        "Komentar",
        "Berita Terkait",
        "Baca Juga",
        "Tag:",
        "Beranda",
        "adsbygoogle",
        "dataLayer",
    ):
        assert junk not in text and junk not in body.html
    for bad in ("<script", "onclick", "style=", "javascript:", "<iframe", "<form", "<table"):
        assert bad not in body.html
    assert 'href="https://prologmedia.example/layanan/klinik-umkm"' in body.html
    assert "<h2>Dari Kebun ke Cangkir</h2>" in body.html


def test_json_ld_graph_and_plain_article_type() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Situs"},
            {
                "@type": ["Article"],
                "headline": "Judul dari JSON-LD",
                "author": {"@type": "Person", "name": "Ani"},
                "keywords": "banjir, serang",
                "datePublished": "2025-03-11T08:00:00",
                "articleSection": ["Daerah", "Banten"],
                "image": [
                    {
                        "@type": "ImageObject",
                        "url": "/foto.jpg",
                        "caption": "Banjir (Foto: Dok. BPBD)",
                    }
                ],
                "mainEntityOfPage": PAGE_URL,
            },
        ],
    }
    result = parse_page(page(f"<article>{STORY}</article>", ld(data)), url=None, tz=JAKARTA)
    assert result.meta.title == "Judul dari JSON-LD"
    assert result.meta.authors == ("Ani",)
    assert result.meta.tags == ("banjir", "serang")
    assert result.meta.section == "Daerah"
    assert result.meta.published_at == datetime(2025, 3, 11, 8, tzinfo=JAKARTA)
    assert result.meta.canonical_url == PAGE_URL
    assert result.meta.image is not None
    assert result.meta.image.url == "https://news.example/foto.jpg"
    assert (result.meta.image.caption, result.meta.image.credit) == ("Banjir", "Dok. BPBD")


def test_reportage_type_wins_over_webpage_and_broken_json_ld_is_skipped() -> None:
    head = (
        '<script type="application/ld+json">{not json</script>'
        + ld({"@type": "WebPage", "name": "Bukan artikel"})
        + ld({"@type": "ReportageNewsArticle", "headline": "Liputan"})
    )
    result = parse_page(page(f"<article>{STORY}</article>", head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.title == "Liputan"
    assert result.warnings == ("a JSON-LD block is not valid JSON (ignored)",)


def test_opengraph_only_page_with_site_suffix() -> None:
    head = (
        '<meta property="og:title" content="Judul OG | Prolog Media">'
        '<meta property="og:site_name" content="Prolog Media">'
        '<meta property="og:type" content="article">'
        '<meta property="article:tag" content="A"><meta property="article:tag" content="B">'
        '<meta property="article:published_time" content="2025-01-02T03:04:05+07:00">'
        '<meta property="og:image" content="https://img.example/a.jpg">'
        '<meta property="og:image:alt" content="Alt OG">'
        '<meta name="author" content="Budi">'
        '<link rel="canonical" href="https://news.example/kanonik">'
    )
    result = parse_page(
        page(f'<div class="entry-content">{STORY}</div>', head), url=None, tz=JAKARTA
    )
    assert result.meta.title == "Judul OG"
    assert result.meta.tags == ("A", "B")
    assert result.meta.authors == ("Budi",)
    assert result.meta.canonical_url == "https://news.example/kanonik"
    assert result.meta.image is not None and result.meta.image.alt == "Alt OG"


@pytest.mark.parametrize(
    ("og_alt", "img_alt", "expected"),
    [
        ("gas-oplosan-lebak", "gas-oplosan-lebak", ""),  # Tribun: the file name, twice
        ("", "IMG_2031", ""),
        ("gas_oplosan_lebak.jpg", "Polisi menunjukkan elpiji", "Polisi menunjukkan elpiji"),
        ("Gas oplosan di Lebak", "", "Gas oplosan di Lebak"),  # words of its own: kept
    ],
)
def test_a_file_name_is_not_an_alt_text(og_alt: str, img_alt: str, expected: str) -> None:
    """CMSs fill alt with the upload's name when the editor wrote none; Mastodon would show it
    as the photo's description (the attachment's name) and readers as its alt."""
    name = "IMG_2031" if img_alt == "IMG_2031" else "gas-oplosan-lebak"
    head = (
        f'<meta property="og:image" content="https://img.example/foto/{name}.jpg">'
        f'<meta property="og:image:alt" content="{og_alt}">'
        '<meta property="og:type" content="article">'
    )
    body = f'<img src="https://img.example/foto/{name}-700x393.jpg" alt="{img_alt}">{STORY}'
    result = parse_page(
        page(f'<div class="entry-content">{body}</div>', head), url=None, tz=JAKARTA
    )
    assert result.meta.image is not None
    assert result.meta.image.alt == expected


def test_tribun_page_photo_has_no_file_name_alt() -> None:
    html = (Path(__file__).parent / "pages" / "tribun-banten.html").read_text(encoding="utf-8")
    image = parse_page(html, url=None, tz=JAKARTA).meta.image
    assert image is not None and image.url.endswith("/gas-oplosan-lebak.jpg")
    assert image.alt == ""


@pytest.mark.parametrize(
    "container",
    [
        '<div itemprop="articleBody">{}</div>',
        '<div class="read__content">{}</div>',
        '<div class="detail-text">{}</div>',
        '<div class="post entry-content clearfix">{}</div>',
        "<article>{}</article>",
    ],
)
def test_body_containers(container: str) -> None:
    html = page('<div class="sidebar"><p>Berita populer lain.</p></div>' + container.format(STORY))
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.paragraphs == ("Paragraf pembuka berita.", "Paragraf kedua berita.")


def test_page_without_article_is_refused() -> None:
    html = page("<nav><a href='/'>Beranda</a></nav><div><p>Selamat datang di situs kami.</p></div>")
    with pytest.raises(NoArticleFound, match="no article found"):
        parse_page(html, url=PAGE_URL, tz=JAKARTA)


def test_empty_document_is_refused() -> None:
    with pytest.raises(NoArticleFound):
        parse_page("   ", url=PAGE_URL, tz=JAKARTA)


def test_json_ld_article_body_is_a_fallback() -> None:
    data = {
        "@type": "NewsArticle",
        "headline": "H",
        "articleBody": "SERANG, PROLOGMEDIA – Isi.\n\nDua.",
    }
    result = parse_page(page("<div></div>", ld(data)), url=PAGE_URL, tz=JAKARTA)
    assert result.body.paragraphs == ("Isi.", "Dua.")
    assert result.body.dateline == "SERANG, PROLOGMEDIA"


def test_baca_juga_paragraphs_and_boxes() -> None:
    body = clean_fragment(
        "<p>Satu.</p>"
        '<p><strong>Baca Juga:</strong> <a href="/a">Judul A</a></p>'
        "<p>Dua.</p>"
        '<table class="linksisip"><tr><td><div class="lihatjg">Baca Juga</div>'
        '<a href="https://x.example/b">Judul B</a></td></tr></table>'
        '<div class="lihatjg"><strong>Lihat juga:</strong> <a href="/c">Judul C</a></div>'
        "<p>Baca juga:</p><p>Judul D Tanpa Tautan</p>"
        "<p>Simak juga: Judul E</p>"
        "<p>Tiga. (fai/idh)</p>",
        base_url="https://news.example/berita/x",
    )
    assert body.paragraphs == ("Satu.", "Dua.", "Tiga.")
    assert body.related == (
        RelatedLink("Judul B", "https://x.example/b"),
        RelatedLink("Judul C", "https://news.example/c"),
        RelatedLink("Judul A", "https://news.example/a"),
        RelatedLink("Judul D Tanpa Tautan"),
        RelatedLink("Judul E"),
    )
    assert body.html == "<p>Satu.</p><p>Dua.</p><p>Tiga.</p>"
    assert body.initials == "fai/idh"


XSS = (
    '<p onclick="steal()" style="color:red">Teks <a href="javascript:alert(1)">klik</a> '
    '<a href=" JaVaScRiPt:alert(2)">dua</a> <a href="data:text/html,x">tiga</a> '
    '<img src="x.jpg" onerror="alert(3)"> <img src="javascript:alert(4)">'
    '<a href="/relatif" onmouseover="x()">rel</a> <a href="mailto:redaksi@news.example">surel</a>'
    "<script>alert(5)</script><style>p{}</style><svg onload=alert(6)></svg>"
    '<iframe src="https://evil.example"></iframe><object data="x"></object>'
    '<span style="position:fixed">tetap</span></p>'
)


@pytest.mark.parametrize("base", [None, "https://news.example/berita/x"])
def test_dangerous_markup_never_survives(base: str | None) -> None:
    for html in (clean_fragment(XSS, base_url=base).html, sanitize_html(XSS, base_url=base)):
        lowered = html.lower()
        for bad in (
            "onclick",
            "onerror",
            "onload",
            "onmouseover",
            "javascript:",
            "data:",
            "<script",
            "<style",
            "<svg",
            "<iframe",
            "<object",
            "style=",
            "alert",
        ):
            assert bad not in lowered, (bad, html)
        assert 'rel="nofollow noopener"' in html
        assert 'href="mailto:redaksi@news.example"' in html
        if base:
            assert 'href="https://news.example/relatif"' in html
            assert 'src="https://news.example/berita/x.jpg"' in html
        else:
            assert "/relatif" not in html  # a relative link with no base points nowhere
        assert "tetap" in html


def test_allow_list_keeps_structure() -> None:
    html = sanitize_html(
        '<h1>A</h1><h2 id="x">B</h2><blockquote><p>C</p></blockquote><ul><li>D</li></ul>'
        '<figure><img src="https://i.example/a.jpg" alt="E" width="10" height="20" class="z">'
        "<figcaption>F</figcaption></figure><p>G<br>H <b>I</b> <i>J</i> <em>K</em> "
        '<strong>L</strong> <a href="https://a.example" title="M" target="_blank">N</a></p>'
        "<table><tr><td>O</td></tr></table><div>P</div><span>Q</span>"
    )
    assert html == (
        "A<h2>B</h2><blockquote><p>C</p></blockquote><ul><li>D</li></ul>"
        '<figure><img src="https://i.example/a.jpg" alt="E" width="10" height="20">'
        "<figcaption>F</figcaption></figure><p>G<br>H <b>I</b> <i>J</i> <em>K</em> "
        '<strong>L</strong> <a href="https://a.example" title="M" rel="nofollow noopener">N</a></p>'
        "OPQ"
    )


def test_loose_text_split_at_double_breaks_and_lazy_images() -> None:
    body = clean_fragment(
        "<div>SERANG, PROLOGMEDIA – Satu <b>tebal</b>.<br><br>Dua baris<br>masih dua."
        '<br/><br/><img data-src="/foto.jpg" src="data:image/gif;base64,R0l" alt="foto">'
        '<img src="https://t.example/pixel.gif" width="1" height="1"></div>',
        base_url="https://news.example/",
    )
    assert body.dateline == "SERANG, PROLOGMEDIA"
    assert body.paragraphs == ("Satu tebal.", "Dua baris masih dua.")
    assert body.html.count("<p>") == 3
    assert 'src="https://news.example/foto.jpg"' in body.html
    assert "pixel" not in body.html


def test_dateline_across_tags_and_initials_in_tags() -> None:
    body = clean_fragment(
        "<p><strong>SERANG</strong>, <b>PROLOGMEDIA</b>&nbsp;– <em>Hujan</em> turun.</p>"
        "<p>Akhir berita. <em>(fai/idh)</em></p>",
        base_url=None,
    )
    assert body.dateline == "SERANG, PROLOGMEDIA"
    assert body.paragraphs == ("Hujan turun.", "Akhir berita.")
    assert body.html == "<p><em>Hujan</em> turun.</p><p>Akhir berita.</p>"


def test_headings_lists_quotes_and_data_tables() -> None:
    body = clean_fragment(
        "<h1>Bagian</h1><p>Teks.</p><ul><li>Satu</li><li>Dua</li></ul>"
        "<blockquote><p>Kutipan.</p></blockquote>"
        "<table><tr><th>Pos</th><th>Nilai</th></tr>"
        "<tr><td>Belanja</td><td>Rp11,8 triliun</td></tr></table>"
        "<p>ADVERTISEMENT</p>",
        base_url=None,
    )
    assert body.paragraphs == (
        "Bagian",
        "Teks.",
        "Satu",
        "Dua",
        "Kutipan.",
        "Pos | Nilai",
        "Belanja | Rp11,8 triliun",
    )
    assert body.html.startswith("<h2>Bagian</h2>")
    assert "<p>Belanja | Rp11,8 triliun</p>" in body.html


def test_description_repeating_the_lead_is_not_a_subtitle() -> None:
    head = '<meta name="description" content="SERANG, PROLOGMEDIA – Paragraf pembuka berita.">'
    result = parse_page(page(f"<article>{STORY}</article>", head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.subtitle is None
    head = '<meta name="description" content="Ringkasan yang berbeda dari lead.">'
    result = parse_page(page(f"<article>{STORY}</article>", head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.subtitle == "Ringkasan yang berbeda dari lead."


def test_caption_credit() -> None:
    assert split_caption_credit("Warga mengungsi. (Foto: PROLOGMEDIA/Rina)") == (
        "Warga mengungsi.",
        "PROLOGMEDIA/Rina",
    )
    assert split_caption_credit("Tanpa kredit.") == ("Tanpa kredit.", "")
    # A wire photo: the agency's name belongs to the credit, not the caption.
    assert split_caption_credit(
        "Warga mengantre di Serang, Kamis (12/11/2026). ANTARA FOTO/Asep Fathulrahman/nym."
    ) == ("Warga mengantre di Serang, Kamis (12/11/2026).", "ANTARA FOTO/Asep Fathulrahman/nym.")
    assert split_caption_credit("Pawai di JAKARTA FOTO bersama warga.")[1] == ""
    # An outlet's name, not its domain, before the photographer's (CNN Indonesia, Antara).
    assert split_caption_credit("Barang bukti uang palsu. (CNN Indonesia/Safir Makki)") == (
        "Barang bukti uang palsu.",
        "CNN Indonesia/Safir Makki",
    )
    assert split_caption_credit("Petugas menurunkan beras. (ANTARA/Mulyana)")[1] == "ANTARA/Mulyana"
    assert split_caption_credit("Data pemilih per desa/kelurahan (DPT/DPTb)")[1] == ""


def test_caption_credit_is_linear_in_the_caption() -> None:
    """A long run of capitalised words (an imported page's caption) was tried as the start
    of an agency credit from every word: 40 s for a 60 kB caption, minutes for 120 kB."""
    caption = "Warga" + " AA" * 40_000 + " x"
    started = time.perf_counter()
    assert split_caption_credit(caption) == (caption, "")
    assert time.perf_counter() - started < 1.0
    assert split_caption_credit("Warga" + " AA" * 40_000 + ". ANTARA FOTO/Asep/nym.")[1] == (
        "ANTARA FOTO/Asep/nym."
    )


def test_decode_html_charsets() -> None:
    assert decode_html("<p>“Kopi”</p>".encode()) == "<p>“Kopi”</p>"
    latin = '<meta charset="windows-1252"><p>caf\xe9</p>'.encode("cp1252")
    assert "café" in decode_html(latin)
    assert decode_html(b"\xef\xbb\xbf<p>x</p>") == "<p>x</p>"
    assert "café" in decode_html("<p>café</p>".encode("latin-1"), "iso-8859-1")
    with pytest.raises(UnicodeDecodeError) as info:
        decode_html(b"<p>ok</p>\xff")
    assert info.value.start == 9


def test_xhtml_with_xml_declaration() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>' + page(f"<article>{STORY}</article>")
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert len(result.body.paragraphs) == 2


def test_no_empty_inline_leftovers() -> None:
    body = clean_fragment("<p><strong>PROLOGMEDIA</strong> – Isi berita.</p>", base_url=None)
    assert body.html == "<p>Isi berita.</p>"
    assert not re.search(r"<(strong|b|em|i)>\s*</\1>", body.html)


def test_baca_juga_over_a_list_of_links_is_related_and_the_next_paragraph_stays() -> None:
    body = clean_fragment(
        "<p>SERANG, MEDIA – Bansos disalurkan. Warga antre.</p>"
        "<p><strong>Baca Juga:</strong></p>"
        '<ul><li><a href="/a">Jembatan Gantung Ciujung Putus</a></li>'
        '<li><a href="/b">Festival Kopi Banten Digelar</a></li></ul>'
        "<p>“Apakah dia harus menunggu setahun?” kata Agus</p>"
        "<p>Baca Juga:</p><ol><li>Harga Beras Naik</li></ol>"
        "<p>Penyaluran selesai Desember.</p>",
        base_url="https://media.example.id/berita/x",
    )
    assert body.related == (
        RelatedLink("Jembatan Gantung Ciujung Putus", "https://media.example.id/a"),
        RelatedLink("Festival Kopi Banten Digelar", "https://media.example.id/b"),
        RelatedLink("Harga Beras Naik", None),
    )
    assert body.paragraphs == (
        "Bansos disalurkan. Warga antre.",
        "“Apakah dia harus menunggu setahun?” kata Agus",
        "Penyaluran selesai Desember.",
    )
    assert "Jembatan" not in body.html


def test_credit_lines_split_by_line_breaks() -> None:
    body = clean_fragment(
        "<p>MEDIA – Polisi menyita solar. Tiga orang ditahan.</p>"
        "<p>Penulis: Fauzan Hidayat<br>Editor: Yudhi Maulana<br>COPYRIGHT © MEDIA 2026</p>",
        base_url=None,
    )
    assert body.paragraphs == ("Polisi menyita solar. Tiga orang ditahan.",)
    assert body.authors == ("Fauzan Hidayat",)


def test_a_photo_credit_under_a_picture_is_its_caption_not_story() -> None:
    body = clean_fragment(
        "<p>PANDEGLANG, MEDIA – Festival kopi dibuka. Ribuan warga datang.</p>"
        '<p><img src="/foto/kopi.jpg" alt="Festival kopi"></p>'
        "<p>(Foto: Istimewa)</p>"
        '<figure><img src="/foto/petani.jpg" alt="Petani"></figure>'
        "<p>Foto: Petani memetik kopi di lereng Gunung Karang. (MEDIA/Rina)</p>"
        "<p>Panitia menyiapkan 40 stan.</p>",
        base_url="https://media.example.id/berita/x",
    )
    assert body.paragraphs == (
        "Festival kopi dibuka. Ribuan warga datang.",
        "Panitia menyiapkan 40 stan.",
    )
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", body.html)
    assert captions == [
        "(Foto: Istimewa)",
        "Foto: Petani memetik kopi di lereng Gunung Karang. (MEDIA/Rina)",
    ]


def test_a_json_ld_block_nested_too_deeply_is_ignored() -> None:
    deep = '<script type="application/ld+json">' + "[" * 200_000 + "</script>"
    result = parse_page(page(f"<article>{STORY}</article>", deep), url=None, tz=JAKARTA)
    assert result.body.paragraphs
    assert any("JSON-LD" in w for w in result.warnings)


# --- the furniture of Indonesian news themes and portals (see also test_news_pages.py) ---------

BASE = "https://media.example.id/berita/x"


def test_a_marker_only_link_takes_the_next_paragraph_as_its_headline() -> None:
    """okezone: <p id="bacajuga"><a>BACA JUGA:</a></p> then the headline, also a link."""
    body = clean_fragment(
        "<p>SERANG - KPU menetapkan DPT. Jumlahnya 8,9 juta.</p>"
        '<p id="bacajuga" style="font-weight:bold"><a href="/a">BACA JUGA:</a></p>'
        '<p style="font-weight:bold"><a href="/a">Bawaslu Temukan Pemilih Ganda</a></p>'
        '<p><strong><a href="/b">Baca juga:</a></strong></p><p><a href="/b">Judul Kedua</a></p>'
        "<p>Penetapan dilakukan di Serang.</p>",
        base_url=BASE,
    )
    assert body.related == (
        RelatedLink("Bawaslu Temukan Pemilih Ganda", "https://media.example.id/a"),
        RelatedLink("Judul Kedua", "https://media.example.id/b"),
    )
    assert body.paragraphs == (
        "KPU menetapkan DPT. Jumlahnya 8,9 juta.",
        "Penetapan dilakukan di Serang.",
    )


def test_marker_headings_boxes_and_runs_of_linked_headlines() -> None:
    body = clean_fragment(
        "<p>Satu.</p><h3>Berita Terkait</h3>"
        '<ul><li><a href="/a">Jembatan Ciberang Putus</a></li>'
        '<li><a href="/b">Harga Naik</a></li></ul>'
        '<div class="baca-juga-collections">'
        '<div class="baca-juga-collections__title">Baca Juga</div>'
        '<ul><li><a href="/c">Limbah Cemari Cisadane</a></li></ul></div>'
        "<p>Dua.</p><p><strong>Artikel Terkait:</strong></p>"
        '<p><a href="/d">Sampah Menumpuk di Labuan</a></p>'
        '<p><a href="/e">Pantai Carita Abrasi</a></p>'
        "<p>Tiga.</p><h2>Warga Diminta Waspada</h2><p>Empat.</p>",
        base_url=BASE,
    )
    assert [r.title for r in body.related] == [
        "Limbah Cemari Cisadane",
        "Jembatan Ciberang Putus",
        "Harga Naik",
        "Sampah Menumpuk di Labuan",
        "Pantai Carita Abrasi",
    ]
    assert body.paragraphs == ("Satu.", "Dua.", "Tiga.", "Warga Diminta Waspada", "Empat.")


def test_a_paragraph_that_is_only_a_link_to_another_article_is_related() -> None:
    body = clean_fragment(
        "<p>Jembatan diresmikan. Warga senang.</p>"
        '<p><strong><a href="https://media.example.id/harga-gula-aren">Harga Gula Aren Baduy '
        "Naik Jelang Lebaran</a></strong></p>"
        '<p><a href="https://lain.example/laporan">Laporan Lengkap Badan Pusat Statistik</a></p>'
        '<p>Informasi ada di <a href="https://media.example.id/layanan">laman layanan</a>.</p>'
        '<p><a href="https://media.example.id/perda-5-2025.pdf">'
        "Unduh Perda Nomor 5 Tahun 2025</a></p>",
        base_url=BASE,
    )
    assert body.related == (
        RelatedLink(
            "Harga Gula Aren Baduy Naik Jelang Lebaran", "https://media.example.id/harga-gula-aren"
        ),
    )
    assert body.paragraphs == (
        "Jembatan diresmikan. Warga senang.",
        "Laporan Lengkap Badan Pusat Statistik",  # another site: a source, not a related link
        "Informasi ada di laman layanan.",
        "Unduh Perda Nomor 5 Tahun 2025",  # a document, not an article
    )


def test_ad_labels_promos_pagination_and_video_teasers_are_not_story() -> None:
    body = clean_fragment(
        "<p><strong>SERANG, MEDIA –</strong> Embung dibangun. Petani senang.</p>"
        '<div class="td-a-rec td-a-rec-id-content_inline"><span class="td-adspot-title">'
        '- Advertisement -</span><a href="https://iklan.example"><img src="/banner.jpg"></a></div>'
        '<div class="stream-item stream-item-in-post"><span class="stream-title">- Advertisement -'
        "</span></div><p>- Advertisement -</p>"
        "<p>Dapatkan update berita pilihan dan breaking news setiap hari dari MEDIA. Mari "
        "bergabung di Grup Telegram “Media Update”, caranya klik link https://t.me/contoh, "
        "kemudian join.</p>"
        '<p><strong>Ikuti berita terkini MEDIA di <a href="https://news.google.com/x">Google '
        "News</a></strong></p>"
        '<p><strong>Simak Video "Detik-detik Banjir"</strong><br>[Gambas:Video 20detik]</p>'
        '<p style="text-align:center">Halaman: 1 2 3</p>'
        "<p><strong>Selanjutnya &gt;&gt;</strong></p>"
        "<p>“Ikuti aturan yang ada,” ujar Camat. Warga bisa lapor lewat WhatsApp pengaduan.</p>"
        "<p>(rls/red)</p><p><strong>Editor: Dhimas Prasetyo</strong></p>",
        base_url=BASE,
    )
    assert body.dateline == "SERANG, MEDIA"
    assert body.paragraphs == (
        "Embung dibangun. Petani senang.",
        "“Ikuti aturan yang ada,” ujar Camat. Warga bisa lapor lewat WhatsApp pengaduan.",
    )
    assert body.initials == "rls/red"
    assert "banner" not in body.html and "Advertisement" not in body.html


def test_credits_above_the_lead_and_a_site_name_author() -> None:
    """Tribun: the reporter's line comes first, the dateline second; <meta name="author">
    names the site."""
    head = (
        '<meta name="author" content="Tribun Banten">'
        '<meta property="og:site_name" content="Tribunbanten.com">'
    )
    html = page(
        '<div class="side-article txt-article">'
        "<p><strong>Laporan Wartawan TribunBanten.com, Rangga Saputra</strong></p>"
        "<p><strong>TRIBUNBANTEN.COM, LEBAK</strong> - Polisi membongkar pengoplosan elpiji.</p>"
        "<p>Dua orang ditangkap.</p><p>(TribunBanten.com/Rangga Saputra)</p></div>",
        head,
    )
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.dateline == "TRIBUNBANTEN.COM, LEBAK"
    assert result.body.paragraphs == (
        "Polisi membongkar pengoplosan elpiji.",
        "Dua orang ditangkap.",
    )
    assert result.body.authors == ("Rangga Saputra",)
    assert result.meta.authors == ()


@pytest.mark.parametrize(
    ("url", "author"),
    [
        ("https://www.cnnindonesia.com/nasional/20251114/banjir-serang", "CNN Indonesia"),
        ("https://banten.kabarpesisir.co.id/2025/11/banjir-serang", "Kabar Pesisir"),
    ],
)
def test_an_author_named_as_the_host_is_the_site(url: str, author: str) -> None:
    """No og:site_name: <meta name="author"> naming the site is known by the page's host."""
    html = page(f"<article>{STORY}</article>", f'<meta name="author" content="{author}">')
    assert parse_page(html, url=url, tz=JAKARTA).meta.authors == ()


def test_a_blog_author_is_not_its_subdomain_host() -> None:
    html = page(f"<article>{STORY}</article>", '<meta name="author" content="Budi Santoso">')
    url = "https://budisantoso.blogspot.com/2025/11/banjir-serang.html"
    assert parse_page(html, url=url, tz=JAKARTA).meta.authors == ("Budi Santoso",)


def test_an_advertorial_page_loses_its_labels_links_and_credits() -> None:
    body = clean_fragment(
        "<p>PARIWARA</p><p>Oleh: Ahmad Fauzi</p>"
        "<p>SERANG | MEDIA – Pemkab Serang membangun jalan desa.</p>"
        "<p>Klik di sini untuk membaca selengkapnya</p><p>Next Page »</p>"
        "<p>Warga senang. (Advertorial)</p><p>Penulis/Editor: Rina Marlina</p>",
        base_url=None,
    )
    assert body.dateline == "SERANG | MEDIA"
    assert body.paragraphs == ("Pemkab Serang membangun jalan desa.", "Warga senang.")
    assert body.authors == ("Ahmad Fauzi", "Rina Marlina")
    assert body.initials == "Advertorial"


def test_antara_credits_and_reuse_notice_end_the_story() -> None:
    body = clean_fragment(
        "Serang (ANTARA) - Bantuan disalurkan.<br /><br />Warga antre.<br /><br />"
        '<p class="text-muted">Pewarta: Mulyana<br />Editor: Rina Kartika<br />COPYRIGHT © ANTARA '
        '2025</p><p class="text-muted">Dilarang keras mengambil konten, melakukan crawling atau '
        "pengindeksan otomatis untuk AI di situs web ini tanpa izin tertulis dari Kantor Berita "
        "ANTARA.</p>",
        base_url=None,
    )
    assert body.dateline == "Serang (ANTARA)"
    assert body.paragraphs == ("Bantuan disalurkan.", "Warga antre.")
    assert body.authors == ("Mulyana",)


def test_a_wordpress_caption_box_is_a_figure_and_a_stray_caption_is_dropped() -> None:
    body = clean_fragment(
        '<div id="attachment_1" class="wp-caption aligncenter"><img src="/jembatan.jpg" alt="">'
        '<p class="wp-caption-text">Bupati meresmikan jembatan. (Foto: Dok. Diskominfo)</p></div>'
        "<p>LEBAK, MEDIA – Jembatan diresmikan.</p><p>(Foto: Dok. Humas Pemkab Serang)</p>"
        "<p>ILUSTRASI</p><p>Warga senang.</p>",
        base_url=BASE,
    )
    assert body.paragraphs == ("Jembatan diresmikan.", "Warga senang.")
    assert body.dateline == "LEBAK, MEDIA"
    assert (
        "<figcaption>Bupati meresmikan jembatan. (Foto: Dok. Diskominfo)</figcaption>" in body.html
    )


def test_bylines_in_the_body_go_but_words_of_a_paragraph_stay() -> None:
    body = clean_fragment(
        '<div class="writer"><span>Hilman Sadewa</span> | <span>Bagus Pratomo</span></div>'
        '<div class="date-article">Rabu, 05 Februari 2025 | 17:05 WIB</div>'
        '<p>SuaraBanten.id - Warga menanam pisang pada <span class="date">Rabu</span> pagi.</p>',
        base_url=None,
    )
    assert body.dateline == "SuaraBanten.id"
    assert body.paragraphs == ("Warga menanam pisang pada Rabu pagi.",)


def test_the_innermost_body_container_wins() -> None:
    """Jannah: article.post-content holds the header and featured image around
    div.entry-content."""
    html = page(
        '<article class="container-wrapper post-content">'
        '<div class="entry-header"><span class="post-cat-wrap">'
        '<a href="/c/">Parlemen</a></span></div>'
        '<figure class="single-featured-image"><img src="/a.jpg"></figure>'
        f'<div class="entry-content entry clearfix">{STORY}</div></article>'
    )
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.paragraphs == ("Paragraf pembuka berita.", "Paragraf kedua berita.")
    assert "Parlemen" not in result.body.html and "<img" not in result.body.html


def test_json_ld_image_by_reference_and_a_resized_copy_in_the_page() -> None:
    """Yoast: "image": {"@id": "...#primaryimage"}; the page shows embung-696x464.jpg."""
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Article", "headline": "H", "image": {"@id": f"{PAGE_URL}#primaryimage"}},
            {
                "@type": "ImageObject",
                "@id": f"{PAGE_URL}#primaryimage",
                "url": "https://news.example/wp-content/uploads/2025/11/embung.jpg",
                "width": 1280,
                "height": 853,
            },
        ],
    }
    body = (
        '<div class="td-post-content"><figure><img src="https://news.example/wp-content/uploads/'
        '2025/11/embung-696x464.jpg"><figcaption>Pekerja membangun embung. (Foto: Dok. Humas)'
        f"</figcaption></figure>{STORY}</div>"
    )
    result = parse_page(page(body, ld(graph)), url=PAGE_URL, tz=JAKARTA)
    image = result.meta.image
    assert image is not None
    assert image.url == "https://news.example/wp-content/uploads/2025/11/embung.jpg"
    assert (image.width, image.height) == (1280, 853)
    assert (image.caption, image.credit) == ("Pekerja membangun embung.", "Dok. Humas")


def test_a_caption_next_to_the_picture_outside_a_figure() -> None:
    head = '<meta property="og:image" content="https://news.example/foto/ikan.jpg">'
    body = (
        '<div class="photo"><div class="photo__wrap"><img src="https://news.example/foto/ikan.jpg">'
        '</div><div class="photo__caption">Ikan mati di Cisadane. (Liputan6.com/Pratiwi)</div>'
        "</div>"
        f'<div class="read__content">{STORY}</div>'
    )
    image = parse_page(page(body, head), url=PAGE_URL, tz=JAKARTA).meta.image
    assert image is not None
    assert (image.caption, image.credit) == ("Ikan mati di Cisadane.", "Liputan6.com/Pratiwi")


def test_tag_links_beat_site_wide_keywords_and_a_sidebar_tag_cloud() -> None:
    head = '<meta name="keywords" content="berita banten, berita terkini">'
    body = (
        f'<article><div class="entry-content">{STORY}</div><footer class="entry-footer">'
        '<span class="tags-links"><a href="/tag/jembatan/" rel="tag">jembatan</a>, '
        '<a href="/tag/lebak/" rel="tag">Lebak</a></span>'
        '<a href="/kategori/daerah/" rel="category tag">Daerah</a></footer></article>'
        '<aside class="widget-area"><div class="tagcloud"><a href="/tag/pilkada/" rel="tag">pilkada'
        "</a></div></aside>"
    )
    result = parse_page(page(body, head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.tags == ("jembatan", "Lebak")
    # A portal's tag box: links to /tag/<slug> under a class that says "tag".
    body = (
        f'<div class="detail__body-text">{STORY}</div>'
        '<div class="detail__body-tag"><div class="nav">'
        '<a href="https://news.example/tag/banjir-rob">banjir rob</a>'
        '<a href="https://news.example/tag/bpbd">#bpbd</a></div></div>'
        '<div class="sidebar"><a href="https://news.example/tag/viral">viral</a></div>'
    )
    assert parse_page(page(body, head), url=PAGE_URL, tz=JAKARTA).meta.tags == (
        "banjir rob",
        "bpbd",
    )
    # Without tag links the keywords stay the fallback.
    result = parse_page(page(f"<article>{STORY}</article>", head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.tags == ("berita banten", "berita terkini")


def test_an_inner_container_missing_a_story_paragraph_does_not_win() -> None:
    lead = "SERANG, PROLOGMEDIA – " + "Paragraf pembuka yang panjang sekali. " * 4
    rest = "".join(
        f"<p>Paragraf ke-{k} yang cukup panjang untuk berita ini. " * 3 + "</p>" for k in range(40)
    )
    html = page(
        f'<div class="post-content"><p>{lead}</p><div class="entry-content">{rest}</div></div>'
    )
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.dateline == "SERANG, PROLOGMEDIA"
    assert result.body.paragraphs[0].startswith("Paragraf pembuka")


def test_a_description_trimming_the_lead_is_not_a_subtitle() -> None:
    """Yoast's description drops the lead's abbreviation in brackets and cuts it short."""
    head = (
        '<meta property="og:description" content="Pemerintah Kabupaten Serang membangun 12 '
        'embung baru di wilayah utara.">'
    )
    story = (
        "<p>SERANG, PROLOGMEDIA – Pemerintah Kabupaten (Pemkab) Serang membangun 12 embung baru "
        "di wilayah utara untuk mengatasi kekeringan.</p><p>Dua.</p>"
    )
    result = parse_page(page(f"<article>{story}</article>", head), url=PAGE_URL, tz=JAKARTA)
    assert result.meta.subtitle is None


@pytest.mark.parametrize(
    "fragment",
    [
        # detik's dateline on its own, the lead in the next paragraph (a pasted or markdown body)
        "<p><strong>Tangerang</strong> -</p><p>Banjir rob merendam tiga desa.</p>",
        # ... under the byline and picture caption copied with it
        "<p>Fikri Haikal - detikNews</p><p>Banjir rob di pesisir (Foto: Fikri/detikcom)</p>"
        "<p>Tangerang -</p><p>Banjir rob merendam tiga desa.</p>",
        "<p>TANGERANG, KOMPAS.com</p><p>– Banjir rob merendam tiga desa.</p>",
    ],
)
def test_a_dateline_alone_above_the_lead(fragment: str) -> None:
    body = clean_fragment(fragment + "<p>Warga mengungsi.</p>", base_url=None)
    assert body.dateline in ("Tangerang", "TANGERANG, KOMPAS.com")
    assert body.paragraphs == ("Banjir rob merendam tiga desa.", "Warga mengungsi.")


def test_short_paragraphs_before_a_sentence_with_a_dash_aside_are_story() -> None:
    fragment = (
        "<p>Pemerintah pusat menyalurkan bantuan</p>"
        "<p>Di Serang, BPBD – bersama TNI – mengevakuasi warga.</p>"
    )
    body = clean_fragment(fragment, base_url=None)
    assert body.dateline is None and len(body.paragraphs) == 2


@pytest.mark.parametrize(
    "caption",
    [
        '<p class="caption">Warga mengungsi di balai desa, Selasa (11/3/2025).</p>',
        '<div class="foto-caption">Warga mengungsi di balai desa, Selasa (11/3/2025).</div>',
    ],
)
def test_a_caption_beside_its_picture_is_hung_on_it(caption: str) -> None:
    fragment = (
        "<p>SERANG - Warga mengungsi ke balai desa.</p>"
        '<p><img src="https://img.example/a.jpg" alt="x"></p>' + caption + "<p>Bantuan datang.</p>"
    )
    body = clean_fragment(fragment, base_url=None)
    assert body.paragraphs == ("Warga mengungsi ke balai desa.", "Bantuan datang.")
    assert (
        "<figcaption>Warga mengungsi di balai desa, Selasa (11/3/2025).</figcaption>" in body.html
    )


def test_a_caption_whose_picture_is_gone_is_dropped() -> None:
    fragment = (
        "<p>Warga mengungsi ke balai desa.</p>"
        '<div class="photo"><div class="photo__wrap"><picture><source srcset="https://img.example'
        '/a.webp"></picture></div><div class="photo__caption">Warga di balai desa.</div></div>'
        "<p>Bantuan datang.</p>"
    )
    body = clean_fragment(fragment, base_url=None)
    assert body.paragraphs == ("Warga mengungsi ke balai desa.", "Bantuan datang.")
    assert "Warga di balai desa" not in body.html


# --- Blogger, sindonews and the IDtheme themes (regional sites) --------------------------------

BLOGGER_LINES = (
    '<div style="text-align: justify;"><b>SERANG, BANTENEXPOSE.COM</b> - Dua pelajar SMAN 1 '
    "Kota Serang meraih medali emas Olimpiade Sains Nasional (OSN) 2026 di Jakarta, Selasa "
    "(10/2/2026).</div><div><br></div>"
    '<div style="text-align: justify;">Kepala sekolah, Dra. Hj. Nenden Sumarni (fiktif), M.Pd., '
    "mengatakan keduanya berlatih intensif selama enam bulan bersama guru pembimbing.</div>"
    '<div><br></div><div style="text-align: justify;">Pemprov Banten menjanjikan beasiswa bagi '
    "kedua siswa tersebut. (***)</div>"
)


def test_a_body_without_paragraphs_is_found_by_its_text() -> None:
    """Blogger's div.post-body (a <div> a line) and sindonews' div.detail-desc (text split by
    <br><br>) hold no <p>: the page was refused as having no article."""
    html = page(
        '<div class="widget Blog"><h3 class="post-title">Dua Pelajar Juara OSN</h3>'
        f'<div class="post-body entry-content" id="post-body-1">{BLOGGER_LINES}</div></div>'
    )
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.dateline == "SERANG, BANTENEXPOSE.COM"
    assert [p[:20] for p in result.body.paragraphs] == [
        "Dua pelajar SMAN 1 K",
        "Kepala sekolah, Dra.",
        "Pemprov Banten menja",
    ]
    sindonews = page(
        '<div class="detail-desc" id="detail-desc"><b>PANDEGLANG</b> - Ribuan honorer berunjuk '
        "rasa di depan Pendopo Bupati Pandeglang, Selasa (20/1/2026).<br><br>Mereka menuntut "
        "diangkat menjadi PPPK tahun ini. Aksi berlangsung tertib dengan pengawalan puluhan "
        "personel Polres Pandeglang.<br><br><b>(nic)</b></div>",
        ld({"@type": "NewsArticle", "headline": "Honorer Demo"}),
    )
    result = parse_page(sindonews, url=PAGE_URL, tz=JAKARTA)
    assert result.body.dateline == "PANDEGLANG"
    assert len(result.body.paragraphs) == 2 and result.body.initials == "nic"


def test_a_container_without_paragraphs_never_beats_an_article_with_them() -> None:
    loose = "Berita terpopuler hari ini dari seluruh Banten dan sekitarnya. " * 5
    html = page(f'<div class="news-content">{loose}</div><article>{STORY}</article>')
    result = parse_page(html, url=PAGE_URL, tz=JAKARTA)
    assert result.body.paragraphs == ("Paragraf pembuka berita.", "Paragraf kedua berita.")


def test_a_blogger_caption_table_is_a_figure_above_the_dateline() -> None:
    body = clean_fragment(
        '<table align="center" class="tr-caption-container"><tbody><tr><td>'
        '<a href="https://blogger.example/s1600/osn.jpg"><img src="https://blogger.example/'
        'w640/osn.jpg" width="640"></a></td></tr><tr><td class="tr-caption">Dua siswa peraih '
        "medali emas OSN 2026. (Foto: Dok. Humas SMAN 1)</td></tr></tbody></table><br>"
        + BLOGGER_LINES,
        base_url=BASE,
    )
    assert body.dateline == "SERANG, BANTENEXPOSE.COM"
    assert body.paragraphs[0].startswith("Dua pelajar SMAN 1")
    assert "Foto: Dok. Humas" not in " ".join(body.paragraphs)
    assert body.html.startswith(
        '<figure><img src="https://blogger.example/w640/osn.jpg" width="640"><figcaption>Dua '
        "siswa peraih medali emas OSN 2026. (Foto: Dok. Humas SMAN 1)</figcaption></figure>"
    )
    assert "<table" not in body.html and "<td" not in body.html


def test_linked_headlines_one_a_line_under_a_marker_are_each_related() -> None:
    """Bloggingpro/Wartaberita (IDtheme) print "Baca Juga:" over one paragraph of links split by
    <br>: two headlines, not one under the first link's address."""
    body = clean_fragment(
        "<p>BANTEN RAYA – Puluhan rumah terendam banjir.</p>"
        "<p><strong>Baca Juga:</strong></p>"
        '<p><a href="/drainase/">Drainase Buruk Jadi Biang Banjir di Cilegon</a><br>'
        '<a href="/siaga/">BPBD Cilegon Tetapkan Status Siaga Banjir</a></p>'
        "<p>Sebanyak 45 jiwa mengungsi ke masjid.</p>",
        base_url=BASE,
    )
    assert body.related == (
        RelatedLink(
            "Drainase Buruk Jadi Biang Banjir di Cilegon", "https://media.example.id/drainase/"
        ),
        RelatedLink("BPBD Cilegon Tetapkan Status Siaga Banjir", "https://media.example.id/siaga/"),
    )
    assert body.paragraphs == (
        "Puluhan rumah terendam banjir.",
        "Sebanyak 45 jiwa mengungsi ke masjid.",
    )


def test_social_embeds_without_their_script_are_not_story() -> None:
    body = clean_fragment(
        "<p>TANGERANG – Video pengendara motor melawan arah di tol viral.</p>"
        '<blockquote class="twitter-tweet"><p lang="in">Ngeri banget, motor masuk tol lawan '
        'arah <a href="https://t.co/x">pic.twitter.com/x</a></p>&mdash; Info Lalin (@lalin) '
        '<a href="https://twitter.com/lalin/status/1">March 8, 2026</a></blockquote>'
        '<blockquote class="instagram-media" data-instgrm-version="14"><div><a href="https://'
        'www.instagram.com/p/X/">Lihat postingan ini di Instagram</a></div><p><a href="https://'
        'www.instagram.com/p/X/">Sebuah kiriman dibagikan oleh Info Tangerang (@infotng)</a>'
        "</p></blockquote>"
        "<blockquote><p>“Kami sudah mengantongi identitasnya,” kata Kasat Lantas.</p></blockquote>"
        "<p>Polisi memeriksa CCTV jalan tol.</p>",
        base_url=BASE,
    )
    assert body.paragraphs == (
        "Video pengendara motor melawan arah di tol viral.",
        "“Kami sudah mengantongi identitasnya,” kata Kasat Lantas.",
        "Polisi memeriksa CCTV jalan tol.",
    )
