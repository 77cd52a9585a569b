"""Headless Chromium for tests: screenshots, rendered DOM, console messages.

    require_chromium()            -> binary path, or skip with a printed reason (fail if CI=true)
    screenshot(url, path, w, h)   -> PNG at path   (sync: server in another thread or process)
    dump_dom(url)                 -> the DOM after load (sync)
    screenshot_async / dump_dom_async: the same without blocking the event loop (use these
        when the server under test runs in the test's own loop, or it would never answer)

Pass `console=[]` to collect the page's console messages (errors, failed loads): Chromium
prints them to stderr with `--enable-logging=stderr --v=0` as "...:CONSOLE(n)] ..." lines.
Every run gets a fresh profile and no network chatter of its own (no sync, updates, QUIC).
`flags` adds Chromium switches, e.g. DARK_MODE (the page sees prefers-color-scheme: dark).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
TIMEOUT = 90.0
DARK_MODE = "--force-dark-mode"


def chromium_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium binary; without one, skip (printing why) or, under CI=true, fail."""
    found = chromium_path()
    if found:
        return found
    reason = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required in CI but unavailable: {reason}")
    print(f"\nSKIP: {reason}")
    pytest.skip(reason)
    raise AssertionError("unreachable")


def _command(profile: str, *extra: str) -> list[str]:
    return [
        require_chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
    ]


def _console(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]


def _run(args: list[str], console: list[str] | None) -> bytes:
    done = subprocess.run(args, capture_output=True, timeout=TIMEOUT, check=False)
    if console is not None:
        console.extend(_console(done.stderr))
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return done.stdout


async def _run_async(args: list[str], console: list[str] | None) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if console is not None:
        console.extend(_console(stderr))
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {stderr.decode()[-2000:]}")
    return stdout


def _shot_args(profile: str, url: str, path: Path, width: int, height: int) -> list[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _command(profile, f"--window-size={width},{height}", f"--screenshot={path}", url)


def screenshot(
    url: str, path: Path | str, width: int, height: int, *, console: list[str] | None = None
) -> None:
    """Save a PNG of `url` rendered in a `width` x `height` window."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        _run(_shot_args(profile, url, Path(path), width, height), console)


def dump_dom(url: str, *, console: list[str] | None = None) -> str:
    """The serialised DOM of `url` once it has loaded."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return _run(_command(profile, "--dump-dom", url), console).decode()


async def screenshot_async(
    url: str, path: Path | str, width: int, height: int, *, console: list[str] | None = None
) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        await _run_async(_shot_args(profile, url, Path(path), width, height), console)


async def dump_dom_async(
    url: str, *, console: list[str] | None = None, flags: Sequence[str] = ()
) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return (await _run_async(_command(profile, *flags, "--dump-dom", url), console)).decode()
