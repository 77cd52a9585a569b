"""The public pages in headless Chromium (Debian package `chromium`), phone and desktop.

Each page must render with no console message at all (no script errors, no failed resource
loads), and a screenshot is saved under tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import html
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from tests.e2e.browser import DARK_MODE, dump_dom_async, require_chromium, screenshot_async
from tests.feeds.conftest import START, numbered
from tests.helpers import free_port, serve_app

from siarkan.articles.model import Image, RelatedLink, Status
from siarkan.clock import ManualClock
from siarkan.config import DatabaseSettings, Settings
from siarkan.publishing import article_changed
from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.web.app import create_app
from siarkan.web.security import PAGE_HEADERS

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
# A compound longer than a phone is wide, as headlines, tags and pasted URLs carry them.
LONG_WORD = "Pertanggungjawabanketerbukaaninformasipublikkabupatenserang"


def gradient_png(width: int, height: int) -> bytes:
    """A small photo stand-in (so pages load every resource from loopback)."""
    rows = b"".join(
        b"\x00"
        + bytes(
            v
            for x in range(width)
            for v in (40 + 150 * x // width, 90 + 80 * y // height, 140 - 60 * x // width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def site(settings: Settings, sqlite_url: str) -> AsyncIterator[str]:
    settings = settings.model_copy(update={"database": DatabaseSettings(url=sqlite_url)})
    db = Database(create_engine(sqlite_url))
    clock = ManualClock(START + timedelta(days=3))
    base = settings.site.base_url
    # Photos come from another origin, as from a publisher's image server: the pages' CSP
    # must let them load (127.0.0.2: loopback too, but another host to the browser).
    images = f"http://127.0.0.2:{free_port()}"
    photo = Image(
        url=f"{images}/test-images/banjir.png",
        alt="Warga mengarungi banjir",
        caption="Warga mengarungi banjir di Desa Julang, Kecamatan Cikande.",
        credit="Foto: Ahmad Fauzi/Prolog Media",
        media_type="image/png",
        width=1200,
        height=800,
    )
    async with db.begin() as conn:
        for i in range(14):
            article = numbered(i, image=photo if i % 3 == 0 else None)
            if i == 13:
                article = numbered(
                    i,
                    image=photo,
                    related=(
                        RelatedLink(
                            "Harga Cabai di Pasar Rau Naik Dua Kali Lipat",
                            f"{base}/artikel/berita-nomor-2",
                        ),
                        RelatedLink("BPBD Siagakan 40 Perahu Karet", None),
                    ),
                )
            stored = (await upsert_article(conn, article, now=clock.now())).article
            if i == 13:
                # Its posts, as published when the story came out: the profile lists them.
                when = stored.published_at or clock.now()
                await article_changed(conn, settings, stored, previous=None, now=when)
        await upsert_article(conn, numbered(20, status=Status.RETRACTED), now=clock.now())
        long_words = numbered(
            14,
            title=f"{LONG_WORD} Digelar di Serang",
            tags=(LONG_WORD, "pilkada"),
            published_at=START,
            updated_at=START,
        )
        await upsert_article(conn, long_words, now=clock.now())
        # A story with a photo of its own between two paragraphs, and a copy of its featured
        # photo at the top of the body, as WordPress themes print it (tests/articles/pages).
        story = ("Air merendam tiga kecamatan sejak Senin.", "Tanggul di Desa Kebon jebol.")
        with_photo = numbered(
            15,
            image=photo,
            body_html=(
                f'<figure><img src="{images}/test-images/banjir-696x464.png" alt=""></figure>'
                f"<p>{story[0]}</p>"
                f'<figure><img src="{images}/test-images/tanggul.png" alt="Tanggul jebol"'
                ' width="1200" height="800"><figcaption>Tanggul jebol di Desa Kebon. '
                "Foto: Ahmad Fauzi/Prolog Media</figcaption></figure>"
                f"<p>{story[1]}</p>"
            ),
            paragraphs=story,
        )
        await upsert_article(conn, with_photo, now=clock.now())
    app = create_app(settings, db=db, clock=clock, roles={"web"}, migrate=False)
    png = gradient_png(240, 160)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png, content_type="image/png")

    async def measure(request: web.Request) -> web.Response:
        """A page that frames `path` at phone width and records how wide its content is."""
        frame = html.escape(request.query["path"], quote=True)
        return web.Response(
            text=f"""<!doctype html><html><body>
