"""Long report -> fediverse-sized excerpts (summary / thread / series). Pure: no I/O.

    article.paragraphs | story_paragraphs        (drop leftover "Baca Juga:" lines, "(fai/idh)")
        | _units                                 (sentences with Mastodon-counted cost)
        | _summary / _thread / _series           (decide which units each post carries)
        | _render                                (numbering, title, link line, hashtags
                                                  -> plain text + HTML, counted like Mastodon)
        -> list[Excerpt]

Every post counts <= `max_chars` the way Mastodon's StatusLengthValidator counts (each
http(s) URL = 23). Cuts fall between sentences; a sentence longer than a post is cut at clause
punctuation, and only as a last resort between words (never inside a word, a number with its
unit, or an abbreviation with its name: see siarkan.sentences). For `thread` (uncut) and
`series`, the parts' `body_text` joined with spaces is the whole story again. The only link in
a post's HTML besides its hashtags is its link line to the article: what Mastodon makes the
preview card from.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from siarkan.articles.hashtags import camel_hashtag
from siarkan.articles.model import Article
from siarkan.articles.text import is_furniture, related_marker
from siarkan.config import ExcerptMode, ExcerptSettings
from siarkan.sentences import (
    CLEAN,
    clause_cuts,
    has_quotes,
    is_clean,
    normalize_space,
    quote_depths,
    split_sentences,
    word_cuts,
)

# ---------------------------------------------------------------------------------------------
# Counting like Mastodon

# Mastodon (app/validators/status_length_validator.rb) swaps every URL that twitter-text
# extracts for 23 characters; the URL grammar is Mastodon's override of twitter-text's in
# config/initializers/twitter_regex.rb. Only http(s) URLs count (extract_url_without_protocol:
# false). The content warning is counted apart, in full (it is not rewritten).
URL_LENGTH = 23
MAX_URL_LENGTH = 4096  # twitter-text: longer "URLs" are not URLs, so they count in full
_GEN = r"[^\s<>()?]"
_BAL = rf"\((?:{_GEN}+|{_GEN}*\({_GEN}+\){_GEN}*)\)"
_PATH_END = rf"(?:[^\s()?!*\"'「」<>;:=,.$%\[\]~&|@]|{_BAL})"
_PATH = rf"(?:{_GEN}*(?:{_BAL}{_GEN}*)*{_PATH_END}|{_GEN}+/)"
_UCHARS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0010fffd"
_QUERY = rf"\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]*[a-z0-9_&=#/\-{_UCHARS}]"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_NAME = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"
# twitter-text only accepts TLDs from its list; names reserved for tests and local networks
# are not on it, so a URL on them counts in full, as Mastodon does.
_RESERVED_TLD = r"(?:test|example|invalid|localhost|local|internal|lan|home|corp|intranet)"
_TLD = rf"(?!{_RESERVED_TLD}(?![\w@+-]))(?:[^\W\d_]{{2,}}|xn--[a-z0-9-]+)(?![\w@+-])"
URL_RE = re.compile(
    rf"(?<![A-Za-z0-9@＠$#＃])https?://(?:{_LABEL}\.)*{_NAME}\.{_TLD}(?::\d+)?"
    rf"(?:/{_PATH}*)?(?:{_QUERY})?",
    re.IGNORECASE,
)


# A mention counts only "@user" (StatusLengthValidator#countable_text rewrites it so); the
# grammar is Account::MENTION_RE with Extractor's checks: not right after "=", "/" or a word
# character, not followed by "@", a Latin accent or "://" (twitter-text end_mention_match),
# domain at most 253 characters (Extractor::MAX_DOMAIN_LENGTH).
MENTION_RE = re.compile(
    r"(?<![=/\w])@[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?(?P<domain>@[\w.-]+\w+)?",
    re.IGNORECASE,
)
_END_MENTION_RE = re.compile(
    "[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff]|://"
)
MAX_DOMAIN_LENGTH = 253


def _discounts(text: str, *, keep_zero: bool = False) -> list[tuple[int, int, int]]:
    """(start, end, characters saved) of each URL and remote mention Mastodon shortens.

    Overlaps resolve like twitter-text's remove_overlapping_entities: by start, first wins.
    """
    entities: list[tuple[int, int, int]] = []
    if "://" in text:
        for match in URL_RE.finditer(text):
            size = match.end() - match.start()
            if size <= MAX_URL_LENGTH:
                entities.append((match.start(), match.end(), size - URL_LENGTH))
    if "@" in text:
        for match in MENTION_RE.finditer(text):
            if _END_MENTION_RE.match(text, match.end()):
                continue
            domain = match.group("domain")
            if domain and len(domain) - 1 <= MAX_DOMAIN_LENGTH:
                entities.append((match.start(), match.end(), len(domain)))
            elif not domain:
                entities.append((match.start(), match.end(), 0))
        entities.sort()
    kept: list[tuple[int, int, int]] = []
    for entity in entities:
        if not kept or entity[0] >= kept[-1][1]:
            kept.append(entity)
    return kept if keep_zero else [entity for entity in kept if entity[2]]


def _ranges(codepoints: list[int]) -> str:
    """A regex character class body for these code points, as runs."""
    out: list[str] = []
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        out.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        start = prev = cp
    return "".join(out)


# Mastodon counts grapheme clusters (String#grapheme_clusters, UAX #29). A code point that
# joins the one before it counts 0: combining marks (Mn, Me: accents, variation selectors,
# keycaps), emoji skin tones, tag characters and ZWJ, each only after a non-space (after a
# space or a line break the count would depend on where a post is cut); an emoji after
# emoji + ZWJ (GB11); the second of a pair of regional indicators (a flag). Spacing marks and
# Hangul jamo count 1 each: never fewer than Mastodon, only ever more.
_MARKS = _ranges(
    [cp for cp in range(0x300, 0x20000) if unicodedata.category(chr(cp)) in ("Mn", "Me")]
)
# Extended_Pictographic, roughly; skin tones (U+1F3FB..U+1F3FF) are modifiers, not emoji.
_PICT = "\u2600-\u27bf\U0001f300-\U0001f3fa\U0001f400-\U0001faff"
_TONE = "\U0001f3fb-\U0001f3ff"
_JOINED_RE = re.compile(
    rf"(?<=\S)[{_MARKS}{_TONE}\U000e0020-\U000e007f\u200d]"
    rf"|(?<=[{_PICT}]\u200d)[{_PICT}]"
    rf"|(?<=[{_PICT}][\ufe0f{_TONE}]\u200d)[{_PICT}]"
    r"|(?<![\U0001f1e6-\U0001f1ff])(?:[\U0001f1e6-\U0001f1ff]{2})+"
)
# Anything past Latin, spacing modifiers, general punctuation and currency signs (where no
# code point joins another) might join: a small negated class rules out almost every
# sentence of Indonesian news at C speed, before _JOINED_RE's lookbehinds run.
_MAY_JOIN_RE = re.compile("[^\x00-\u02ff\u2010-\u2027\u2030-\u205e\u20a0-\u20cf]")


def _joined(text: str, entities: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, saved) for code points that add no grapheme, outside URLs and mentions."""
    found: list[tuple[int, int, int]] = []
    for match in _JOINED_RE.finditer(text):
        start, end = match.span()
        if any(a <= start < b for a, b, _ in entities):
            continue
        # A run of 2k regional indicators is k flags: k code points saved.
        saved = (end - start) // 2 if end - start > 1 else 1
        found.append((start, end, saved))
    return found


