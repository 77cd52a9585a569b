"""Excerpt engine, by example: counting, cleaning, hashtags, and each mode's promises."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

import pytest

from siarkan.articles.hashtags import camel_hashtag
from siarkan.articles.model import Article
from siarkan.config import ExcerptSettings
from siarkan.excerpts import (
    Excerpt,
    make_excerpts,
    mastodon_length,
    pick_hashtags,
    story_paragraphs,
)
from siarkan.sentences import balanced
from tests.test_excerpts_golden import BANJIR, JALAN, SIDANG

PERMALINK = "https://siarkan.prologmedia.example.id/artikel/contoh"
CANONICAL = "https://www.prologmedia.example.co.id/banten/2025/12/01/contoh-berita"


def tag_page(tag: str) -> str:
    return f"https://siarkan.prologmedia.example.id/kanal/utama/tag/{tag.replace(' ', '-')}"


def cut(article: Article, **options: object) -> list[Excerpt]:
    mode = options.pop("mode", None)
    config = ExcerptSettings(**options)  # type: ignore[arg-type]
    return make_excerpts(article, config, permalink=PERMALINK, tag_url=tag_page, mode=mode)  # type: ignore[arg-type]


def article(*paragraphs: str, **fields: object) -> Article:
    values: dict[str, object] = {
        "id": "contoh",
        "slug": "contoh",
        "title": "Judul Berita Contoh",
        "paragraphs": paragraphs,
        "body_html": "",
        "dateline": "SERANG, PROLOGMEDIA",
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def words(parts: list[Excerpt]) -> list[str]:
    return " ".join(p.body_text for p in parts).split()


# --- counting like Mastodon -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("halo", 4),
        ("https://example.com", 23),
        ("http://t.co", 23),  # short URLs count 23 too
        ("lihat https://www.bmkg.go.id/cuaca/peringatan-dini.bmkg?prov=36&lang=ID.", 6 + 23 + 1),
        ("(https://id.wikipedia.org/wiki/Serang_(kota))", 1 + 23 + 1),
        ("https://a.example.co.id/x, lalu https://b.example.com/y;", 23 + 7 + 23 + 1),
        ("https://prolog.example.id/artikel/slug#p7", 23),
        ("http://localhost:8080/artikel/slug", 34),  # no TLD: not a URL for twitter-text
        ("http://127.0.0.1:8080/artikel", 29),  # an IP address has no TLD either
        ("https://news.test/artikel/panjang-sekali", 40),  # reserved TLD: counted in full
        ("xhttps://example.com", 20),  # a URL must not follow a letter
        ("ftp://example.com/file", 22),  # only http(s) counts
        ("Jum’at “kutipan” — 👍", 20),
        # A mention counts as its "@user" part (StatusLengthValidator#countable_text).
        ("lapor ke @dinkes@mastodon.social.", 9 + 7 + 1),
        ("(@humas_serang@kab.example.go.id)", 1 + 13 + 1),
        ("akun @dinkes.kabserang", 5 + 17),  # local mentions count in full anyway
        ("humas@bps.go.id", 15),  # an e-mail address is not a mention
        ("@budi@kompas.id@", 16),  # followed by "@": not a mention (end_mention_match)
        ("https://mastodon.social/@dinkes@mastodon.social", 23),  # inside a URL: the URL wins
    ],
)
def test_mastodon_length(text: str, expected: int) -> None:
    assert mastodon_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👨\u200d👩\u200d👧", 1),  # a ZWJ family is one grapheme for Mastodon
        ("👍🏽 setuju", 1 + 7),  # skin tone
        ("🇮🇩🇮🇩", 2),  # two flags
        ("❤️ 1️⃣", 1 + 1 + 1),  # variation selector, keycap
        ("kafe\u0301", 4),  # e + combining acute
        ("🏳️\u200d🌈", 1),
        ("a\u200db", 2),  # ZWJ between letters joins only the letter before it
        ("”🏽\u200d👨", 2),  # a skin tone is no emoji: the man after its ZWJ stands alone
        # After whitespace a mark still counts 1 (never fewer than Mastodon: cuts are there).
        ("kata \u0301x", 7),
        ("https://www.prologmedia.co.id/kafe\u0301", 23),  # inside a URL: the URL counts
    ],
)
def test_mastodon_length_counts_graphemes(text: str, expected: int) -> None:
    assert mastodon_length(text) == expected


def test_posts_are_packed_with_mentions_counted_short() -> None:
    """A post full of remote mentions fits 500 as Mastodon counts, though it is longer."""
    handle = "@humas_kabupaten_serang@mastodon.pemerintahan.example.id"
    sentences = [f"Aduan {n} bisa dikirim ke {handle} setiap hari." for n in range(40)]
    parts = cut(article(" ".join(sentences)), mode="thread", max_parts=50, hashtags=0)
    for part in parts:
        assert part.length == mastodon_length(part.text) <= 500
    assert max(len(part.text) for part in parts) > 500
    assert words(parts) == " ".join(sentences).split()


def test_giant_url_counts_23_so_it_always_fits() -> None:
    url = "https://www.prologmedia.example.co.id/" + "a" * 3000
    assert mastodon_length(f"sumber: {url}") == 8 + 23


# --- cleaning ---------------------------------------------------------------------------------


def test_leftover_related_links_and_editor_initials_are_not_story() -> None:
    a = article(
        "Paragraf pertama berita.",
        "Baca Juga: Harga Beras Naik Jelang Natal",
        "Baca juga:\nBanjir Lebak Rendam Ratusan Rumah",
        "Paragraf kedua berita.\nSimak juga: Video Banjir di Serang",
        "Lihat juga",
        "Jadwal Kereta Merak Berubah",
        "Paragraf terakhir berita. (fai/idh)",
    )
    assert story_paragraphs(a) == (
        "Paragraf pertama berita.",
        "Paragraf kedua berita.",
        "Paragraf terakhir berita.",
    )


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        ("Kegiatan berakhir pukul 16.00 WIB. (ant/rls)", ("Kegiatan berakhir pukul 16.00 WIB.",)),
        ("Kegiatan berakhir.(fai)", ("Kegiatan berakhir.",)),
        ("Kegiatan berakhir. (*)", ("Kegiatan berakhir.",)),
        ("Data dari Badan Pusat Statistik (BPS).", ("Data dari Badan Pusat Statistik (BPS).",)),
        ("Ia menyebut angka itu (naik)", ("Ia menyebut angka itu (naik)",)),
    ],
)
def test_trailing_initials_only(last: str, expected: tuple[str, ...]) -> None:
    assert story_paragraphs(article(last)) == expected


def test_initials_as_a_paragraph_of_their_own() -> None:
    assert story_paragraphs(article("Berita selesai.", "(fai/idh)")) == ("Berita selesai.",)


@pytest.mark.parametrize(
    "paragraphs",
    [
        ("Warga Serang menyambut baik rencana itu. (fai/idh)",),  # the lead is the last
        ("- Advertisement -", "Baca Juga: Harga Beras Naik", "Warga menyambut baik. (ant)"),
        ("Warga menyambut baik.", "(fai/idh)"),
        ("Warga menyambut baik.", "Paragraf kedua. (fai)"),
    ],
)
def test_a_summary_reads_only_the_lead_but_cleans_it_the_same(
    paragraphs: tuple[str, ...],
) -> None:
    # The summary looks for the lead alone (and one paragraph more, to know whether the lead
    # is the last, whose initials go): the same lead as the whole story's first paragraph.
    a = article(*paragraphs)
    [post] = cut(a, mode="summary", include_title=False, hashtags=0)
    assert post.body_text == story_paragraphs(a)[0]


def test_page_furniture_left_in_stored_paragraphs_is_not_story() -> None:
    """An article stored from a JSON body (or before a rule existed) may still carry a page's
    promos, ad labels and markers; its posts must not. Story with the same words stays."""
    a = article(
        "Paragraf pertama berita.",
        "- Advertisement -",
        "Berita Terkait",
        "Jembatan Ciberang Putus Diterjang Banjir",
        "Warga bisa melapor lewat WhatsApp pengaduan di nomor 0811-1234-5678.",
        "Ikuti berita terkini MEDIA di Google News",
        'Simak Video "Banjir Rob Tangerang"\n[Gambas:Video 20detik]',
        "“Baca juga peraturannya soal giliran air,” kata Sarmadi.",
        "Halaman: 1 2",
    )
    assert story_paragraphs(a) == (
        "Paragraf pertama berita.",
        "Warga bisa melapor lewat WhatsApp pengaduan di nomor 0811-1234-5678.",
        "“Baca juga peraturannya soal giliran air,” kata Sarmadi.",
    )


def test_a_baca_juga_glued_after_the_last_sentence_is_not_story() -> None:
    # kabar6.com prints its related link right after a quote, in the same paragraph.
    quote = "“Bapak yang ngasih ide terbentuknya (relawan) supaya cepat,” bebernya."
    glued = quote + "**Baca Juga: Polres Tangsel: Begini Aksi 3 Pencuri Gasak Barang."
    a = article(glued, "Paragraf kedua. Lihat juga: data BPS.", quote + " Baca juga: Harga Naik")
    assert story_paragraphs(a) == (quote, "Paragraf kedua.", quote)
    for mode in ("summary", "thread", "series"):
        assert all("juga" not in part.text.lower() for part in cut(a, mode=mode))
    # A tail longer than a headline may run on into story text: it stays.
    long_tail = quote + " Baca juga: " + "kata warga yang menunggu di posko " * 8
    assert story_paragraphs(article(long_tail)) == (long_tail.strip(),)


def test_a_baca_juga_line_followed_by_a_real_sentence_keeps_the_sentence() -> None:
    a = article("Baca juga:", "Pemerintah menaikkan anggaran pendidikan tahun ini.")
    assert story_paragraphs(a) == ("Pemerintah menaikkan anggaran pendidikan tahun ini.",)


# --- hashtags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("pemilu 2024", "Pemilu2024"),
        ("Kabupaten Serang", "KabupatenSerang"),
        ("covid-19", "Covid19"),
        ("DPRD Banten", "DPRDBanten"),
        ("harga_beras", "Harga_beras"),
        # Screen readers speak CamelCase capitals as word breaks: not "Jum At Berkah".
        ("Jum'at Berkah", "JumatBerkah"),
        ("Jum’at berkah", "JumatBerkah"),
        ("2024", ""),
        ("!!!", ""),
    ],
)
def test_camel_hashtag(tag: str, expected: str) -> None:
    assert camel_hashtag(tag) == expected


def test_pick_hashtags_dedupes_case_insensitively_and_caps() -> None:
    tags = ("Kabupaten Serang", "kabupaten serang", "2025", "banjir", "BPBD", "cuaca")
    assert pick_hashtags(tags, 3) == [
        ("KabupatenSerang", "Kabupaten Serang"),
        ("Banjir", "banjir"),
        ("BPBD", "BPBD"),
    ]
    assert pick_hashtags(tags, 0) == []


def test_hashtags_link_to_the_channel_tag_page_with_the_original_tag() -> None:
    [post] = cut(article("Isi berita singkat.", tags=("Kabupaten Serang",)))
    assert post.hashtags == ("KabupatenSerang",)
    assert post.text.endswith("\n\n#KabupatenSerang")
    assert (
        '<a href="https://siarkan.prologmedia.example.id/kanal/utama/tag/Kabupaten-Serang" '
        'class="mention hashtag" rel="tag">#<span>KabupatenSerang</span></a>'
    ) in post.html


def test_hashtags_give_way_before_text() -> None:
    lead = " ".join(["Warga Serang menyambut baik rencana perbaikan jalan itu."] * 7)
    a = article(lead, "Paragraf kedua.", tags=("infrastruktur", "Kabupaten Serang", "jalan"))
    with_tags = cut(a, hashtags=3, max_chars=500)[0]
    without = cut(a, hashtags=0, max_chars=500)[0]
    assert with_tags.body_text == without.body_text
    assert len(with_tags.hashtags) < 3
    assert with_tags.length <= 500


# --- summary ----------------------------------------------------------------------------------


def test_summary_is_title_lead_link_and_hashtags() -> None:
    [post] = cut(JALAN)
    assert post.total == 1 and post.index == 0 and post.mode == "summary"
    blocks = post.text.split("\n\n")
    assert blocks[0] == JALAN.title
    assert blocks[1] == JALAN.paragraphs[0]
    assert blocks[2] == f"Baca selengkapnya: {PERMALINK}"
    assert blocks[3] == "#KabupatenSerang #Infrastruktur #JalanRusak"
    assert post.link == PERMALINK and post.anchor is None
    assert "SERANG, PROLOGMEDIA" not in post.text


def test_summary_cuts_the_lead_at_a_sentence_end() -> None:
    [post] = cut(JALAN, max_chars=300, include_title=False, hashtags=0)
    first_sentence = JALAN.paragraphs[0].split(" Program itu")[0]
    assert post.body_text == first_sentence
    assert post.length <= 300


def test_summary_with_dateline() -> None:
    [post] = cut(JALAN, strip_dateline=False)
    assert post.text.split("\n\n")[1].startswith("SERANG, PROLOGMEDIA – Pemerintah Kabupaten")
    assert post.body_text.startswith("Pemerintah Kabupaten")


def test_canonical_url_wins_over_the_permalink() -> None:
    [post] = cut(BANJIR)
    assert post.link == BANJIR.canonical_url
    assert f"Baca selengkapnya: {BANJIR.canonical_url}" in post.text


def test_summary_of_a_lead_longer_than_a_post_cuts_at_a_clause_and_says_so() -> None:
    long_lead = (
        "Pemerintah Kabupaten Serang, yang dalam beberapa tahun terakhir menghadapi keluhan "
        "warga soal jalan rusak, banjir tahunan, dan layanan kesehatan yang belum merata, "
        "menyiapkan anggaran Rp1,5 triliun untuk memperbaiki 54 ruas jalan, membangun 12 "
        "puskesmas baru, serta menormalisasi tiga sungai yang kerap meluap, termasuk Sungai "
        "Ciujung, Sungai Cidurian, dan Sungai Cibanten, yang alirannya melintasi kawasan "
        "industri dan permukiman padat penduduk di wilayah utara kabupaten itu."
    )
    [post] = cut(article(long_lead), max_chars=300, hashtags=0)
    assert post.length <= 300
    body = post.text.split("\n\n")[1]
    assert body.endswith(", …")  # ended at a comma, marked as cut
    assert long_lead.startswith(post.body_text)


def test_summary_of_a_lead_longer_than_a_post_is_not_cut_to_its_subject() -> None:
    # Shaped on a real ANTARA lead: its only commas come early, so the clause cut left
    # "Badan Penanggulangan Bencana Daerah (BPBD) Kabupaten Serang, Banten, …": a subject
    # without its verb, while half the post stood empty.
    lead = (
        "Badan Penanggulangan Bencana Daerah (BPBD) Kabupaten Serang, Banten, mencatat "
        "sebanyak 1.108 jiwa dari 286 kepala keluarga masih bertahan di pengungsian karena "
        "banjir yang belum juga surut di sejumlah wilayah utara kabupaten itu."
    )
    a = replace(article(lead, "Paragraf kedua."), title="1.108 Warga Serang Masih Mengungsi")
    [post] = cut(a, max_chars=250, hashtags=0)
    assert post.length <= 250
    assert "mencatat sebanyak 1.108 jiwa" in post.body_text
    assert post.text.split("\n\n")[1].endswith(" …")
    assert lead.startswith(post.body_text)


def test_a_thread_cut_by_max_parts_fills_its_last_post_too() -> None:
    # The last post of a cut thread is the end of what readers see, as a summary is.
    lead = "Kesepakatan diteken Rabu di Serang oleh delapan kepala daerah."
    long = (
        "Badan Penanggulangan Bencana Daerah (BPBD) Kabupaten Serang, Banten, mencatat "
        "sebanyak 1.108 jiwa dari 286 kepala keluarga masih bertahan di pengungsian karena "
        "banjir yang belum juga surut di sejumlah wilayah utara kabupaten itu."
    )
    parts = cut(article(lead, long), mode="thread", max_chars=250, max_parts=2, include_title=False)
    assert len(parts) == 2
    assert "mencatat sebanyak 1.108 jiwa" in parts[1].body_text


# One sentence longer than a post: 8 government bodies, a landfill, trucks... (≈ 520 chars).
_LONG_SENTENCE = (
    "Pemerintah Provinsi Banten bersama Pemerintah Kota Serang, Pemerintah Kabupaten Serang, "
    "Pemerintah Kota Cilegon, Pemerintah Kabupaten Pandeglang, Pemerintah Kabupaten Lebak, "
    "Pemerintah Kota Tangerang Selatan dan Pemerintah Kabupaten Tangerang menandatangani nota "
    "kesepakatan tentang pengelolaan sampah regional yang mencakup pembangunan tempat "
    "pemrosesan akhir (TPA) terpadu di Desa Cilowong, Kec. Taktakan, Kota Serang, pengadaan "
    "120 unit truk pengangkut sampah, serta pembentukan badan layanan umum daerah."
)


def test_summary_cut_inside_a_later_sentence_says_so() -> None:
    # The first sentence fits; the second, longer than a post, is cut at a clause to fill it.
    # That cut used to end the post at "Kota Serang," with no marker.
    [post] = cut(article("Kesepakatan diteken Rabu. " + _LONG_SENTENCE), hashtags=0)
    assert post.length == mastodon_length(post.text) <= 500
    body = post.text.split("\n\n")[1]
    assert body.endswith(", …"), body[-40:]
    assert not post.body_text.endswith("…")


@pytest.mark.parametrize("mode", ["thread", "series"])
def test_a_part_that_stops_inside_a_sentence_is_marked(mode: str) -> None:
    # Series parts go out hours apart: a part ending at "Kabupaten Lebak," read as broken.
    a = article(_LONG_SENTENCE, "Penandatanganan disaksikan ratusan warga.", tags=("sampah",))
    parts = cut(a, mode=mode, max_chars=500, max_parts=10)
    assert len(parts) > 1
    for part in parts:
        assert part.length == mastodon_length(part.text) <= 500
        stops_inside = part.body_text[-1] not in ".!?”"
        marked = f"{part.body_text[-30:]} …\n\n" in f"{part.text}\n\n"
        assert marked == stops_inside, (part.index, part.body_text[-40:])
    assert any(p.body_text.endswith(",") for p in parts)
    assert words(parts) == " ".join(story_paragraphs(a)).split()


def test_link_text_follows_the_language() -> None:
    [post] = cut(article("Short English report."), language="en")
    assert f"Read more: {PERMALINK}" in post.text
    assert post.language == "en"
    [custom] = cut(article("Isi."), link_text="Selengkapnya di situs kami:")
    assert f"Selengkapnya di situs kami: {PERMALINK}" in custom.text


def test_mode_argument_overrides_the_channel_setting() -> None:
    assert cut(JALAN, mode="thread")[0].mode == "thread"


# --- thread -----------------------------------------------------------------------------------


def test_thread_covers_the_whole_story_in_numbered_replies() -> None:
    parts = cut(JALAN, mode="thread", max_parts=30)
    total = len(parts)
    assert total > 10
    assert words(parts) == " ".join(story_paragraphs(JALAN)).split()
    for part in parts:
        assert part.total == total
        assert part.text.startswith(f"{part.index + 1}/{total} ")
        assert part.length == mastodon_length(part.text) <= 500
    assert parts[0].text.split("\n\n")[0] == f"1/{total} {JALAN.title}"
    assert all(JALAN.title not in p.text for p in parts[1:])
    assert f"Baca selengkapnya: {PERMALINK}" in parts[-1].text
    assert all(PERMALINK not in p.text for p in parts[:-1])
    assert parts[-1].hashtags and not any(p.hashtags for p in parts[:-1])


def test_thread_parts_end_with_whole_sentences_when_they_fit() -> None:
    parts = cut(SIDANG, mode="thread", max_parts=40)
    for part in parts[:-1]:
        assert part.body_text[-1] in ".”)?!;,", part.body_text[-60:]


def test_thread_cut_by_max_parts_ends_with_the_link() -> None:
    parts = cut(BANJIR, mode="thread", max_parts=4, number_format="({n}/{total})")
    assert len(parts) == 4
    assert parts[-1].text.startswith("(4/4) ")
    assert f"\n\n… Baca selengkapnya: {BANJIR.canonical_url}" in parts[-1].text
    story = " ".join(story_paragraphs(BANJIR)).split()
    assert words(parts) == story[: len(words(parts))] and len(words(parts)) < len(story)


def test_thread_of_one_part_is_not_numbered() -> None:
    parts = cut(article("Berita singkat saja."), mode="thread")
    assert len(parts) == 1
    assert parts[0].text.startswith("Judul Berita Contoh\n\nBerita singkat saja.")


def test_number_format_without_total() -> None:
    parts = cut(JALAN, mode="thread", number_format="🧵 {n}", max_parts=30)
    assert parts[1].text.startswith("🧵 2 ")


def test_paragraph_links_point_each_part_at_its_first_paragraph() -> None:
    parts = cut(JALAN, mode="thread", max_parts=30, paragraph_links=True, include_title=False)
    story = story_paragraphs(JALAN)
    for part in parts[:-1]:
        assert part.anchor is not None and part.link == f"{PERMALINK}#{part.anchor}"
        assert part.text.endswith(f"\n\n{PERMALINK}#{part.anchor}")
        k = int(part.anchor[1:])
        assert part.body_text.split("\n\n")[0] in story[k - 1]
    assert parts[0].anchor == "p1"
    assert parts[-1].anchor is None and parts[-1].link == PERMALINK


def test_quotes_stay_whole_when_a_better_cut_exists() -> None:
    quote = (
        "“Kami sudah belajar dari pengalaman. Kontraktor yang pekerjaannya buruk tahun lalu "
        "sudah kami masukkan daftar hitam. Tidak ada kompromi untuk mutu beton dan aspal. "
        "Kalau ketebalannya kurang satu sentimeter saja, kami minta bongkar,” ujar Dadang."
    )
    intro = "Dadang menjelaskan, pengerjaan dibagi menjadi tiga tahap pada tahun ini. " * 3
    a = article(intro.strip() + " " + quote, "Paragraf penutup.")
    parts = cut(a, mode="thread", max_chars=400, include_title=False, hashtags=0)
    assert len(parts) >= 2
    for part in parts:
        assert balanced(part.body_text), part.body_text


def test_long_sentence_is_cut_at_clauses_before_words() -> None:
    sentence = (
        "Kecamatan yang terdampak meliputi Lebakgedong, Cipanas, Sajira, Curugbitung, Maja, "
        "dan Rangkasbitung, dengan desa terparah di antaranya Desa Banjarsari, Desa "
        "Lebaksangka, Desa Ciladaeun, Desa Lebakgedong, Desa Sajira Mekar, Desa Calungbungur, "
        "dan Desa Pasir Tanjung; di sana arus deras menghanyutkan sedikitnya 14 rumah semi "
        "permanen beserta ternak warga yang dikandangkan di tepi sungai pada malam hari."
    )
    parts = cut(article(sentence), mode="thread", max_chars=200, include_title=False, hashtags=0)
    assert len(parts) >= 3
    assert words(parts) == sentence.split()
    for part in parts[:-1]:
        assert part.body_text[-1] in ",;", part.body_text
        assert part.length <= 200


def test_a_sentence_without_clause_punctuation_is_cut_between_words_not_inside_units() -> None:
    run_on = (
        "Warga yang tinggal di sepanjang bantaran Sungai Ciujung mulai pukul 12.30 WIB "
        "diminta mengungsi karena debit air diperkirakan naik 3,5 persen setiap jam dan "
        "kerugian sementara ditaksir Rp1,5 triliun menurut H. Ahmad Fauzi yang memimpin "
        "posko di Jl. Raya Serang No. 5 Kab. Serang bersama relawan yang datang dari "
        "berbagai daerah sejak dini hari untuk membantu evakuasi warga lanjut usia dan anak "
        "anak yang terjebak di rumah mereka masing masing tanpa listrik dan air bersih."
    )
    parts = cut(
        article(run_on),
        mode="thread",
        max_chars=160,
        include_title=False,
        hashtags=0,
        link_text="Baca:",
    )
    assert len(parts) >= 3
    assert words(parts) == run_on.split()
    bodies = [p.body_text for p in parts]
    for phrase in (
        "12.30 WIB",
        "3,5 persen",
        "Rp1,5 triliun",
        "H. Ahmad",
        "Jl. Raya",
        "No. 5",
        "Kab. Serang",
    ):
        assert any(phrase in b for b in bodies), phrase
    assert all(p.length <= 160 for p in parts)


def test_a_word_longer_than_a_post_is_the_only_overflow() -> None:
    giant = "x" * 700
    parts = cut(
        article(f"Awal kalimat {giant} akhir kalimat."),
        mode="thread",
        include_title=False,
        hashtags=0,
    )
    assert words(parts) == f"Awal kalimat {giant} akhir kalimat.".split()
    over = [p for p in parts if p.length > 500]
    assert len(over) == 1 and over[0].body_text == giant


def test_a_giant_url_fits_because_it_counts_23() -> None:
    url = "https://www.prologmedia.example.co.id/unduh?" + "berkas=" + "a" * 2000
    parts = cut(article(f"Dokumen dapat diunduh di {url} mulai hari ini."), mode="thread")
    assert len(parts) == 1 and parts[0].length < 200


# --- series -----------------------------------------------------------------------------------


def test_series_parts_are_whole_paragraphs_with_deep_links() -> None:
    parts = cut(JALAN, mode="series", max_chars=1500, series_parts=4, series_target_chars=1500)
    story = story_paragraphs(JALAN)
    assert len(parts) >= 4
    assert words(parts) == " ".join(story).split()
    for part in parts:
        paragraphs = part.body_text.split("\n\n")
        assert all(p in story for p in paragraphs)  # whole paragraphs
        k = story.index(paragraphs[0]) + 1
        assert part.anchor == f"p{k}"
        assert part.link == f"{PERMALINK}#p{k}"
        assert f"Baca selengkapnya: {PERMALINK}#p{k}" in part.text
        assert JALAN.title in part.text  # each post stands alone in the timeline
        assert part.length <= 1500


def test_series_honours_the_part_count_when_posts_are_large() -> None:
    parts = cut(SIDANG, mode="series", max_chars=5000, series_parts=3, series_target_chars=5000)
    assert len(parts) == 3
    sizes = [len(p.body_text) for p in parts]
    assert max(sizes) < 1.6 * min(sizes)  # balanced, not greedy


def test_series_at_mastodon_size_grows_to_keep_every_post_within_the_limit() -> None:
    parts = cut(BANJIR, mode="series", series_parts=3)
    assert len(parts) > 3
    assert all(p.length <= 500 for p in parts)
    assert words(parts) == " ".join(story_paragraphs(BANJIR)).split()


def test_series_uses_target_size_to_choose_more_parts() -> None:
    few = cut(SIDANG, mode="series", max_chars=5000, series_parts=1, series_target_chars=4000)
    many = cut(SIDANG, mode="series", max_chars=5000, series_parts=1, series_target_chars=1000)
    assert len(few) == 2 and len(many) == 8


# --- HTML -------------------------------------------------------------------------------------


class _Blocks(HTMLParser):
    """Collects <p> texts and every <a> with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            assert self.depth == 0, "nested <p>"
            self.depth = 1
            self.blocks.append("")
        elif tag == "a":
            self.links.append(dict(attrs))
        else:
            assert tag == "span", tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.depth = 0

    def handle_data(self, data: str) -> None:
        assert self.depth == 1, f"text outside <p>: {data!r}"
        self.blocks[-1] += data


