"""`siarkan serve` as a real subprocess, for crash and scale-out tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

CONFIG = """\
site:
  name: Prolog Media
  base_url: http://127.0.0.1:{port}
server:
  port: {port}
database:
  url: {url}
logging:
  level: info
  format: json
federation:
  allow_private_addresses: true
delivery:
  concurrency: {concurrency}
  per_host: {per_host}
  lease_seconds: {lease}
  poll_interval: 0.05
  connect_timeout: {timeout}
  read_timeout: {timeout}
channels:
  - name: utama
    title: Utama
    fediverse:
      enabled: true
      username: utama
"""


def write_config(
    path: Path,
    *,
    port: int,
    url: str,
    concurrency: int = 8,
    per_host: int = 8,
    lease: int = 5,
) -> Path:
    # The config refuses a lease shorter than two tries' worth of timeouts (config.py).
    timeout = min(5.0, lease / 4)
    path.write_text(
        CONFIG.format(
            port=port, url=url, concurrency=concurrency, per_host=per_host, lease=lease,
            timeout=timeout,
        )
    )  # fmt: skip
    return path


class Service:
    """One `siarkan serve --role ROLE` process; its log goes to a file next to the config."""

    def __init__(self, config: Path, role: str = "worker", name: str = "siarkan") -> None:
        self.config = config
        self.role = role
        self.log = config.parent / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "siarkan.cli.main", "--config", str(self.config),
                 "serve", "--role", self.role],
                stdout=log, stderr=log, env=env,
            )  # fmt: skip
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def stop(self, grace: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        for _ in range(int(grace * 20)):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        self.proc.kill()
        return -9

    def output(self) -> str:
        return self.log.read_text(errors="replace")
