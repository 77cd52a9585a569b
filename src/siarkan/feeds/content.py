"""An article's body as feed readers get it: self-contained, absolute, XML-safe HTML. Pure.

    article.body_html | parse (lxml) | drop active content (script, style, iframe, on*=, style=)
        | every URL absolute (href, src, srcset, poster, cite...) against the article's page
        | the body's own copy of the featured image dropped (any size of it)
        | dateline in bold at the start of the first paragraph
        | featured image as a <figure> on top | serialise | strip XML-illegal characters

Rules from the W3C Feed Validator (github w3c/feedvalidator, validators.py): relative URLs in
content are a warning (absUrlMixin), elements outside `acceptable_elements` (script, iframe,
object, embed, style, form...) and unknown attributes are "SecurityRisk" warnings, and the
content is parsed with html5lib in strict mode, so it must be well-formed HTML.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from siarkan.articles.model import Article, Image, same_picture

# XML 1.0 §2.2: Char excludes C0 controls other than TAB/LF/CR, surrogates, U+FFFE/U+FFFF.
# C1 controls (U+0080-U+009F) are legal XML but the validator reports them as "BadCharacters".
_ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Remove characters an XML document may not carry (lxml refuses them; readers choke)."""
    return _ILLEGAL_XML_RE.sub("", text)


# Elements whose content must go too (not only the tag): active or invisible content.
_DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "applet",
        "frame",
        "frameset",
        "form",
        "template",
        "head",
        "title",
        "meta",
        "link",
        "base",
        "svg",
        "math",
    }
)
# Attributes that carry URLs, resolved against the article's page.
_URL_ATTRS = ("href", "src", "poster", "cite", "longdesc", "background", "action")
# Anything not on the validator's acceptable_attributes list would be a SecurityRiskAttr.
_ALLOWED_ATTRS = frozenset(
    {
        "href",
        "src",
        "srcset",
        "sizes",
        "alt",
        "title",
        "width",
        "height",
        "cite",
        "datetime",
        "colspan",
        "rowspan",
        "scope",
        "headers",
        "lang",
        "dir",
        "start",
        "reversed",
        "type",
        "poster",
        "controls",
        "loop",
        "muted",
        "preload",
        "id",
        "class",
        "rel",
        "loading",
        "decoding",
        "abbr",
        "align",
        "valign",
        "span",
        "summary",
        "value",
        "label",
        "kind",
        "srclang",
        "hreflang",
        "target",
        "name",
    }
)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel", "data"})


