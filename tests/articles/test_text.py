"""Plain-text cleaning: normaliser properties, datelines, Baca Juga blocks, trailers, titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siarkan.articles.lead import find_lead, match_dateline, split_dateline
from siarkan.articles.model import RelatedLink
from siarkan.articles.text import (
    TITLE_MAX,
    derive_title,
    first_sentence,
    parse_datetime,
    parse_report,
    pull_related,
    strip_trailer,
)
from siarkan.articles.whitespace import DROPPED_CHARS, normalize

JAKARTA = ZoneInfo("Asia/Jakarta")

# Text made of what real files contain: letters, typographic quotes, every kind of space and
# line break, BOMs, zero-width characters and stray control characters.
messy_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list(" \t\r\n\u00a0\u2028\u2029\x0b\x0c\x85\ufeff\u200b\u00ad“”‘’–—")),
    ),
    max_size=300,
)


def _visible(text: str) -> list[str]:
    return [c for c in text if not c.isspace() and c not in DROPPED_CHARS]


@given(messy_text)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(messy_text)
def test_normalize_keeps_every_visible_character_in_order(text: str) -> None:
    assert _visible(normalize(text)) == _visible(text)


@given(messy_text)
def test_normalize_output_shape(text: str) -> None:
    out = normalize(text)
    assert "\r" not in out and "\u00a0" not in out and "\ufeff" not in out
    assert "  " not in out and "\n\n\n" not in out
    assert out == out.strip()
    assert all(line == line.strip() for line in out.split("\n"))


def test_normalize_windows_export() -> None:
    raw = "\ufeffJudul  Berita\r\n\r\n\r\nSERANG,\u00a0PROLOGMEDIA – “Kutipan”\t teks.\r\n\r\n\r\n"
    assert normalize(raw) == "Judul Berita\n\nSERANG, PROLOGMEDIA – “Kutipan” teks."


@pytest.mark.parametrize(
    ("paragraph", "dateline", "rest"),
    [
        ("SERANG, PROLOGMEDIA – Hujan deras.", "SERANG, PROLOGMEDIA", "Hujan deras."),
        ("SERANG, PROLOGMEDIA — Hujan deras.", "SERANG, PROLOGMEDIA", "Hujan deras."),
        ("SERANG, PROLOGMEDIA - Hujan deras.", "SERANG, PROLOGMEDIA", "Hujan deras."),
        ("SERANG, PROLOGMEDIA -- Hujan deras.", "SERANG, PROLOGMEDIA", "Hujan deras."),
        ("SERANG, PROLOGMEDIA–Hujan deras.", "SERANG, PROLOGMEDIA", "Hujan deras."),
        ("PROLOGMEDIA – Peringatan HKN.", "PROLOGMEDIA", "Peringatan HKN."),
        ("PROLOGMEDIA - Peringatan HKN.", "PROLOGMEDIA", "Peringatan HKN."),
        ("TANGERANG SELATAN, PROLOGMEDIA – Warga.", "TANGERANG SELATAN, PROLOGMEDIA", "Warga."),
        ("Serang, PROLOGMEDIA - Warga.", "Serang, PROLOGMEDIA", "Warga."),
        ("JAKARTA, KOMPAS.com – Presiden.", "JAKARTA, KOMPAS.com", "Presiden."),
        ("KOMPAS.com – Presiden.", "KOMPAS.com", "Presiden."),
        ("SERANG (ANTARA) - Pemprov.", "SERANG (ANTARA)", "Pemprov."),
        ("Jakarta - Presiden.", "Jakarta", "Presiden."),
        ("SERANG,\u00a0PROLOGMEDIA\u00a0– Hujan.", "SERANG, PROLOGMEDIA", "Hujan."),
        # the portals' own forms: source first, a lowercase domain, a two-word source, a date
        ("Liputan6.com, Tangerang - Ikan mati.", "Liputan6.com, Tangerang", "Ikan mati."),
        ("Bisnis.com, JAKARTA - Harga naik.", "Bisnis.com, JAKARTA", "Harga naik."),
        ("TRIBUNBANTEN.COM, LEBAK - Polisi.", "TRIBUNBANTEN.COM, LEBAK", "Polisi."),
        ("suara.com - Warga protes.", "suara.com", "Warga protes."),
        ("SuaraBanten.id - Warga protes.", "SuaraBanten.id", "Warga protes."),
        ("Jakarta, CNN Indonesia -- Presiden.", "Jakarta, CNN Indonesia", "Presiden."),
        ("SERANG, (14/11/2025) – Pemkab.", "SERANG, (14/11/2025)", "Pemkab."),
        ("Serang, 14 November 2025 – Pemkab.", "Serang, 14 November 2025", "Pemkab."),
        # a press release's date with its day; the regency abbreviated
        ("Pandeglang, Jumat (14/11/2025) – Bupati.", "Pandeglang, Jumat (14/11/2025)", "Bupati."),
        ("SERANG, Senin, 3 Maret 2026 – Pemkab.", "SERANG, Senin, 3 Maret 2026", "Pemkab."),
        ("Kab. Tangerang, PROLOGMEDIA – Warga.", "Kab. Tangerang, PROLOGMEDIA", "Warga."),
        ("KAB. SERANG, PROLOGMEDIA – Warga.", "KAB. SERANG, PROLOGMEDIA", "Warga."),
        # regional sites' domains as they print them: .news, a capital .Com, .or.id
        ("SERANG, Medaiabooster.news – Warga.", "SERANG, Medaiabooster.news", "Warga."),
        ("SERANG, JinNewsOne.Com - SMAN 4.", "SERANG, JinNewsOne.Com", "SMAN 4."),
        ("LEBAK, KabarLebak.or.id – Warga.", "LEBAK, KabarLebak.or.id", "Warga."),
    ],
)
def test_dateline_variants(paragraph: str, dateline: str, rest: str) -> None:
    assert split_dateline(paragraph) == (dateline, rest)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Hujan deras mengguyur Serang – warga mengungsi.",
        "Anak-anak bermain di halaman sekolah.",
        "BPBD Kab. Serang mencatat 1.240 warga mengungsi.",
        "Pemerintah Kabupaten Serang menetapkan status tanggap darurat.",
        "Sebanyak 20 - 30 rumah terendam.",
        "PROLOGMEDIA – ",
        "BPBD Kab. Serang mencatat – sampai Senin – 1.240 warga mengungsi.",
        "Ketua RT Jaenudin – warga setempat – ikut membantu.",
        "Situs Kabar.company - bukan dateline.",
        "Kab. Serang mencatat – sampai Senin – 1.240 warga mengungsi.",
    ],
)
def test_no_dateline(paragraph: str) -> None:
    assert match_dateline(paragraph) is None


@pytest.mark.parametrize(
    ("paragraph", "dateline", "rest"),
    [
        # a bar between place and outlet; a hyphen glued to the outlet's domain
        ("SERANG | MEDIA – Hujan deras.", "SERANG | MEDIA", "Hujan deras."),
        ("CILEGON, BANTENPOS.CO- Hujan deras.", "CILEGON, BANTENPOS.CO", "Hujan deras."),
        ("LEBAK, KabarLebak.com- Warga.", "LEBAK, KabarLebak.com", "Warga."),
        # detik's desks after the place; a colon after the outlet
        ("Serang, detikNews - Warga.", "Serang, detikNews", "Warga."),
        ("Jakarta, detikcom - Warga.", "Jakarta, detikcom", "Warga."),
        ("SERANG, MEDIA: Hujan deras.", "SERANG, MEDIA", "Hujan deras."),
        ("Lebak, Kompas.com: Warga.", "Lebak, Kompas.com", "Warga."),
    ],
)
def test_datelines_with_a_bar_a_glued_hyphen_a_desk_or_a_colon(
    paragraph: str, dateline: str, rest: str
) -> None:
    assert split_dateline(paragraph) == (dateline, rest)


@pytest.mark.parametrize(
    "paragraph",
    [
        # a day is not a place
        "Sabtu, 14 November 2025 – hari pertama Festival Kopi Banten – ribuan warga datang.",
        "SABTU, 14 NOVEMBER 2025 – ribuan warga memadati alun-alun.",
        "Minggu – sehari sebelum pencoblosan – warga membersihkan TPS.",
        "Jum'at (14/11/2025) – warga menggelar doa bersama.",
        # a hyphen glued to a word that is no domain; a colon after a place alone
        "SERANG, BPBD- Hujan deras.",
        "Tim SAR gabungan- bersama warga - menyisir sungai.",
        "Jakarta: hujan turun sejak pagi.",
        # a camel-case word alone is a product's name, detik's byline names the reporter
        "iPhone - ponsel itu dijual mulai Jumat.",
    ],
)
def test_no_dateline_in_a_day_a_glued_hyphen_or_a_colon_alone(paragraph: str) -> None:
    assert match_dateline(paragraph) is None


def test_a_lead_opening_with_its_day_and_date_keeps_them() -> None:
    lead = "Sabtu, 14 November 2025 – hari pertama festival – ribuan warga datang ke Serang."
    assert find_lead([lead, "Paragraf kedua."]) == (None, [lead, "Paragraf kedua."])


def test_related_blocks_on_next_line_same_line_and_middle() -> None:
    lines = normalize(
        "Paragraf satu.\n\nBaca Juga:\nFestival Kopi Banten Digelar\n\nParagraf dua.\n"
        "Baca juga: DPRD Banten Soroti APBD\nParagraf tiga.\n"
        "Simak juga: Puskesmas Gelar Cek Kesehatan https://prologmedia.example/x\n"
        "Lihat Juga:\n\nSekolah Rusak di Lebak\nParagraf empat."
    ).split("\n")
    kept, related = pull_related(lines)
    assert related == [
        RelatedLink("Festival Kopi Banten Digelar"),
        RelatedLink("DPRD Banten Soroti APBD"),
        RelatedLink("Puskesmas Gelar Cek Kesehatan", "https://prologmedia.example/x"),
        RelatedLink("Sekolah Rusak di Lebak"),
    ]
    assert [line for line in kept if line] == [
        "Paragraf satu.",
        "Paragraf dua.",
        "Paragraf tiga.",
        "Paragraf empat.",
    ]


def test_related_marker_without_colon_needs_a_headline() -> None:
    lines = ["Lihat juga bagaimana warga bergotong royong membersihkan lumpur di desa itu."]
    assert pull_related(lines) == (lines, [])


def test_marker_followed_by_a_story_paragraph_takes_nothing() -> None:
    story = "Warga mulai membersihkan rumah setelah air surut pada Rabu pagi."
    kept, related = pull_related(["Baca Juga:", story])
    assert related == [] and story in kept


@pytest.mark.parametrize(
    ("paragraphs", "left", "initials"),
    [
        (["Satu.", "Dua. (fai/idh)"], ["Satu.", "Dua."], "fai/idh"),
        (["Satu.", "Dua.", "(fai/idh)"], ["Satu.", "Dua."], "fai/idh"),
        (["Satu.", "Dua.(mg2/ida)"], ["Satu.", "Dua."], "mg2/ida"),
        (["Satu.", "Dua. (ant)"], ["Satu.", "Dua."], "ant"),
        (["Satu.", "Dua. (*)"], ["Satu.", "Dua."], "*"),
        (["Satu.", "Kata Kepala BPBD (BPBD)"], ["Satu.", "Kata Kepala BPBD (BPBD)"], None),
        # a press release the desk edited; regional desks' capitals after the final stop
        (["Satu.", "Dua.", "(*/red)"], ["Satu.", "Dua."], "*/red"),
        (["Satu.", "“Kami siap,” ujarnya. (*/Dul)"], ["Satu.", "“Kami siap,” ujarnya."], "*/Dul"),
        (["Satu.", "Dua.", "(***/red)"], ["Satu.", "Dua."], "***/red"),
        (["Satu.", "Dua. (***/Ary)"], ["Satu.", "Dua."], "***/Ary"),
        (["Satu.", "Harga (**) naik (***/red)"], ["Satu.", "Harga (**) naik"], "***/red"),
        (["Satu.", "Dua. (MYU)"], ["Satu.", "Dua."], "MYU"),
        (["Satu.", "HP-nya tidak merespon.(Den)"], ["Satu.", "HP-nya tidak merespon."], "Den"),
        (["Satu.", "Dua.", "(ADV)"], ["Satu.", "Dua."], "ADV"),
        (["Satu.", "Dua."], ["Satu.", "Dua."], None),
        # the empty brackets some desks close with: an end mark, not story
        (["Satu.", "Dua. []"], ["Satu.", "Dua."], None),
        (["Satu.", "Dua.", "[ ]"], ["Satu.", "Dua."], None),
        (["Satu.", "Daftar [] kosong"], ["Satu.", "Daftar [] kosong"], None),
    ],
)
def test_editor_initials(paragraphs: list[str], left: list[str], initials: str | None) -> None:
    kept, trailer = strip_trailer(paragraphs)
    assert kept == left
    assert trailer.initials == initials


@pytest.mark.parametrize(
    ("paragraphs", "left", "initials"),
    [
        # a paid report's label closes it as "(ADV)" does
        (["Satu.", "Dua. (Advertorial)"], ["Satu.", "Dua."], "Advertorial"),
        (["Satu.", "Dua.", "(PARIWARA)"], ["Satu.", "Dua."], "PARIWARA"),
        # initials in square brackets, or with an abbreviation's dot
        (["Satu.", "Dua. [red]"], ["Satu.", "Dua."], "red"),
        (["Satu.", "Dua. (red.)"], ["Satu.", "Dua."], "red"),
        (["Satu.", "Dua.", "[fai/idh]"], ["Satu.", "Dua."], "fai/idh"),
        # no sentence end before them: story
        (["Satu.", "Data Dinas Kesehatan [2025]"], ["Satu.", "Data Dinas Kesehatan [2025]"], None),
        (["Satu.", "Warga menonton [video]"], ["Satu.", "Warga menonton [video]"], None),
    ],
)
def test_advertorial_label_and_bracketed_initials_close_the_report(
    paragraphs: list[str], left: list[str], initials: str | None
) -> None:
    kept, trailer = strip_trailer(paragraphs)
    assert kept == left
    assert trailer.initials == initials


def test_oleh_and_penulis_editor_lines_name_the_author() -> None:
    report = parse_report(
        "Petani Lebak Panen Raya\n\nOleh: Ahmad Fauzi\n\n"
        "LEBAK, MEDIA – Petani di Lebak memulai panen raya.\n\nHasilnya naik 20 persen.\n\n"
        "Penulis/Editor: Rina Marlina\n"
    )
    assert report.body.dateline == "LEBAK, MEDIA"
    assert report.body.paragraphs == (
        "Petani di Lebak memulai panen raya.",
        "Hasilnya naik 20 persen.",
    )
    assert report.body.authors == ("Ahmad Fauzi", "Rina Marlina")


def test_credit_lines_become_authors() -> None:
    kept, trailer = strip_trailer(
        ["Isi berita.", "Penulis: Rina Marlina", "Editor: Idham (rin/idh)"]
    )
    assert kept == ["Isi berita."]
    assert trailer.authors == ("Rina Marlina",)


def test_report_with_title_dateline_related_and_initials() -> None:
    raw = (
        "\ufeffBanjir Rendam Tiga Kecamatan\r\n\r\n"
        "SERANG, PROLOGMEDIA – Hujan deras mengguyur Kab. Serang.\u00a0 Air naik.\r\n\r\n"
        "Baca Juga:\r\nFestival Kopi Banten Digelar\r\n\r\n"
        "“Kami siaga,” kata H. Rahmat, S.H., M.Si. (fai/idh)\r\n\r\n\r\n"
    )
    report = parse_report(raw)
    assert report.title == "Banjir Rendam Tiga Kecamatan"
    assert report.body.dateline == "SERANG, PROLOGMEDIA"
    assert report.body.paragraphs == (
        "Hujan deras mengguyur Kab. Serang. Air naik.",
        "“Kami siaga,” kata H. Rahmat, S.H., M.Si.",
    )
    assert report.body.related == (RelatedLink("Festival Kopi Banten Digelar"),)
    assert report.body.initials == "fai/idh"
    assert report.body.html.startswith("<p>Hujan deras")
    assert "fai/idh" not in report.body.html and "Baca" not in report.body.html


def test_report_without_title_starts_with_dateline() -> None:
    report = parse_report("PROLOGMEDIA – Peringatan HKN ke-61 digelar.\n\nParagraf kedua.")
    assert report.title is None
    assert report.body.dateline == "PROLOGMEDIA"
    assert report.body.paragraphs[0] == "Peringatan HKN ke-61 digelar."


def test_single_newline_paragraphs_and_hard_wraps() -> None:
    report = parse_report(
        "Judul\n\nSERANG, PROLOGMEDIA – Baris yang dibungkus\nkeras di tengah kalimat.\n"
        "Paragraf berikutnya di baris sendiri.\nDan satu lagi."
    )
    assert report.body.paragraphs == (
        "Baris yang dibungkus keras di tengah kalimat.",
        "Paragraf berikutnya di baris sendiri.",
        "Dan satu lagi.",
    )


def test_html_escapes_text() -> None:
    report = parse_report("Judul\n\nHarga <b>naik</b> & turun.")
    assert report.body.html == "<p>Harga &lt;b&gt;naik&lt;/b&gt; &amp; turun.</p>"


def test_first_sentence_skips_abbreviations() -> None:
    lead = (
        "Kepala BPBD Kab. Serang, H. Rahmat, S.H., M.Si., meninjau Jl. Veteran No. 12. Lalu pulang."
    )
    assert first_sentence(lead) == (
        "Kepala BPBD Kab. Serang, H. Rahmat, S.H., M.Si., meninjau Jl. Veteran No. 12."
    )


def test_derived_title_uses_a_short_first_sentence() -> None:
    assert derive_title("Banjir merendam Kec. Tirtayasa. Warga mengungsi.") == (
        "Banjir merendam Kec. Tirtayasa"
    )


@given(st.lists(st.from_regex(r"[A-Za-z0-9.,“”]{1,25}", fullmatch=True), min_size=1, max_size=60))
def test_derived_title_fits_and_cuts_at_a_word_boundary(words: list[str]) -> None:
    lead = " ".join(words)
    title = derive_title(lead)
    assert 0 < len(title) <= TITLE_MAX
    stem = title.removesuffix("…").rstrip(" ,;:–—-.")
    # Every word of the title is a whole word of the lead, in order.
    assert lead.startswith(stem) or lead.startswith(stem + ".")
    assert len(stem) == len(lead) or lead[len(stem)] in " .,;:–—-…"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-07-14T10:00:00", datetime(2025, 7, 14, 10, tzinfo=JAKARTA)),
        ("2025-07-14T10:00:00Z", datetime(2025, 7, 14, 10, tzinfo=UTC)),
        ("2025-07-14T10:00:00+07:00", datetime(2025, 7, 14, 3, tzinfo=UTC)),
        ("Mon, 14 Jul 2025 10:00:00 +0700", datetime(2025, 7, 14, 3, tzinfo=UTC)),
        ("Mon, 14 Jul 2025 10:00:00 WIB", datetime(2025, 7, 14, 3, tzinfo=UTC)),
        ("Mon, 14 Jul 2025 10:00:00 WITA", datetime(2025, 7, 14, 2, tzinfo=UTC)),
        ("kemarin sore", None),
        ("", None),
    ],
)
def test_parse_datetime(value: str, expected: datetime | None) -> None:
    parsed = parse_datetime(value, JAKARTA)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() is not None


def test_parse_datetime_keeps_explicit_offsets() -> None:
    parsed = parse_datetime("2025-07-14T10:00:00+09:00", JAKARTA)
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=9)
    assert parsed.astimezone(UTC).hour == 1


def test_page_furniture_lines_are_dropped() -> None:
    """Copied from news sites: ad slots and embed placeholders are not story."""
    text = (
        "Banjir Rendam Ratusan Rumah di Serang\n\n"
        "SERANG, PROLOGMEDIA – Hujan deras mengguyur Serang sejak Senin malam.\n"
        "ADVERTISEMENT\n"
        "SCROLL TO CONTINUE WITH CONTENT\n"
        "Warga mengungsi ke masjid terdekat.\n\n"
        "[Gambas:Video 20detik]\n\n"
        "(adsbygoogle = window.adsbygoogle || []).push({});\n\n"
        "Iklan layanan masyarakat itu dipasang di setiap posko. (fai/idh)\n"
    )
    report = parse_report(text)
    assert report.body.paragraphs == (
        "Hujan deras mengguyur Serang sejak Senin malam.",
        "Warga mengungsi ke masjid terdekat.",
        "Iklan layanan masyarakat itu dipasang di setiap posko.",
    )


def test_related_list_after_baca_juga_is_taken_whole() -> None:
    body = parse_report(
        "SERANG, MEDIA – Hujan deras turun. Warga mengungsi.\n\n"
        "Baca Juga:\nBanjir Rendam Tiga Kecamatan\nFestival Kopi Banten Digelar\n\n"
        "BACA JUGA:\n1. Harga Beras Naik Lagi\n2. Guru Honorer Terima SK\n\n"
        "Baca juga:\nJembatan Gantung Putus\nWarga di seberang sungai\nmemutar sejauh 12 km.\n\n"
        "Pemkab menyiapkan bantuan.",
        detect_title=False,
    ).body
    assert [r.title for r in body.related] == [
        "Banjir Rendam Tiga Kecamatan",
        "Festival Kopi Banten Digelar",
        "Harga Beras Naik Lagi",
        "Guru Honorer Terima SK",
        "Jembatan Gantung Putus",
    ]
    # A hard-wrapped story paragraph right after the headline stays story.
    assert body.paragraphs == (
        "Hujan deras turun. Warga mengungsi.",
        "Warga di seberang sungai memutar sejauh 12 km.",
        "Pemkab menyiapkan bantuan.",
    )


def test_credit_lines_on_consecutive_lines_are_separate_credits() -> None:
    report = parse_report(
        "Harga Beras Naik\n\nSERANG, KOMPAS.com - Harga beras naik. Pedagang mengeluh.\n\n"
        "Penulis: Rasyid Ridho\nEditor: Dita Angga Rusiana\nCOPYRIGHT © ANTARA 2026"
    )
    assert report.body.paragraphs == ("Harga beras naik. Pedagang mengeluh.",)
    assert report.body.authors == ("Rasyid Ridho",)


def test_a_last_paragraph_that_forbids_something_is_story_not_a_rights_notice() -> None:
    report = parse_report(
        "Bandara Soekarno-Hatta Perketat Pengawasan\n\nTANGERANG, MEDIA - Pengawasan di "
        "terminal 3 diperketat mulai Senin.\n\nDilarang mengambil foto di area pemeriksaan "
        "tanpa izin, tegas petugas.\n\nCOPYRIGHT © MEDIA 2026"
    )
    assert report.body.paragraphs == (
        "Pengawasan di terminal 3 diperketat mulai Senin.",
        "Dilarang mengambil foto di area pemeriksaan tanpa izin, tegas petugas.",
    )


def test_numbered_list_lines_stay_separate_paragraphs() -> None:
    body = parse_report(
        "SERANG, MEDIA - Operasi pasar digelar dengan ketentuan, antara lain:\n"
        "1. Pembeli wajib menunjukkan KTP;\n2. Setiap orang maksimal membeli 10 kg;\n"
        "3. Pedagang dilarang membeli.\n\nStok dinyatakan aman.",
        detect_title=False,
    ).body
    assert body.paragraphs == (
        "Operasi pasar digelar dengan ketentuan, antara lain:",
        "1. Pembeli wajib menunjukkan KTP;",
        "2. Setiap orang maksimal membeli 10 kg;",
        "3. Pedagang dilarang membeli.",
        "Stok dinyatakan aman.",
    )


def test_credits_above_the_lead_name_the_author() -> None:
    """A report copied from a portal's page: "Penulis: ... | Editor: ..." and the timestamp
    under the title; the author was lost with the header lines above the lead."""
    report = parse_report(
        "Warga Keluhkan Jalan Rusak di Baros\n\n"
        "Penulis: Siti Nurhaliza | Editor: Bambang Irawan\n"
        "Rabu, 18 Februari 2026 | 09:15 WIB\n\n"
        "SERANG, MEDIA – Warga Kampung Cilaban mengeluhkan jalan rusak. Jalan itu akses utama.\n\n"
        "“Kami sudah survei,” kata Kabid Bina Marga. (ant/red)\n"
    )
    assert report.title == "Warga Keluhkan Jalan Rusak di Baros"
    assert report.body.dateline == "SERANG, MEDIA"
    assert report.body.authors == ("Siti Nurhaliza",)
    assert report.body.paragraphs == (
        "Warga Kampung Cilaban mengeluhkan jalan rusak. Jalan itu akses utama.",
        "“Kami sudah survei,” kata Kabid Bina Marga.",
    )


def test_a_press_release_closes_with_its_office_credit() -> None:
    """ "Dok. Humas ..." under a press release credits its (absent) picture; it hid "(ADV)"."""
    body = parse_report(
        "Lebak, (14/11/2025) – Bupati melantik 120 kepala sekolah.\n\n"
        "Pelantikan dihadiri Forkopimda. (ADV)\n\nDok. Humas Pemkab Lebak\n",
        detect_title=False,
    ).body
    assert body.paragraphs == (
        "Bupati melantik 120 kepala sekolah.",
        "Pelantikan dihadiri Forkopimda.",
    )
    assert body.initials == "ADV"


def test_photo_caption_lines_are_not_story() -> None:
    body = parse_report(
        "MEDIA – Jembatan putus. Warga menyeberang dengan rakit.\n\n"
        "Foto: Warga menyeberangi sungai, Selasa (11/11/2026). (MEDIA/Ahmad Fauzi)\n\n"
        "(Foto: Istimewa)\n\nFoto itu beredar luas. Camat datang ke lokasi.",
        detect_title=False,
    ).body
    assert body.paragraphs == (
        "Jembatan putus. Warga menyeberang dengan rakit.",
        "Foto itu beredar luas. Camat datang ke lokasi.",
    )


@pytest.mark.parametrize(
    "marker",
    ["Baca Juga >>", "Baca juga :", "BACA JUGA", "Baca Selengkapnya:", "Berita Terkait",
     "Artikel Terkait:", "Baca berita lainnya:", "Simak Juga »", "Lihat Juga -"],
)  # fmt: skip
def test_related_marker_forms_take_the_next_headline(marker: str) -> None:
    story = "Warga mulai membersihkan rumah setelah air surut pada Rabu pagi."
    kept, related = pull_related([marker, "Festival Kopi Banten Digelar", "", story])
    assert related == [RelatedLink("Festival Kopi Banten Digelar")]
    assert [line for line in kept if line] == [story]


@pytest.mark.parametrize(
    "line",
    [
        "Berita terkait banjir di Lebak masih simpang siur di media sosial",
        "Baca selengkapnya laporan BPK soal dana hibah",
        "Artikel terkait kopi Banten sudah ditulis banyak media",
    ],
)
def test_a_marker_word_without_separator_is_story(line: str) -> None:
    assert pull_related([line]) == ([line], [])


@pytest.mark.parametrize(
    ("line", "headline"),
    [
        ("📌 Baca Juga: Harga Beras Naik", "Harga Beras Naik"),
        (">> Baca juga: Harga Beras Naik", "Harga Beras Naik"),
        ("(Baca juga: Harga Beras Naik)", "Harga Beras Naik"),
        ("Baca Juga:Harga Beras Naik", "Harga Beras Naik"),
    ],
)
def test_decorated_markers(line: str, headline: str) -> None:
    assert pull_related([line]) == ([], [RelatedLink(headline)])


def test_a_quote_that_starts_with_the_marker_words_is_story() -> None:
    line = "“Baca juga aturannya sebelum mendaftar,” kata petugas"
    assert pull_related([line]) == ([line], [])


def test_promos_credits_and_pagination_leave_a_text_report() -> None:
    body = parse_report(
        "SERANG, MEDIA – Harga cabai naik. Pedagang mengeluh.\n\n"
        "Ikuti berita terkini MEDIA di Google News\n\n"
        "Halaman: 1 2\n\n"
        "Pembeli berkurang sejak pekan lalu.\n\n"
        "Kontributor : Hilman Sadewa\nEditor : Dita Amalia",
        detect_title=False,
    ).body
    assert body.paragraphs == (
        "Harga cabai naik. Pedagang mengeluh.",
        "Pembeli berkurang sejak pekan lalu.",
    )
    assert body.authors == ("Hilman Sadewa",)


@pytest.mark.parametrize(
    ("line", "authors"),
    [
        ("Penulis: Rizki Ananda | Editor: Dewi Lestari", ("Rizki Ananda",)),
        ("Penulis : Kontributor Serang, Rasyid Ridho", ("Rasyid Ridho",)),
        # Kompas' two credit lines run together in a copied text
        ("Penulis : Kontributor Surabaya, Ghinan Salman Editor : Khairina", ("Ghinan Salman",)),
        ("Reporter: Rizki Ananda - Editor: Dewi Lestari", ("Rizki Ananda",)),
        ("Editor: Dewi Lestari | Sumber: ANTARA", ()),
    ],
)
def test_credit_lines_of_several_roles(line: str, authors: tuple[str, ...]) -> None:
    kept, trailer = strip_trailer(["Isi berita.", line])
    assert kept == ["Isi berita."]
    assert trailer.authors == authors


@pytest.mark.parametrize(
    "lead",
    [
        "Serang, Banten (ANTARA) - Dinas Lingkungan Hidup menanam 1.000 pohon.",  # antaranews
        "Lebak, (Banten Kita) – Dinas Lingkungan Hidup menanam 1.000 pohon.",
    ],
)
def test_dateline_with_province_or_bracketed_source(lead: str) -> None:
    dateline, rest = split_dateline(lead)
    assert dateline == lead.split(" - ")[0].split(" – ")[0]
    assert rest == "Dinas Lingkungan Hidup menanam 1.000 pohon."


@pytest.mark.parametrize(
    "lead",
    [
        "Di Serang, BPBD – bersama TNI – mengevakuasi warga.",
        "Warga - terutama anak-anak - mengungsi ke balai desa.",
    ],
)
def test_a_sentence_opening_with_a_dash_aside_has_no_dateline(lead: str) -> None:
    assert split_dateline(lead) == (None, lead)


# A detik report copied from the page: byline, timestamp, picture, caption, then the dateline
# alone on its line and the lead under it.
DETIK_COPY = """Banjir Rob Rendam Tiga Desa di Pesisir Tangerang