def _all_savings(text: str) -> list[tuple[int, int, int]]:
    spans = _discounts(text, keep_zero=True) if "://" in text or "@" in text else []
    entities = [entity for entity in spans if entity[2]]
    if text.isascii() or _MAY_JOIN_RE.search(text) is None:
        return entities
    return sorted(entities + _joined(text, spans))


def _plain(text: str) -> bool:
    """Nothing in `text` that Mastodon counts differently from code points (most sentences)."""
    return (
        "://" not in text
        and "@" not in text
        and (text.isascii() or _MAY_JOIN_RE.search(text) is None)
    )


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts a local post: grapheme clusters, every URL as 23, every
    mention as its "@user" part."""
    length = len(text)
    if "@" not in text and (text.isascii() or _MAY_JOIN_RE.search(text) is None):
        if "://" in text:  # URLs only: every link line
            for match in URL_RE.finditer(text):
                size = match.end() - match.start()
                if size <= MAX_URL_LENGTH:
                    length += URL_LENGTH - size
        return length
    return length - sum(saved for _, _, saved in _all_savings(text))


def _prefix_cost(text: str) -> Callable[[int], int]:
    """cost(i) == mastodon_length(text[:i]) for any i at a space (nothing saved spans one)."""
    if _plain(text):
        return lambda i: i
    spans = [(end, saved) for _, end, saved in _all_savings(text)]
    if not spans:
        return lambda i: i
    return lambda i: i - sum(saved for end, saved in spans if end <= i)


# ---------------------------------------------------------------------------------------------
# What the story is: paragraphs without leftover related-link blocks and editor initials

# PROTOCOLS.md "Indonesian text": the importer moves "Baca Juga:" blocks into article.related
# and drops page furniture (ad labels, "Ikuti berita terkini di Google News", pagination), but
# a line that slips through (JSON bodies, articles stored before a rule existed) has no final
# period and would merge with the next sentence. The same shape rules apply here.
_HEADLINE_END = '.!?”"’…'
# "(fai/idh)", "(ant)", "(*)" after the last sentence, or as the whole last paragraph.
_INITIALS_RE = re.compile(
    r"(?:^|(?<=[.!?”\"’)]))\s*\(\s*[A-Za-z*]{1,6}(?:\s*[/,-]\s*[A-Za-z*]{1,6})*\s*\)\s*$"
)


# A "Baca Juga:" glued to the end of a story line, after its last sentence (kabar6.com:
# '... supaya cepat,” bebernya.**Baca Juga: Polres Tangsel: Begini Aksi ...'). Only a tail
# of headline length goes: a longer one may run on into story text.
_GLUED_RELATED_RE = re.compile(
    r"(?<=[.!?”\"’])\s*[*_]*\s*(?=(?:baca|simak|lihat)\s+juga\s*[:：])", re.IGNORECASE
)
_GLUED_RELATED_MAX = 200


def _without_glued_related(line: str) -> str:
    if "uga" not in line:
        return line
    match = _GLUED_RELATED_RE.search(line)
    if match is None or len(line) - match.end() > _GLUED_RELATED_MAX:
        return line
    return line[: match.start()]


# A story paragraph with its index in article.paragraphs: its anchor is "p{index + 1}" (the
# article page numbers every block, Baca Juga leftovers included; see web/pages.py).
Numbered = tuple[int, str]


def _drop_related(paragraphs: Sequence[str], enough: int | None = None) -> list[Numbered]:
    """The story's paragraphs; with `enough`, only the first `enough` of them are looked for
    (the furniture rules cost as much as cutting a summary)."""
    kept: list[Numbered] = []
    skip_headline = False
    for index, paragraph in enumerate(paragraphs):
        lines: list[str] = []
        for line in paragraph.split("\n") if "\n" in paragraph else (paragraph,):
            stripped = normalize_space(line)
            if not stripped:
                continue
            if skip_headline:
                skip_headline = False
                # A bare "Baca Juga:" line is followed by the linked headline (no final stop).
                if len(stripped) < 200 and stripped[-1] not in _HEADLINE_END:
                    continue
            rest = related_marker(stripped)
            if rest is not None:
                skip_headline = rest == ""
                continue
            if not is_furniture(stripped):
                lines.append(_without_glued_related(stripped))
        text = lines[0] if len(lines) == 1 else normalize_space(" ".join(lines))
        if text:
            kept.append((index, text))
            if enough is not None and len(kept) == enough:
                break
    return kept


def _story(article: Article, needed: int | None = None) -> list[Numbered]:
    """The story's paragraphs, numbered; with `needed`, the first `needed` (a summary needs
    the lead only)."""
    if needed is not None:
        # One more than needed: if it is there, the needed ones are not the last paragraph,
        # whose trailing initials ("(fai/idh)") are cut below.
        paragraphs = _drop_related(article.paragraphs, enough=needed + 1)
        if len(paragraphs) > needed:
            return paragraphs[:needed]
    else:
        paragraphs = _drop_related(article.paragraphs)
    if paragraphs:
        index, text = paragraphs[-1]
        last = _INITIALS_RE.sub("", text).rstrip()
        paragraphs[-1:] = [(index, last)] if last else []
    return paragraphs


def story_paragraphs(article: Article) -> tuple[str, ...]:
    """The paragraphs excerpts are cut from: whitespace-normalised, no Baca Juga, no initials."""
    return tuple(text for _, text in _story(article))


# ---------------------------------------------------------------------------------------------
# Hashtags


def pick_hashtags(tags: Sequence[str], limit: int) -> list[tuple[str, str]]:
    """(hashtag, original tag) pairs: CamelCased, deduplicated case-insensitively, at most limit."""
    picked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for tag in tags:
        if len(picked) >= limit:
            break
        name = camel_hashtag(tag)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            picked.append((name, tag))
    return picked


# ---------------------------------------------------------------------------------------------
# Units: sentences (or pieces of an over-long one) with their cost


@dataclass(slots=True)
class _Unit:
    text: str
    cost: int
    para: int  # index in article.paragraphs
    starts_para: bool
    ends_sentence: bool
    depths_before: tuple[int, ...]  # open quotes/brackets within the paragraph before it
    clean_after: bool  # no quote or bracket open after it (a paragraph end always counts)

    @property
    def sep(self) -> int:
        """Cost of what joins it to the unit before in the same post: "\\n\\n" or " "."""
        return 2 if self.starts_para else 1


def _paragraph_units(text: str, para: int) -> list[_Unit]:
    units: list[_Unit] = []
    depths = CLEAN
    sentences = split_sentences(text)
    quoted = has_quotes(text)
    for k, sentence in enumerate(sentences):
        after = quote_depths(sentence, depths) if quoted else CLEAN
        units.append(
            _Unit(
                sentence,
                mastodon_length(sentence),
                para,
                k == 0,
                True,
                depths,
                is_clean(after) or k == len(sentences) - 1,
            )
        )
        depths = after
    return units


def _split(
    unit: _Unit, room: int, *, words: bool, whole_room: bool = False
) -> tuple[_Unit, _Unit] | None:
    """Cut `unit` so its head plus the " …" marking the cut costs <= room: at clause
    punctuation, else (words) between words.

    Among the cuts that fit, the farthest one that leaves no quote open wins, unless it would
    fill less than half of what the farthest cut does. With `whole_room` (a summary: nothing
    of the sentence follows in another post), a clause that fills less than half the room
    gives way to words: a lead cut to "Badan ... (BPBD) Kabupaten Serang, Banten, …" names a
    subject and says nothing of what it did. None when no cut fits.
    """
    text = unit.text
    cost = _prefix_cost(text)
    room -= len(_ELLIPSIS)  # the head ends inside the sentence: it is marked " …"
    cut = _choose(text, clause_cuts(text), cost, room, unit.depths_before)
    if words and (cut is None or (whole_room and cost(cut) * 2 < room)):
        cut = _choose(text, word_cuts(text), cost, room, unit.depths_before) or cut
    if cut is None:
        return None
    return _cut_at(unit, cut, cost(cut))


def _force_split(unit: _Unit) -> tuple[_Unit, _Unit] | None:
    """The first word (group) alone: only for a "word" longer than a whole post."""
    cuts = word_cuts(unit.text)
    if not cuts:
        return None
    return _cut_at(unit, cuts[0], _prefix_cost(unit.text)(cuts[0]))


def _cut_at(unit: _Unit, cut: int, head_cost: int) -> tuple[_Unit, _Unit]:
    head_text, tail_text = unit.text[:cut], unit.text[cut + 1 :]
    mid = quote_depths(head_text, unit.depths_before)
    head = _Unit(
        head_text, head_cost, unit.para, unit.starts_para, False, unit.depths_before, is_clean(mid)
    )
    tail = _Unit(
        tail_text,
        unit.cost - head_cost - 1,
        unit.para,
        False,
        unit.ends_sentence,
        mid,
        unit.clean_after,
    )
    return head, tail


def _choose(
    text: str,
    cuts: list[int],
    cost: Callable[[int], int],
    room: int,
    depths: tuple[int, ...],
) -> int | None:
    fitting = [c for c in cuts if cost(c) <= room]
    if not fitting:
        return None
    farthest = fitting[-1]
    for cut in reversed(fitting):
        if cost(cut) * 2 < cost(farthest):
            break
        if is_clean(quote_depths(text[:cut], depths)):
            return cut
    return farthest


def _fill(
    units: list[_Unit], i: int, budget: int, *, full: int | None = None, last: bool = False
) -> tuple[int, int]:
    """Choose the units for one post starting at units[i]: returns (end index, body cost).

    Whole sentences as many as fit; prefers ending where no quote is open (if that still fills
    at least half). A sentence costing more than `full` (the room of an empty post; default
    `budget`) is cut at clauses to fill what is left. May replace units[i] or the next unit by
    two pieces (list edited in place; total cost unchanged: the space cut becomes the
    separator). `last`: no post follows with the rest of a sentence cut here.
    """
    end = len(units)
    used, j = 0, i
    clean_j, clean_used = -1, 0
    while j < end:
        unit = units[j]
        add = unit.cost if j == i else unit.cost + unit.sep
        if used + add > budget:
            break
        used += add
        j += 1
        if unit.clean_after:
            clean_j, clean_used = j, used
    if j == i:
        pieces = _split(units[i], budget, words=True, whole_room=last) or _force_split(units[i])
        if pieces is None:
            return i + 1, units[i].cost
        units[i : i + 1] = pieces
        return i + 1, pieces[0].cost
    if j < end and units[j].cost > (budget if full is None else full):
        # That sentence will be cut anyway: let its first clauses fill this post.
        room = budget - used - units[j].sep
        pieces = _split(units[j], room, words=False) if room > 0 else None
        if pieces is not None:
            units[j : j + 1] = pieces
            return j + 1, used + units[j].sep + pieces[0].cost
    if j < end and clean_j not in (-1, j) and clean_used * 2 >= used:
        return clean_j, clean_used
    return j, used


def _joined_cost(units: Sequence[_Unit]) -> int:
    return sum(u.cost for u in units) + sum(u.sep for u in units[1:])


# ---------------------------------------------------------------------------------------------
# The post around the body: numbering, title, dateline, link line, hashtags

_LINK_TEXT_DEFAULTS = {"id": "Baca selengkapnya:", "en": "Read more:", "ms": "Baca lagi:"}
_DEFAULT_LINK_TEXT = ExcerptSettings.model_fields["link_text"].default
_TRUNCATED = "… "
_ELLIPSIS = " …"
_MIN_TITLE = 12  # a title cut shorter than this says nothing; leave it out


@dataclass(frozen=True, slots=True)
class Excerpt:
    """One post as it will be published (`text` plain, `html` for ActivityPub `content`)."""

    index: int  # 0-based
    total: int
    text: str
    html: str
    length: int  # Mastodon-counted length of `text`
    body_text: str  # only the story text of this part (the join property is over these)
    anchor: str | None  # "p7": paragraph anchor in the article this part links to
    link: str | None
    hashtags: tuple[str, ...]
    mode: ExcerptMode
    language: str = "id"


@dataclass(frozen=True, slots=True)
class _Line:
    """A closing link line: "[… ]Baca selengkapnya: <url>" or just "<url>"."""

    text: str
    cost: int
    url: str

    @property
    def html(self) -> str:
        # Always a link, even where twitter-text would not count the URL as one (a test
        # host without a TLD): the HTML is what followers' servers show.
        label = self.text[: len(self.text) - len(self.url)]
        return _escape(label) + _link_html(self.url)


@dataclass(frozen=True, slots=True)
class _Frame:
    """Everything around the story text, with its costs worked out once per call."""

    settings: ExcerptSettings
    link: str
    link_text: str
    title: str
    dateline: str
    tags: tuple[tuple[str, str], ...]
    numbered: bool
    number_cost: int  # room reserved for "n/total " on every post
    title_length: int
    dateline_length: int

    def title_cost(self, index: int, every_part: bool) -> int:
        if not self.title or (index > 0 and not every_part):
            return 0
        return self.title_length + 2

    def dateline_cost(self, index: int) -> int:
        return self.dateline_length if index == 0 else 0

    def link_line(self, url: str, *, truncated: bool = False, label: bool = True) -> _Line:
        text = f"{self.link_text} {url}" if label else url
        if truncated:
            text = _TRUNCATED + text
        return _Line(text, mastodon_length(text), url)

    def budget(self, index: int, tail: _Line | None, *, title_everywhere: bool = False) -> int:
        """Room for body text in post `index` whose closing line is `tail` (None: no link)."""
        room = self.settings.max_chars - self.number_cost
        room -= self.title_cost(index, title_everywhere) + self.dateline_cost(index)
        if tail is not None:
            room -= tail.cost + 2
        return room


def _frame(
    article: Article, settings: ExcerptSettings, link: str, *, numbered: bool, total: int
) -> _Frame:
    language = settings.language or article.language
    link_text = settings.link_text
    if link_text == _DEFAULT_LINK_TEXT:
        link_text = _LINK_TEXT_DEFAULTS.get(language.split("-")[0], link_text)
    dateline = ""
    if not settings.strip_dateline and article.dateline:
        dateline = f"{normalize_space(article.dateline)} – "
    number_cost = 0
    if numbered:
        number_cost = mastodon_length(_number(settings, total, total)) + 1
    # The title may take what is left once numbering, dateline, the longest link line and a
    # third of the post for the story are set aside (at most half the post).
    longest_tail = f"{_TRUNCATED}{link_text} {deep_link(link, 'p999')}"
    title_room = min(
        settings.max_chars // 2,
        settings.max_chars
        - settings.max_chars // 3
        - number_cost
        - mastodon_length(dateline)
        - mastodon_length(longest_tail)
        - 6,
    )
    title = normalize_space(article.title) if settings.include_title else ""
    if mastodon_length(title) > title_room:
        title = _shorten(title, title_room) if title_room >= _MIN_TITLE else ""
        if mastodon_length(title) > title_room:
            title = ""
    return _Frame(
        settings=settings,
        link=link,
        link_text=link_text,
        title=title,
        dateline=dateline,
        tags=tuple(pick_hashtags(article.tags, settings.hashtags)),
        numbered=numbered,
        number_cost=number_cost,
        title_length=mastodon_length(title),
        dateline_length=mastodon_length(dateline),
    )


def _number(settings: ExcerptSettings, n: int, total: int) -> str:
    return settings.number_format.format(n=n, total=total)


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary so that text + " …" counts <= limit."""
    words = text.split(" ")
    while len(words) > 1 and mastodon_length(" ".join(words)) + len(_ELLIPSIS) > limit:
        words.pop()
    return " ".join(words) + _ELLIPSIS


