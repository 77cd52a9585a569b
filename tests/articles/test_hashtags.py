"""Hashtags closing a report: cut from the body, added to the article's tags, in every format."""

from __future__ import annotations

import json

import pytest

from siarkan.articles.hashtags import merge_tags, trailing_hashtags
from siarkan.articles.model import Article
from siarkan.articles.paging import join_bodies
from siarkan.articles.parsers import ParseContext, Parsed, parse_bytes
from siarkan.articles.text import Body, strip_trailer
from siarkan.config import SiteSettings

SETTINGS = SiteSettings(name="Banten Pos", base_url="https://siarkan.example")
URL = "https://news.example/2025/11/banjir-bandung"
LEAD = "BANDUNG – Banjir merendam 12 desa di Kabupaten Bandung setelah Citarum meluap."
LAST = "Informasi terbaru dapat dilihat melalui laman resmi bpbd.jabarprov.go.id."


def _article(data: str, kind: str) -> Article:
    ctx = ParseContext(settings=SETTINGS, source=URL, id_seed=URL, url=URL)
    [outcome] = parse_bytes(data.encode(), kind, display="x", ctx=ctx)
    assert isinstance(outcome, Parsed), outcome
    return outcome.article


def _page(paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>"
        f"<title>Banjir Rendam 12 Desa</title>{head}</head><body><article>"
        f"<h1>Banjir Rendam 12 Desa</h1>{body}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("text", "start", "tags"),
    [
        ("#BanjirBandung #Citarum", 0, ("BanjirBandung", "Citarum")),
        (f"{LAST} #BanjirBandung #Citarum", len(LAST), ("BanjirBandung", "Citarum")),
        ("Kata dia. #Banjir, #Citarum", 9, ("Banjir", "Citarum")),
        ("“Siaga,” ujarnya.\n#Pemilu2024", 17, ("Pemilu2024",)),
    ],
)
def test_a_closing_run_of_hashtags(text: str, start: int, tags: tuple[str, ...]) -> None:
    run = trailing_hashtags(text)
    assert run is not None
    assert (run.start, run.tags) == (start, tags)


@pytest.mark.parametrize(
    "text",
    [
        "Ia menjadi juara #1",  # a number, not a tag
        "Ia menjadi juara. #1",
        "Rumah di Jalan Melati No. #12",
        "Rincian ada di https://bpbd.example/info/#banjir",  # a URL fragment
        "Kursus pemrograman C#",
        "Kursus pemrograman. C#",
        # the sentence's own last word: no sentence ended before it
        "Warganet ramai memakai tagar #SaveCitarum",
        # not at the end: the reporter's words
        "Tagar #SaveCitarum ramai dipakai. Warga ikut mengunggah foto.",
        "Kata dia. #SaveCitarum menjadi trending",
    ],
)
def test_no_closing_hashtags(text: str) -> None:
    assert trailing_hashtags(text) is None
    assert strip_trailer(["Satu.", text]) == (["Satu.", text], strip_trailer([])[1])


@pytest.mark.parametrize(
    ("paragraphs", "initials"),
    [
        ([LAST, "#BanjirBandung #Citarum"], None),
        ([f"{LAST} #BanjirBandung #Citarum"], None),
        ([f"{LAST} #BanjirBandung #Citarum (red)"], "red"),
        ([f"{LAST} (red) #BanjirBandung #Citarum"], "red"),
        ([LAST, "#BanjirBandung #Citarum (nus/fik)"], "nus/fik"),
        ([LAST, "#BanjirBandung #Citarum", "(*/red)"], "*/red"),
        ([LAST, "#BanjirBandung", "#Citarum", "Editor: Dewi Lestari"], None),
    ],
)
def test_strip_trailer_takes_the_hashtags(paragraphs: list[str], initials: str | None) -> None:
    kept, trailer = strip_trailer(["Satu.", *paragraphs])
    assert kept == ["Satu.", LAST]
    assert trailer.hashtags == ("BanjirBandung", "Citarum")
    assert trailer.initials == initials


def test_only_the_closing_run_is_taken() -> None:
    middle = "Tagar #SaveCitarum ramai dipakai warganet."
    kept, trailer = strip_trailer([middle, "#Banjir", "Dua. #Citarum"])
    assert kept == [middle, "#Banjir", "Dua."]
    assert trailer.hashtags == ("Citarum",)


