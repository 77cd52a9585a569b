"""Every table siarkan keeps. The database is the single source of truth.

SQLAlchemy Core tables (no ORM): the same definitions run on SQLite and PostgreSQL. Alembic
migrations under `migrations/versions` are generated from this metadata; change both together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which stores naive) as well."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one step to the text SQLAlchemy's DATETIME stores.

        The general road (process_bind_param, then DATETIME's own formatting) costs ~6 us a
        value, and the inbox writes two per accepted request; this gives the same text
        (`YYYY-MM-DD HH:MM:SS.ffffff`, microseconds always; a test holds them equal) in ~1 us.
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_utc_text

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=64)
def _second_text(second: tuple[int, int, int, int, int, int]) -> str:
    """A UTC second as SQLite text. The inbox stores two timestamps per request, most within the
    same few seconds; isoformat() costs twice this look-up (CPython formats each field, and
    the "+00:00" cut off afterwards, with a C sprintf)."""
    return "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*second)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is UTC:  # what the clock gives
        second = (value.year, value.month, value.day, value.hour, value.minute, value.second)
        return f"{_second_text(second)}.{value.microsecond:06d}"
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; attach a time zone first")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# BIGINT autoincrement does not autoincrement on SQLite; INTEGER there is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


# --- articles ---------------------------------------------------------------------------------

articles = Table(
    "articles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("canonical_url", String(2000), nullable=True, unique=True),
    Column("title", Text, nullable=False),
    Column("subtitle", Text, nullable=True),
    Column("dateline", String(200), nullable=True),
    Column("paragraphs", JSON, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("authors", JSON, nullable=False),
    Column("section", String(100), nullable=True, index=True),
    Column("tags", JSON, nullable=False),
    Column("language", String(20), nullable=False),
    Column("image", JSON, nullable=True),
    Column("related", JSON, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("publish_at", UtcDateTime, nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("source", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Bumped on every stored change (edit, retraction, publication): feed caches key on it.
    Column("changed_at", UtcDateTime, nullable=False, index=True),
    # Set once the scheduler has turned a scheduled article into published + distributed it.
    Column("distributed_at", UtcDateTime, nullable=True),
    Index("ix_articles_status_published", "status", "published_at", "id"),
    Index("ix_articles_section_published", "section", "published_at", "id"),
)

# Normalised copies of the JSON lists, for per-tag / per-author feeds with keyset pagination.
article_tags = Table(
    "article_tags",
    metadata,
    Column(
        "article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("tag", String(200), primary_key=True),
    Column("tag_slug", String(200), nullable=False, index=True),
)

article_authors = Table(
    "article_authors",
    metadata,
    Column(
        "article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("author", String(200), primary_key=True),
    Column("author_slug", String(200), nullable=False, index=True),
)

# --- federation -------------------------------------------------------------------------------

actors = Table(
    "actors",
    metadata,
    Column("name", String(100), primary_key=True),  # channel name
    Column("username", String(100), nullable=False, unique=True),
    # The published publicKey id ({actor}#main-key): signers read it with the private key.
    Column("key_id", String(2000), nullable=False),
    # The private key never leaves the database except to sign; it is never logged.
    Column("private_key_pem", Text, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("key_created_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

followers = Table(
    "followers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "actor_name", String(100), ForeignKey("actors.name", ondelete="CASCADE"), nullable=False
    ),
    Column("follower_uri", String(2000), nullable=False),
    Column("inbox", String(2000), nullable=False),
    Column("shared_inbox", String(2000), nullable=True),
    Column("host", String(255), nullable=False, index=True),
    Column("state", String(20), nullable=False),  # pending | accepted | rejected | blocked
    Column("follow_activity_id", String(2000), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("actor_name", "follower_uri"),
)

remote_actors = Table(
    "remote_actors",
    metadata,
    Column("uri", String(2000), primary_key=True),
    Column("key_id", String(2000), nullable=True, index=True),
    Column("public_key_pem", Text, nullable=True),
    Column("inbox", String(2000), nullable=True),
    Column("shared_inbox", String(2000), nullable=True),
    Column("document", JSON, nullable=True),
    Column("fetched_at", UtcDateTime, nullable=False),
)

# Every activity id we processed, so the same activity is handled once.
# One row, bumped by a trigger on every write to articles (migration 0005). The feed caches'
# change key reads it: taken under the row's lock, its values follow commit order, where
# changed_at follows each writer's clock and start time (an edit that commits after a quicker,
# later-stamped write moved no maximum, and a node kept serving the feed without it).
articles_version = Table(
    "articles_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

inbox_seen = Table(
    "inbox_seen",
    metadata,
    Column("activity_id", String(2000), primary_key=True),
    Column("type", String(50), nullable=False),
    Column("actor_uri", String(2000), nullable=False),
    Column("received_at", UtcDateTime, nullable=False, index=True),
)

# Signed requests already applied (the Ghost webhook's X-Ghost-Signature), shared by every
# node: a replay sent to another node, or after a restart, is still recognised (store/replays.py).
signatures_seen = Table(
    "signatures_seen",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 hex of the signature
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # like | announce | reply | private_reply
    Column("object_uri", String(2000), nullable=False, index=True),  # our post
    # Indexed: Mastodon sends an account's Delete to every inbox it knows (spam clean-ups send
    # thousands); each asks whether we know that actor, and the known ones are cleaned up.
    Column("actor_uri", String(2000), nullable=False, index=True),
    Column("activity_id", String(2000), nullable=False, unique=True),
    Column("content", Text, nullable=True),  # replies only, kept for moderation
    Column("created_at", UtcDateTime, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("actor_name", String(100), primary_key=True),
    Column("blocker_uri", String(2000), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# The fediverse objects we publish: one row per excerpt part (or Announce).
posts = Table(
    "posts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("uri", String(2000), nullable=False, unique=True),
    Column(
        "actor_name", String(100), ForeignKey("actors.name", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "article_id",
        String(64),
        ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("part", Integer, nullable=False, default=0),
    Column("object", JSON, nullable=False),
    Column("object_hash", String(64), nullable=False),
    Column("in_reply_to", String(2000), nullable=True),
    # scheduled (series / quiet hours) -> published -> deleted
    Column("state", String(20), nullable=False, index=True),
    Column("due_at", UtcDateTime, nullable=False, index=True),
    Column("published_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("pinned", Boolean, nullable=False, default=False),
    # One live post per part; a deleted one stays beside its successor, answering 410 with a
    # Tombstone at its id: a re-publication after a retraction, or a part dropped by an edit
    # and added again, gets a new id (Mastodon refuses a Create of an id it has a Tombstone
    # for: activitypub/activity/create.rb `tombstone_exists?`, delete.rb).
    Index(
        "uq_posts_live_part",
        "actor_name",
        "article_id",
        "part",
        unique=True,
        sqlite_where=text("state <> 'deleted'"),
        postgresql_where=text("state <> 'deleted'"),
    ),
)

# Outgoing activities, serialised once; the outbox collection pages over these.
activities = Table(
    "activities",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("uri", String(2000), nullable=False, unique=True),
    Column(
        "actor_name", String(100), ForeignKey("actors.name", ondelete="CASCADE"), nullable=False
    ),
    Column("type", String(30), nullable=False),
    Column("object_uri", String(2000), nullable=True, index=True),
    Column("body", Text, nullable=False),  # the JSON bytes as sent, signed per request
    Column("public", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_activities_actor_id", "actor_name", "id"),
)

# --- distribution -----------------------------------------------------------------------------

# The transactional outbox: one row per message to one inbox or WebSub callback.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # activitypub | websub
    # Indexed: every enqueue reads its rows back by activity, thread parts and edits find the
    # deliveries they follow by it, and deleting an activity cascades through it (a week of
    # sent rows is millions; each of those was a full scan, ~0.5 s at 3M rows on PostgreSQL).
    Column(
        "activity_id",
        BigInteger,
        ForeignKey("activities.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column(
        "subscription_id",
        BigInteger,
        ForeignKey("websub_subscriptions.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("target", String(2000), nullable=False),  # inbox or callback URL
    # The feed URL a WebSub publish ping (external hub) announces.
    Column("topic", String(2000), nullable=True),
    Column("host", String(255), nullable=False, index=True),
    Column("actor_name", String(100), nullable=True),  # whose key signs it
    Column("shared", Boolean, nullable=False, default=False),  # to a sharedInbox
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("leased_by", String(100), nullable=True),
    # Leases that ended without a result (the worker died or hung): a row whose sending kills
    # its worker every time is given up after delivery.max_lease_expiries (queue.claim).
    Column("lease_expiries", Integer, nullable=False, default=0, server_default="0"),
    # Thread order: this row waits until the delivery it follows has been sent.
    Column("after_id", BigInteger, nullable=True, index=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    # Claims read the oldest due rows in (due_at, id) order: this partial index hands them
    # over in that order, so a claim reads its window of rows instead of sorting the whole
    # queue (a 10k-row fan-out cost 8 ms per claim without it, growing with the queue).
    # No index may lead with `state`: SQLite's planner takes any equality on state over it.
    Index(
        "ix_deliveries_active_due",
        "due_at",
        "id",
        sqlite_where=text("state IN ('pending', 'retrying')"),
        postgresql_where=text("state IN ('pending', 'retrying')"),
    ),
    # Housekeeping deletes finished rows by age; the queue-depth gauge counts rows by state
    # from this narrow index instead of the table.
    Index("ix_deliveries_finished_state", "finished_at", "state"),
)

hosts = Table(
    "hosts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("breaker_open_until", UtcDateTime, nullable=True),
    Column("failure_days", JSON, nullable=False),  # distinct ISO dates with failures
    Column("unavailable", Boolean, nullable=False, default=False),
    Column("last_success_at", UtcDateTime, nullable=True),
    # Outgoing signature scheme that works with this host (double-knock memory).
    Column("signature_scheme", String(20), nullable=True),
)

websub_subscriptions = Table(
    "websub_subscriptions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic", String(2000), nullable=False),
    Column("callback", String(2000), nullable=False),
    Column("secret", String(200), nullable=True),
    Column("lease_seconds", Integer, nullable=False),
    # requested -> active -> (expired | unsubscribed); verification failures -> refused
    Column("state", String(20), nullable=False, index=True),
    Column("pending_mode", String(20), nullable=True),  # subscribe | unsubscribe awaiting check
    Column("pending_secret", String(200), nullable=True),
    Column("pending_lease_seconds", Integer, nullable=True),
    # PubSubHubbub 0.3's hub.verify_token, echoed in the verification GET (NewsBlur needs it).
    Column("pending_verify_token", String(255), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # sha256 of the last content delivered: the same document is not sent twice in a row.
    Column("sent_digest", String(64), nullable=True),
    UniqueConstraint("topic", "callback"),
)

sources_state = Table(
    "sources_state",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("etag", String(500), nullable=True),
    Column("last_modified", String(100), nullable=True),
    Column("last_polled_at", UtcDateTime, nullable=True),
    Column("next_poll_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)

# What a feed or sitemap named in `siarkan import` answered last time (ETag, Last-Modified),
# for a conditional GET on the next import; saved only after every page it listed was handled.
fetch_validators = Table(
    "fetch_validators",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("etag", String(500), nullable=True),
    Column("last_modified", String(100), nullable=True),
    Column("fetched_at", UtcDateTime, nullable=False),
)

# Cross-process mutual exclusion for periodic jobs (several scheduler nodes, one run each).
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(100), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_run_at", UtcDateTime, nullable=True),
)
