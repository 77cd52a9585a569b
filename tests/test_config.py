"""Configuration: every error names file:line:column and the dotted field; exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from siarkan.config import (
    ConfigError,
    advisories,
    load_settings,
    parse_settings,
    resolve_config_path,
)

GOOD = """\
site:
  name: Prolog Media
  base_url: https://news.example
channels:
  - name: utama
    title: Utama
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, "cfg.yaml", env or {})
    return info.value.problems


def test_defaults() -> None:
    settings = parse_settings(GOOD, "cfg.yaml", {})
    assert settings.site.language == "id"
    assert settings.site.timezone == "Asia/Jakarta"
    assert settings.database.url == "sqlite+aiosqlite:///data/siarkan.db"
    assert settings.channels[0].excerpts.max_chars == 500


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("  name: Prolog Media\n", "  name: Prolog Media\n  name: Lagi\n"),
            "cfg.yaml:3:3: (yaml): duplicate key 'name' (first defined on line 2)",
        ),
        ("site:\n\tname: x\n", "cfg.yaml:2:1: (yaml):"),
        (GOOD + "    colour: red\n", "cfg.yaml:7:5: channels.0.colour: unknown setting"),
        (GOOD.replace("title: Utama", "title: [1, 2]"), "cfg.yaml:6:12: channels.0.title:"),
        (GOOD + "database:\n  pool_size: many\n", "cfg.yaml:8:14: database.pool_size:"),
        (
            GOOD.replace("https://news.example", "news.example"),
            "cfg.yaml:3:13: site.base_url: an absolute http(s) URL",
        ),
        (
            GOOD.replace("  base_url:", "  timezone: Mars/Olympus\n  base_url:"),
            "cfg.yaml:3:13: site.timezone: an IANA time zone name",
        ),
        (
            GOOD.replace("  base_url:", "  logo: /logo.png\n  base_url:"),
            "cfg.yaml:3:9: site.logo: an absolute http(s) URL",
        ),
        ("channels: []\n", "cfg.yaml:1:1: site: required setting is missing"),
        (
            GOOD + "admin:\n  token: ${SECRET_TOKEN}\n",
            "cfg.yaml:8:10: admin.token: environment variable SECRET_TOKEN is not set",
        ),
    ],
)
def test_errors_name_file_line_and_field(text: str, expected: str) -> None:
    found = problems(text)
    assert found, "expected at least one problem"
    assert any(p.startswith(expected) for p in found), found


def test_imports_section_defaults_overrides_and_errors() -> None:
    imports = parse_settings(GOOD, "cfg.yaml", {}).imports
    assert (imports.respect_robots_txt, imports.crawl_delay, imports.max_crawl_delay) == (
        True,
        0.5,
        10.0,
    )
    # A publisher importing its own site switches robots.txt off, in the file or the env.
    own = parse_settings(GOOD, "cfg.yaml", {"SIARKAN_IMPORTS_RESPECT_ROBOTS_TXT": "false"})
    assert own.imports.respect_robots_txt is False
    text = GOOD + "imports:\n  respect_robots_txt: perhaps\n  crawl_delay: -1\n"
    found = problems(text)
    assert "cfg.yaml:8:23: imports.respect_robots_txt: true or false" in found, found
    assert any(p.startswith("cfg.yaml:9:16: imports.crawl_delay:") for p in found), found


def test_tab_error_explains_tabs() -> None:
    assert "not tabs" in problems("site:\n\tname: x\n")[0]


def test_env_expansion_and_overrides() -> None:
    text = GOOD + "admin:\n  token: ${SECRET_TOKEN}\n"
    env = {
        "SECRET_TOKEN": "s3cret",
        "SIARKAN_DATABASE_URL": "postgresql+asyncpg://u@db/siarkan",
        "SIARKAN_SERVER_PORT": "9000",
        "SIARKAN_SITE_BASE_URL": "https://other.example/",
    }
    settings = parse_settings(text, "cfg.yaml", env)
    assert settings.admin.token is not None
    assert settings.admin.token.get_secret_value() == "s3cret"
    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.server.port == 9000
    assert settings.site.base_url == "https://other.example"


def test_env_override_with_bad_value_is_reported() -> None:
    found = problems(GOOD, {"SIARKAN_SERVER_PORT": "eighty"})
    assert any("server.port" in p for p in found), found