<iframe id="f" src="{frame}" style="width:390px;height:844px;border:0"></iframe>
<script>
window.addEventListener("load", () => {{
  const root = document.getElementById("f").contentDocument.documentElement;
  const out = document.createElement("output");
  out.id = "widths";
  out.textContent = root.scrollWidth + "/" + root.clientWidth;
  document.body.append(out);
}});
</script></body></html>""",
            content_type="text/html",
        )

    async def images_loaded(request: web.Request) -> web.Response:
        """A page that frames `path` and records the natural width of each of its images
        that is not lazy (0: not loaded)."""
        frame = html.escape(request.query["path"], quote=True)
        return web.Response(
            text=f"""<!doctype html><html><body>
<iframe id="f" src="{frame}" style="width:1280px;height:900px;border:0"></iframe>
<script>
window.addEventListener("load", () => {{
  const found = document.getElementById("f").contentDocument.querySelectorAll("img");
  const out = document.createElement("output");
  out.id = "images";
  out.textContent = [...found].filter(i => i.loading !== "lazy").map(i => i.naturalWidth);
  document.body.append(out);
}});
</script></body></html>""",
            content_type="text/html",
        )

    async def story_photo(request: web.Request) -> web.Response:
        """A page that frames `path` at phone width and records, for the story's own photo,
        its width against a paragraph's, and whether its caption is set like the lead's."""
        frame = html.escape(request.query["path"], quote=True)
        return web.Response(
            text=f"""<!doctype html><html><body>
<iframe id="f" src="{frame}" style="width:390px;height:844px;border:0"></iframe>
<script>
window.addEventListener("load", () => {{
  const doc = document.getElementById("f").contentDocument;
  const figures = doc.querySelectorAll(".story-body figure");
  const width = e => Math.round(e.getBoundingClientRect().width);
  const font = e => getComputedStyle(e).fontFamily + " " + getComputedStyle(e).fontSize;
  const out = document.createElement("output");
  out.id = "photo";
  out.textContent = JSON.stringify({{
    figures: figures.length,
    images: doc.querySelectorAll("img").length,
    figure: figures.length ? width(figures[0].querySelector("img")) : 0,
    paragraph: width(doc.querySelector(".story-body p")),
    captionFont: figures.length ? font(figures[0].querySelector("figcaption")) : "",
    leadCaptionFont: font(doc.querySelector(".lead-image figcaption")),
  }});
  document.body.append(out);
}});
</script></body></html>""",
            content_type="text/html",
        )

    async def contrast(request: web.Request) -> web.Response:
        """A page that frames `path` and records each text whose contrast with what is
        behind it is below WCAG 2 AA (1.4.3): 4.5:1, or 3:1 for large text."""
        frame = html.escape(request.query["path"], quote=True)
        return web.Response(
            text=f"""<!doctype html><html><body>
