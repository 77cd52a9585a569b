"""Configuration: one YAML file -> validated, typed settings.

    read file | expand ${VAR} | parse YAML keeping line marks | apply SIARKAN_* env overrides
        | validate with pydantic | map every error back to file:line:column

Every error is reported as `file:line:column: dotted.field.path: what was expected` and the
CLI exits 2 (see `ConfigError`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

DEFAULT_CONFIG_PATH = Path("config/siarkan.yaml")
ENV_PREFIX = "SIARKAN_"


class ConfigError(Exception):
    """One or more configuration problems, each already formatted for humans."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Field types


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an absolute http(s) URL, like https://news.example")
    # Kept as written: WordPress's feed is /feed/, and /feed is another URL (a redirect at
    # best, a 404 on a static host).
    return value


def _check_base_url(value: str) -> str:
    """Our own paths are appended to it: no trailing slash."""
    return _check_url(value).rstrip("/")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone name, like Asia/Jakarta") from None
    return value


_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError("a lowercase name of letters, digits and _ (it appears in URLs)")
    return value


_DURATION_PART_RE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(detik|days?|d|hours?|h|jam|minutes?|menit|min|m|seconds?|sec|s)", re.I
)
_DURATION_RE = re.compile(rf"(?:{_DURATION_PART_RE.pattern}\s*)+", re.I)


def _duration(value: Any) -> Any:
    """ "2h", "90 min", "1h30m", "1 jam" as well as pydantic's own "02:00:00", "PT2H", seconds."""
    if not isinstance(value, str) or not _DURATION_RE.fullmatch(value.strip()):
        return value
    seconds = 0.0
    for number, unit in _DURATION_PART_RE.findall(value):
        unit = unit.lower()
        if unit == "detik" or unit.startswith("s"):
            factor = 1
        elif unit.startswith("m"):
            factor = 60
        elif unit.startswith(("h", "jam")):
            factor = 3600
        else:
            factor = 86400
        seconds += float(number) * factor
    return timedelta(seconds=seconds)


