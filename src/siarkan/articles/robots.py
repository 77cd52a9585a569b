"""robots.txt (RFC 9309), pure: the answer to GET /robots.txt -> what we may fetch.

    (status, body) | robots_from_answer
        2xx        -> the rules of the group for our product token, else of `*` (§2.2.1),
                      read from the first 500 KiB (§2.5)
        4xx        -> nothing disallowed ("unavailable", §2.3.1.3)
        5xx, 429,
        no answer  -> everything disallowed ("unreachable", §2.3.1.4)
    | Robots.refusal(url) -> None (allowed) or the one-line reason
        longest matching rule wins, Allow on a tie (§2.2.2); `*` and a final `$` (§2.2.3);
        /robots.txt itself is always allowed (§2.2.2)
    | Robots.crawl_delay: the group's Crawl-delay (not RFC 9309: the Bing/Yandex extension)

Written here rather than taken from urllib.robotparser: Python 3.11's parser takes the first
matching rule instead of the longest, reads `*` in a path literally and allows everything when
robots.txt answers 5xx, so it would fetch pages RFC 9309 tells a crawler to leave alone.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from siarkan import PRODUCT

# RFC 9309 §2.2.1: the product token every User-Agent of ours starts with (USER_AGENT and
# instance_user_agent alike), matched case-insensitively.
PRODUCT_TOKEN = PRODUCT.lower()
PARSE_LIMIT = 500 * 1024  # §2.5: a crawler MUST read at least 500 KiB
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# §2.2.1: a product token is letters, "_" and "-"; a user-agent line may carry more after it
# ("siarkan/0.1", "siarkan (+https://...)", as sites paste a whole User-Agent). Google's
# parser reads the leading token the same way (robots.cc, ExtractUserAgent).
_AGENT_TOKEN = re.compile(r"[A-Za-z_-]*")
# RFC 3986 §2.3: "%7E" and "~" are the same URI; a reserved character's escape ("%2F", "%2A",
# "%24") is not the character itself, so it stays an escape (and never a wildcard).
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Everything printable in ASCII stays as written (RFC 3986 reserved characters and existing
# %XX escapes included); only octets outside US-ASCII are percent-encoded (§2.2.2).
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    pattern: str  # normalised as a URL path is (see _normalise)

    def __str__(self) -> str:
        return f"{'Allow' if self.allow else 'Disallow'}: {self.pattern}"


@dataclass(frozen=True, slots=True)
class Robots:
    url: str  # where the rules came from: named in every refusal
    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    unreachable: str | None = None  # why every URL is refused (§2.3.1.4)

    def refusal(self, url: str) -> str | None:
        """None if `url` may be fetched, else why not, in one line."""
        if self.unreachable is not None:
            return f"robots.txt unreachable ({self.unreachable}): {self.url} disallows everything"
        target = _target(url)
        if target == "/robots.txt":
            return None
        best: Rule | None = None
        for rule in self.rules:
            if not _matches(rule.pattern, target):
                continue
            if (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow)
            ):
                best = rule
        if best is None or best.allow:
            return None
        return f"disallowed by {self.url} ({best})"


@dataclass(slots=True)
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    closed: bool = False  # a rule line was read: the next user-agent line starts a new group


def _unescape_unreserved(m: re.Match[str]) -> str:
    char = chr(int(m.group(0)[1:], 16))
    return char if char in _UNRESERVED else m.group(0).upper()


def _normalise(path: str) -> str:
    """Non-ASCII octets percent-encoded (UTF-8), escapes of unreserved characters decoded and
    the others in upper case, so a rule and a URL written differently for the same octets
    compare equal (§2.2.2: "/foo/bar/%62%61%7A" is matched as "/foo/bar/baz")."""
    encoded = quote(path, safe=_SAFE)
    return _PERCENT.sub(_unescape_unreserved, encoded)


def _target(url: str) -> str:
    """The part of a URL the rules match: path (at least "/") and query (§2.2.2)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return _normalise(target)


def _matches(pattern: str, target: str) -> bool:
    """`pattern` matches the start of `target`; `*` is any run of characters, a final `$` the
    end (§2.2.3). The pieces between stars are found leftmost, one after the other (taking
    the earliest place for each never loses a match), so a robots.txt full of stars costs a
    few `str.find`s per rule: neither a regex's exponential backtracking nor the
    len(pattern) x len(target) of tracking every position (500 KiB of "*a" rules against a
    2,000-character URL: 52 s for one URL)."""
    anchored = pattern.endswith("$")
    if anchored:
        pattern = pattern[:-1]
    first, *rest = pattern.split("*")
    if not target.startswith(first):
        return False
    if not rest:
        return not anchored or len(target) == len(first)
    position = len(first)
    middle, last = (rest[:-1], rest[-1]) if anchored else (rest, None)
    for piece in middle:
        found = target.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return last is None or (len(target) - len(last) >= position and target.endswith(last))


def _agent_token(value: str) -> str:
    """The product token a user-agent line names, lowercase; "*" for the any-agent group."""
    if value == "*" or value.startswith(("* ", "*\t")):
        return "*"
    token = _AGENT_TOKEN.match(value)
    return token.group(0).lower() if token else ""


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            # Consecutive user-agent lines share one group (§2.1).
            if current is None or current.closed:
                current = _Group()
                groups.append(current)
            current.agents.append(_agent_token(value))
        elif current is None:
            continue  # a rule before any user-agent line belongs to no group
        elif key in ("allow", "disallow"):
            current.closed = True
            if value:  # "Disallow:" with nothing after it disallows nothing
                current.rules.append(Rule(key == "allow", _normalise(value)))
        elif key == "crawl-delay":
            current.closed = True
            try:
                delay = float(value)
            except ValueError:
                continue
            if math.isfinite(delay) and delay >= 0:
                current.delays.append(delay)
    return groups


def parse_robots(url: str, text: str, token: str = PRODUCT_TOKEN) -> Robots:
    """The rules for `token`: every group naming it, combined (§2.2.1); if none does, every
    `*` group; if there is none of those either, no rules."""
    groups = _groups(text)
    chosen = [g for g in groups if token in g.agents] or [g for g in groups if "*" in g.agents]
    rules = tuple(rule for group in chosen for rule in group.rules)
    delays = [delay for group in chosen for delay in group.delays]
    return Robots(url, rules, max(delays) if delays else None)


def robots_from_answer(
    url: str, status: int | None, body: bytes, problem: str | None = None
) -> Robots:
    """What a GET of `url` (a /robots.txt) answered -> the rules to follow. `status` None: no
    answer at all (`problem` says why: refused address, timeout, connection error)."""
    if status is not None and 200 <= status < 300:
        # §2.3: UTF-8; bytes that are not are skipped rather than failing the whole file. A
        # byte order mark (Windows editors write one) would glue itself to the first key and
        # lose the "User-agent: *" line, and with it every rule of its group.
        text = body[:PARSE_LIMIT].decode("utf-8", errors="replace").removeprefix("\ufeff")
        return parse_robots(url, text)
    if status is not None and 400 <= status < 500 and status != 429:
        return Robots(url)  # §2.3.1.3: "the crawler MAY access any resources on the server"
    # §2.3.1.4: "MUST assume complete disallow". 429 too, though RFC 9309 counts it among the
    # 4xx: a server that says "too many requests" has not said "crawl everything" (Google's
    # crawlers treat it as a server error for the same reason).
    why = f"HTTP {status}" if status is not None else (problem or "no answer")
    return Robots(url, unreachable=why)