<iframe id="f" src="{frame}" style="width:390px;height:844px;border:0"></iframe>
<script>{CONTRAST_SCRIPT}</script></body></html>""",
            content_type="text/html",
        )

    async def breaking_the_policy(request: web.Request) -> web.Response:
        """Our pages' policy on a page that breaks it: a clean console proves nothing unless
        a violation would show there."""
        return web.Response(text=CSP_BREAKER, content_type="text/html", headers=PAGE_HEADERS)

    app.router.add_get("/test-measure", measure)
    app.router.add_get("/test-images-loaded", images_loaded)
    app.router.add_get("/test-csp", breaking_the_policy)
    app.router.add_get("/test-contrast", contrast)
    app.router.add_get("/test-story-photo", story_photo)
    image_server = web.Application()
    image_server.router.add_get("/test-images/{name}", image)
    port = int(base.rsplit(":", 1)[1])
    image_host, image_port = images.removeprefix("http://").split(":")
    try:
        async with (
            serve_app(image_server, int(image_port), host=image_host),
            serve_app(app, port) as url,
        ):
            yield url
    finally:
        await db.close()


async def browse(url: str, name: str, viewport: str) -> tuple[Path, list[str], str]:
    """Screenshot + console messages + rendered DOM of one page (tests/e2e/browser.py)."""
    width, height = VIEWPORTS[viewport]
    shot = ARTIFACTS / f"{name}-{viewport}.png"
    console: list[str] = []
    await screenshot_async(url, shot, width, height, console=console)
    dom = await dump_dom_async(url, console=console)
    return shot, console, dom


# The WCAG 2 contrast ratio of every element's own text against the backgrounds behind it
# (alpha composited up to the canvas), as axe-core's color-contrast rule measures it; text
# hidden from everyone (display, clipped to 1px, off-screen) or from assistive technology
# (aria-hidden, decorative) is left out, as axe leaves it out.
CONTRAST_SCRIPT = """
const rgba = value => {
  const n = value.match(/[\\d.]+/g).map(Number);
  const scale = value.startsWith("color(") ? 255 : 1;
  return [n[0] * scale, n[1] * scale, n[2] * scale, n.length > 3 ? n[3] : 1];
};
const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3]))
  .concat([1]);
const luminance = rgb => rgb.slice(0, 3).map(c => c / 255)
  .map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
  .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
