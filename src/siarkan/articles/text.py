"""Plain-text report cleaning: pure functions, no I/O.

    raw text | normalize (articles.whitespace)
        | drop_furniture (ad slots, promos, captions: articles.furniture)
        | pull_related (Baca Juga blocks)
        | take_title | paragraphs
        | find_lead (dateline; a copied page's header lines above it: articles.lead)
        | strip_trailer (editor initials, credits, closing hashtags: articles.hashtags)
        -> TextReport

The publisher's reports look like this (see samples/):

    Banjir Rendam Tiga Kecamatan di Kabupaten Serang          <- title: short, no final period
    SERANG, PROLOGMEDIA – Hujan deras yang mengguyur ...      <- dateline, then the lead
    Baca Juga:                                                <- related link, not the story
    Festival Kopi Banten Digelar Akhir Pekan Ini
    ...
    #BantenBanjir #Serang                                     <- hashtags: to Body.tags
    (fai/idh)                                                 <- editor initials, dropped

The same helpers (related-link marker, trailer) serve the HTML and markdown importers,
which apply them to their first/last paragraphs.
"""

from __future__ import annotations

import html
import re
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
from siarkan.articles.hashtags import trailing_hashtags
from siarkan.articles.lead import find_lead, match_dateline
from siarkan.articles.model import RelatedLink
from siarkan.articles.whitespace import inline, normalize

__all__ = [
    "ArticleRejected", "Body", "Closing", "TextReport", "derive_title", "drop_furniture",
    "is_caption_line", "is_copyright", "is_furniture", "is_noise_line", "is_promo_line",
    "looks_like_headline", "match_closing", "match_credit", "match_initials", "parse_datetime",
    "parse_report", "pull_related", "related_link", "related_marker", "strip_trailer",
]  # fmt: skip


class ArticleRejected(ValueError):
    """The input holds no usable article; str(exc) is a one-line reason for the user."""


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

# "(fai/idh)", "(ant)", "(mg2/ida)", "(*)", "(*/red)" and "(***/red)" (a press release the
# desk edited; "(***)" alone is the end mark below):
# lowercase codes, so "(BPBD)" ending a sentence without its period is never taken for
# initials. After the sentence's final mark, or alone, the case does not matter: regional
# desks sign "... kata Riska. (MYU)", "... tidak merespon.(Den)", "... (*/Dul)", and some in
# square brackets or with an abbreviation's dot ("... warga. [red]", "... warga. (red.)").
# A paid report's label closes it the same way, short or in full: "(ADV)", "(Advertorial)",
# "(Pariwara)".
_CODE = r"[a-z][a-z0-9]{1,5}|\*{2,3}(?=\s*/)|\*"
_ANY_CASE_CODE = r"(?i:advertorial|pariwara)|[A-Za-z][A-Za-z0-9]{1,5}|\*{2,3}(?=\s*/)|\*"
_INITIALS_RE = re.compile(rf"\s*\((?P<initials>(?:{_CODE})(?:\s*/\s*(?:{_CODE})){{0,4}})\)\s*$")
_SIGNED_RE = re.compile(
    rf"(?:^|(?<=[.!?…”\"’]))\s*[(\[]"
    rf"(?P<initials>(?:{_ANY_CASE_CODE})(?:\s*/\s*(?:{_ANY_CASE_CODE})){{0,4}})\.?[)\]]\s*$"
)


def match_initials(text: str) -> re.Match[str] | None:
    """Editor initials at the end of `text` ("... warga. (fai/idh)")."""
    if not text.rstrip().endswith((")", "]")):  # the patterns scan the whole text for its end
        return None
    return _INITIALS_RE.search(text) or _SIGNED_RE.search(text)


# The end mark of a press release or report, "(***)", "***", "(**)", and the empty brackets
# "[]" some desks close with: it closes the text, as initials do, and is not story ("(*)" is
# matched as the initials "*" first). Three stars anywhere at the end; "(**)" and "[]" only
# after a sentence's end or alone.
_END_MARK_RE = re.compile(
    r"(?:\s*\(\*{3}\)|\s*\*{3}|(?:^|(?<=[.!?…”\"’)]))\s*(?:\(\*{1,2}\)|\[\s*\]))\s*$"
)