def parse(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("mode", ["summary", "thread", "series"])
def test_html_says_what_the_text_says(mode: str) -> None:
    for report in (JALAN, BANJIR, SIDANG):
        for part in cut(report, mode=mode, max_parts=40, strip_dateline=False):
            parsed = parse(part.html)
            assert "\n\n".join(parsed.blocks) == part.text
            for link in parsed.links:
                if link.get("class") == "mention hashtag":
                    assert link["rel"] == "tag"
                else:
                    assert link["rel"] == "nofollow noopener"
                    assert link["href"] in part.text
                assert "target" not in link


def test_html_is_escaped() -> None:
    a = replace(SIDANG, title='Kadis <PSDA> & "Rekanan"', paragraphs=("A <b>bold</b> & 'x'.",))
    [post] = cut(a)
    assert "&lt;PSDA&gt; &amp; &quot;Rekanan&quot;" in post.html
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;x&#x27;." in post.html
    assert "<b>" not in post.html


def card_link(html: str) -> str | None:
    """The link Mastodon makes a remote post's preview card from: the first <a> of its
    content that is no hashtag or mention (FetchLinkCardService#parse_urls, #skip_link?:
    rel containing "tag", class u-url or h-card)."""
    for link in parse(html).links:
        rel, cls = link.get("rel") or "", link.get("class") or ""
        if "tag" in rel or "u-url" in cls or "h-card" in cls:
            continue
        return link.get("href")
    return None


def test_urls_in_the_story_stay_text_so_the_card_is_the_articles() -> None:
    url = "https://www.bmkg.go.id/cuaca/peringatan-dini-cuaca.bmkg?prov=36"
    [post] = cut(article(f"Info: {url}.", "Paragraf kedua."))
    assert f"<p>Info: {url}.</p>" in post.html
    assert card_link(post.html) == PERMALINK
    assert post.length == mastodon_length(post.text)  # still counted as 23, like Mastodon


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "summary"},
        {"mode": "thread", "max_parts": 30},
        {"mode": "thread", "max_parts": 4},
        {"mode": "thread", "max_parts": 30, "paragraph_links": True},
        {"mode": "series"},
    ],
)
def test_every_post_links_only_the_article_for_its_card(options: dict[str, object]) -> None:
    # BANJIR has a BMKG address in its ninth paragraph; this copy has one in the lead too.
    lead = f"{BANJIR.paragraphs[0]} Pantau peringatan dini di https://www.bmkg.go.id/cuaca."
    report = replace(BANJIR, paragraphs=(lead, *BANJIR.paragraphs[1:]))
    parts = cut(report, **options)
    assert "https://www.bmkg.go.id/" in parts[0].text
    for part in parts:
        card = card_link(part.html)
        assert card is None or card.split("#")[0] == BANJIR.canonical_url, part.text
        assert card == part.link


