"""Topic URLs a subscriber may send: ours exactly, near misses (pointed at rel=self), others."""

from __future__ import annotations

import pytest

from siarkan.config import Settings
from siarkan.distribution.topics import near_topic, parse_topic
from siarkan.distribution.websub import HubError, parse_hub_request
from siarkan.urls import feed_url


def test_a_near_miss_points_at_the_rel_self_url(settings: Settings) -> None:
    topic = feed_url(settings, "utama", "atom")
    scheme, rest = topic.split("://", 1)
    host, path = rest.split("/", 1)
    shouting = f"{scheme.upper()}://{host.upper()}/{path}"
    for near in (topic + "?utm_source=rss", topic + "#x", topic + "/", shouting):
        assert parse_topic(settings, near) is None
        found = near_topic(settings, near)
        assert found is not None and found.url == topic
        with pytest.raises(HubError, match=f"rel=self URL {topic}$"):
            parse_hub_request(
                {"hub.mode": "subscribe", "hub.topic": near, "hub.callback": "https://r.example/"},
                settings,
            )


@pytest.mark.parametrize(
    "url",
    ["https://elsewhere.example.org/feeds/utama/atom.xml", "FEED/extra", "FEED.bak?x=1"],
)
def test_other_urls_are_simply_unknown(settings: Settings, url: str) -> None:
    url = url.replace("FEED", feed_url(settings, "utama", "atom"))
    assert near_topic(settings, url) is None
    with pytest.raises(HubError, match="only serves this site's feeds"):
        parse_hub_request(
            {"hub.mode": "subscribe", "hub.topic": url, "hub.callback": "https://r.example/"},
            settings,
        )
