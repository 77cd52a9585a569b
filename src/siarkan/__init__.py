"""siarkan: syndicate a publisher's articles to feeds and the fediverse."""

# The product token (RFC 9110 §10.1.5) every User-Agent of ours starts with, and the name a
# robots.txt group must give to address us (RFC 9309 §2.2.1): one constant, so the two agree.
PRODUCT = "siarkan"
VERSION = "0.1"
PROJECT_URL = "https://github.com/siarkan/siarkan"

# For code with no settings at hand (pure helpers, tests): names the software, not the instance.
USER_AGENT = f"{PRODUCT}/{VERSION} (+{PROJECT_URL})"


def instance_user_agent(base_url: str) -> str:
    """The User-Agent of requests made for one instance: the software, then the instance's own
    address to reach its operator, as Mastodon sends ("http.rb/5.1.1 (Mastodon/4.2.0;
    +https://mastodon.social/)"); a receiving admin sees which server is calling."""
    return f"{PRODUCT}/{VERSION} (+{base_url}/; {PROJECT_URL})"
