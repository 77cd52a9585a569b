"""Security headers for the HTML pages (pure).

The policy allows what the templates use and nothing else: our stylesheet, images from
anywhere on the web (featured images and account icons live on the publisher's servers,
article bodies keep only http(s) images: articles/sanitize.py), no script at all (the JSON-LD
block is a data block, which HTML neither runs nor checks against script-src). The excerpt
preview stays one self-contained document: its inline <style> is allowed by its hash.
tests/e2e load every page in Chromium, which reports each CSP violation in the console.

`same_secret` compares a credential a request carries with ours (admin and metrics tokens,
Ghost's webhook signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def style_hash(css: str) -> str:
    """The CSP hash-source for an inline <style> whose text is exactly `css` (CSP Level 3)."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(style_src: str = "'self'") -> str:
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src {style_src}",
            "img-src 'self' https: http:",
            "base-uri 'none'",
            "form-action 'none'",
            # Other sites may not frame us (clickjacking); our own pages may.
            "frame-ancestors 'self'",
        )
    )


def html_headers(policy: str) -> Mapping[str, str]:
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        # Links out to sources carry our origin, never the article's path (the browsers'
        # default, said explicitly for older ones).
        "Referrer-Policy": "strict-origin-when-cross-origin",
        # frame-ancestors for browsers that predate it (CSP2).
        "X-Frame-Options": "SAMEORIGIN",
    }


PAGE_HEADERS = html_headers(content_security_policy())


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of a credential taken from a request header and ours.

    aiohttp decodes header values as UTF-8 with surrogateescape, so bytes that are not UTF-8
    arrive as lone surrogates: `str.encode()` then raised, and `compare_digest` refuses str
    with non-ASCII characters (TypeError), each an unauthenticated 500 instead of a 401."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
