"""siarkan: syndicate a publisher's articles to feeds and the fediverse."""

USER_AGENT = "siarkan/0.1 (+https://github.com/siarkan/siarkan)"
