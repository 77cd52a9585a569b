"""The `siarkan` command's entry point ([project.scripts], `python -m siarkan.cli.main`).

    main(argv) | import cli.dispatch (SQLAlchemy, aiohttp, lxml, Alembic, the parsers: a second
               or more) | dispatch.main(argv)
    Ctrl-C at any point: "siarkan: interrupted", exit 130 (128 + SIGINT, as shells report it)

Only the standard library is imported here, so that a Ctrl-C while the rest is still being
imported (most of `siarkan serve`'s startup) ends with that one line, not a KeyboardInterrupt
traceback from inside some import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from siarkan.cli import dispatch

        return dispatch.main(argv)
    except KeyboardInterrupt:
        print("siarkan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    """The command line parser (for tests and tools; imports every command)."""
    from siarkan.cli import dispatch

    return dispatch.build_parser()


if __name__ == "__main__":
    sys.exit(main())
