"""siarkan: syndicate a publisher's articles to feeds and the fediverse."""

USER_AGENT = "siarkan/0.1 (+https://github.com/siarkan/siarkan)"


def instance_user_agent(base_url: str) -> str:
    """The User-Agent of requests made for one instance: the software, then the instance's own
    address to reach its operator, as Mastodon sends ("http.rb/5.1.1 (Mastodon/4.2.0;
    +https://mastodon.social/)"); a receiving admin sees which server is calling."""
    return f"siarkan/0.1 (+{base_url}/; https://github.com/siarkan/siarkan)"