def test_empty_article_still_yields_one_post_with_the_link() -> None:
    for mode in ("summary", "thread", "series"):
        [post] = cut(article(), mode=mode)
        assert post.body_text == ""
        assert post.text == f"Judul Berita Contoh\n\nBaca selengkapnya: {PERMALINK}"


def test_absurdly_long_title_is_shortened() -> None:
    a = replace(JALAN, title=" ".join(["Judul sangat panjang sekali"] * 40))
    for mode in ("summary", "thread", "series"):
        parts = cut(a, mode=mode, max_parts=40)
        assert all(p.length <= 500 for p in parts)
        assert "…" in parts[0].text.split("\n\n")[0]


def test_anchors_number_paragraphs_as_the_article_page_does() -> None:
    # web/pages.py gives block K of article.paragraphs id="pK", Baca Juga leftovers included.
    parts = cut(BANJIR, mode="series", max_chars=1500, series_parts=6)
    for part in parts:
        assert part.anchor is not None
        k = int(part.anchor[1:])
        first = part.body_text.split("\n\n")[0]
        assert BANJIR.paragraphs[k - 1].startswith(first[:80])
    hingga = next(
        p for p in cut(BANJIR, mode="series") if p.body_text.startswith("Hingga Minggu sore")
    )
    assert hingga.anchor == "p6"  # after "Baca Juga:" and its headline (paragraphs 4 and 5)