@dataclass(frozen=True, slots=True)
class _Post:
    """What one post carries, before rendering."""

    units: tuple[_Unit, ...]
    title: bool
    tail: _Line | None  # the link line, if any
    link: str | None
    anchor: str | None

    @property
    def ellipsis(self) -> bool:
        """The body stops inside a sentence (the rest follows in the next part, or only in
        the article): it ends with " …", unless the link line already starts with "… "."""
        cut = bool(self.units) and not self.units[-1].ends_sentence
        return cut and not (self.tail is not None and self.tail.text.startswith(_TRUNCATED))


def _anchor(units: Sequence[_Unit]) -> str | None:
    return f"p{units[0].para + 1}" if units else None


def deep_link(link: str, anchor: str | None) -> str:
    """`link` pointing at paragraph `anchor` ("p7"), or at the page itself without one."""
    base = link.split("#", 1)[0]
    return f"{base}#{anchor}" if anchor else base


# ---------------------------------------------------------------------------------------------
# Modes: which units go in which post


def _summary(paragraphs: Sequence[Numbered], frame: _Frame) -> list[_Post]:
    units = _paragraph_units(paragraphs[0][1], paragraphs[0][0]) if paragraphs else []
    tail = frame.link_line(frame.link)
    budget = frame.budget(0, tail)
    end = _fill(units, 0, budget, last=True)[0] if units else 0
    return [_Post(tuple(units[:end]), bool(frame.title), tail, frame.link, None)]


