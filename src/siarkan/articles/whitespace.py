"""Whitespace and invisible characters, the first step of every importer: pure functions.

    raw text | normalize            -> stripped lines, one space between words, at most one
                                       blank line in a row (text reports, excerpts)
    raw text | normalize_newlines   -> LF line ends, indentation kept (markdown, front matter)
    paragraph or title | inline     -> one line (HTML text, datelines, related headlines)

All three drop DROPPED_CHARS (BOM, zero-width characters, soft hyphen, control characters).
"""

from __future__ import annotations

import re

__all__ = ["DROPPED_CHARS", "inline", "normalize", "normalize_newlines"]

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
