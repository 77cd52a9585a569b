"""WhatsApp's text styling in a report pasted from a chat: a pure function over plain text.

    text pasted from WhatsApp | strip_chat_styling -> the same text without *bold*, _italic_
        and ~strike~ markers ("*Judul Tebal*" -> "Judul Tebal", '_"Kutipan,"_ ujarnya' ->
        '"Kutipan," ujarnya')

Desks and public relations offices send press releases over WhatsApp, and a report copied
from the chat keeps the markers WhatsApp would have rendered. Only plain-text input is
unmarked (parsers): in markdown "*" and "_" are markdown's own, and a page's text has none.
"""

from __future__ import annotations

import re

__all__ = ["strip_chat_styling"]

# WhatsApp styles a run only when its markers stand at its edges: the opening one at the start
# of a line or after a space, an opening bracket or quote; the closing one before the end, a
# space or punctuation. Stricter than WhatsApp, the run must also start and end with a letter
# or digit, a quote or a bracket, so that "5*3", "snake_case", "Rp 5.000*", "~5 km" and a
# bullet "* item" stay as written. Two styles may nest ("*_Penting_*"); the run stays on its
# line.
_STYLED = re.compile(
    r"(?:^|(?<=[\s(\[\"“‘']))"
    r"(?P<outer>[*_~])(?P<inner>(?!(?P=outer))[*_~])?"
    r"(?P<run>(?:[^\W_]|[\"“‘'(\[])(?:[^\n*_~]*(?:[^\W_]|[\"”’').!?,:;\]]))?)"
    r"(?(inner)(?P=inner))(?P=outer)"
    r"(?=$|[\s.,;:!?)\]\"”’'])",
    re.MULTILINE,
)


def strip_chat_styling(text: str) -> str:
    """`text` without WhatsApp's styling markers around whole word runs."""
    if "*" not in text and "_" not in text and "~" not in text:
        return text
    return _STYLED.sub(lambda m: m.group("run"), text)