def test_env_override_errors_name_the_variable_not_a_file_line() -> None:
    # The file's line holds a good value: pointing there sent operators hunting in the YAML.
    text = GOOD + "server:\n  port: 8080\n"
    found = problems(text, {"SIARKAN_SERVER_PORT": "eighty", "SIARKAN_SERVER_PROT": "1"})
    assert any(
        p.startswith("SIARKAN_SERVER_PORT (environment variable, overrides cfg.yaml:8:9): ")
        and "server.port: Input should be a valid integer" in p
        for p in found
    ), found
    assert any(
        p.startswith("SIARKAN_SERVER_PROT (environment variable; cfg.yaml does not set it): ")
        and "server.prot: unknown setting" in p
        for p in found
    ), found


TWO_CHANNELS = """\
site:
  name: Prolog Media
  base_url: https://news.example
channels:
  - name: utama
    title: Utama
    fediverse:
      enabled: true
      username: prologmedia
  - name: banten
    title: Banten
    fediverse:
      enabled: true
      username: banten
      announce_by: utama
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "- name: banten",
            "- name: utama",
            "cfg.yaml:10:11: channels.1.name: channel name 'utama' is already used by channels.0",
        ),
        (
            "announce_by: utama",
            "announce_by: utamaa",
            "cfg.yaml:15:20: channels.1.fediverse.announce_by: names no channel: 'utamaa'",
        ),
        (
            "username: banten",
            "username: PrologMedia",
            "cfg.yaml:14:17: channels.1.fediverse.username: fediverse username 'PrologMedia' is "
            "already used by channels.0",
        ),
    ],
)
def test_whole_config_checks_point_at_the_value(old: str, new: str, expected: str) -> None:
    # These were reported as "cfg.yaml:1:1: (root): ...", the top of the file.
    parse_settings(TWO_CHANNELS, "cfg.yaml", {})
    found = problems(TWO_CHANNELS.replace(old, new))
    assert any(p.startswith(expected) for p in found), found


def test_yaml_syntax_error_names_where_the_block_began() -> None:
    text = GOOD.replace("name: Prolog Media", 'name: "Prolog Media') + '    title2: "x"\n'
    (found,) = problems(text)
    assert "that began on line 2" in found, found


def test_default_with_dash_syntax() -> None:
    settings = parse_settings(GOOD + "admin:\n  token: ${T:-fallback}\n", "cfg.yaml", {})
    assert settings.admin.token is not None
    assert settings.admin.token.get_secret_value() == "fallback"


def test_config_path_resolution(tmp_path: Path) -> None:
    assert resolve_config_path("a.yaml", {}) == Path("a.yaml")
    assert resolve_config_path(None, {"SIARKAN_CONFIG": "b.yaml"}) == Path("b.yaml")
    assert resolve_config_path(None, {}) == Path("config/siarkan.yaml")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml", {})
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("site:\n  name: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(bad, {})


def test_shipped_configs_are_valid() -> None:
    root = Path(__file__).parent.parent
    for name in ("siarkan.yaml", "siarkan.example.yaml"):
        load_settings(root / "config" / name, {"PGPASSWORD": "x", "SIARKAN_ADMIN_TOKEN": "t"})
    # compose.yaml's environment: the whole database URL, no PGPASSWORD of its own.
    compose = {
        "SIARKAN_ADMIN_TOKEN": "t",
        "SIARKAN_DATABASE_URL": "postgresql+asyncpg://siarkan:pw@postgres:5432/siarkan",
    }
    for name in ("siarkan.yaml", "siarkan.example.yaml"):
        settings = load_settings(root / "config" / name, compose)
        assert settings.database.url == compose["SIARKAN_DATABASE_URL"]


def test_a_missing_variable_in_a_setting_the_environment_replaces_is_no_error() -> None:
    text = GOOD + "database:\n  url: postgresql+asyncpg://s:${PGPASSWORD}@db/s\n"
    url = "postgresql+asyncpg://s:pw@postgres/s"
    assert parse_settings(text, "cfg.yaml", {"SIARKAN_DATABASE_URL": url}).database.url == url
    # Still an error where the file's value is used, or another setting is replaced.
    expected = "cfg.yaml:8:31: database.url: environment variable PGPASSWORD is not set"
    for env in ({}, {"SIARKAN_DATABASE_POOL_SIZE": "3"}):
        assert [p for p in problems(text, env) if p.startswith(expected)], env


def test_an_unset_variable_names_its_setting_and_is_said_once() -> None:
    """README: every problem, missing secrets included, is file:line:column: dotted.field.path.
    The variable's "" also failed validation ("server.port: Input should be a valid integer"),
    a second message for the same mistake that pointed at the wrong thing."""
    text = GOOD + "server:\n  port: ${PORT}\n"
    assert problems(text) == [
        "cfg.yaml:8:9: server.port: environment variable PORT is not set"
        " (${PORT} has no default; a secret referenced by the config)"
    ]
    # In a block scalar the variable's line is below the setting's key.
    text = GOOD.replace("  base_url:", "  description: |\n    Berita\n    ${DESC}\n  base_url:")
    assert [p.split(": environment")[0] for p in problems(text)] == [
        "cfg.yaml:5:5: site.description"
    ]
    # Other errors on other lines are still reported.
    found = problems(GOOD + "server:\n  port: ${PORT}\n  host: [1]\n")
    assert [p.split(": ")[1] for p in found] == ["server.port", "server.host"], found


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`siarkan --config PATH check-config` in a child process, as ops run it."""
    command = [sys.executable, "-m", "siarkan.cli.main", "--config", str(path), "check-config"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_config_option_also_after_the_command(tmp_path: Path) -> None:
    # `siarkan check-config --config FILE` was "unrecognized arguments" (exit 2, no check).
    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD + "    colour: red\n")
    command = [sys.executable, "-m", "siarkan.cli.main", "check-config", "--config", str(broken)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert f"{broken}:7:5: channels.0.colour: unknown setting" in run.stderr, run.stderr


def test_check_config_command_exits_2_with_location(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD + "    fediverse:\n      enabled: maybe\n")
    run = check_config(broken)
    assert run.returncode == 2
    assert f"{broken}:8:16: channels.0.fediverse.enabled:" in run.stderr
    ok = tmp_path / "ok.yaml"
    ok.write_text(GOOD)
    run = check_config(ok)
    assert run.returncode == 0, run.stderr
    assert "ok" in run.stdout


@pytest.mark.parametrize(
    "quiet",
    [
        '{start: "23:00", end: "05:00"}',
        "{start: 23:00, end: 05:00}",  # YAML 1.1 reads unquoted 23:00 as 1380
        "23:00-05:00",
        '"23:00 – 05:00"',
        "[23:00, 05:00]",
    ],
)
def test_quiet_hours_as_people_write_them(quiet: str) -> None:
    text = GOOD + f"    schedule:\n      quiet_hours: {quiet}\n"
    window = parse_settings(text, "cfg.yaml", {}).channels[0].schedule.quiet_hours
    assert window is not None
    assert [t.isoformat(timespec="minutes") for t in window.window] == ["23:00", "05:00"]


def test_quiet_hours_without_an_end_are_refused() -> None:
    text = GOOD + "    schedule:\n      quiet_hours: '23:00'\n"
    assert any("quiet_hours" in p and "23:00-05:00" in p for p in problems(text))


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("2h", 7200),
        ("90 min", 5400),
        ("1h30m", 5400),
        ("1 jam", 3600),
        ("45 detik", 45),
        ("1d", 86400),
        ('"02:00:00"', 7200),
        ("PT2H", 7200),
        ("7200", 7200),
    ],
)
def test_intervals_accept_units(written: str, seconds: int) -> None:
    text = GOOD + f"    excerpts:\n      series_interval: {written}\n"
    settings = parse_settings(text, "cfg.yaml", {})
    assert settings.channels[0].excerpts.series_interval.total_seconds() == seconds


