"""same_host's fast path must agree with urlsplit on every input, odd ones included."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siarkan.federation.remote import _authority, same_host

ODD = [
    "https://Mastodon.Social/users/a",
    "https://u@h.example:443/p?q#f",
    "https://[::1]:8/x",
    "https://ex\tample.com/a",  # urlsplit deletes tabs: the host is example.com
    "https://a.example/p\tq",
    "mailto:x@y",
    "//host/x",
    "https://bücher.example/a",
    "https://h.example\\@evil/a",
    "HTTPS://H/",
    "",
]


def _netloc(url: str) -> str | None:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return None


@pytest.mark.parametrize("url", ODD)
def test_authority_is_urlsplits_netloc(url: str) -> None:
    assert _authority(url) == _netloc(url)


@given(
    st.text(alphabet=st.sampled_from("ahAH:/?#@[]\t\n.-+1 é\\"), max_size=24).map(
        lambda tail: "https://" + tail
    )
)
def test_authority_agrees_with_urlsplit(url: str) -> None:
    expected = _netloc(url)
    if expected is None:
        with pytest.raises(ValueError):
            _authority(url)
    else:
        assert _authority(url) == expected


def test_same_host() -> None:
    assert same_host("https://A.example/users/x#likes/1", "https://a.example/users/x")
    assert not same_host("https://a.example/x", "https://a.example.evil/x")
    assert not same_host("https://a.example@evil.example/x", "https://a.example/x")