def _thread(paragraphs: Sequence[Numbered], frame: _Frame) -> list[_Post]:
    units = [u for k, text in paragraphs for u in _paragraph_units(text, k)]
    settings = frame.settings
    remaining = _joined_cost(units)
    last_tail = frame.link_line(frame.link)
    # The room of a middle post: a sentence longer than that gets cut wherever it starts.
    probe = deep_link(frame.link, "p1") if settings.paragraph_links else None
    full = frame.budget(1, frame.link_line(probe, label=False) if probe else None)
    posts: list[_Post] = []
    i = 0
    while i < len(units):
        index = len(posts)
        if remaining <= frame.budget(index, last_tail):
            posts.append(_Post(tuple(units[i:]), index == 0, last_tail, frame.link, None))
            return posts
        if index == settings.max_parts - 1:
            tail = frame.link_line(frame.link, truncated=True)
            end, _ = _fill(units, i, frame.budget(index, tail), full=full, last=True)
            posts.append(_Post(tuple(units[i:end]), index == 0, tail, frame.link, None))
            return posts
        anchor = _anchor(units[i:]) if settings.paragraph_links else None
        link = deep_link(frame.link, anchor) if anchor else None
        mid_tail = frame.link_line(link, label=False) if link else None
        end, used = _fill(units, i, frame.budget(index, mid_tail), full=full)
        if end == len(units):
            # Fits as a middle post but not with the closing link: leave a tail to carry it.
            end, used = _fill(units, i, frame.budget(index, last_tail), full=full)
        posts.append(_Post(tuple(units[i:end]), index == 0, mid_tail, link, anchor))
        if end < len(units):
            remaining -= used + units[end].sep
        i = end
    if not posts:
        return [_Post((), True, last_tail, frame.link, None)]
    # Only a giant unsplittable word can bring us here: the last post still gets the link.
    final = posts[-1]
    posts[-1] = _Post(final.units, final.title, last_tail, frame.link, None)
    return posts