HttpUrl = Annotated[str, AfterValidator(_check_url)]
BaseUrl = Annotated[str, AfterValidator(_check_base_url)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
Name = Annotated[str, AfterValidator(_check_name)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Sections


class SiteSettings(Strict):
    name: str
    base_url: BaseUrl
    language: str = "id"
    timezone: TimeZoneName = "Asia/Jakarta"
    description: str = ""
    icon: HttpUrl | None = None
    # The publisher's logo in article structured data (schema.org Organization.logo); without
    # it, `icon`. Google: an image at least 112x112 px it can crawl.
    logo: HttpUrl | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Graceful shutdown budget for in-flight requests on SIGTERM.
    shutdown_timeout: float = Field(10.0, gt=0)


class DatabaseSettings(Strict):
    url: str = "sqlite+aiosqlite:///data/siarkan.db"
    pool_size: int = Field(10, ge=1)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("a URL starting with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def _blank_is_unset(value: Any) -> Any:
    # `token: ""`, `${SIARKAN_ADMIN_TOKEN:-}` or SIARKAN_ADMIN_TOKEN= is no token: the API is
    # off (403, and check-config says so), not guarded by an empty secret.
    if isinstance(value, str) and not value.strip():
        return None
    return value


class AdminSettings(Strict):
    token: Annotated[SecretStr | None, BeforeValidator(_blank_is_unset)] = None
    max_body_bytes: int = Field(2_000_000, ge=1024)
    # POST /api/hooks/ghost: Ghost sends no Authorization header; it signs each body with the
    # secret set on its webhook (X-Ghost-Signature). Unset: the endpoint is off (403).
    ghost_secret: Annotated[SecretStr | None, BeforeValidator(_blank_is_unset)] = None
    # Seconds a signature stays good (either way of our clock): Ghost retries a failed delivery
    # with the same signature for about half a minute; an older one is a replay.
    ghost_max_age: int = Field(300, ge=30, le=86400)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> Any:
    """ "10.0.0.0/8", "::1/128" or one address ("192.0.2.7" is 192.0.2.7/32)."""
    if isinstance(value, IPNetwork):
        return value
    example = "in CIDR notation, like 10.0.0.0/8 or ::1/128"
    if not isinstance(value, str):  # pydantic would read the integer 300 as 0.0.1.44
        raise ValueError(f"a network {example}")
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a network: write it {example}") from None
    # 10.0.0.1/8 may mean 10.0.0.0/8 or a slip for 10.0.0.1/32: the operator says which.
    address = value.strip().split("/", 1)[0]
    raise ValueError(
        f"{value!r} has host bits set: write {network} for the network, or "
        f"{address}/{network.max_prefixlen} for the one address"
    )


Network = Annotated[IPNetwork, BeforeValidator(_network)]
LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.IPv4Network("127.0.0.0/8"),
    ipaddress.IPv6Network("::1/128"),
)


class MetricsSettings(Strict):
    """Who may read /metrics: a request with `Authorization: Bearer <token>`, or one from a
    client address inside `allow` that did not come through a proxy (see web/ops.py)."""

    token: Annotated[SecretStr | None, BeforeValidator(_blank_is_unset)] = None
    allow: tuple[Network, ...] = LOOPBACK
    # A process without the web role (a worker or scheduler on its own) has no HTTP listener;
    # with a port here it serves /healthz and /metrics (only those) on server.host:port.
    # Blank (SIARKAN_METRICS_PORT= in an env file) is unset, as for the token.
    port: Annotated[int | None, BeforeValidator(_blank_is_unset)] = Field(None, ge=0, le=65535)


class LoggingSettings(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "text"] = "json"


class ChannelMatch(Strict):
    """Which articles belong to a channel. Empty lists everywhere means every article."""

    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


ExcerptMode = Literal["summary", "thread", "series"]


DEFAULT_MAX_CHARS = 500  # Mastodon's limit for its own posts
SERIES_TARGET_CHARS = 1500


class ExcerptSettings(Strict):
    mode: ExcerptMode = "summary"
    max_chars: int = Field(DEFAULT_MAX_CHARS, ge=100, le=100_000)
    max_parts: int = Field(6, ge=1, le=50)
    include_title: bool = True
    strip_dateline: bool = True
    hashtags: int = Field(3, ge=0, le=10)
    paragraph_links: bool = False
    link_text: str = "Baca selengkapnya:"
    number_format: str = "{n}/{total}"
    series_parts: int = Field(3, ge=1, le=20)
    series_target_chars: int = Field(SERIES_TARGET_CHARS, ge=200)
    series_interval: Duration = timedelta(hours=2)
    language: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _series_size(cls, data: Any) -> Any:
        # A series part is a whole passage of the report (series_target_chars), released on its
        # own hours apart; at Mastodon's 500 it would be one paragraph and ~27 posts for one
        # report. Other servers show longer incoming posts in full (Misskey up to 3,000), so
        # unless max_chars is set explicitly, a series channel's posts may be as long as a part.
        if isinstance(data, dict) and data.get("mode") == "series" and "max_chars" not in data:
            target = data.get("series_target_chars", SERIES_TARGET_CHARS)
            if isinstance(target, int) and not isinstance(target, bool):
                data = {**data, "max_chars": max(DEFAULT_MAX_CHARS, target)}
        return data

    def overridden(self, **changes: Any) -> ExcerptSettings:
        """These settings with some replaced, validated again (so switching to series on a
        channel that left max_chars unset sizes its posts like a series channel's)."""
        return ExcerptSettings.model_validate(self.model_dump(exclude_unset=True) | changes)

    @field_validator("number_format")
    @classmethod
    def _has_placeholders(cls, value: str) -> str:
        if "{n}" not in value:
            raise ValueError("a format containing {n} (and optionally {total}), like {n}/{total}")
        return value


FeedFormat = Literal["rss", "atom", "json"]


class FeedSettings(Strict):
    enabled: bool = True
    formats: tuple[FeedFormat, ...] = ("rss", "atom", "json")
    items: int = Field(50, ge=1, le=1000)
    ttl_minutes: int = Field(30, ge=1)
    max_age: int = Field(300, ge=0)
    # Extra feeds per section / tag / author of this channel's articles.
    per: tuple[Literal["section", "tag", "author"], ...] = ()


ActorType = Literal["Organization", "Service", "Person", "Group", "Application"]


class FediverseSettings(Strict):
    enabled: bool = False
    username: str | None = None
    actor_type: ActorType = "Organization"
    display_name: str | None = None
    summary: str = ""
    icon: HttpUrl | None = None
    header: HttpUrl | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    discoverable: bool = True
    indexable: bool = True
    manually_approves_followers: bool = False
    object_type: Literal["Note", "Article"] = "Note"
    content_warning: str | None = None
    followers_list_public: bool = False
    show_replies: bool = False
    # The site-wide account Announces this channel's posts (set on section channels).
    announce_by: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,30}", value):
            raise ValueError("1-30 letters, digits or _ (Mastodon's username rule)")
        return value


def _parse_hhmm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


class QuietHours(Strict):
    start: str
    end: str

    @model_validator(mode="before")
    @classmethod
    def _from_range(cls, value: Any) -> Any:
        # The way people write it: "23:00-05:00" (or with an en dash), or [23:00, 05:00].
        if isinstance(value, str):
            start, sep, end = re.sub(r"\s*[–—-]\s*", "-", value.strip()).partition("-")
            if not sep:
                raise ValueError("a window like 23:00-05:00, or {start: '23:00', end: '05:00'}")
            return {"start": start, "end": end}
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return {"start": value[0], "end": value[1]}
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _sexagesimal(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 23:00 as the base-60 integer 1380.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return f"{value // 60:02d}:{value % 60:02d}"
        return value

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("a time of day as HH:MM, like 23:00")
        return value

    @property
    def window(self) -> tuple[time, time]:
        return _parse_hhmm(self.start), _parse_hhmm(self.end)


class ChannelSchedule(Strict):
    quiet_hours: QuietHours | None = None


class ChannelSettings(Strict):
    name: Name
    title: str
    description: str = ""
    language: str | None = None
    match: ChannelMatch = ChannelMatch()
    feeds: FeedSettings = FeedSettings()
    excerpts: ExcerptSettings = ExcerptSettings()
    fediverse: FediverseSettings = FediverseSettings()
    schedule: ChannelSchedule = ChannelSchedule()
    pinned: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _username_default(self) -> ChannelSettings:
        if self.fediverse.enabled and self.fediverse.username is None:
            object.__setattr__(
                self, "fediverse", self.fediverse.model_copy(update={"username": self.name})
            )
        return self


class FederationSettings(Strict):
    blocked_domains: tuple[str, ...] = ()
    signature_window: int = Field(3600, ge=30, le=43200)
    # Production keeps this off: remote fetches never reach private or loopback addresses.
    allow_private_addresses: bool = False
    fetch_timeout: float = Field(10.0, gt=0)
    max_fetch_bytes: int = Field(1_000_000, ge=1024)
    max_inbox_bytes: int = Field(1_000_000, ge=1024)
    key_cache_seconds: int = Field(86400, ge=0)
    # Outgoing signature scheme tried first; the other is tried once on 401 and remembered.
    first_knock: Literal["draft-cavage", "rfc9421"] = "draft-cavage"
    # "http" only for loopback tests: the scheme used for our own ids when base_url is http.


class DeliverySettings(Strict):
    concurrency: int = Field(64, ge=1, le=4096)
    per_host: int = Field(8, ge=1, le=256)
    lease_seconds: int = Field(120, ge=5)
    batch_size: int = Field(200, ge=1)
    poll_interval: float = Field(1.0, gt=0)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(10.0, gt=0)
    max_attempts: int = Field(16, ge=1, le=100)
    # A row whose lease ran out this many times in a row without a result is dead (it kills or hangs
    # the worker every time: OOM, segfault); a claim is not a try, so nothing else stops it.
    max_lease_expiries: int = Field(5, ge=1, le=1000)
    keep_sent_days: int = Field(7, ge=0)
    breaker_failures: int = Field(5, ge=1)
    breaker_seconds: int = Field(300, ge=1)
    unavailable_days: int = Field(7, ge=1)

    @model_validator(mode="after")
    def _lease_outlasts_a_try(self) -> DeliverySettings:
        # One try can take a connect and a read, twice (the re-signed second knock); a lease
        # that ends first lets a second worker (PostgreSQL) send the same delivery meanwhile.
        needed = 2 * (self.connect_timeout + self.read_timeout)
        if self.lease_seconds < needed:
            raise _located(
                ("delivery", "lease_seconds"),
                f"must be at least 2 x (connect_timeout + read_timeout) = {needed:g} s, or a "
                "worker may send a delivery another worker still holds",
            )
        return self


class WebSubSettings(Strict):
    enabled: bool = True
    # None: siarkan's own hub at /websub. A URL: ping that external hub on changes instead.
    external_hub: HttpUrl | None = None
    default_lease_seconds: int = Field(864000, ge=60)
    min_lease_seconds: int = Field(3600, ge=60)
    max_lease_seconds: int = Field(2592000, ge=60)
    verify_timeout: float = Field(10.0, gt=0)


class SchedulerSettings(Strict):
    tick_seconds: float = Field(15.0, gt=0)
    # A scheduled post whose time passed longer ago than this while we were down is published
    # to feeds but not pushed to followers (no stale posts flooding timelines).
    stale_after: Duration = timedelta(hours=12)


class ImportSettings(Strict):
    """How siarkan reads publishers' sites: `siarkan import URL` and the `sources` poller."""

    # RFC 9309: a crawler follows the site's robots.txt for the pages it finds in a feed or
    # sitemap. A publisher importing its own site, whose robots.txt may keep search engines
    # out of pages it now wants imported, may switch this off; for anyone else's, keep it on.
    respect_robots_txt: bool = True
    # One request at a time per host, this many seconds from the end of one to the start of
    # the next, unless robots.txt names a Crawl-delay (0: no pause; tests, your own CMS).
    crawl_delay: float = Field(0.5, ge=0, le=60)
    # A robots.txt Crawl-delay is honoured up to this (or up to crawl_delay, if longer):
    # "Crawl-delay: 3600" would stall an import of a few hundred pages for days.
    max_crawl_delay: float = Field(10.0, ge=0, le=600)
    # A report split over pages ("?page=2", wp_link_pages "/2/") is read to its end, at most
    # this many pages in all (1: page 1 only, as before).
    max_pages: int = Field(10, ge=1, le=50)
    # Sites (a host or its parent domain) whose articles show every page at "?page=all":
    # one request instead of N. Known from readers' "anti split page" scripts
    # (github.com/gvoze32/antisplitpage); the answer is used only if it is the same article
    # and longer than page 1, else the pages are read one by one.
    show_all_sites: tuple[str, ...] = (
        "tribunnews.com", "kompas.com", "grid.id", "suara.com", "kontan.co.id", "viva.co.id",
    )  # fmt: skip


class SourceSettings(Strict):
    url: HttpUrl
    kind: Literal["feed", "sitemap"] = "feed"
    interval: Duration = timedelta(minutes=15)
    fetch_full_page: bool = True
    section: str | None = None


def _located(loc: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """A whole-config check's error that still names the value it is about (see _error_loc)."""
    return PydanticCustomError("config_check", "{message}", {"message": message, "loc": loc})


class Settings(Strict):
    site: SiteSettings
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    admin: AdminSettings = AdminSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    channels: tuple[ChannelSettings, ...] = ()
    federation: FederationSettings = FederationSettings()
    delivery: DeliverySettings = DeliverySettings()
    websub: WebSubSettings = WebSubSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    imports: ImportSettings = ImportSettings()
    sources: tuple[SourceSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        # Each error carries the location of the offending value (ctx["loc"]), so the loader
        # can point at its line instead of at the top of the file.
        seen: dict[str, int] = {}
        for k, channel in enumerate(self.channels):
            if channel.name in seen:
                raise _located(
                    ("channels", k, "name"),
                    f"channel name {channel.name!r} is already used by "
                    f"channels.{seen[channel.name]}; channel names must be unique",
                )
            seen[channel.name] = k
        for k, channel in enumerate(self.channels):
            target = channel.fediverse.announce_by
            if target is not None and target not in seen:
                raise _located(
                    ("channels", k, "fediverse", "announce_by"),
                    f"names no channel: {target!r} (channels: {', '.join(seen)})",
                )
        users: dict[str, int] = {}
        for k, channel in enumerate(self.channels):
            user = channel.fediverse.username
            if channel.fediverse.enabled and user:
                if user.lower() in users:
                    raise _located(
                        ("channels", k, "fediverse", "username"),
                        f"fediverse username {user!r} is already used by "
                        f"channels.{users[user.lower()]}; fediverse usernames must be unique",
                    )
                users[user.lower()] = k
        return self

    def channel(self, name: str) -> ChannelSettings:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def advisories(settings: Settings) -> list[str]:
    """Valid settings that will still surprise someone: `dotted.path: what and why`.
    Printed by check-config and logged by serve; never an error."""
    notes: list[str] = []
    site = urlsplit(settings.site.base_url)
    federating = [c for c in settings.channels if c.fediverse.enabled]
    if federating and site.scheme != "https" and site.hostname not in _LOCAL_HOSTS:
        notes.append(
            "site.base_url: not https; Mastodon and most fediverse servers only fetch and "
            "follow https:// actors, so nobody outside will be able to follow "
            + ", ".join(f"@{c.fediverse.username or c.name}" for c in federating)
        )
    for k, channel in enumerate(settings.channels):
        excerpts = channel.excerpts
        if excerpts.mode == "series" and excerpts.max_chars < excerpts.series_target_chars:
            notes.append(
                f"channels.{k}.excerpts.max_chars: {excerpts.max_chars} is below "
                f"series_target_chars ({excerpts.series_target_chars}); each series part will "
                "be about one paragraph, some 20-30 posts for a long report"
            )
    if settings.admin.token is None:
        notes.append("admin.token: not set, so the admin API (POST /api/articles) is off")
    if settings.metrics.token is None and not settings.metrics.allow:
        notes.append("metrics: no token and an empty allow list, so /metrics refuses everyone")
    return notes


# ---------------------------------------------------------------------------------------------
# Loading


_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _MissingVar(NamedTuple):
    """A ${VAR} with no value and no default, where it stands in the file."""

    line: int
    column: int
    name: str


def _expand_vars(text: str, env: Mapping[str, str], missing: list[_MissingVar]) -> str:
    """Replace ${VAR} and ${VAR:-default}; a missing VAR without default becomes "" and is
    appended to `missing` (an error, unless an override replaces that setting)."""
    lines = text.split("\n")
    for lineno, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue

        def sub(match: re.Match[str], lineno: int = lineno) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            missing.append(_MissingVar(lineno + 1, match.start() + 1, name))
            return ""

        lines[lineno] = _VAR_RE.sub(sub, line)
    return "\n".join(lines)


def _setting_at(line: int, marks: dict[tuple[Any, ...], Mark]) -> str:
    """The dotted setting a ${VAR} on `line` stands in: the deepest value that starts on or
    before that line (a block scalar's text starts below its key)."""
    values = [(mark, path) for path, mark in marks.items() if path and path[-1] != "__key__"]
    before = [(mark[0], len(path), path) for mark, path in values if mark[0] <= line]
    if not before:
        return "(root)"
    return ".".join(str(part) for part in max(before)[2])


def _missing_var_problem(path: str, var: _MissingVar, setting: str) -> str:
    return (
        f"{path}:{var.line}:{var.column}: {setting}: environment variable {var.name} is not set"
        f" (${{{var.name}}} has no default; a secret referenced by the config)"
    )


Mark = tuple[int, int]


class _MarkedLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and records where every value stands."""


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            first = seen[key].start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first defined on line {first.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=True)


_MarkedLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _collect_marks(
    node: yaml.Node, path: tuple[Any, ...], marks: dict[tuple[Any, ...], Mark]
) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            # Point unknown-key errors at the key itself, values at their value.
            marks[(*path, key, "__key__")] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            _collect_marks(value_node, (*path, key), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, (*path, index), marks)


def _apply_env_overrides(
    data: dict[str, Any], env: Mapping[str, str], problems: list[str]
) -> dict[tuple[str, str], str]:
    """SIARKAN_<SECTION>_<KEY>=value sets data[section][key]; returns {(section, key): name}
    for the overrides applied, so an error in one names the variable, not the file."""
    applied: dict[tuple[str, str], str] = {}
    sections = {
        name for name, field in Settings.model_fields.items() if name not in ("channels", "sources")
    }
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == "SIARKAN_CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section not in sections or not key:
            continue
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            problems.append(f"{name}: {section}: cannot override inside a non-mapping section")
            continue
        try:
            target[key] = yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            target[key] = value
        # Strings that YAML reads as something else (e.g. a token "123") stay strings where a
        # string is expected; pydantic coerces the rest.
        if isinstance(target[key], int | float) and key in ("token", "url", "name"):
            target[key] = value
        applied[(section, key)] = name
    return applied


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    message: str = error["msg"]
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling; see config/siarkan.example.yaml)"
    if kind == "missing":
        return "required setting is missing"
    # pydantic's words are Python's ("a valid tuple"); say what to write in YAML instead.
    if kind in ("tuple_type", "list_type"):
        return 'a list, like [first, second] (or one "- item" per line)'
    if kind in ("bool_type", "bool_parsing"):
        return "true or false"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message


def _error_loc(error: Mapping[str, Any]) -> tuple[Any, ...]:
    """Where an error is: pydantic's loc, or for a whole-config check the loc it carries."""
    loc = tuple(error["loc"])
    context = error.get("ctx") or {}
    carried = context.get("loc")
    # A model check names its value below the model pydantic reports (delivery.lease_seconds).
    if isinstance(carried, tuple) and carried[: len(loc)] == loc:
        return carried
    return loc


def _locate(loc: tuple[Any, ...], marks: dict[tuple[Any, ...], Mark], kind: str) -> Mark:
    if kind == "extra_forbidden" and (*loc, "__key__") in marks:
        return marks[(*loc, "__key__")]
    for end in range(len(loc), -1, -1):
        prefix = loc[:end]
        if prefix in marks:
            return marks[prefix]
    return (1, 1)


def parse_settings(
    text: str, path: str = "<config>", env: Mapping[str, str] | None = None
) -> Settings:
    """Pure: YAML text (+ environment) -> Settings, or ConfigError with file:line:col lines."""
    env = os.environ if env is None else env
    missing: list[_MissingVar] = []
    text = text.removeprefix("\ufeff")
    expanded = _expand_vars(text, env, missing)
    # Before the YAML is read no setting is known: name the variable instead.
    problems = [_missing_var_problem(path, var, f"${{{var.name}}}") for var in missing]
    try:
        node = yaml.compose(expanded, Loader=_MarkedLoader)
        data = yaml.load(expanded, Loader=_MarkedLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        what = exc.problem or str(exc)
        context = exc.context_mark
        if exc.context and context is not None and mark is not None and context.line != mark.line:
            # The real mistake (an unclosed quote, a bad indent) is often where that began.
            what += f" ({exc.context} that began on line {context.line + 1})"
        if "\\t" in what or "\t" in what or "tab" in what.lower():
            what += " (YAML indentation must use spaces, not tabs)"
        elif "found ':'" in what:
            # A plain YAML value cannot begin with ':', and IPv6 loopback does (metrics.allow).
            what += ' (quote a value that begins with a colon, like "::1/128")'
        raise ConfigError([*problems, f"{where}: (yaml): {what}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([*problems, f"{path}:1:1: (yaml): {exc}"]) from None

    marks: dict[tuple[Any, ...], Mark] = {}
    if node is not None:
        _collect_marks(node, (), marks)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1:1: (root): a mapping of sections (site:, database:, ...)"])

    # A ${VAR} in a setting that SIARKAN_<SECTION>_<KEY> replaces is never used: compose.yaml
    # passes SIARKAN_DATABASE_URL, and the example's url: ...${PGPASSWORD}... must not stop it.
    problems = []
    overrides = _apply_env_overrides(data, env, problems)
    replaced = {marks[key][0] for key in overrides if key in marks}
    unset = [var for var in missing if var.line not in replaced]
    problems[:0] = [_missing_var_problem(path, v, _setting_at(v.line, marks)) for v in unset]
    # The "" left for an unset variable fails validation too ("a valid integer"): one mistake,
    # one message, so validation errors on those lines are left out.
    unset_lines = {var.line for var in unset}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _error_loc(error)
            line, column = _locate(loc, marks, error["type"])
            if line in unset_lines:
                continue
            dotted = ".".join(str(part) for part in loc) or "(root)"
            variable = overrides.get((loc[0], loc[1])) if len(loc) >= 2 else None
            if variable is not None:
                # The value came from the environment: the file's line would mislead.
                where = f"{variable} (environment variable, overrides {path}:{line}:{column})"
                if (*loc[:2], "__key__") not in marks:
                    where = f"{variable} (environment variable; {path} does not set it)"
                problems.append(f"{where}: {dotted}: {_describe(error)}")
                continue
            problems.append(f"{path}:{line}:{column}: {dotted}: {_describe(error)}")
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def resolve_config_path(cli_value: str | None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if cli_value:
        return Path(cli_value)
    if env.get("SIARKAN_CONFIG"):
        return Path(env["SIARKAN_CONFIG"])
    return DEFAULT_CONFIG_PATH


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [f"{path}:1:1: (file): cannot read the config file: {exc.strerror}"]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}:1:1: (file): not UTF-8 text ({exc.reason})"]) from None
    return parse_settings(text, str(path), env)
