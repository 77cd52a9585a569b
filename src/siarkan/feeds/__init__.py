"""RSS 2.0, Atom 1.0 and JSON Feed 1.1: rendering, paging, caching, HTTP and static export.

query.py (keyset reads, change key) -> paging.py (stable RFC 5005 archive boundaries)
-> model.py + content.py (FeedDoc / FeedItem, pure) -> rss.py / atom.py / jsonfeed.py
   (registered in render.py) -> cache.py + service.py -> http.py (live) / export.py (files)
opml.py: the feed list for feed readers.
"""
