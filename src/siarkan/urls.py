"""Every public URL siarkan makes, in one place, so ids never drift between modules.

Pure functions of (settings, names). Ids of ActivityPub objects and feed guids derive from
these, so changing a pattern here changes identities: don't, once published.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

from siarkan.articles.model import Article
from siarkan.config import Settings


def slugify(value: str, max_length: int = 80) -> str:
    """ASCII, lowercase, hyphen-separated; Indonesian text is Latin script so this reads well."""
    normalized = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", normalized.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "artikel"


def base(settings: Settings) -> str:
    return settings.site.base_url


def article_path(article_slug: str) -> str:
    return f"/artikel/{quote(article_slug)}"


def article_url(settings: Settings, article: Article) -> str:
    """siarkan's own permalink page for an article (always ours, never the origin's)."""
    return base(settings) + article_path(article.slug)


def article_link(settings: Settings, article: Article) -> str:
    """Where readers should go: the publisher's canonical page if it has one, else ours."""
    return article.canonical_url or article_url(settings, article)


def object_link(settings: Settings, article: Article) -> str:
    """The `url` of an article's fediverse posts: the canonical page if it is on our host, else
    ours. Misskey refuses a Note whose `url` host is unrelated to its `id` host
    (ApNoteService.createNote), so a publisher's canonical elsewhere cannot be the `url`."""
    canonical = article.canonical_url
    if canonical and urlsplit(canonical).hostname == urlsplit(base(settings)).hostname:
        return canonical
    return article_url(settings, article)


def article_guid(settings: Settings, article: Article) -> str:
    """Feed guid: derived from the stable id, so edits and slug changes never change it."""
    return f"{base(settings)}/id/artikel/{article.id}"


def channel_url(settings: Settings, channel_name: str) -> str:
    return f"{base(settings)}/kanal/{quote(channel_name)}"


def tag_url(settings: Settings, channel_name: str, tag: str) -> str:
    return f"{base(settings)}/kanal/{quote(channel_name)}/tag/{quote(slugify(tag))}"


def feed_url(settings: Settings, channel_name: str, fmt: str, *, scope: str = "") -> str:
    """fmt: rss | atom | json. scope: "" for the channel, or "section/x", "tag/x", "author/x"."""
    ext = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}[fmt]
    middle = f"/{scope}" if scope else ""
    return f"{base(settings)}/feeds/{quote(channel_name)}{middle}/{ext}"


def feed_archive_url(
    settings: Settings, channel_name: str, fmt: str, cursor: str, *, scope: str = ""
) -> str:
    """An RFC 5005 archive page of a feed; cursor from siarkan.feeds.paging.encode_cursor."""
    inner = f"{scope}/archive/{cursor}" if scope else f"archive/{cursor}"
    return feed_url(settings, channel_name, fmt, scope=inner)


def feeds_index_url(settings: Settings) -> str:
    """The HTML list of every feed (/feeds.opml is the same list for feed readers)."""
    return f"{base(settings)}/feeds"


def opml_url(settings: Settings) -> str:
    return f"{base(settings)}/feeds.opml"


def actor_url(settings: Settings, channel_name: str) -> str:
    return f"{base(settings)}/ap/actors/{quote(channel_name)}"


def profile_url(settings: Settings, username: str) -> str:
    return f"{base(settings)}/@{quote(username)}"


def websub_hub_url(settings: Settings) -> str:
    if settings.websub.external_hub:
        return settings.websub.external_hub
    return f"{base(settings)}/websub"


# --- ActivityPub: every id below is an identity once federated; never change a pattern ----------


def actor_key_id(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "#main-key"


def actor_inbox_url(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "/inbox"


def actor_outbox_url(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "/outbox"


def actor_followers_url(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "/followers"


def actor_following_url(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "/following"


def actor_featured_url(settings: Settings, channel_name: str) -> str:
    return actor_url(settings, channel_name) + "/featured"


def shared_inbox_url(settings: Settings) -> str:
    return f"{base(settings)}/ap/inbox"


def post_uri(settings: Settings, token: str) -> str:
    """A federated object (one excerpt part); `token` is opaque and never reused."""
    return f"{base(settings)}/ap/posts/{quote(token)}"


def activity_uri(settings: Settings, token: str) -> str:
    return f"{base(settings)}/ap/activities/{quote(token)}"


def nodeinfo_url(settings: Settings, version: str) -> str:
    return f"{base(settings)}/nodeinfo/{quote(version)}"


def authorize_interaction_template(settings: Settings) -> str:
    """WebFinger's OStatus subscribe template (RFC 6570 `{uri}` left for the client)."""
    return f"{base(settings)}/authorize_interaction?uri={{uri}}"


def followers_sync_url(settings: Settings, channel_name: str, domain: str) -> str:
    """FEP-8fcf partial followers collection for one remote instance (distribution/http.py)."""
    return f"{actor_url(settings, channel_name)}/followers_synchronization?domain={quote(domain)}"
