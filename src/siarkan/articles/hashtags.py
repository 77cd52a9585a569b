"""Hashtags closing a report: pure functions over a paragraph's text and tag lists.

    last paragraph | trailing_hashtags ("... go.id. #BanjirBandung #Citarum" -> the cut, tags)
        (text.strip_trailer and the HTML importer's trailer cut them off the body)
    front matter / meta tags, body hashtags | merge_tags -> Article.tags

Regional sites end a report with its tags as hashtags; left in the story they are dead words
in excerpts, and posts lack them as Hashtag tags. Only a run at the very end counts: a hashtag
inside the story is the reporter's word ("warganet ramai memakai tagar #SaveCitarum ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["HashtagRun", "camel_hashtag", "merge_tags", "tag_key", "trailing_hashtags"]

# A hashtag as Mastodon reads one (app/models/tag.rb HASHTAG_RE): word characters with a letter
# among them, so "#1" or "No. #12" is a number. "#" after a word character ("C#") or a slash
# (a URL fragment, ".../#berita") does not start one. Possessive: a long token never backtracks.
_TAG = r"#(?=\w*[^\W\d_])\w++"
# The run stands alone or follows the end of a sentence ("... go.id. #Banjir"); after a
# sentence that does not end, "... memakai tagar #SaveCitarum" is the sentence's last word.
_RUN_RE = re.compile(
    rf"(?:^|(?<=[.!?…”\"’)])\s)\s*(?P<run>{_TAG}(?:(?:\s*,\s*|\s+){_TAG})*)[\s,]*$"
)
_NAME_RE = re.compile(r"#(\w+)")
_NON_WORD_RE = re.compile(r"[^\w]+")
# An apostrophe inside a word joins it ("Jum'at Berkah" -> "JumatBerkah", not "JumAtBerkah").
_INNER_APOSTROPHE_RE = re.compile(r"(?<=\w)['’ʼ`](?=\w)")
_HAS_LETTER_RE = re.compile(r"[^\W\d]")


@dataclass(frozen=True, slots=True)
class HashtagRun:
    start: int  # where the run (and the white space before it) begins in the text
    tags: tuple[str, ...]  # without "#", as written: ("BanjirBandung", "Citarum")


def trailing_hashtags(text: str) -> HashtagRun | None:
    """The run of hashtags ending `text`, or None."""
    if "#" not in text:  # nearly every paragraph: no regex scan
        return None
    m = _RUN_RE.search(text)
    if m is None:
        return None
    return HashtagRun(m.start(), tuple(_NAME_RE.findall(m.group("run"))))


def _words(tag: str) -> list[str]:
    return [w for w in _NON_WORD_RE.split(_INNER_APOSTROPHE_RE.sub("", tag)) if w]


def camel_hashtag(tag: str) -> str:
    """ "pemilu 2024" -> "Pemilu2024", "Kabupaten Serang" -> "KabupatenSerang" ("" if unusable):
    a tag as the hashtag posts carry.

    Mastodon's HASHTAG_RE needs a letter or "_" somewhere, so "2024" alone gives "".
    """
    name = "".join(w[0].upper() + w[1:] for w in _words(tag))
    return name if _HAS_LETTER_RE.search(name) else ""


def tag_key(tag: str) -> str:
    """Tags that make the same hashtag are one tag: "Banjir Bandung", "#banjirbandung",
    "Jum'at", "jumat" (camel_hashtag's words, case-insensitive as Mastodon's tags are)."""
    return "".join(_words(tag)).casefold()


def merge_tags(given: Sequence[str], found: Iterable[str]) -> tuple[str, ...]:
    """The given tags (front matter, page meta) as they are, then the body's hashtags that
    none of them already makes."""
    seen = {tag_key(tag) for tag in given}
    added: list[str] = []
    for tag in found:
        key = tag_key(tag)
        if key not in seen:
            seen.add(key)
            added.append(tag)
    return (*given, *added)
