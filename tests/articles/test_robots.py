"""robots.txt rules (RFC 9309), pure: group choice, longest match, wildcards, error answers."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siarkan import USER_AGENT, instance_user_agent
from siarkan.articles.robots import (
    PRODUCT_TOKEN,
    _matches,
    parse_robots,
    robots_from_answer,
)
from tests.helpers import time_limit

ROBOTS = "https://kabarbanten.test/robots.txt"
SITE = "https://kabarbanten.test"


def allowed(text: str, path: str) -> bool:
    return parse_robots(ROBOTS, text).refusal(SITE + path) is None


def test_our_product_token_is_the_user_agents() -> None:
    assert PRODUCT_TOKEN == "siarkan"
    # What robots.txt groups are matched against is what every request of ours announces.
    for agent in (USER_AGENT, instance_user_agent("https://kabarbanten.test")):
        assert agent.split("/", 1)[0].lower() == PRODUCT_TOKEN


def test_a_user_agent_line_names_the_product_token_at_its_start() -> None:
    # Sites paste a whole User-Agent (our instance's, from their logs) into the line: the
    # product token at its start is what names us (§2.2.1), whatever follows it.
    pasted = instance_user_agent("https://kabarbanten.test")
    for line in (pasted, "Siarkan (+https://kabarbanten.test/)", "siarkan/0.1", "siarkan"):
        assert not allowed(f"User-agent: *\nAllow: /\n\nUser-agent: {line}\nDisallow: /\n", "/x")
    # A longer token is another crawler's; `*` is the any-agent group only as a word of its own.
    assert allowed("User-agent: siarkanbot\nDisallow: /\n", "/x")
    assert not allowed("User-agent: * (everyone)\nDisallow: /\n", "/x")
    assert allowed("User-agent: *bot\nDisallow: /\n", "/x")


def test_longest_match_wins_and_allow_wins_a_tie() -> None:
    # §2.2.2: the most specific (longest) rule decides, whatever the order of the lines —
    # urllib.robotparser would take the first line and disallow /berita/terkini here.
    text = "User-agent: *\nDisallow: /berita/\nAllow: /berita/terkini\n"
    assert allowed(text, "/berita/terkini/banjir-serang")
    assert not allowed(text, "/berita/arsip/2019")
    assert allowed("User-agent: *\nAllow: /a\nDisallow: /a\n", "/a/b")
    assert allowed("User-agent: *\nDisallow: /a\nAllow: /a\n", "/a/b")
    assert allowed("User-agent: *\nDisallow:\n", "/apa-saja")  # empty Disallow: nothing


def test_wildcards_and_end_anchor() -> None:
    text = "User-agent: *\nDisallow: /*?cetak=\nDisallow: /*.pdf$\nDisallow: /cari*\n"
    assert not allowed(text, "/berita/banjir?cetak=1")
    assert allowed(text, "/berita/banjir?halaman=2")
    assert not allowed(text, "/unduh/laporan.pdf")
    assert allowed(text, "/unduh/laporan.pdf.html")  # $ ends the pattern
    assert not allowed(text, "/cari/banjir")
    # A `$` inside a pattern is a character like any other.
    assert not allowed("User-agent: *\nDisallow: /a$b\n", "/a$b/c")
    assert allowed("User-agent: *\nDisallow: /a$b\n", "/a")


def test_our_group_replaces_the_star_group_and_same_named_groups_combine() -> None:
    text = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: Googlebot\nUser-agent: SIARKAN\nDisallow: /arsip/\n\n"
        "User-agent: siarkan/2.0\nDisallow: /privat/\n"
    )
    assert allowed(text, "/berita/1")  # the `*` group does not apply to us at all
    assert not allowed(text, "/arsip/1")  # case-insensitive token (§2.2.1)
    assert not allowed(text, "/privat/1")  # groups naming us are combined
    robots = parse_robots(ROBOTS, text, token="otherbot")
    assert robots.refusal(SITE + "/berita/1") is not None  # others fall back to `*`


def test_no_group_for_us_or_star_means_no_rules_and_orphan_rules_are_ignored() -> None:
    assert allowed("User-agent: Googlebot\nDisallow: /\n", "/berita/1")
    assert allowed("Disallow: /\nUser-agent: *\nAllow: /\n", "/berita/1")
    assert allowed("<html><body>Beranda</body></html>", "/berita/1")  # a soft 404 page


def test_a_user_agent_line_after_rules_starts_a_new_group() -> None:
    text = "User-agent: siarkan\nDisallow: /a/\nUser-agent: otherbot\nDisallow: /b/\n"
    assert not allowed(text, "/a/1")
    assert allowed(text, "/b/1")


def test_comments_case_of_keys_and_robots_txt_itself() -> None:
    text = "# kebijakan\nUSER-AGENT: *  # semua\ndisallow: /  # tutup\n"
    assert not allowed(text, "/berita/1")
    assert allowed(text, "/robots.txt")  # §2.2.2: always allowed


def test_non_ascii_paths_compare_as_percent_encoded_octets() -> None:
    text = "User-agent: *\nDisallow: /berita/ツ\nDisallow: /foo/%e3%83%84\n"
    assert not allowed(text, "/berita/%E3%83%84")
    assert not allowed(text, "/berita/ツ")
    assert not allowed(text, "/foo/%E3%83%84")


def test_escaped_unreserved_characters_are_the_characters_themselves() -> None:
    # §2.2.2: a percent-encoded ASCII octet is unencoded before comparison unless it is a
    # reserved character; its table matches "/foo/bar/%62%61%7A" as "/foo/bar/baz".
    assert not allowed("User-agent: *\nDisallow: /foo/bar/%62%61%7A\n", "/foo/bar/baz")
    assert not allowed("User-agent: *\nDisallow: /~redaksi/\n", "/%7eredaksi/draf")
    assert not allowed("User-agent: *\nDisallow: /%7Eredaksi/\n", "/~redaksi/draf")
    assert not allowed("User-agent: *\nDisallow: /arsip-2025\n", "/arsip%2D2025/1")
    # Reserved ones stay escapes: %2F is not a path separator, %2A not a wildcard.
    assert allowed("User-agent: *\nDisallow: /a/b\n", "/a%2Fb")
    assert allowed("User-agent: *\nDisallow: /a%2Fb\n", "/a/b")
    assert allowed("User-agent: *\nDisallow: /a%2A\n", "/abc")
    assert not allowed("User-agent: *\nDisallow: /a%2a\n", "/a%2A")
    # The rule's length is counted as normalised: "%62%61%7A" is three octets, not nine,
    # so the longer Allow still wins.
    text = "User-agent: *\nDisallow: /foo/bar/%62%61%7A\nAllow: /foo/bar/ba\n"
    assert not allowed(text, "/foo/bar/baz")
    text = "User-agent: *\nDisallow: /foo/bar/%62\nAllow: /foo/bar/ba\n"
    assert allowed(text, "/foo/bar/baz")


def test_a_byte_order_mark_does_not_hide_the_first_line() -> None:
    body = b"\xef\xbb\xbfUser-agent: *\nDisallow: /arsip/\n"
    robots = robots_from_answer(ROBOTS, 200, body)
    assert robots.refusal(SITE + "/arsip/1") == f"disallowed by {ROBOTS} (Disallow: /arsip/)"


def test_refusal_names_the_file_and_the_rule() -> None:
    robots = parse_robots(ROBOTS, "User-agent: *\nDisallow: /arsip/\n")
    assert robots.refusal(SITE + "/arsip/1") == f"disallowed by {ROBOTS} (Disallow: /arsip/)"


def test_crawl_delay_of_our_group() -> None:
    text = "User-agent: *\nCrawl-delay: 2\n\nUser-agent: siarkan\nCrawl-delay: 5\nDisallow:\n"
    assert parse_robots(ROBOTS, text).crawl_delay == 5.0
    assert parse_robots(ROBOTS, "User-agent: *\nCrawl-delay: 0.5\n").crawl_delay == 0.5
    for bad in ("soon", "-1", "nan", "inf"):
        assert parse_robots(ROBOTS, f"User-agent: *\nCrawl-delay: {bad}\n").crawl_delay is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_unavailable_robots_txt_allows_everything(status: int) -> None:
    # §2.3.1.3: a 4xx means "no robots.txt": the crawler MAY access any resource.
    robots = robots_from_answer(ROBOTS, status, b"User-agent: *\nDisallow: /\n")
    assert robots.refusal(SITE + "/berita/1") is None


@pytest.mark.parametrize(
    ("status", "why"), [(500, "HTTP 500"), (503, "HTTP 503"), (429, "HTTP 429")]
)
def test_unreachable_robots_txt_disallows_everything(status: int, why: str) -> None:
    # §2.3.1.4: a server error means "complete disallow"; 429 is no invitation either.
    robots = robots_from_answer(ROBOTS, status, b"")
    assert robots.refusal(SITE + "/berita/1") == (
        f"robots.txt unreachable ({why}): {ROBOTS} disallows everything"
    )


def test_no_answer_disallows_everything() -> None:
    robots = robots_from_answer(ROBOTS, None, b"", problem="timed out after 15 s")
    reason = robots.refusal(SITE + "/berita/1")
    assert reason is not None and "timed out after 15 s" in reason


def test_only_the_first_500_kib_are_read() -> None:
    body = b"User-agent: *\n" + b"#" * (500 * 1024) + b"\nDisallow: /\n"
    assert robots_from_answer(ROBOTS, 200, body).refusal(SITE + "/x") is None


def test_a_pattern_full_of_stars_costs_little() -> None:
    # A regex would backtrack exponentially on this; the position set does not.
    pattern = "/" + "*a" * 40 + "b"
    target = "/" + "a" * 2000
    started = time.perf_counter()
    assert not _matches(pattern, target)
    assert time.perf_counter() - started < 1.0


def test_a_robots_txt_full_of_star_rules_is_checked_quickly() -> None:
    """Every rule was matched position by position: 500 KiB of "*a" rules against a long
    URL cost len(pattern) x len(target) steps, 52 s for one URL of a sitemap."""
    rule = b"Disallow: /*" + b"a*" * 40 + b"b\n"
    robots = robots_from_answer(ROBOTS, 200, b"User-agent: *\n" + rule * 5000)
    with time_limit(2.0):
        assert robots.refusal(SITE + "/" + "a" * 2000) is None
    assert robots.refusal(SITE + "/" + "a" * 50 + "b") is not None


def _reference(pattern: str, target: str) -> bool:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), target, re.DOTALL) is not None


@given(
    st.text(alphabet="/ab*$", min_size=1, max_size=8),
    st.text(alphabet="/ab$", max_size=10),
)
def test_matching_agrees_with_a_regex_reading_of_the_rfc(pattern: str, target: str) -> None:
    assert _matches(pattern, target) == _reference(pattern, target)