def _series_chunks(paragraphs: Sequence[Numbered], budget: int) -> list[list[_Unit]]:
    """Whole paragraphs; one longer than a post becomes runs of whole sentences."""
    chunks: list[list[_Unit]] = []
    for k, text in paragraphs:
        units = _paragraph_units(text, k)
        if _joined_cost(units) <= budget:
            chunks.append(units)
            continue
        i = 0
        while i < len(units):
            end, _ = _fill(units, i, budget)
            chunks.append(units[i:end])
            i = end
    return chunks


def _group(costs: Sequence[int], seps: Sequence[int], cap: int) -> list[int]:
    """Greedy: start indices of groups of consecutive chunks costing <= cap each."""
    starts = [0]
    used = costs[0] if costs else 0
    for k in range(1, len(costs)):
        if used + seps[k] + costs[k] > cap:
            starts.append(k)
            used = costs[k]
        else:
            used += seps[k] + costs[k]
    return starts


def _balanced_groups(costs: Sequence[int], seps: Sequence[int], count: int, cap: int) -> list[int]:
    """`count` groups (if there are that many chunks), the largest as small as possible."""
    low, high = max(costs), max(cap, max(costs))
    while low < high:  # smallest cap that needs no more than `count` groups
        mid = (low + high) // 2
        if len(_group(costs, seps, mid)) <= count:
            high = mid
        else:
            low = mid + 1
    starts = _group(costs, seps, low)
    while len(starts) < min(count, len(costs)):
        bounds = [*starts, len(costs)]
        sizes = [sum(costs[a:b]) for a, b in pairwise(bounds)]
        k = max(
            (k for k in range(len(starts)) if bounds[k + 1] - bounds[k] > 1), key=lambda k: sizes[k]
        )
        a, b = bounds[k], bounds[k + 1]
        split = min(range(a + 1, b), key=lambda m: abs(sum(costs[a:m]) - sum(costs[m:b])))
        starts.insert(k + 1, split)
    return starts