def iri_to_uri(url: str) -> str:
    """Percent-encode what RFC 3986 does not allow raw (the validator's rfc2396 check is ASCII)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    try:
        host = parts.hostname or ""
        if host and not host.isascii():
            netloc = netloc.replace(host, host.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    safe = "/:@!$&'()*+,;=-._~%"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe + "?"),
            quote(parts.fragment, safe=safe + "?"),
        )
    )


def absolute(url: str, base: str) -> str | None:
    """`url` made absolute against `base`; None for schemes a reader should never follow."""
    url = url.strip()
    if not url:
        return None
    joined = urljoin(base, url)
    scheme = urlsplit(joined).scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        return None
    return iri_to_uri(joined)


def _absolute_srcset(value: str, base: str) -> str | None:
    candidates = []
    for candidate in value.split(","):
        bits = candidate.split()
        if not bits:
            continue
        url = absolute(bits[0], base)
        if url is None:
            continue
        candidates.append(" ".join([url, *bits[1:]]))
    return ", ".join(candidates) or None


def _clean_tree(root: lxml.html.HtmlElement, base: str) -> None:
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            if element.getparent() is not None:
                element.drop_tree()
            continue
        if element is root:
            continue
        if element.tag.lower() in _DROP_WITH_CONTENT:
            element.drop_tree()
            continue
        for name in list(element.attrib):
            lowered = name.lower()
            if lowered not in _ALLOWED_ATTRS:
                del element.attrib[name]
            elif lowered == "srcset":
                fixed = _absolute_srcset(element.attrib[name], base)
                if fixed is None:
                    del element.attrib[name]
                else:
                    element.attrib[name] = fixed
            elif lowered in _URL_ATTRS:
                fixed_url = absolute(element.attrib[name], base)
                if fixed_url is None:
                    del element.attrib[name]
                else:
                    element.attrib[name] = fixed_url
        if element.tag.lower() == "a" and element.get("target"):
            # target=_blank without rel=noopener lets the opened page script the reader.
            element.set("rel", "noopener")


def _prepend_dateline(root: lxml.html.HtmlElement, dateline: str) -> None:
    first = next((el for el in root if isinstance(el.tag, str) and el.tag == "p"), None)
    strong = etree.Element("strong")
    strong.text = dateline
    if first is None:
        paragraph = etree.Element("p")
        paragraph.append(strong)
        root.insert(0, paragraph)
        return
    strong.tail = " – " + (first.text or "")
    first.text = None
    first.insert(0, strong)


def figure_html(image: Image, base: str) -> str:
    """The featured image with its caption and credit, as one <figure>."""
    src = absolute(image.url, base)
    if src is None:
        return ""
    attrs = f'src="{escape(src)}" alt="{escape(xml_safe(image.alt))}"'
    if image.width and image.height:
        attrs += f' width="{image.width}" height="{image.height}"'
    caption = " ".join(part for part in (image.caption.strip(), image.credit.strip()) if part)
    figcaption = f"<figcaption>{escape(xml_safe(caption))}</figcaption>" if caption else ""
    return f"<figure><img {attrs}>{figcaption}</figure>"


def _picture_urls(block: lxml.html.HtmlElement) -> list[str]:
    urls = []
    for img in block.iter("img"):
        urls.append(img.get("src") or "")
        urls += [c.split()[0] for c in (img.get("srcset") or "").split(",") if c.split()]
        link = next(img.iterancestors("a"), None)
        if link is not None:
            urls.append(link.get("href") or "")
    return urls


_TEXT_OUTSIDE_CAPTION = etree.XPath("descendant::text()[not(ancestor::figcaption)]")


def is_picture(block: lxml.html.HtmlElement) -> bool:
    """A body block that holds a picture and no story text (its caption aside): a <figure>,
    or a paragraph or link around an <img>. Importers keep such blocks out of `paragraphs`."""
    if block.find(".//img") is None and block.tag != "img":
        return False
    return not "".join(_TEXT_OUTSIDE_CAPTION(block)).strip()


def drop_copies_of(root: lxml.html.HtmlElement, image: Image) -> None:
    """Remove the body's own blocks showing the featured picture, in any size.

    Themes print the featured image inside the article container (tagDiv's
    td-post-featured-image, Suara's figure.img-cover, a WordPress [caption] above the lead);
    every renderer shows `article.image` on top already, so a reader would see it twice."""
    for block in list(root):
        if not isinstance(block.tag, str) or not is_picture(block):
            continue
        if any(same_picture(url, image.url) for url in _picture_urls(block) if url):
            block.drop_tree()


def clean_fragment(html: str, base: str) -> lxml.html.HtmlElement:
    """Sanitised body HTML as a <div> whose children are the body's top-level elements."""
    root = lxml.html.fragment_fromstring(xml_safe(html) or "<p></p>", create_parent="div")
    _clean_tree(root, base)
    return root


def feed_content_html(article: Article, base: str) -> str:
    """The full article for content:encoded / atom:content / content_html.

    `base` is the page relative URLs in the body were written against: the publisher's
    canonical URL when the article came from there, else siarkan's permalink.
    """
    root = clean_fragment(article.body_html, base)
    if article.image:
        drop_copies_of(root, article.image)
    if article.dateline:
        _prepend_dateline(root, xml_safe(article.dateline))
    body = "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    if root.text and root.text.strip():
        body = escape(root.text) + body
    figure = figure_html(article.image, base) if article.image else ""
    return xml_safe(figure + body)