@pytest.mark.parametrize(
    ("excerpts", "max_chars"),
    [
        ("{mode: series}", 1500),  # a part is a passage, not one paragraph
        ("{mode: series, series_target_chars: 2200}", 2200),
        ("{mode: series, max_chars: 500}", 500),  # said explicitly: kept
        ("{mode: thread}", 500),
    ],
)
def test_series_posts_are_sized_like_their_parts(excerpts: str, max_chars: int) -> None:
    text = f"""
site: {{name: Prolog Media, base_url: "https://prologmedia.example"}}
channels:
  - name: utama
    title: Utama
    excerpts: {excerpts}
"""
    settings = parse_settings(text, "siarkan.yaml", env={})
    assert settings.channels[0].excerpts.max_chars == max_chars
    switched = settings.channels[0].excerpts.overridden(mode="series")
    assert switched.max_chars == max(max_chars, 1500) or "max_chars" in excerpts


def test_advisories_name_what_will_surprise() -> None:
    from siarkan.config import advisories

    text = """
site: {name: Prolog Media, base_url: "http://prologmedia.example"}
channels:
  - name: utama
    title: Utama
    fediverse: {enabled: true, username: prologmedia}
    excerpts: {mode: series, max_chars: 500}
"""
    notes = advisories(parse_settings(text, "siarkan.yaml", env={}))
    assert len(notes) == 3
    assert notes[0].startswith("site.base_url: not https") and "@prologmedia" in notes[0]
    assert notes[1].startswith("channels.0.excerpts.max_chars: 500 is below")
    assert notes[2].startswith("admin.token: not set")
    quiet = """
site: {name: Prolog Media, base_url: "https://prologmedia.example"}
admin: {token: rahasia}
channels:
  - name: utama
    title: Utama
    fediverse: {enabled: true, username: prologmedia}
    excerpts: {mode: series}
"""
    assert advisories(parse_settings(quiet, "siarkan.yaml", env={})) == []
    # Loopback is how everyone tries it first: no https warning there.
    local = quiet.replace("https://prologmedia.example", "http://127.0.0.1:8080")
    assert advisories(parse_settings(local, "siarkan.yaml", env={})) == []