def _series(paragraphs: Sequence[Numbered], frame: _Frame) -> list[_Post]:
    if not paragraphs:
        return [_Post((), True, frame.link_line(frame.link), frame.link, None)]
    settings = frame.settings
    # "#p12" costs the same as any URL once Mastodon sees it, so one budget serves every part.
    probe = frame.link_line(deep_link(frame.link, f"p{paragraphs[-1][0] + 1}"))
    budget = frame.budget(0, probe, title_everywhere=True)
    chunks = _series_chunks(paragraphs, budget)
    # A chunk ending inside a sentence may end a post: room for its " …" marker.
    costs = [_joined_cost(c) + (0 if c[-1].ends_sentence else len(_ELLIPSIS)) for c in chunks]
    seps = [c[0].sep for c in chunks]
    total = _joined_cost([u for c in chunks for u in c])
    wanted = max(
        settings.series_parts,
        math.ceil(total / settings.series_target_chars),
        len(_group(costs, seps, budget)),
    )
    starts = _balanced_groups(costs, seps, wanted, budget)
    posts: list[_Post] = []
    for a, b in zip(starts, [*starts[1:], len(chunks)], strict=False):
        units = tuple(u for c in chunks[a:b] for u in c)
        anchor = _anchor(units)
        link = deep_link(frame.link, anchor)
        posts.append(_Post(units, True, frame.link_line(link), link, anchor))
    return posts


