"""Datelines and where a report's lead starts: pure functions over paragraphs' text.

    paragraph | match_dateline (DATELINE_RE: "SERANG, PROLOGMEDIA –", "Liputan6.com, Jakarta -",
        "SERANG (ANTARA) -", "Jakarta -") -> DatelineMatch | None
        | split_dateline -> (dateline, story)
    first paragraphs | locate_lead (header lines above the lead passed over: byline, photo
        caption, a dateline alone on its line) -> Lead(dateline, index, start) | None
        | find_lead -> (dateline, the story from its lead on)

Text reports (text.parse_report) call find_lead; the HTML importer (htmlbody) calls
locate_lead and cuts the lead out of its markup; titles (text.looks_like_title) and page
descriptions (html) use match_dateline and split_dateline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from siarkan.articles.whitespace import inline

__all__ = [
    "DATELINE_RE", "LEAD_SEARCH", "DatelineMatch", "Lead", "find_lead", "is_header_line",
    "is_weak_dateline", "locate_lead", "match_dateline", "split_dateline",
]  # fmt: skip

# "SERANG, PROLOGMEDIA –", "PROLOGMEDIA –", "Serang, PROLOGMEDIA -", "KOMPAS.com –",
# "SERANG (ANTARA) -", "Jakarta -" (PROTOCOLS.md, Indonesian text); the portals' own forms:
# "Liputan6.com, Jakarta -", "TRIBUNBANTEN.COM, SERANG -", "suara.com -", "Jakarta, CNN
# Indonesia --", "Serang, detikNews -", "SERANG | MEDIA –", and a press release's "SERANG,
# (14/11/2025) -". En/em dash with or without spaces; a hyphen (or "--") only between spaces,
# so hyphenated words are never cut, or glued to an outlet's domain ("CILEGON, BANTENPOS.CO-
# Hujan ..."), which no word ends with.
_CAPS_WORDS = r"[A-Z0-9][A-Z0-9&.'’]*(?:[ -][A-Z0-9][A-Z0-9&.'’]*){0,4}"
# A sentence may open with a capitalised word before a dash too ("Di Serang, BPBD – bersama
# TNI – mengevakuasi ..."): a place never starts with a preposition or conjunction.
_NOT_PLACE = (
    r"(?!(?:Di|Ke|Dari|Pada|Dalam|Untuk|Bagi|Oleh|Menurut|Sementara|Selain|Sedangkan|Namun"
    r"|Adapun|Kemudian|Lalu|Saat|Ketika|Setelah|Sebelum|Sejak|Selama|Hingga|Sampai|Meski"
    r"|Walau|Jika|Kalau|Karena|Akibat|Tak|Tidak|Ini|Itu|Para|Warga|Pihak"
    # nor is it a day: "Sabtu, 14 November 2025 – hari ..." opens a sentence with its date
    r"|Senin|Selasa|Rabu|Kamis|Jum'?at|Sabtu|Minggu)\b)"
)
_TITLE_WORDS = rf"{_NOT_PLACE}[A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}"
# The sites' own domains as they write them: "Medaiabooster.news", "JinNewsOne.Com",
# "bantenhits.com", "infobanten.id"; the TLD in any case.
_DOMAIN = (
    r"[A-Za-z][A-Za-z0-9]*\.(?i:com|co\.id|co|id|net|org|tv|news|info|biz|online|site|media"
    r"|today|live|xyz|asia|(?:web|my|or|go|ac|sch)\.id)(?![A-Za-z0-9])"
)
_SOURCE = rf"(?:{_CAPS_WORDS}(?:\s[A-Z][a-z]+)?|{_DOMAIN})(?:\.[a-z]{{2,3}})*"
# detik's desks as they name themselves: "detikNews", "detikJabar", "detikcom". Only after a
# place ("Serang, detikNews -"): alone, a camel-case word opening a sentence is a product's
# name ("iPhone - ..."), and "Nama Penulis - detikNews" is detik's byline, not a dateline.
_OUTLET = rf"(?:{_SOURCE}|[a-z]+[A-Z][A-Za-z]+|[a-z]+com(?![\w.]))"
# "Kab. Tangerang, MEDIA –": the regency abbreviated, as PROTOCOLS.md writes it in the text.
_PLACE = rf"(?:(?:Kab|KAB)\.\s?)?(?:{_CAPS_WORDS}|{_TITLE_WORDS})"
# A press release's date, with its day as the releases print it: "Pandeglang, Jumat
# (14/11/2025) –", "Serang, Senin, 14 November 2025 –".
_DAY = (
    r"(?:Senin|Selasa|Rabu|Kamis|Jum'?at|Sabtu|Minggu|SENIN|SELASA|RABU|KAMIS|JUM'?AT|SABTU|MINGGU)"
)
_DATE = (
    rf"(?:{_DAY}\s*,?\s*)?"
    r"(?:\(?\d{1,2}/\d{1,2}(?:/\d{2,4})?\)?|\d{1,2}\s[A-Z][a-z]+\s\d{4})"
)
# A dateline does not open with a day, in capitals either ("SABTU, 14 NOVEMBER 2025 – ..."
# is a sentence's date); after the place it may ("SERANG, SENIN –").
_NOT_DAY = r"(?!(?:SENIN|SELASA|RABU|KAMIS|JUM'?AT|SABTU|MINGGU)\b)"
# The hyphen glued to a domain: lookbehinds (each of a fixed width) see its suffix.
_GLUED = r"(?:(?<=\.(?i:co|id|tv))|(?<=\.(?i:com|net|org|biz|xyz))|(?<=\.(?i:news|info)))-\s+"
_DASH = rf"(?:\s*[\u2013\u2014\u2015\u2212]\s*|\s+--?\s+|{_GLUED})"
DATELINE_RE = re.compile(
    rf"""^\s*{_NOT_DAY}(?P<dateline>
        {_PLACE}\s*[,|]\s*{_OUTLET}        # SERANG, PROLOGMEDIA / SERANG | MEDIA
      | {_SOURCE}\s*,\s*{_PLACE}          # Liputan6.com, Jakarta
      | {_PLACE}(?:\s*,\s*{_TITLE_WORDS})?\s*,?\s*\(\s*(?:{_SOURCE}|{_TITLE_WORDS})\s*\)
                                        # SERANG (ANTARA), Serang, Banten (ANTARA),
                                        # Lebak, (Banten Kita)
      | {_PLACE}\s*,\s*(?:{_DATE})         # SERANG, (14/11/2025)
      | {_SOURCE}                         # PROLOGMEDIA / KOMPAS.com / SERANG
      | {_TITLE_WORDS}                    # Jakarta
    ){_DASH}(?=\S)""",
    re.VERBOSE,
)
# "SERANG, MEDIA: Hujan ...": some desks put a colon after the outlet. Only there: after a
# place alone ("Jakarta: ...") or a word ("Catatan: ...") a colon introduces a sentence.
_COLON_DATELINE_RE = re.compile(
    rf"^\s*{_NOT_DAY}(?P<dateline>{_PLACE}\s*[,|]\s*{_OUTLET})\s*:\s+(?=\S)"
)
_DATELINE_MAX = 80


@dataclass(frozen=True, slots=True)
class DatelineMatch:
    dateline: str  # "SERANG, PROLOGMEDIA"
    end: int  # offset of the story's first character in the matched text


def match_dateline(text: str) -> DatelineMatch | None:
    """Find a dateline at the very start of a lead paragraph."""
    m = DATELINE_RE.match(text) or _COLON_DATELINE_RE.match(text)
    if m is None:
        return None
    dateline = inline(m.group("dateline"))
    if len(dateline) > _DATELINE_MAX:
        return None
    return DatelineMatch(dateline, m.end())


def split_dateline(paragraph: str) -> tuple[str | None, str]:
    """'SERANG, PROLOGMEDIA – Hujan ...' -> ('SERANG, PROLOGMEDIA', 'Hujan ...')."""
    m = match_dateline(paragraph)
    if m is None:
        return None, paragraph
    return m.dateline, paragraph[m.end :].lstrip()


# A report copied from a page carries what sat above the lead: the byline ("Nama -
# detikNews"), the photo and its caption ("... (Foto: Nama/detikcom)"), and detik's dateline
# on a line of its own ("Tangerang -", the lead below it). Those lines are short and none is a
# sentence (a wire caption that is one names its photo agency).
LEAD_SEARCH = 6
_HEADER_MAX = 300
_SENTENCE_END_RE = re.compile(r"[.!?][”\"’']?$")
_PHOTO_CREDIT_RE = re.compile(r"\bfoto\b", re.IGNORECASE)


def is_header_line(paragraph: str) -> bool:
    return len(paragraph) <= _HEADER_MAX and (
        _SENTENCE_END_RE.search(paragraph) is None or _PHOTO_CREDIT_RE.search(paragraph) is not None
    )


def is_weak_dateline(dateline: str) -> bool:
    """A dateline of one name ("Jakarta", "KOMPAS.com"): "Nama Penulis - detikNews", a byline,
    has the same shape."""
    return re.search(r"[,(]", dateline) is None


@dataclass(frozen=True, slots=True)
class Lead:
    dateline: str
    index: int  # the lead paragraph; those above it are header lines, not story
    start: int  # offset of the story's first character in it (white space may follow)


def locate_lead(paragraphs: Sequence[str], clean: Callable[[str], str] = str) -> Lead | None:
    """Where the lead is, for find_lead and the HTML importer (htmlbody), which cuts it out of
    its markup. The lead is the first paragraph, or one below header lines (see
    is_header_line) when it opens with a dateline that cannot be story: a dateline alone on its
    line ("Tangerang -", "JAKARTA, KOMPAS.com" over "– Harga ..."), or one naming place and
    source ("SERANG, KOMPAS.com -", "Serang (ANTARA) -"). `clean` gives a paragraph as it
    reads (HTML text keeps the markup's line breaks; a text report's is already clean); the
    offsets are in the paragraphs as given."""
    weak: Lead | None = None
    plain = ""  # the paragraph above, cleaned
    for k, paragraph in enumerate(paragraphs[:LEAD_SEARCH]):
        if k and not is_header_line(plain):
            break
        plain = clean(paragraph)
        # A dateline running on into the next paragraph starts in a short one ("Tangerang -"):
        # a lead paragraph is not matched twice.
        if k + 1 < len(paragraphs) and len(plain) <= _HEADER_MAX:
            m = match_dateline(f"{paragraph} {paragraphs[k + 1]}")
            if m is not None and m.end > len(paragraph):
                return Lead(m.dateline, k + 1, m.end - len(paragraph) - 1)
        m = match_dateline(paragraph)
        if m is None or (k and is_weak_dateline(m.dateline)):
            continue
        if (
            k == 0
            and is_weak_dateline(m.dateline)
            and is_header_line(clean(paragraph[m.end :].lstrip()))
        ):
            # "Fikri Haikal - detikNews": taken only if no dateline follows
            weak = Lead(m.dateline, 0, m.end)
            continue
        return Lead(m.dateline, k, m.end)
    return weak


def find_lead(paragraphs: list[str]) -> tuple[str | None, list[str]]:
    """The dateline and the story from its lead on (see locate_lead)."""
    lead = locate_lead(paragraphs)
    if lead is None:
        return None, paragraphs
    story = paragraphs[lead.index][lead.start :].lstrip()
    return lead.dateline, [story, *paragraphs[lead.index + 1 :]]