def test_check_config_prints_advisories(tmp_path: Path) -> None:
    path = tmp_path / "siarkan.yaml"
    path.write_text('site: {name: Prolog Media, base_url: "https://prologmedia.example"}\n')
    result = check_config(path)
    assert result.returncode == 0, result.stderr
    assert f"{path}: warning: admin.token: not set" in result.stdout


def test_a_delivery_lease_shorter_than_a_try_is_refused_where_it_is_set() -> None:
    text = (
        'site: {name: X, base_url: "https://x.example"}\n'
        "delivery:\n"
        "  read_timeout: 3\n"
        "  lease_seconds: 10\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "lease.yaml", env={})
    (problem,) = caught.value.problems
    assert problem.startswith("lease.yaml:4:") and "delivery.lease_seconds" in problem
    assert "16 s" in problem
    settings = parse_settings(text.replace("10", "16"), "lease.yaml", env={})
    assert settings.delivery.lease_seconds == 16


def test_the_shipped_config_leaves_the_admin_api_off_without_a_token() -> None:
    """config/siarkan.yaml is also the Docker image's config (listening on 0.0.0.0): a default
    token written in it ("demo-token-ganti-saya") opened the admin API to anyone."""
    shipped = Path(__file__).parent.parent / "config" / "siarkan.yaml"
    for env in ({}, {"SIARKAN_ADMIN_TOKEN": ""}, {"SIARKAN_ADMIN_TOKEN": "  "}):
        settings = load_settings(shipped, env)
        assert settings.admin.token is None, env
        assert any(note.startswith("admin.token") for note in advisories(settings))
    settings = load_settings(shipped, {"SIARKAN_ADMIN_TOKEN": "s3cret"})
    assert settings.admin.token is not None
    assert settings.admin.token.get_secret_value() == "s3cret"


def test_metrics_default_to_loopback_without_a_token() -> None:
    metrics = parse_settings(GOOD, "cfg.yaml", {}).metrics
    assert metrics.token is None
    assert [str(n) for n in metrics.allow] == ["127.0.0.0/8", "::1/128"]
    text = (
        GOOD
        + 'metrics:\n  token: ${METRICS_TOKEN:-}\n  allow: [10.0.0.0/8, "fd00::/8", 192.0.2.7]\n'
    )
    metrics = parse_settings(text, "cfg.yaml", {}).metrics
    assert metrics.token is None  # an empty secret is no secret
    assert [str(n) for n in metrics.allow] == ["10.0.0.0/8", "fd00::/8", "192.0.2.7/32"]
    metrics = parse_settings(text, "cfg.yaml", {"SIARKAN_METRICS_TOKEN": "123"}).metrics
    assert metrics.token is not None and metrics.token.get_secret_value() == "123"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "10.0.0.1/8",
            "'10.0.0.1/8' has host bits set: write 10.0.0.0/8 for the network, or "
            "10.0.0.1/32 for the one address",
        ),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a network: write it in CIDR notation"),
        ("intranet", "'intranet' is not a network"),
        ("8", "a network in CIDR notation"),  # not the address 0.0.0.8
    ],
)
def test_a_bad_metrics_network_names_file_line_and_field(entry: str, expected: str) -> None:
    text = GOOD + f"metrics:\n  allow:\n    - 127.0.0.0/8\n    - {entry}\n"
    (problem,) = problems(text)
    assert problem.startswith(f"cfg.yaml:10:7: metrics.allow.1: {expected}"), problem


