"""The Indonesian sentence splitter: abbreviations, decimals, quotes, and cut points."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siarkan.sentences import (
    ABBREVIATIONS,
    balanced,
    clause_cuts,
    is_abbreviation,
    normalize_space,
    quote_depths,
    split_sentences,
    word_cuts,
)
from tests.helpers import time_limit


def test_report_paragraph_keeps_abbreviations_and_numbers_inside_sentences() -> None:
    text = normalize_space(
        "Bupati Serang, Hj. Ratu Tatu Chasanah, dan dr. H. Ahmad Fauzi, M.Si. meresmikan "
        "gedung di Jl. Raya Serang No. 5, Kab. Serang, Kec. Ciruas, pukul 12.30 WIB. "
        "Anggaran Rp1,5 triliun naik 3,5 persen. Harga naik menjadi Rp1.500.000. Selesai."
    )
    assert split_sentences(text) == [
        "Bupati Serang, Hj. Ratu Tatu Chasanah, dan dr. H. Ahmad Fauzi, M.Si. meresmikan "
        "gedung di Jl. Raya Serang No. 5, Kab. Serang, Kec. Ciruas, pukul 12.30 WIB.",
        "Anggaran Rp1,5 triliun naik 3,5 persen.",
        "Harga naik menjadi Rp1.500.000.",
        "Selesai.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Ia bertemu H. Ahmad di rumahnya.",
        "Kegiatan dihadiri Prof. Budi dan Dr. Sari.",
        "Kantor itu di Jl. Sudirman No. 12 Kab. Lebak.",
        "Saham PT Astra International Tbk. Naik tajam.",  # Tbk. never ends one (PROTOCOLS)
        "Tim peneliti, Sururi dkk. Menemukan hal itu.",
        "Gelar Budi Santoso, S.H. M.H. Dan seterusnya.",
        "Yth. Bapak Gubernur.",
        "Dari 1 Jan. 2025 s.d. 31 Des. 2025 program berjalan.",
        "Surat a.n. Kepala Dinas dikirim.",
        "Nilainya Rp. 500 ribu.",
        "Lokasinya di Kec. Ciruas dan Kel. Cipare.",
        "Ditandatangani Drs. H. Mulyadi, M.Kom. Kemarin.",
        # Tubagus, the Banten title; "pukul"; a university
        "Acara dibuka Sekda Drs. H. Tb. Entus Mahmud Sahiri (fiktif) di pendopo.",
        "Apel dimulai pkl. 07.30 WIB di alun-alun.",
        "Ia lulusan Univ. Sultan Ageng Tirtayasa.",
        # Acting officials, a name and "tahun", as real BNPB, BantenNews and law reports write
        "Plt. Kepala Pusat Data BNPB, Abdul Muhari, mengatakan banjir surut.",
        "Plh. Sekda Kota Serang membuka acara itu.",
        "Penulis berita itu Tb Moch. Ibnu Rushd dari Serang.",
        "Sesuai UU No. 7 Th. 2017 tentang Pemilu, KPU bekerja.",
    ],
)
def test_abbreviations_never_end_a_sentence(text: str) -> None:
    assert split_sentences(text) == [text]


# Expected sentences are separated by " | ".
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "“Kami akan bekerja keras,” kata dia.” Lalu ia pergi.",
            "“Kami akan bekerja keras,” kata dia.” | Lalu ia pergi.",
        ),
        (
            "“Semua harus siap.” Kepala dinas lalu pergi.",
            "“Semua harus siap.” | Kepala dinas lalu pergi.",
        ),
        ("Apa yang terjadi? Tidak ada yang tahu!", "Apa yang terjadi? | Tidak ada yang tahu!"),
        ("“Mengapa?” tanya dia.", "“Mengapa?” tanya dia."),
        ("Ia menunggu... Kemudian pulang.", "Ia menunggu... | Kemudian pulang."),
        ("Ia menunggu… Kemudian pulang.", "Ia menunggu… | Kemudian pulang."),
        ("Ia menunggu... lalu pulang.", "Ia menunggu... lalu pulang."),
        (
            "Suhu 36,5 derajat. Pukul 12.30 WIB. Lalu.",
            "Suhu 36,5 derajat. | Pukul 12.30 WIB. | Lalu.",
        ),
        ("Data di bps.go.id. Angka itu naik.", "Data di bps.go.id. | Angka itu naik."),
        (
            "Ada tiga pos. dr. Rina mencatat 40 pasien.",
            "Ada tiga pos. | dr. Rina mencatat 40 pasien.",
        ),
        ("Ini yang ke-54. (Dia tertawa.) Lalu.", "Ini yang ke-54. | (Dia tertawa.) | Lalu."),
        (
            "1. Pertama, data dikumpulkan. Kedua, diolah.",
            "1. Pertama, data dikumpulkan. | Kedua, diolah.",
        ),
        ("Tahun 2024. 2025 lebih baik.", "Tahun 2024. | 2025 lebih baik."),
        (
            "Syaratnya antara lain: 1. Membawa KTP; 2. Membeli paling banyak 10 kg. Lalu.",
            "Syaratnya antara lain: 1. Membawa KTP; 2. Membeli paling banyak 10 kg. | Lalu.",
        ),
        (
            "Dandim 0602, Kol. Inf. Ahmad Yani, hadir. Ia datang.",
            "Dandim 0602, Kol. Inf. Ahmad Yani, hadir. | Ia datang.",
        ),
        (
            "Rumahnya di Jl. Raya Serang Km. 5. Atapnya rusak.",
            "Rumahnya di Jl. Raya Serang Km. 5. | Atapnya rusak.",
        ),
        ("Jaraknya 3 km. Jalan rusak.", "Jaraknya 3 km. | Jalan rusak."),
        (
            "Kunjungi https://prolog.example.id/a. Setelah itu.",
            "Kunjungi https://prolog.example.id/a. | Setelah itu.",
        ),
    ],
)
def test_sentence_ends(text: str, expected: str) -> None:
    assert split_sentences(text) == expected.split(" | ")


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == []


def test_normalize_space_folds_newlines_tabs_and_nbsp() -> None:
    assert normalize_space("  a\n\tb\u00a0 c  ") == "a b c"


def test_clause_cuts_follow_punctuation_but_not_decimals_or_times() -> None:
    s = "Anggaran Rp1,5 triliun; dana itu — kata dia — cukup, pukul 12:30 WIB: selesai."
    pieces = [s[:c] for c in clause_cuts(s)]
    assert pieces == [
        "Anggaran Rp1,5 triliun;",
        "Anggaran Rp1,5 triliun; dana itu —",
        "Anggaran Rp1,5 triliun; dana itu — kata dia —",
        "Anggaran Rp1,5 triliun; dana itu — kata dia — cukup,",
        "Anggaran Rp1,5 triliun; dana itu — kata dia — cukup, pukul 12:30 WIB:",
    ]


def test_no_cut_separates_a_name_from_its_degrees() -> None:
    # A real series post ended "Kombes Pol Yudha Satria, S.H., S.I.K., …" before "M.H.".
    s = (
        "Kapolresta Kombes Pol Yudha Satria, S.H., S.I.K., M.H. melalui Kapolsek AKP Hery "
        "Wiyono, S.H., M.M. dan guru Nurdiana Salam, S.Pd, M.Pd hadir, kata Dr. H. Irfan "
        "Alfi, S.Ag., M.Si., kemarin."
    )
    degrees = ("S.H.,", "S.I.K.,", "M.H.", "M.M.", "S.Pd,", "M.Pd", "S.Ag.,", "M.Si.,")
    for cut in clause_cuts(s) + word_cuts(s):
        assert not s[cut + 1 :].startswith(degrees), s[:cut]
    assert [s[:c].rsplit(" ", 1)[-1] for c in clause_cuts(s)] == ["hadir,", "M.Si.,"]
    # The last degree may close the sentence and a quote (found by the property test).
    quoted = "“Terima kasih, Bapak Irfan Alfi, S.Ag., M.Si.!” kata Tatu."
    for cut in clause_cuts(quoted) + word_cuts(quoted):
        assert not quoted[cut + 1 :].startswith(("S.Ag.,", "M.Si.!”")), quoted[:cut]


def test_clause_cut_keeps_closing_quote_with_its_clause() -> None:
    s = "“Kami siap,” kata dia, “dan semua harus ikut.”"
    assert [s[:c] for c in clause_cuts(s)] == ["“Kami siap,”", "“Kami siap,” kata dia,"]


@pytest.mark.parametrize(
    "phrase",
    [
        "Rp1,5 triliun",
        "12.30 WIB",
        "3,5 persen",
        "H. Ahmad",
        "dr. Rina",
        "Jl. Sudirman",
        "No. 5",
        "Kab. Serang",
        "Prof. Budi",
        "Rp 500 ribu",
        "54 tahun",
        "120 km",
        "30 ton",
        # Dates and labelled figures (a real series post ended at "pada 2" before "November")
        "2 November 2023",
        "Senin 9 Agustus 2021",
        "pukul 22.30 WIB",
        "Sabtu (5/3)",
        "Nomor 8 tahun 2023",
        "No 8 Tahun 2023",
        "KM 88",
        "Pasal 12 ayat (1)",
    ],
)
def test_word_cuts_never_separate_numbers_from_units_or_titles_from_names(phrase: str) -> None:
    sentence = f"Kata pejabat itu {phrase} sudah tercatat."
    start = sentence.index(phrase)
    inside = range(start, start + len(phrase))
    assert not [c for c in word_cuts(sentence) if c in inside]


def test_word_cuts_allow_ordinary_spaces() -> None:
    s = "Warga desa itu pergi ke pasar."
    assert word_cuts(s) == [m.start() for m in re.finditer(" ", s)]


def test_quote_depths_track_typographic_and_ascii_quotes_and_brackets() -> None:
    assert quote_depths("“Kami (dan mereka") == (1, 1, 0, 0, 0, 0)
    assert quote_depths("kata dia.”", (1, 0, 0, 0, 0, 0)) == (0, 0, 0, 0, 0, 0)
    assert quote_depths('ia "berkata') == (0, 0, 0, 0, 1, 0)
    assert balanced("“Ya,” katanya (pelan).")
    assert not balanced("“Ya, katanya.")
    # An apostrophe is not a closing single quote unless one was opened.
    assert balanced("Salat Jum’at berjalan lancar.")
    assert not balanced("Ia menyebut ‘program kerja")


# --- properties ---------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "warga",
        "pemerintah",
        "Serang",
        "banjir",
        "jalan",
        "anggaran",
        "naik",
        "kata",
        "dia",
        "Rp1,5",
        "triliun",
        "12.30",
        "WIB",
        "3,5",
        "persen",
        "ke-54",
        "“Kami",
        "siap,”",
        "(PUPR)",
        "Jakarta,",
        "itu;",
        "—",
        "Dinas",
        "Kesehatan",
        "bps.go.id",
        "2025",
        "Rp1.500.000",
        *sorted(ABBREVIATIONS),
    ]
)
ENDS = st.sampled_from([".", "?", "!", ".”", "?”", "...", "…"])


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    sentences = []
    for _ in range(draw(st.integers(1, 6))):
        words = draw(st.lists(WORDS, min_size=1, max_size=14))
        first = draw(st.sampled_from(["Pemerintah", "Warga", "“Kami", "2025", "Bupati", "H."]))
        sentences.append(" ".join([first, *words]) + draw(ENDS))
    return " ".join(sentences)


@given(paragraphs())
@settings(max_examples=300, deadline=None)
def test_sentences_join_back_and_never_end_at_an_abbreviation(text: str) -> None:
    sentences = split_sentences(text)
    assert " ".join(sentences) == text
    assert all(s == s.strip() and s for s in sentences)
    for sentence in sentences[:-1]:
        last = sentence.rsplit(" ", 1)[-1]
        assert not is_abbreviation(last), sentence
        # never at a decimal point: the cut is always after a space-followed terminal mark
        assert last[-1] in ".?!…”\"’')]", sentence


@given(paragraphs())
@settings(max_examples=200, deadline=None)
def test_cuts_are_at_spaces_in_increasing_order(text: str) -> None:
    for cuts in (clause_cuts(text), word_cuts(text)):
        assert cuts == sorted(set(cuts))
        assert all(text[c] == " " for c in cuts)


@pytest.mark.parametrize("run", [".", "…", ".)", ".”"])
def test_a_long_run_of_marks_is_linear(run: str) -> None:
    """Each mark of a run of dots not followed by a capital used to rescan the rest of the run:
    100,000 dots in one paragraph took 24 s (an article may be 1 MB)."""
    text = "Kata" + run * (60_000 // len(run)) + "x"
    with time_limit(1.0):
        assert split_sentences(text) == [text]
    long_end = "Ia menunggu" + "." * 50 + " Kemudian pulang."
    assert split_sentences(long_end) == ["Ia menunggu" + "." * 50, "Kemudian pulang."]


# A list's "dll." stays inside the sentence (PROTOCOLS.md), but a capital after it starts the
# next sentence in all but name: cut there if anything, never between the list and its "dll.".
LIST_THEN_SENTENCE = normalize_space(
    "Keluhan pengungsi antara lain gatal-gatal, diare, ISPA, dll. Tercatat 217 pengungsi "
    "diperiksa hingga pukul 15.00 WIB."
)


def test_a_capital_after_a_list_closer_is_a_clause_cut() -> None:
    cuts = [LIST_THEN_SENTENCE[:c] for c in clause_cuts(LIST_THEN_SENTENCE)]
    assert cuts[-1].endswith("ISPA, dll.")
    assert not any(c.endswith("ISPA,") for c in cuts)
    assert split_sentences(LIST_THEN_SENTENCE) == [LIST_THEN_SENTENCE]


@pytest.mark.parametrize(
    "text",
    [
        LIST_THEN_SENTENCE,
        "Bantuan berupa beras, selimut, dsb., sementara obat menyusul.",
        "Tahapnya pendataan, verifikasi, dst. Lalu diumumkan.",
    ],
)
def test_no_cut_separates_a_list_from_its_closer(text: str) -> None:
    for cut in clause_cuts(text) + word_cuts(text):
        assert not text[cut + 1 :].startswith(("dll.", "dsb.", "dst.")), text[:cut]


def test_a_list_closer_before_lowercase_stays_glued_to_what_follows() -> None:
    text = "Barang bukti berupa golok, ponsel, dll. yang kini disimpan polisi."
    assert not any(text[:c].endswith("dll.") for c in clause_cuts(text) + word_cuts(text))
