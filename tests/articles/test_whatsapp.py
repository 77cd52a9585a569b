"""WhatsApp's *bold*, _italic_ and ~strike~ markers in a report pasted from a chat."""

from __future__ import annotations

import pytest

from siarkan.articles.model import Article
from siarkan.articles.parsers import ParseContext, Parsed, parse_bytes
from siarkan.articles.whatsapp import strip_chat_styling
from siarkan.config import SiteSettings

SETTINGS = SiteSettings(name="Banten Pos", base_url="https://siarkan.example")
URL = "https://news.example/2026/03/nelayan-lebak"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("*Nelayan Lebak Tak Melaut*", "Nelayan Lebak Tak Melaut"),
        ('_"Kami berharap ada bantuan,"_ ujarnya.', '"Kami berharap ada bantuan," ujarnya.'),
        ("Harga ~Rp 12.000~ Rp 10.000 per kilo.", "Harga Rp 12.000 Rp 10.000 per kilo."),
        ("*Catatan:* rapat ditunda.", "Catatan: rapat ditunda."),
        ("(*Diskominfo Lebak*)", "(Diskominfo Lebak)"),
        ("*_Penting_* bagi nelayan", "Penting bagi nelayan"),
        ("Gelombang *4 meter* dan _angin kencang_.", "Gelombang 4 meter dan angin kencang."),
    ],
)
def test_markers_around_a_word_run_are_dropped(text: str, plain: str) -> None:
    assert strip_chat_styling(text) == plain


@pytest.mark.parametrize(
    "text",
    [
        "Luas lahan 5*3 meter persegi.",
        "Berkas laporan_nelayan_2026.pdf dikirim ke dinas.",
        "Harga Rp 5.000* berlaku hingga akhir bulan.",
        "Jaraknya ~5 km hingga ~10 km dari pantai.",
        "* Nelayan diimbau tidak melaut.",
        "**Nelayan** menunggu bantuan.",  # markdown's bold, not WhatsApp's
        "Tautan https://lebakkab.example/_berita_ dibagikan.",
        "*Rapat dimulai\npukul 09.00 WIB*",  # a run stays on its line
        "*) Data Dinas Kelautan dan Perikanan.",
    ],
)
def test_stars_and_underscores_inside_words_or_numbers_stay(text: str) -> None:
    assert strip_chat_styling(text) == text


def _article(text: str, kind: str) -> Article:
    ctx = ParseContext(settings=SETTINGS, source=URL, id_seed=URL)
    [outcome] = parse_bytes(text.encode(), kind, display="x", ctx=ctx)
    assert isinstance(outcome, Parsed), outcome
    return outcome.article


def test_a_report_pasted_from_whatsapp_loses_its_markers() -> None:
    article = _article(
        "*Ratusan Nelayan Binuangeun Tak Melaut*\n\n"
        "LEBAK – Ratusan nelayan di Binuangeun tidak melaut selama sepekan.\n\n"
        '_"Kalau tidak melaut, ya tidak ada penghasilan,"_ ujarnya.\n',
        "text",
    )
    assert article.title == "Ratusan Nelayan Binuangeun Tak Melaut"
    assert article.paragraphs == (
        "Ratusan nelayan di Binuangeun tidak melaut selama sepekan.",
        '"Kalau tidak melaut, ya tidak ada penghasilan," ujarnya.',
    )


def test_markdown_keeps_its_own_emphasis() -> None:
    article = _article("# Nelayan Lebak\n\nNelayan *tidak* melaut.\n", "markdown")
    assert "<em>tidak</em>" in article.body_html