# ---------------------------------------------------------------------------------------------
# Rendering: plain text and HTML of one post

_SCHEME_RE = re.compile(r"https?://(?:www\.)?")
_HTML_SPECIAL_RE = re.compile("[&<>\"']")


def _escape(text: str) -> str:
    """html.escape, skipped when nothing needs it (one scan instead of five replaces)."""
    return escape(text) if _HTML_SPECIAL_RE.search(text) else text


def _link_html(url: str) -> str:
    """A link the way Mastodon renders one (TextFormatter#link_to_url): scheme hidden, 30 shown."""
    prefix_match = _SCHEME_RE.match(url)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{_escape(url)}" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_escape(prefix)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{_escape(shown)}</span>'
        f'<span class="invisible">{_escape(hidden)}</span></a>'
    )


def _hashtag_html(name: str, tag: str, tag_url: Callable[[str], str]) -> str:
    return (
        f'<a href="{_escape(tag_url(tag))}" class="mention hashtag" rel="tag">'
        f"#<span>{_escape(name)}</span></a>"
    )


def _body_paragraphs(units: Sequence[_Unit]) -> list[tuple[str, int]]:
    """The story paragraphs of one post with their cost (units joined by spaces)."""
    paragraphs: list[tuple[list[str], int]] = []
    for unit in units:
        if unit.starts_para or not paragraphs:
            paragraphs.append(([unit.text], unit.cost))
        else:
            texts, cost = paragraphs[-1]
            texts.append(unit.text)
            paragraphs[-1] = (texts, cost + 1 + unit.cost)
    return [(" ".join(texts), cost) for texts, cost in paragraphs]