def test_text_report() -> None:
    middle = "Warganet memakai tagar #SaveCitarum untuk mengajak warga membersihkan sungai."
    text = f"Banjir Rendam 12 Desa\n\n{LEAD}\n\n{middle}\n\n{LAST} #BanjirBandung #Citarum (red)\n"
    a = _article(text, "text")
    assert a.tags == ("BanjirBandung", "Citarum")
    assert a.paragraphs[1:] == (middle, LAST)
    assert "#Banjir" not in a.body_html and "#SaveCitarum" in a.body_html


def test_markdown_with_front_matter_tags() -> None:
    text = (
        "---\ntitle: Banjir Rendam 12 Desa\ntags: [banjir bandung, Jawa Barat]\n---\n\n"
        f"{LEAD}\n\n{LAST}\n#BanjirBandung #citarum #JawaBarat\n"
    )
    a = _article(text, "markdown")
    # "#BanjirBandung" is the front matter's "banjir bandung": one tag, its first spelling
    assert a.tags == ("banjir bandung", "Jawa Barat", "citarum")
    assert a.paragraphs[-1] == LAST
    assert "#" not in a.body_html


def test_markdown_paragraph_of_hashtags() -> None:
    a = _article(
        f"# Banjir Rendam 12 Desa\n\n{LEAD}\n\n{LAST}\n\n#BanjirBandung #Citarum\n", "markdown"
    )
    assert a.tags == ("BanjirBandung", "Citarum")
    assert a.paragraphs[-1] == LAST


def test_html_page_with_linked_hashtags() -> None:
    tags = (
        '<a href="https://news.example/tag/banjirbandung">#BanjirBandung</a> '
        '<a href="https://news.example/tag/citarum">#Citarum</a>'
    )
    head = '<meta property="article:tag" content="Banjir">'
    a = _article(_page([LEAD, f"{LAST} {tags} (nus/fik)"], head), "html")
    assert a.tags == ("Banjir", "BanjirBandung", "Citarum")
    assert a.paragraphs[-1] == LAST
    assert "#" not in a.body_html and "/tag/" not in a.body_html
    assert a.body_html.endswith("bpbd.jabarprov.go.id.</p>")


def test_json_body_html() -> None:
    payload = {
        "title": "Banjir Rendam 12 Desa",
        "tags": ["Citarum"],
        "body_html": f"<p>{LEAD}</p><p>{LAST}</p><p>#BanjirBandung #Citarum</p>",
    }
    a = _article(json.dumps(payload), "json")
    assert a.tags == ("Citarum", "BanjirBandung")
    assert a.paragraphs[-1] == LAST


def test_hash_signs_that_are_no_tags_stay() -> None:
    last = "Pemenang lomba nomor #1 mendapat hadiah dari Pemkab."
    a = _article(_page([LEAD, last, "Ikuti kursus C#"]), "html")
    assert a.tags == ()
    assert a.paragraphs[-2:] == (last, "Ikuti kursus C#")


def test_merge_tags_keeps_the_given_ones_as_they_are() -> None:
    given = ("Banjir Bandung", "banjir-bandung", "Pemilu 2024")
    assert merge_tags(given, ["banjirbandung", "Pemilu2024", "Citarum", "citarum"]) == (
        *given,
        "Citarum",
    )


def test_joined_pages_keep_every_pages_hashtags() -> None:
    one = Body(("Satu.",), "<p>Satu.</p>", tags=("Banjir",))
    two = Body(("Dua.",), "<p>Dua.</p>", tags=("banjir", "Citarum"))
    assert join_bodies([one, two]).tags == ("Banjir", "Citarum")


@pytest.mark.parametrize(
    "ending",
    [
        "#BanjirBandung #Citarum (***)",
        "#BanjirBandung #Citarum\n\n(***)",
        "#BanjirBandung #Citarum\n\n***",
        "#BanjirBandung #Citarum (red)\n\n(***)",
    ],
)
def test_an_end_mark_closes_the_report_and_leaves_the_story(ending: str) -> None:
    """ "(***)" ends a press release or report as initials do: not story, and no shield for
    the hashtags above it."""
    a = _article(f"Banjir Rendam 12 Desa\n\n{LEAD}\n\n{LAST} {ending}\n", "text")
    assert a.paragraphs[-1] == LAST
    assert a.tags == ("BanjirBandung", "Citarum")
    html = _article(_page([LEAD, f"{LAST} {ending}".replace("\n\n", "</p><p>")]), "html")
    assert html.paragraphs[-1] == LAST
    assert html.tags == ("BanjirBandung", "Citarum")


def test_a_footnote_star_mid_story_stays() -> None:
    last = "Harga paket (*) belum termasuk ongkos kirim, kata dia."
    a = _article(f"Banjir Rendam 12 Desa\n\n{LEAD}\n\n{last}\n", "text")
    assert a.paragraphs[-1] == last
