"""The `siarkan` command behind its entry point (cli.main): parse arguments, load the config,
run one async handler.

Each command group lives in its own module with `register(subparsers)`; handlers are
`async def run(args, ctx) -> int`. Config errors print `file:line:col: field: expected` and
exit 2 before any handler runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import sqlalchemy.engine
import sqlalchemy.exc
from alembic.util.exc import CommandError as AlembicCommandError

from siarkan.cli import (
    core_cmd,
    distribution_cmd,
    excerpts_cmd,
    export_cmd,
    federation_cmd,
    import_cmd,
)
from siarkan.cli.context import CliContext
from siarkan.config import ConfigError, load_settings, resolve_config_path
from siarkan.logs import setup_logging
from siarkan.store.engine import SchemaOutOfDate

COMMAND_MODULES = (core_cmd, import_cmd, excerpts_cmd, export_cmd, federation_cmd, distribution_cmd)

EXIT_CONFIG = 2
CONFIG_HELP = "YAML config file (default: $SIARKAN_CONFIG, else config/siarkan.yaml)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siarkan",
        description="Syndicate a publisher's articles to feeds and the fediverse.",
    )
    parser.add_argument("--config", help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    for command in sub.choices.values():
        _accept_config(command)
    return parser


def _accept_config(parser: argparse.ArgumentParser) -> None:
    """`siarkan check-config --config FILE` works too, not only before the command: every
    (sub)command takes --config; SUPPRESS keeps an earlier one unless it is given again."""
    parser.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _accept_config(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    path = resolve_config_path(args.config)
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    # Commands that print for humans log as text; `serve` logs JSON (settings.logging.format).
    log_format = settings.logging.format if args.command == "serve" else "text"
    setup_logging(settings.logging.level if args.command == "serve" else "warning", log_format)
    ctx = CliContext(settings=settings, config_path=path)
    try:
        result: int = asyncio.run(args.handler(args, ctx))
    except SchemaOutOfDate as exc:
        print(f"siarkan: {exc}", file=sys.stderr)
        return 1
    except AlembicCommandError as exc:  # `db downgrade nope`
        print(f"siarkan: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `siarkan excerpts ... | head`: the reader left; say nothing more, like other tools.
        # Before ConnectionError, of which BrokenPipeError is a kind.
        # stdout is pointed at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (sqlalchemy.exc.DBAPIError, ConnectionError) as exc:
        # Database down, wrong password, no such database: one line, not a traceback.
        reason = getattr(exc, "orig", None) or exc
        url = sqlalchemy.engine.make_url(settings.database.url).render_as_string()
        print(f"siarkan: cannot use the database {url}: {reason}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or directory we cannot write, an address in use
        print(f"siarkan: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C (KeyboardInterrupt) is cli.main's: it may come before this module is imported.
    return result
