"""Fixtures for interop tests against the Fedify peer (see peer.py).

If Node 22 / Fedify are missing, the first fixture use runs scripts/setup-node-peer (when npm
exists).  If the peer still cannot run, tests skip -- except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer import Peer, ensure_installed, start_peer

_install: dict[str, str | None] = {}


def _require_peer() -> None:
    if "reason" not in _install:
        _install["reason"] = ensure_installed()
    reason = _install["reason"]
    if reason is not None:
        message = f"Fedify peer unavailable: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def fedify_peer_factory() -> Iterator[Callable[..., Peer]]:
    """start(port=None, user="alice", first_knock=None, inbox_spec=None) -> Peer; all are
    stopped at teardown."""
    _require_peer()
    peers: list[Peer] = []

    def start(**kwargs: Any) -> Peer:
        peer = start_peer(**kwargs)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.stop()


@pytest.fixture
def fedify_peer(fedify_peer_factory: Callable[..., Peer]) -> Peer:
    """A fresh Fedify user "alice" on 127.0.0.1 at a free port."""
    return fedify_peer_factory()