def _render(
    post: _Post,
    index: int,
    total: int,
    frame: _Frame,
    mode: ExcerptMode,
    tag_url: Callable[[str], str],
    language: str,
) -> Excerpt:
    """Lay one post out as paragraphs (plain, HTML, cost) and count it.

    The length is summed from the pieces' costs: each block starts after whitespace, so no
    URL can span two of them and Mastodon's count is additive (tests check it against
    mastodon_length of the whole text).
    """
    settings = frame.settings
    body = _body_paragraphs(post.units)
    blocks: list[tuple[str, str, int]] = []
    if post.title and frame.title:
        blocks.append((frame.title, _escape(frame.title), frame.title_length))
    last = len(body) - 1
    for k, (paragraph, cost) in enumerate(body):
        if k == 0 and index == 0 and frame.dateline:
            paragraph = frame.dateline + paragraph
            cost += frame.dateline_length
        if k == last and post.ellipsis:
            paragraph += _ELLIPSIS
            cost += len(_ELLIPSIS)
        # A URL in the story stays text, not a link: Mastodon makes its preview card from
        # the first <a> of a remote post's content that is not a mention or hashtag
        # (FetchLinkCardService#parse_urls, #skip_link?) and shows remote HTML as sent, not
        # linkified (HtmlAwareFormatter#reformat). So the card is the article's own, from
        # the link line, or none. The count still takes such a URL as 23, like Mastodon.
        blocks.append((paragraph, _escape(paragraph), cost))
    if post.tail is not None:
        blocks.append((post.tail.text, post.tail.html, post.tail.cost))
    if frame.numbered and total > 1:
        number = _number(settings, index + 1, total)
        if blocks:
            plain, html, cost = blocks[0]
            blocks[0] = (
                f"{number} {plain}",
                f"{_escape(number)} {html}",
                mastodon_length(number) + 1 + cost,
            )
        else:
            blocks.append((number, _escape(number), mastodon_length(number)))
    length = sum(cost for _, _, cost in blocks) + 2 * (len(blocks) - 1)

    used: list[tuple[str, str]] = []
    if frame.tags and (mode != "thread" or index == total - 1):
        # Hashtags only take the room the text left: they go before any text does.
        room = settings.max_chars - length - 2
        for name, tag in frame.tags:
            cost = len(name) + (2 if used else 1)
            if cost <= room:
                used.append((name, tag))
                room -= cost
        if used:
            plain = " ".join(f"#{name}" for name, _ in used)
            html = " ".join(_hashtag_html(name, tag, tag_url) for name, tag in used)
            blocks.append((plain, html, len(plain)))
            length += 2 + len(plain)
    return Excerpt(
        index=index,
        total=total,
        text="\n\n".join(plain for plain, _, _ in blocks),
        html="".join(f"<p>{html}</p>" for _, html, _ in blocks),
        length=length,
        body_text="\n\n".join(paragraph for paragraph, _ in body),
        anchor=post.anchor,
        link=post.link,
        hashtags=tuple(name for name, _ in used),
        mode=mode,
        language=language,
    )


_MODES: dict[str, Callable[[Sequence[Numbered], _Frame], list[_Post]]] = {
    "summary": _summary,
    "thread": _thread,
    "series": _series,
}


def make_excerpts(
    article: Article,
    settings: ExcerptSettings,
    *,
    permalink: str,
    tag_url: Callable[[str], str],
    mode: ExcerptMode | None = None,
) -> list[Excerpt]:
    """The posts for one article on one channel.

    Links go to `article.canonical_url` when there is one, else to `permalink` (siarkan's own
    page). `tag_url(tag)` gets the article's tag as written (e.g. "pemilu 2024") and returns
    the channel's tag page. `mode` overrides `settings.mode` (CLI and preview).
    """
    mode = mode or settings.mode
    link = article.canonical_url or permalink
    paragraphs = _story(article, needed=1 if mode == "summary" else None)
    language = settings.language or article.language
    numbered = mode != "summary"
    if mode == "thread":
        guess = settings.max_parts
    else:
        # Series posts hold about half a post of story each (title, link, whole paragraphs):
        # a guess with the right number of digits saves cutting the whole report twice.
        size = sum(len(text) for _, text in paragraphs)
        guess = max(settings.series_parts, math.ceil(2 * size / settings.max_chars))
    while True:
        frame = _frame(article, settings, link, numbered=numbered, total=guess)
        posts = _MODES[mode](paragraphs, frame)
        # The reserved "n/total" must be as wide as the real one (series can outgrow it).
        if not numbered or len(str(len(posts))) <= len(str(guess)):
            break
        guess = len(posts)
    return [
        _render(post, index, len(posts), frame, mode, tag_url, language)
        for index, post in enumerate(posts)
    ]