Fikri Haikal (fiktif) - detikNews
Selasa, 02 Des 2025 10:15 WIB
Banjir rob di Tanjung Pasir
Banjir rob merendam permukiman di Desa Tanjung Pasir (Foto: Fikri Haikal/detikcom)
Tangerang -

Banjir rob merendam tiga desa di pesisir Kabupaten Tangerang sejak Senin (1/12/2025) malam.

SCROLL TO CONTINUE WITH CONTENT

“Air mulai naik sekitar jam sembilan malam,” kata Sanusi (fiktif), warga Desa Tanjung Pasir.

(fhk/fhk)
"""

# Kompas copied: the unnamed byline, and the dateline's dash wrapped onto the lead's line.
KOMPAS_COPY = """Pemuda di Ciputat Diadang Begal, Motor Raib
Tim Redaksi
TANGERANG SELATAN, KOMPAS.com

– Seorang pria berinisial FAW (20) menjadi korban komplotan begal di Ciputat Timur.

Saat itu, FAW pulang dari rumah temannya, Senin (2/12/2024), pukul 01.00 WIB.

Penulis : Kontributor Tangerang, Nama Penulis (fiktif)
Editor : Nama Editor (fiktif)
"""


def test_copied_detik_report_starts_at_its_lead() -> None:
    report = parse_report(DETIK_COPY)
    assert report.title == "Banjir Rob Rendam Tiga Desa di Pesisir Tangerang"
    assert report.body.dateline == "Tangerang"
    assert report.body.paragraphs == (
        "Banjir rob merendam tiga desa di pesisir Kabupaten Tangerang sejak Senin (1/12/2025) "
        "malam.",
        "“Air mulai naik sekitar jam sembilan malam,” kata Sanusi (fiktif), warga Desa Tanjung "
        "Pasir.",
    )
    assert report.body.initials == "fhk/fhk"


def test_copied_kompas_report_with_its_dash_on_the_lead() -> None:
    report = parse_report(KOMPAS_COPY)
    assert report.body.dateline == "TANGERANG SELATAN, KOMPAS.com"
    assert report.body.paragraphs[0].startswith("Seorang pria berinisial FAW (20)")
    assert len(report.body.paragraphs) == 2
    assert report.body.authors == ("Nama Penulis (fiktif)",)


def test_short_lines_above_a_lead_without_dateline_stay() -> None:
    text = "Judul Berita Ini\n\nWarga mengungsi\n\nHujan turun sejak pagi. Air naik."
    assert parse_report(text).body.paragraphs == (
        "Warga mengungsi",
        "Hujan turun sejak pagi. Air naik.",
    )
