"""Odd real-world input found by fuzzing the parsers (hypothesis-style mutations of the
fixtures): each parser returns an article or a clean ArticleRejected, never another exception,
so a batch import names the reason of each file and goes on."""

from __future__ import annotations

import json

import pytest

from siarkan.articles import cms
from siarkan.articles.htmlbody import absolute_url, clean_fragment
from siarkan.articles.jsonin import article_from_payload
from siarkan.articles.model import same_picture
from siarkan.articles.parsers import Failed, ParseContext, Parsed, parse_bytes
from siarkan.articles.remote import parse_feed_or_sitemap
from siarkan.articles.text import ArticleRejected
from siarkan.config import SiteSettings
from tests.cms_payloads import ghost_body, wp_rest_post, wp_webhook

SETTINGS = SiteSettings(name="Banten Pos", base_url="https://siarkan.example")
URL = "https://news.example/2025/11/pasar-murah"
LEAD = (
    "SERANG – Pemkot Serang menggelar pasar murah di enam kecamatan menjelang Ramadan. "
    "Warga mengantre sejak pagi untuk membeli beras, minyak goreng dan gula dengan harga "
    "di bawah harga pasar."
)
MORE = "Di Kecamatan Walantaka, antrean warga sudah terlihat sejak pukul 06.30 WIB. " * 3


def _page(head: str = "", last: str = "Penulis: Ahmad Fauzan") -> bytes:
    return (
        f"<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>"
        f"<title>Pasar Murah Digelar di Enam Kecamatan</title>{head}</head><body><article>"
        f"<h1>Pasar Murah Digelar di Enam Kecamatan</h1><p>{LEAD}</p><p>{MORE}</p>"
        f"<p>{last}</p></article></body></html>"
    ).encode()


def _parse(data: bytes, kind: str) -> Parsed | Failed:
    ctx = ParseContext(settings=SETTINGS, source=URL, id_seed=URL, url=URL)
    [outcome] = parse_bytes(data, kind, display="x", ctx=ctx)
    return outcome


@pytest.mark.parametrize("url", ["http://[::1/a.jpg", "http://[null]/a.jpg"])
def test_unparseable_bracketed_host_is_no_url(url: str) -> None:
    # urlsplit raises ValueError for an unclosed or non-IP bracketed host.
    assert absolute_url(url, URL) is None
    assert not same_picture(url, "https://news.example/a.jpg")


def test_page_with_broken_image_urls_still_parses() -> None:
    head = '<meta property="og:image" content="https://news.example/a.jpg">'
    data = _page(head).replace(b"<p>Penulis", b'<img src="http://[null]/a.jpg"><p>Penulis')
    outcome = _parse(data, "html")
    assert isinstance(outcome, Parsed), outcome
    outcome = _parse(_page('<meta property="og:image" content="http://[::1/a.jpg">'), "html")
    assert isinstance(outcome, Parsed), outcome
    assert outcome.article.image is None


def test_control_character_in_trailer_paragraph() -> None:
    # The trailer "(*/red)" is cut from the block; lxml refuses to write text holding \x17 back.
    outcome = _parse(_page(last="kata Siti, warga \x17alantaka. (*/red)"), "html")
    assert isinstance(outcome, Parsed), outcome
    assert outcome.article.paragraphs[-1] == "kata Siti, warga alantaka."


def test_control_characters_in_body_html() -> None:
    body = clean_fragment("<p>warga \x17alantaka\x0cBaru. (*/red)</p>", base_url=None)
    assert body.paragraphs == ("warga alantaka Baru.",)


def test_markdown_canonical_url_nh3_refuses() -> None:
    text = '---\ncanonical: "https://a<b>.example/x"\n---\nTeks berita [tautan](/y) panjang.\n'
    outcome = _parse(text.encode(), "markdown")
    assert isinstance(outcome, Failed | Parsed)


def test_markdown_canonical_url_not_a_string() -> None:
    outcome = _parse(b"---\ncanonical: [1]\n---\nTeks berita [tautan](/y) panjang.\n", "markdown")
    assert isinstance(outcome, Failed)
    assert "canonical_url" in outcome.reason


def test_wordpress_type_not_a_string() -> None:
    rest = wp_rest_post(type={"rendered": "post"})
    assert isinstance(cms.translate(rest), cms.Upsert)
    hook = wp_webhook()
    hook["post"]["post_type"] = ["post"]
    assert isinstance(cms.translate(hook), cms.Upsert)


def test_ghost_tags_not_a_list() -> None:
    body = ghost_body("post.published")
    body["post"]["current"]["tags"] = -1
    article = article_from_payload(body, settings=SETTINGS, source="x")
    assert article.tags == ()


def test_json_file_with_odd_cms_shapes_fails_cleanly() -> None:
    body = ghost_body("post.published")
    body["post"]["current"]["tags"] = 5
    post = wp_rest_post(type={})
    outcomes = [_parse(json.dumps(item).encode(), "json") for item in (body, post)]
    assert all(isinstance(o, Parsed | Failed) for o in outcomes)


def test_feed_root_name_lxml_cannot_qualify() -> None:
    # recover=True names the root "fauthors:", which etree.QName refuses.
    with pytest.raises(ArticleRejected, match="root element"):
        parse_feed_or_sitemap(b'<fauthors: {a: 1}\need xmlns="x">', "https://n.example/")


def test_feed_surrogate_character_reference_skips_the_entry() -> None:
    xml = (
        b'<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        b"<url><loc>https://n.example/x</loc><news:news><news:title>&#xD800;T</news:title>"
        b"</news:news></url><url><loc>https://n.example/y</loc></url></urlset>"
    )
    entries = parse_feed_or_sitemap(xml, "https://n.example/sitemap.xml")
    assert [e.url for e in entries] == ["https://n.example/y"]


def test_wordpress_guid_and_link_urlsplit_refuses() -> None:
    post = wp_rest_post(guid={"rendered": "http://[::1/?p=1"}, link="http://[null]/x")
    with pytest.raises(cms.PayloadInvalid):
        cms.translate(post)