@dataclass(frozen=True, slots=True)
class Closing:
    """What ends a paragraph after its story: editor initials, a run of hashtags, an end mark
    (in any order: "... go.id. #Banjir (red)", "... ujarnya. (red) #Banjir", "#Banjir (***)")."""

    end: int  # the story's text ends here (white space before the marks excluded)
    initials: str | None = None
    hashtags: tuple[str, ...] = ()
    marked: bool = False  # an end mark was found

    @property
    def found(self) -> bool:
        return self.initials is not None or bool(self.hashtags) or self.marked


def match_closing(text: str, *, initials: bool = True) -> Closing:
    """Initials (unless `initials` is False: already found further down) and hashtags at the
    end of `text`; Closing(len(text.rstrip())) when there are none."""
    end = len(text.rstrip())
    found: str | None = None
    hashtags: tuple[str, ...] = ()
    marked = False
    while True:
        rest = text[:end]
        m = match_initials(rest) if initials and found is None else None
        if m is not None:  # "(*)" too: a press release's mark, kept as its initials "*"
            found = re.sub(r"\s+", "", m.group("initials"))
            end = len(rest[: m.start()].rstrip())
            continue
        mark = _END_MARK_RE.search(rest) if not marked and rest.endswith(("*", "*)", "]")) else None
        if mark is not None:
            marked = True
            end = len(rest[: mark.start()].rstrip())
            continue
        run = trailing_hashtags(rest) if not hashtags else None
        if run is not None:
            hashtags = run.tags
            end = len(rest[: run.start].rstrip())
            continue
        return Closing(end, found, hashtags, marked)


@dataclass(frozen=True, slots=True)
class Trailer:
    initials: str | None = None
    authors: tuple[str, ...] = ()
    cut: int = 0  # characters removed from the end of the last paragraph
    hashtags: tuple[str, ...] = ()


def strip_trailer(paragraphs: list[str]) -> tuple[list[str], Trailer]:
    """Remove editor initials, "Penulis: ..." / "Editor: ..." lines and the closing hashtags
    from the end."""
    paras = list(paragraphs)
    initials: str | None = None
    authors: list[str] = []
    hashtags: list[str] = []
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
        closing = match_closing(last, initials=initials is None)
        if not closing.found:
            break
        initials = initials or closing.initials
        # A paragraph of hashtags may stand above another ("#Banjir" / "#Citarum").
        hashtags[:0] = closing.hashtags
        if closing.end:
            paras[-1] = last[: closing.end]
            cut = len(last) - closing.end
            break
        paras.pop()
    return paras, Trailer(initials, tuple(authors), cut, tuple(hashtags))


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
    tags: tuple[str, ...] = ()  # the hashtags that closed the story, without "#"


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


def _leading_credits(paras: list[str]) -> tuple[list[str], list[str]]:
    """Credit lines above the lead, as a report copied from a portal's page carries them
    ("Penulis: Nama | Editor: Nama" under the title, Tribun's "Laporan Wartawan Site.com,
    Nama"): off the story, their author kept (the HTML importer's htmlbody._leading_credits)."""
    authors: list[str] = []
    while paras:
        credit = match_credit(paras[0])
        if credit is None:
            break
        if credit[0]:
            authors.append(credit[1])
        paras = paras[1:]
    return paras, authors


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
    paras, lead_authors = _leading_credits(paras)
    dateline, paras = find_lead(paras)
    paras, trailer = strip_trailer([p for p in paras if p])
    body = Body(
        paragraphs=tuple(paras),
        html=paragraphs_html(paras),
        dateline=dateline,
        related=tuple(related),
        initials=trailer.initials,
        authors=tuple(dict.fromkeys([*lead_authors, *trailer.authors])),
        tags=trailer.hashtags,
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