window.addEventListener("load", () => {
  const doc = document.getElementById("f").contentDocument;
  const view = doc.defaultView;
  const low = [];
  for (const el of doc.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    const style = view.getComputedStyle(el);
    if (!own || el.closest("[aria-hidden=true], svg") || box.width <= 1 || box.right <= 0
        || style.visibility !== "visible" || parseFloat(style.fontSize) === 0) continue;
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      layers.push(rgba(view.getComputedStyle(e).backgroundColor));
    }
    const dark = view.matchMedia("(prefers-color-scheme: dark)").matches;
    let back = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];  // Chromium's canvas
    for (const layer of layers.reverse()) back = over(layer, back);
    const fore = over(rgba(style.color), back);
    const [a, b] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio < needed) low.push(el.tagName.toLowerCase() + "." + el.className + " "
      + JSON.stringify(el.textContent.trim().slice(0, 30)) + " " + ratio.toFixed(2));
  }
  const out = document.createElement("output");
  out.id = "contrast";
  out.textContent = JSON.stringify(low);
  document.body.append(out);
});
"""


CSP_BREAKER = """<!doctype html><html><head><title>t</title><style>p { color: red }</style>
<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>
<body><p style="color: blue">x</p><script>document.title = "ran"</script></body></html>"""


async def test_photos_from_the_publishers_servers_load_under_the_policy(site: str) -> None:
    require_chromium()
    console: list[str] = []
    dom = await dump_dom_async(
        f"{site}/test-images-loaded?path=/artikel/berita-nomor-13", console=console
    )
    found = re.search(r'<output id="images">([\d,]*)</output>', dom)
    assert found, dom[-500:]
    assert found.group(1) == "240", found.group(1)  # the lead photo, 240 px wide as served
    assert console == [], console


async def test_the_console_reports_what_the_pages_policy_blocks(site: str) -> None:
    """Each page below must load with an empty console; this shows that Chromium does report
    a CSP violation there, so an empty console means the policy holds."""
    require_chromium()
    console: list[str] = []
    dom = await dump_dom_async(site + "/test-csp", console=console)
    blocked = [line for line in console if "Content Security Policy" in line]
    assert len(blocked) == 3, console  # the <style>, the style attribute, the inline script
    assert "<title>t</title>" in dom  # the script did not run
    assert not any("ld+json" in line for line in console)  # JSON-LD is data, never blocked


PAGES = {
    "home": ("/", "Berita terbaru"),
    "article": ("/artikel/berita-nomor-13", "Berita nomor 13: banjir di Serang"),
    "channel": ("/kanal/utama", "Prolog Media — Berita Utama"),
    "tag": ("/kanal/utama/tag/kabupaten-serang", "#Kabupaten Serang"),
    "feeds": ("/feeds", "Daftar feed"),
    "not-found": ("/artikel/tidak-ada", "Halaman tidak ditemukan"),
    "gone": ("/artikel/berita-nomor-20", "Artikel telah ditarik"),
    "profile": ("/@prologmedia", "Prolog Media — Berita Utama"),
}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("page", list(PAGES))
async def test_page_renders_cleanly(site: str, page: str, viewport: str) -> None:
    require_chromium()
    path, heading = PAGES[page]
    shot, console, dom = await browse(site + path, page, viewport)
    assert console == [], console
    assert shot.exists() and shot.stat().st_size > 5_000
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", dom, re.S)
    assert h1 and heading in h1.group(1).replace("&amp;", "&")
    # The stylesheet applied: the header's accent border is there in the computed page.
    assert 'class="site-header"' in dom
    if page == "article":
        assert 'id="p1"' in dom and 'class="related"' in dom


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/kanal/utama",
        "/artikel/berita-nomor-14",
        f"/kanal/utama/tag/{LONG_WORD.lower()}",
        "/feeds",
        "/preview/berita-nomor-14",
    ],
)
async def test_long_words_wrap_instead_of_widening_the_page_on_phones(site: str, path: str) -> None:
    require_chromium()
    dom = await dump_dom_async(f"{site}/test-measure?path={path}")
    found = re.search(r'<output id="widths">(\d+)/(\d+)</output>', dom)
    assert found, dom[-500:]
    scroll_width, client_width = int(found.group(1)), int(found.group(2))
    assert client_width == 390
    assert scroll_width <= client_width, f"{path} scrolls sideways: {scroll_width}px wide"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/artikel/berita-nomor-13",
        "/kanal/utama/tag/kabupaten-serang",
        "/feeds",
        "/@prologmedia",
        "/artikel/tidak-ada",
        "/preview/berita-nomor-14",
    ],
)
async def test_text_contrast_meets_wcag_aa_in_both_colour_schemes(
    site: str, path: str, scheme: str
) -> None:
    """The pages declare `color-scheme: light dark`: each scheme must be readable."""
    require_chromium()
    flags = [DARK_MODE] if scheme == "dark" else []
    dom = await dump_dom_async(f"{site}/test-contrast?path={path}", flags=flags)
    found = re.search(r'<output id="contrast">(.*?)</output>', dom)
    assert found, dom[-500:]
    assert json.loads(html.unescape(found.group(1))) == [], path


async def test_a_story_photo_spans_the_text_column_with_a_caption_like_the_leads(
    site: str,
) -> None:
    """A photo inside the story shows once (the featured one, repeated at the top of the
    body by the theme, does not), as wide as the text on a phone, its caption set like the
    lead photo's rather than in the story's serif."""
    require_chromium()
    console: list[str] = []
    dom = await dump_dom_async(
        f"{site}/test-story-photo?path=/artikel/berita-nomor-15", console=console
    )
    found = re.search(r'<output id="photo">(.*?)</output>', dom)
    assert found, dom[-500:]
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["figures"] == 1 and measured["images"] == 2, measured  # lead + story photo
    assert measured["figure"] == measured["paragraph"] > 300, measured
    assert measured["captionFont"] == measured["leadCaptionFont"], measured
    assert console == [], console