def test_no_post_opens_with_the_dll_that_closes_a_list() -> None:
    """An editor's read of a flood report: "... diare, ISPA, dll. Tercatat 217 ..." cut at the
    comma put "dll. Tercatat 217 pengungsi ..." at the head of the next post."""
    report = article(
        "Sementara itu, Dinas Kesehatan Kab. Bandung membuka tiga pos kesehatan di lokasi "
        "pengungsian. Kepala Dinkes, dr. Hj. Grace Mediana Purnami, Sp.KJ., M.Kes., mengatakan "
        "penyakit yang paling banyak dikeluhkan pengungsi antara lain gatal-gatal, diare, ISPA, "
        "dll. Tercatat 217 pengungsi telah mendapat pemeriksaan hingga Rabu pukul 15.00 WIB.",
        "Pemkab Sigi telah menyalurkan bantuan logistik berupa 1,2 ton beras, 150 dus air "
        "mineral, 200 lembar terpal, 100 paket sembako, selimut, 19 lembar STNK palsu, dll. "
        "Bantuan juga datang dari Pemprov Sulteng, Basarnas Palu, TNI/Polri serta sejumlah "
        "organisasi kemanusiaan.",
    )
    for mode in ("thread", "series"):
        for max_chars in range(180, 320, 10):
            parts = cut(report, mode=mode, max_chars=max_chars, max_parts=50)
            for part in parts:
                assert not part.body_text.startswith(("dll.", "dsb.")), (mode, max_chars, part)