def test_a_bad_metrics_network_from_the_environment_names_the_variable() -> None:
    (problem,) = problems(GOOD, {"SIARKAN_METRICS_ALLOW": "[10.0.0.0/8, 10.1.0.0/8]"})
    assert problem.startswith(
        "SIARKAN_METRICS_ALLOW (environment variable; cfg.yaml does not set it): "
        "metrics.allow.1: '10.1.0.0/8' has host bits set"
    ), problem


def test_metrics_open_to_nobody_is_an_advisory() -> None:
    closed = parse_settings(GOOD + "metrics:\n  allow: []\n", "cfg.yaml", {})
    assert "metrics: no token and an empty allow list" in " ".join(advisories(closed))
    with_token = parse_settings(GOOD + "metrics:\n  allow: []\n  token: t\n", "cfg.yaml", {})
    assert not any(note.startswith("metrics") for note in advisories(with_token))


def test_a_single_value_where_a_list_belongs_says_to_write_a_list() -> None:
    # pydantic said "Input should be a valid tuple": Python's word, and no hint of the fix.
    expected = 'metrics.allow: a list, like [first, second] (or one "- item" per line)'
    assert problems(GOOD + "metrics:\n  allow: 10.0.0.0/8\n") == [f"cfg.yaml:8:10: {expected}"]
    assert problems(GOOD, {"SIARKAN_METRICS_ALLOW": "10.0.0.0/8"}) == [
        f"SIARKAN_METRICS_ALLOW (environment variable; cfg.yaml does not set it): {expected}"
    ]


def test_an_unquoted_ipv6_loopback_says_to_quote_it() -> None:
    (problem,) = problems(GOOD + "metrics:\n  allow: [127.0.0.0/8, ::1/128]\n")
    assert problem.startswith("cfg.yaml:8:24: (yaml): "), problem
    assert problem.endswith('(quote a value that begins with a colon, like "::1/128")'), problem


def test_metrics_port_from_the_environment() -> None:
    assert parse_settings(GOOD, "cfg.yaml", {"SIARKAN_METRICS_PORT": "9101"}).metrics.port == 9101
    # An env file's `SIARKAN_METRICS_PORT=` is no port, as an empty token is no token.
    assert parse_settings(GOOD, "cfg.yaml", {"SIARKAN_METRICS_PORT": ""}).metrics.port is None
    (problem,) = problems(GOOD, {"SIARKAN_METRICS_PORT": "abc"})
    assert problem.startswith(
        "SIARKAN_METRICS_PORT (environment variable; cfg.yaml does not set it): metrics.port: "
    ), problem


def test_urls_keep_their_trailing_slash_but_base_url() -> None:
    """A source polled as written: WordPress's feed is /feed/, and /feed is another URL."""
    text = GOOD.replace("news.example", "news.example/") + (
        "sources:\n  - url: https://prologmedia.example/feed/\n"
        "websub:\n  external_hub: https://pubsubhubbub.appspot.com/\n"
    )
    settings = parse_settings(text, "cfg.yaml", {})
    assert settings.sources[0].url == "https://prologmedia.example/feed/"
    assert settings.websub.external_hub == "https://pubsubhubbub.appspot.com/"
    assert settings.site.base_url == "https://news.example"  # our paths are appended to it
