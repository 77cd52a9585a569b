"""Indonesian sentence and clause boundaries, for cutting news text without breaking it.

    paragraph --normalize_space--> one-line text
        --split_sentences--> sentences      (never at "dr.", "H.", "Kab.", "S.H.", "3,5", "12.30")
    an over-long sentence
        --clause_cuts--> cut offsets after ; : , — –   (a piece still reads as a phrase),
                         and after a list's "dll." before a capital, never before it
        --word_cuts-->   cut offsets between words, except where a number meets its unit
                         ("Rp1,5 triliun", "12.30 WIB", "2 November 2023") or its label
                         ("pukul 22.30"), or a title or a degree its name ("H. Ahmad",
                         "Alfi, S.Ag., M.Si.")
    any piece --quote_depths/is_clean--> is every “quote” and (bracket) closed at this cut?

Every cut is the offset of a single space in normalised text, so cutting never splits a word
and joining the pieces with spaces gives the text back exactly. Pure functions, no I/O.
No off-the-shelf splitter handles Indonesian (pysbd has no `id`, spaCy splits at "Jl." and
"Kab."), hence this scanner: one compiled regex finds candidate ends, a set lookup vetoes
abbreviations.
"""

from __future__ import annotations

import re
from itertools import pairwise


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Periods that never end a sentence (PROTOCOLS.md "Indonesian text", plus common titles,
# ranks, places and month abbreviations seen in Indonesian reporting; "Tb." is Tubagus, the
# Banten title of "H. Tb. Entus Mahmud Sahiri", "pkl." is pukul; "Plt."/"Plh."/"Pj." are
# acting officials, as BNPB's releases write "Plt. Kepala Pusat Data ..."; "Moch." as in
# "Tb Moch. Ibnu Rushd"; "th." is tahun: "UU No. 7 Th. 2017"). Case-sensitive on purpose:
# "Des." is December but "kol." is cabbage.
ABBREVIATIONS: frozenset[str] = _words(
    """
    dr. Dr. drg. Drg. dr.h. H. Hj. KH. K.H. Prof. Ir. Drs. Dra. S.H. M.H. M.Si. M.Kom.
    Plt. Plh. Pj. Pjs. Moch. Mohd. Mhd. Ns. drh. Drh. Purn. Gd. Lt. th. Th. thn. Thn.
    Jl. Jln. Gg. No. no. Nomor. Kab. Kec. Kel. Ds. Prov. Kp. Dusun. RT. RW.
    Tbk. PT. CV. Rp. Yth. dkk. Dkk. dll. Dll. dsb. dst. tsb. hlm. Hlm. s.d. a.n. u.p. a.l.
    Sdr. Sdri. Bpk. Bp. Ny. Tn. Nn. St. Moh. Muh. Mochd. Abd. Pdt. Ust. Ustd. Mgr.
    Jend. Letjen. Mayjen. Brigjen. Kol. Letkol. Mayor. Kapt. Lettu. Serda. Pol. Irjen. Kombes.
    Inf. Kav. Arh. Czi. Cpm. Cba. Chb. Km. KM.
    Mr. Mrs. Ms. Jr. Sr. Ltd. Inc. Co. vs. Vs. etc. approx. tgl. Tgl. Kep. Perum.
    Tb. TB. pkl. Pkl. Univ. Komp. Telp. Tlp.
    Jan. Feb. Mar. Apr. Jun. Jul. Agu. Agt. Ags. Sep. Sept. Okt. Nov. Des.
    """
)

# A token made only of short letter groups each closed by a period: academic degrees and the
# like ("S.H.", "M.Si.", "S.Pd.", "Ph.D.", "a.n."). Lowercase multi-letter groups are left
# out so that a domain ending a sentence ("bps.go.id.") still ends it.
_DOTTED_RE = re.compile(r"(?:[A-Z][A-Za-z]{0,3}\.|[a-z]\.)(?:[A-Za-z]{1,4}\.)+")
_INITIAL_RE = re.compile(r"[A-Z]\.")
_LIST_NUMBER_RE = re.compile(r"\d{1,2}\.")

_OPENERS = "“\"‘'«([{"


# A candidate sentence end: terminal punctuation, any closing quotes/brackets, then one space
# and something that can start a sentence (capital, digit, or an opening quote before one).
# ("dr." is the one lowercase word a sentence may start with: "dr. Rina mencatat ...".)
# Lookbehinds right after the mark veto listed abbreviations and capital initials inside the
# regex engine (most candidates in news text are "Kab. Serang", "H. Ahmad"...), so Python only
# looks at the rest; is_abbreviation stays the authority (degrees like "S.Sos." reach it).
def _end_pattern(abbreviations: frozenset[str]) -> re.Pattern[str]:
    by_length: dict[int, list[str]] = {}
    for abbreviation in sorted(abbreviations):
        by_length.setdefault(len(abbreviation), []).append(re.escape(abbreviation))
    # A lookbehind must have one width: one guard per length of abbreviation.
    guards = "".join(rf"(?<!\b(?:{'|'.join(group)}))" for _, group in sorted(by_length.items()))
    # The lookahead's run of closers is bounded: unbounded, every mark of a long run of dots
    # or ".)" scanned the rest of the run, quadratic (100,000 dots in one paragraph: 24 s).
    # A later mark of a longer run still matches and the cut (the space) is the same.
    return re.compile(
        rf"[.!?…](?=[.!?…”\"’'»)\]]{{0,20}} [“\"‘'«(\[]*(?:[A-Z0-9À-ÖØ-Þ]|drg?\. ))"
        rf"(?<!\b[A-Z]\.){guards}[.!?…”\"’'»)\]]* "
    )


_END_RE = _end_pattern(ABBREVIATIONS)
_MORE_PUNCT = frozenset(".!?…")

# Clause punctuation, then any closers, then the space we cut at: "; : , — –" and a spaced
# hyphen used as a dash. A comma inside a number ("3,5") has no space after it, so it never
# matches; nor does the colon in "12:30".
_CLAUSE_RE = re.compile(r"(?:[,;:—–]|(?<= )-)[”\"’'»)\]]*(?= )")

# Words a number is glued to: cutting "Rp1,5 | triliun" or "12.30 | WIB" misreads the figure.
UNITS: frozenset[str] = _words(
    """
    triliun miliar milyar juta ribu ratus puluh persen % permil wib wita wit utc
    km m cm mm kg g gram ton kuintal liter l ml hektare ha meter kilometer are mil knot
    derajat °c tahun bulan pekan minggu hari jam menit detik abad orang jiwa unit kali
    kursi suara dolar rupiah usd us$ ringgit yen euro sgd idr bpm mw kw kwh gb mb
    rumah desa kecamatan kabupaten kota provinsi sekolah siswa pasien kasus ekor batang ayat
    """
)
_NUMBERISH_RE = re.compile(r"[\(\[“\"]?(?:Rp\.?|US\$|\$)?[-+]?\d[\d.,:/]*(?:-an)?[%\)]?[,.;:]?$")
# A date or a figure's label is one phrase with its number too: "2 | November 2023",
# "November | 2023", "pukul | 22.30 WIB", "Sabtu | (5/3)", "Nomor | 8 tahun 2023" misread
# just as "12.30 | WIB" does.
MONTHS: frozenset[str] = _words(
    """
    januari februari pebruari maret april mei juni juli agustus september oktober november
    nopember desember jan jan. feb feb. mar mar. apr apr. jun jun. jul jul. agu agu. agt agt.
    ags ags. sep sep. sept sept. okt okt. nov nov. des des.
    """
)
_BEFORE_NUMBER: frozenset[str] = _words(
    """
    pukul pkl. jam tanggal tgl. nomor no. no pasal ayat km km. kilometer rt rt. rw rw.
    tahun th. thn. urut senin selasa rabu kamis jumat jum'at jum’at sabtu minggu ahad
    """
)
_NUMBER_START_RE = re.compile(r"\(?\d")
_YEAR_RE = re.compile(r"\(?\d{4}\b")
_TRAILING_PUNCT = ".,;:!?”\"’')]…"
_CURRENCY = frozenset({"Rp", "Rp.", "US$", "USD", "IDR"})


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (newlines, tabs, NBSP) to one space; trim the ends."""
    return " ".join(text.split())


def is_abbreviation(token: str) -> bool:
    """True when the period ending `token` belongs to an abbreviation or an initial."""
    word = token.lstrip(_OPENERS)
    return (
        word in ABBREVIATIONS
        or _INITIAL_RE.fullmatch(word) is not None
        or _DOTTED_RE.fullmatch(word) is not None
    )


def sentence_ends(text: str) -> list[int]:
    """Offsets of the spaces that end a sentence in normalised `text` (cut there)."""
    ends: list[int] = []
    for match in _END_RE.finditer(text):
        dot = match.start()
        # Only a lone period can belong to an abbreviation; "...", "?" and "!" always end.
        if text[dot] == "." and text[dot + 1] not in _MORE_PUNCT:
            start = text.rfind(" ", 0, dot) + 1
            token = text[start : dot + 1]
            if is_abbreviation(token):
                continue
            # "1. Pertama, ..." at the head of a numbered paragraph, or after a colon or
            # semicolon ("antara lain: 1. Pembeli ...; 2. Setiap ..."), is a list label.
            if _LIST_NUMBER_RE.fullmatch(token) and (
                start == 0 or text[start - 2 : start - 1] in (":", ";")
            ):
                continue
        ends.append(match.end() - 1)
    return ends


def split_sentences(text: str) -> list[str]:
    """Normalised `text` -> its sentences; `" ".join(result) == text`.

    "Kata dia.” Lalu ..." ends after the closing quote; "H. Ahmad", "Jl. Sudirman No. 5",
    "Rp1.500.000", "3,5 persen", "12.30 WIB" and "M.Si." never end one.
    """
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for end in sentence_ends(text):
        sentences.append(text[start:end])
        start = end + 1
    sentences.append(text[start:])
    return sentences


# An academic degree after a name's comma: "Yudha Satria, S.H., S.I.K., M.H." is one name,
# so neither a clause nor a word cut goes before "S.H.," or "M.H." (nor "S.Pd, M.Pd"), nor
# before the last one when the sentence or a quote ends on it ("M.Si.!”").
_DEGREE_RE = re.compile(r"[A-Z][A-Za-z]{0,3}\.(?:[A-Za-z]{1,4}\.?)+[,;:!?…”\"’»)\]]*")


def _degree_follows(sentence: str, cut: int) -> bool:
    end = sentence.find(" ", cut + 1)
    return _DEGREE_RE.fullmatch(sentence, cut + 1, len(sentence) if end < 0 else end) is not None


# "dll.", "dsb.", "dst." close a list. PROTOCOLS.md keeps them inside the sentence, but with a
# capital after them ("... diare, ISPA, dll. Tercatat 217 pengungsi ...") the next sentence
# starts there in all but name: that space is a clause cut, and no cut goes before them (a
# piece opening "dll. Tercatat" has lost the list it closes).
LIST_CLOSERS: frozenset[str] = _words("dll. Dll. dsb. Dsb. dst. Dst.")
_AFTER_LIST_RE = re.compile(r"(?<![^ ])[Dd](?:ll|sb|st)\.(?= [“\"‘(\[]*[A-Z0-9À-ÖØ-Þ])")


def _list_closer_follows(sentence: str, cut: int) -> bool:
    end = sentence.find(" ", cut + 1)
    return sentence[cut + 1 : len(sentence) if end < 0 else end].rstrip(",;:") in LIST_CLOSERS


def clause_cuts(sentence: str) -> list[int]:
    """Offsets of spaces right after clause punctuation (; : , — –) in a normalised sentence,
    and after a list-closing "dll." that a capital follows."""
    # Most sentences hold no "dll.": skip that bookkeeping (a substring test is ~50x cheaper).
    lists = "ll." in sentence or "sb." in sentence or "st." in sentence
    cuts = [
        m.end()
        for m in _CLAUSE_RE.finditer(sentence)
        if not _degree_follows(sentence, m.end())
        and not (lists and _list_closer_follows(sentence, m.end()))
    ]
    if not lists:
        return cuts
    after_lists = [m.end() for m in _AFTER_LIST_RE.finditer(sentence)]
    return sorted(cuts + after_lists) if after_lists else cuts


def _glued(left: str, right: str) -> bool:
    """Must the space between these two tokens stay inside one piece?"""
    if left in _CURRENCY or _DEGREE_RE.fullmatch(right):
        return True
    if right[:1] in "dD" and right.rstrip(",;:") in LIST_CLOSERS:
        return True
    if is_abbreviation(left):
        # A list's "dll." before a capital ends a sentence in all but name (see LIST_CLOSERS).
        return left not in LIST_CLOSERS or not right[:1].isupper()
    if _NUMBERISH_RE.match(left) and left[-1] not in ",.;:":
        unit = right.rstrip(_TRAILING_PUNCT).lower()
        return unit in UNITS or unit in MONTHS
    if not _NUMBER_START_RE.match(right):
        return False
    word = left.lower()
    return word in _BEFORE_NUMBER or (word in MONTHS and _YEAR_RE.match(right) is not None)


def word_cuts(sentence: str) -> list[int]:
    """Offsets of spaces between words where a last-resort cut is allowed."""
    cuts: list[int] = []
    offset = 0
    tokens = sentence.split(" ")
    for left, right in pairwise(tokens):
        offset += len(left)
        if not _glued(left, right):
            cuts.append(offset)
        offset += 1
    return cuts


# Quote and bracket balance: (opening, closing) pairs counted separately; ASCII " and ' can't
# tell opening from closing, so only their parity counts.
_PAIRS = (("“", "”"), ("(", ")"), ("[", "]"), ("«", "»"))


def quote_depths(text: str, depths: tuple[int, ...] = (0, 0, 0, 0, 0, 0)) -> tuple[int, ...]:
    """Open-quote/bracket depths after `text`, continuing from `depths`.

    A stray closer (the previous part opened the quote) floors the depth at zero. ‘ ’ are
    only counted when an opening ‘ occurs, because ’ alone is usually an apostrophe (Jum’at).
    """
    out = list(depths)
    for slot, (opening, closing) in enumerate(_PAIRS):
        if opening in text or closing in text:
            out[slot] = max(0, out[slot] + text.count(opening) - text.count(closing))
    if '"' in text:
        out[4] = (out[4] + text.count('"')) % 2
    if "‘" in text:
        out[5] = max(0, out[5] + text.count("‘") - text.count("’"))
    return tuple(out)


CLEAN: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
_QUOTE_CHARS_RE = re.compile('[“”()\\[\\]«»"‘]')


def has_quotes(text: str) -> bool:
    """Any quote or bracket at all? (Most paragraphs have none: skip the bookkeeping.)"""
    return _QUOTE_CHARS_RE.search(text) is not None


def is_clean(depths: tuple[int, ...]) -> bool:
    """No quote or bracket left open."""
    return depths == CLEAN


def balanced(text: str) -> bool:
    """True when `text` on its own opens and closes its quotes and brackets."""
    return is_clean(quote_depths(text))
