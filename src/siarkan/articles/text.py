"""Plain-text report cleaning: pure functions, no I/O.

    raw text | normalize | drop_furniture (ad slots, promos, captions: articles.furniture)
        | pull_related (Baca Juga blocks)
        | take_title | paragraphs
        | find_lead (dateline; a copied page's header lines above it)
        | strip_trailer (editor initials, credits) -> TextReport

The publisher's reports look like this (see samples/):

    Banjir Rendam Tiga Kecamatan di Kabupaten Serang          <- title: short, no final period
    SERANG, PROLOGMEDIA – Hujan deras yang mengguyur ...      <- dateline, then the lead
    Baca Juga:                                                <- related link, not the story
    Festival Kopi Banten Digelar Akhir Pekan Ini
    ...
    (fai/idh)                                                 <- editor initials, dropped

The same helpers (dateline, related-link marker, trailer) serve the HTML and markdown importers,
which apply them to their first/last paragraphs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from email.utils import parsedate_to_datetime

from siarkan.articles.furniture import (
    is_caption_line,
    is_copyright,
    is_noise_line,
    is_promo_line,
    match_credit,
)
from siarkan.articles.model import RelatedLink

__all__ = [
    "LEAD_SEARCH", "ArticleRejected", "Body", "Lead", "TextReport", "derive_title",
    "drop_furniture", "find_lead", "inline", "is_caption_line", "is_copyright", "is_furniture",
    "is_header_line", "is_noise_line", "is_promo_line", "is_weak_dateline", "locate_lead",
    "looks_like_headline", "match_credit", "match_dateline", "match_initials", "normalize",
    "parse_datetime", "parse_report", "pull_related", "related_link", "related_marker",
    "split_dateline", "strip_trailer",
]  # fmt: skip


class ArticleRejected(ValueError):
    """The input holds no usable article; str(exc) is a one-line reason for the user."""


# --- normalisation ----------------------------------------------------------------------------

# Invisible characters that carry no text: BOM / zero-width no-break space (also met mid-text
# when files are concatenated), zero-width space, word joiner, soft hyphen, and C0/C1 control
# characters that are not whitespace. Everything else that is not whitespace is kept as is
# (typographic quotes “…” ‘…’ included).
DROPPED_CHARS = "\ufeff\u200b\u2060\u00ad" + "".join(
    chr(c) for c in (*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, *range(0x80, 0x85),
                     *range(0x86, 0xA0))
)  # fmt: skip
# A character class, not str.translate: translate walks a dict per character and costs ~15x
# more on the non-ASCII text every report is (quotes, dashes).
_DROP = re.compile("[" + re.escape(DROPPED_CHARS) + "]")


def normalize(text: str) -> str:
    """CRLF/CR and Unicode line breaks -> LF; BOM, zero-width and control characters dropped;
    NBSP, tabs and runs of spaces -> one space; lines stripped; at most one blank line in a
    row; no leading or trailing blank lines. Idempotent."""
    out: list[str] = []
    # str.split() (C, Unicode whitespace) rather than a regex: this runs on every report.
    for raw in _DROP.sub("", text).splitlines():
        line = " ".join(raw.split())
        if line:
            out.append(line)
        elif out and out[-1]:
            out.append("")
    if out and not out[-1]:
        out.pop()
    return "\n".join(out)


def normalize_newlines(text: str) -> str:
    """CRLF/CR -> LF and invisibles dropped, indentation kept (markdown, YAML need it)."""
    return "\n".join(_DROP.sub("", text).splitlines())


def inline(text: str) -> str:
    """One paragraph or title on one line: all whitespace runs -> one space, invisibles gone."""
    return " ".join(_DROP.sub("", text).split())


# --- datelines --------------------------------------------------------------------------------

# "SERANG, PROLOGMEDIA –", "PROLOGMEDIA –", "Serang, PROLOGMEDIA -", "KOMPAS.com –",
# "SERANG (ANTARA) -", "Jakarta -" (PROTOCOLS.md, Indonesian text); the portals' own forms:
# "Liputan6.com, Jakarta -", "TRIBUNBANTEN.COM, SERANG -", "suara.com -", "Jakarta, CNN
# Indonesia --", and a press release's "SERANG, (14/11/2025) -". En/em dash with or without
# spaces; a hyphen (or "--") only between spaces, so hyphenated words are never cut.
_CAPS_WORDS = r"[A-Z0-9][A-Z0-9&.'’]*(?:[ -][A-Z0-9][A-Z0-9&.'’]*){0,4}"
# A sentence may open with a capitalised word before a dash too ("Di Serang, BPBD – bersama
# TNI – mengevakuasi ..."): a place never starts with a preposition or conjunction.
_NOT_PLACE = (
    r"(?!(?:Di|Ke|Dari|Pada|Dalam|Untuk|Bagi|Oleh|Menurut|Sementara|Selain|Sedangkan|Namun"
    r"|Adapun|Kemudian|Lalu|Saat|Ketika|Setelah|Sebelum|Sejak|Selama|Hingga|Sampai|Meski"
    r"|Walau|Jika|Kalau|Karena|Akibat|Tak|Tidak|Ini|Itu|Para|Warga|Pihak)\b)"
)
_TITLE_WORDS = rf"{_NOT_PLACE}[A-Z][a-z]+(?:[ -][A-Z][a-z]+){{0,2}}"
# The sites' own domains as they write them: "Medaiabooster.news", "JinNewsOne.Com",
# "bantenhits.com", "infobanten.id"; the TLD in any case.
_DOMAIN = (
    r"[A-Za-z][A-Za-z0-9]*\.(?i:com|co\.id|co|id|net|org|tv|news|info|biz|online|site|media"
    r"|today|live|xyz|asia|(?:web|my|or|go|ac|sch)\.id)(?![A-Za-z0-9])"
)
_SOURCE = rf"(?:{_CAPS_WORDS}(?:\s[A-Z][a-z]+)?|{_DOMAIN})(?:\.[a-z]{{2,3}})*"
_PLACE = rf"(?:{_CAPS_WORDS}|{_TITLE_WORDS})"
_DATE = r"\(?\d{1,2}/\d{1,2}(?:/\d{2,4})?\)?|\d{1,2}\s[A-Z][a-z]+\s\d{4}"
_DASH = r"(?:\s*[\u2013\u2014\u2015\u2212]\s*|\s+--?\s+)"
DATELINE_RE = re.compile(
    rf"""^\s*(?P<dateline>
        {_PLACE}\s*,\s*{_SOURCE}          # SERANG, PROLOGMEDIA
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
_DATELINE_MAX = 80


@dataclass(frozen=True, slots=True)
class DatelineMatch:
    dateline: str  # "SERANG, PROLOGMEDIA"
    end: int  # offset of the story's first character in the matched text


def match_dateline(text: str) -> DatelineMatch | None:
    """Find a dateline at the very start of a lead paragraph."""
    m = DATELINE_RE.match(text)
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


# --- "Baca Juga:" related-link blocks ---------------------------------------------------------

# The marker: "Baca Juga", "Simak juga", "Lihat Juga", "Baca Selengkapnya", "Berita Terkait",
# "Artikel Terkait", "Baca berita lainnya", then ":" / ">>" / "»" / " - " or nothing. With a
# separator, or alone on its line, it is unambiguous; followed by text without one ("Simak
# juga Festival ...") only a "juga" marker with a short line without a final period counts,
# so a story sentence starting "Lihat juga ..." survives.
_MARKER_RE = re.compile(
    r"^[^\w“”\"‘’'(\[]*(?:(?P<juga>(?:baca|simak|lihat|cek)\s+(?:juga|pula))"
    r"|baca\s+(?:se)?lengkapnya|baca\s+(?:berita|artikel)\s+(?:lainnya|selengkapnya)"
    r"|(?:berita|artikel)\s+(?:terkait|lainnya|menarik(?:\s+lainnya)?))\b"
    r"\s*(?P<colon>[:：]|>{2,}|&gt;&gt;|[»›→➡]|[-\u2013\u2014](?=\s|$))?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TRAILING_URL = re.compile(r"\s*[(<]?(?P<url>https?://[^\s<>()]+)[)>]?\s*$")
_HEADLINE_MAX = 200


def related_marker(line: str) -> str | None:
    """The text after a "Baca Juga:" marker ("" when the headline is on the next line), or
    None when the line is not a related-link line."""
    if line[:1] in "([" and line[-1:] in ")]":
        line = line[1:-1]  # "(Baca juga: Judul)"
    m = _MARKER_RE.match(line)
    if m is None:
        return None
    rest = m.group("rest").strip()
    if m.group("colon") is None and rest and not (m.group("juga") and looks_like_headline(rest)):
        return None
    return rest


def looks_like_headline(line: str) -> bool:
    return bool(line) and len(line) <= _HEADLINE_MAX and not line.endswith((".", ",", ";"))


def related_link(text: str, url: str | None = None) -> RelatedLink:
    """A headline, possibly followed by its URL on the same line."""
    text = inline(text)
    if url is None:
        m = _TRAILING_URL.search(text)
        if m is not None:
            url, text = m.group("url"), text[: m.start()].rstrip(" -–:")
    return RelatedLink(title=text.strip(' "“”'), url=url)


# A bullet or a list number ("1.", "2)") before a related headline or a list item.
_BULLET = re.compile(r"^(?:[-•*·]|\d{1,2}[.)])\s+")


def is_furniture(line: str) -> bool:
    """Ad slot, pagination, promo or photo caption: a whole line that is not story."""
    return is_noise_line(line) or is_promo_line(line) or is_caption_line(line)


def drop_furniture(lines: list[str]) -> list[str]:
    """Normalized lines without page furniture (is_furniture); each becomes a paragraph break,
    since an ad slot sits between paragraphs. Still at most one blank line in a row."""
    kept: list[str] = []
    for line in lines:
        if line and is_furniture(line):
            line = ""
        if line or (kept and kept[-1]):
            kept.append(line)
    return kept


def pull_related(lines: list[str]) -> tuple[list[str], list[RelatedLink]]:
    """Take "Baca Juga:" blocks out of normalized lines; their place becomes a blank line so
    the text around them stays in separate paragraphs."""
    kept: list[str] = []
    related: list[RelatedLink] = []
    i = 0
    while i < len(lines):
        rest = related_marker(lines[i])
        if rest is None:
            kept.append(lines[i])
            i += 1
            continue
        i += 1
        if rest:
            related.append(related_link(rest))
        else:
            # Headline on the next line (one blank line in between is tolerated), then maybe
            # more bulleted headlines.
            j = i + 1 if i < len(lines) and lines[i] == "" else i
            if j < len(lines) and looks_like_headline(_BULLET.sub("", lines[j])):
                related.append(related_link(_BULLET.sub("", lines[j])))
                i = j + 1
                # More headlines in the same block: a bulleted or numbered list, or plain lines
                # when every line up to the blank one looks like a headline (a hard-wrapped
                # story paragraph ends with its final period, so it is left alone).
                run = i
                while run < len(lines) and lines[run]:
                    run += 1
                if all(looks_like_headline(_BULLET.sub("", line)) for line in lines[i:run]):
                    related.extend(related_link(_BULLET.sub("", line)) for line in lines[i:run])
                    i = run
                while i < len(lines) and _BULLET.match(lines[i]):
                    related.append(related_link(_BULLET.sub("", lines[i])))
                    i += 1
        if kept and kept[-1] != "":
            kept.append("")
    return kept, related


# --- trailer: editor initials and credit lines ------------------------------------------------

# "(fai/idh)", "(ant)", "(mg2/ida)", "(*)", "(*/red)" (a press release the desk edited):
# lowercase codes, so "(BPBD)" ending a sentence without its period is never taken for
# initials. After the sentence's final mark, or alone, the case does not matter: regional
# desks sign "... kata Riska. (MYU)", "... tidak merespon.(Den)", "... (*/Dul)".
_CODE = r"[a-z][a-z0-9]{1,5}|\*"
_ANY_CASE_CODE = r"[A-Za-z][A-Za-z0-9]{1,5}|\*"
_INITIALS_RE = re.compile(rf"\s*\((?P<initials>(?:{_CODE})(?:\s*/\s*(?:{_CODE})){{0,4}})\)\s*$")
_SIGNED_RE = re.compile(
    rf"(?:^|(?<=[.!?…”\"’]))\s*\((?P<initials>(?:{_ANY_CASE_CODE})(?:\s*/\s*(?:{_ANY_CASE_CODE})){{0,4}})\)\s*$"
)


def match_initials(text: str) -> re.Match[str] | None:
    """Editor initials at the end of `text` ("... warga. (fai/idh)")."""
    if not text.rstrip().endswith(")"):  # both patterns scan the whole text for a closing ")"
        return None
    return _INITIALS_RE.search(text) or _SIGNED_RE.search(text)


@dataclass(frozen=True, slots=True)
class Trailer:
    initials: str | None = None
    authors: tuple[str, ...] = ()
    cut: int = 0  # characters removed from the end of the last paragraph


def strip_trailer(paragraphs: list[str]) -> tuple[list[str], Trailer]:
    """Remove editor initials and "Penulis: ..." / "Editor: ..." lines from the end."""
    paras = list(paragraphs)
    initials: str | None = None
    authors: list[str] = []
    cut = 0
    while paras:
        last = paras[-1]
        if is_copyright(last):
            paras.pop()
            continue
        credit = match_credit(last)
        if credit is not None:
            if credit[0]:
                authors.insert(0, credit[1])
            paras.pop()
            continue
        m = match_initials(last)
        if m is not None and initials is None:
            initials = re.sub(r"\s+", "", m.group("initials"))
            remaining = last[: m.start()].rstrip()
            if remaining:
                paras[-1] = remaining
                cut = len(last) - len(remaining)
                break
            paras.pop()
            continue
        break
    return paras, Trailer(initials, tuple(authors), cut)


# --- titles -----------------------------------------------------------------------------------

TITLE_MAX = 110
_TITLE_LINE_MAX = 160
# Abbreviations that do not end a sentence (PROTOCOLS.md, Indonesian text).
ABBREVIATIONS = frozenset(
    [
        "dr",
        "dr.",
        "h",
        "hj",
        "prof",
        "ir",
        "drs",
        "s.h",
        "m.h",
        "m.si",
        "m.kom",
        "jl",
        "jln",
        "no",
        "kab",
        "kec",
        "kel",
        "tbk",
        "rp",
        "yth",
        "dkk",
        "dll",
        "hlm",
        "s.d",
        "a.n",
        "st",
        "sdr",
        "kh",
        "ny",
        "tn",
        "bpk",
        "tb",  # Tubagus, the Banten title: "H. Tb. Entus Mahmud Sahiri"
        "pkl",
        "univ",
    ]
)
_SENTENCE_END = re.compile(r"[.!?…][\"”’)]*(?=\s+[\"“‘(]?[A-Z0-9])")


def looks_like_title(line: str) -> bool:
    """A first line that is short and has no final period (question/exclamation allowed)."""
    return (
        0 < len(line) <= _TITLE_LINE_MAX
        and not line.endswith((".", ",", ";", ":"))
        and match_dateline(line) is None
    )


def first_sentence(text: str) -> str:
    for m in _SENTENCE_END.finditer(text):
        word = text[: m.start() + 1].rsplit(None, 1)[-1].lower().lstrip('("“')
        if word.rstrip(".") in ABBREVIATIONS or word in ABBREVIATIONS:
            continue
        # "Rp1.5" / "12.30" never match (no space after the dot); initials like "H." do.
        if len(word.rstrip(".")) == 1:
            continue
        return text[: m.end()]
    return text


def derive_title(lead: str, limit: int = TITLE_MAX) -> str:
    """A title from the lead: its first sentence if short enough, else cut at a word boundary
    with an ellipsis; never longer than `limit` characters."""
    lead = inline(lead)
    sentence = first_sentence(lead).rstrip()
    if sentence.endswith(".") and not sentence.endswith("..") and len(sentence) > 1:
        sentence = sentence[:-1]
    return shorten(sentence, limit)


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary with "…" (titles,
    descriptions: never half a word)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—-") + "…"


# --- the plain-text report pipeline -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    """A cleaned story body, whatever format it came in."""

    paragraphs: tuple[str, ...]
    html: str
    dateline: str | None = None
    related: tuple[RelatedLink, ...] = ()
    initials: str | None = None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextReport:
    title: str | None
    body: Body
    warnings: tuple[str, ...] = field(default=())


_SENTENCE_TAIL = (".", "!", "?", ":", "”", '"', "’", "'", ")", "…")


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank lines separate paragraphs. Inside a block a line that ends a sentence ends its
    paragraph (one-paragraph-per-line exports); any other line break is a hard wrap."""
    paras: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                paras.append(" ".join(current))
                current = []
            continue
        # A list item ("1. ...", "- ...") starts a paragraph of its own; a credit line
        # ("Penulis: ...", "Editor: ...") or copyright notice is one on its own.
        alone = match_credit(line) is not None or is_copyright(line)
        if current and (alone or _BULLET.match(line)):
            paras.append(" ".join(current))
            current = []
        if alone:
            paras.append(line)
            continue
        current.append(line)
        if line.endswith(_SENTENCE_TAIL):
            paras.append(" ".join(current))
            current = []
    if current:
        paras.append(" ".join(current))
    return paras


def paragraphs_html(paragraphs: tuple[str, ...] | list[str]) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def parse_report(text: str, *, detect_title: bool = True) -> TextReport:
    """A plain-text report -> title (if its first line is one) and a cleaned Body."""
    lines, related = pull_related(drop_furniture(normalize(text).split("\n")))
    title: str | None = None
    if detect_title:
        while lines and not lines[0]:
            lines.pop(0)
        if len(lines) > 1 and looks_like_title(lines[0]):
            title = lines.pop(0)
    paras = _paragraphs(lines)
    dateline, paras = find_lead(paras)
    paras, trailer = strip_trailer([p for p in paras if p])
    body = Body(
        paragraphs=tuple(paras),
        html=paragraphs_html(paras),
        dateline=dateline,
        related=tuple(related),
        initials=trailer.initials,
        authors=trailer.authors,
    )
    return TextReport(title=title, body=body)


# --- dates ------------------------------------------------------------------------------------

# RFC 822 dates from Indonesian feeds sometimes carry WIB/WITA/WIT, which email.utils does not
# know (and the W3C validator rejects, PROTOCOLS.md): map them to their offsets.
_ZONES = {"WIB": "+0700", "WITA": "+0800", "WIT": "+0900"}
_ZONE_RE = re.compile(r"\b(WIB|WITA|WIT)\s*$")


def aware(value: datetime, tz: tzinfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def parse_datetime(value: object, tz: tzinfo) -> datetime | None:
    """ISO 8601, RFC 822, a YAML date/datetime, or a Unix timestamp -> aware datetime (naive
    values are taken in the site's time zone). None when the value is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return aware(value, tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return aware(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except ValueError:
        pass
    text = _ZONE_RE.sub(lambda m: _ZONES[m.group(1)], text)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # email.utils marks "-0000" and unknown zones as naive.
    return aware(parsed, tz)
