"""Serve the dashboard on loopback for a test or the load test: one place that starts the server (or
`cx serve`'s replicas behind HAProxy), waits until it answers, and stops it, and that names the
browser they drive."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cx.serve import healthy, streamlit_command

ROOT = Path(__file__).resolve().parents[1]
# Debian's chromium (`make browser`), headless, with nothing running in the background.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
# The health check answers once the server runs; the pages load the data on the first visit.
START_SECONDS = 60
# `cx serve` builds the store before its replicas start: seconds at the test sample's size.
SERVE_SECONDS = 180


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    """Serve the dashboard over `data_dir` on a free loopback port; yield its address. A server that
    does not answer in time is stopped, and its output is in the error."""
    port = free_port()
    env = {**os.environ, "CX_DATA_DIR": str(data_dir)}
    command = streamlit_command(port)  # started as `cx serve` starts its replicas
    url = f"http://127.0.0.1:{port}"
    # The output goes to a file, not a pipe: a long run would fill a pipe nobody reads.
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_SECONDS
            while not healthy(url):
                if time.monotonic() > deadline or server.poll() is not None:
                    output.seek(0)
                    said = output.read().decode(errors="replace")[-4000:]
                    raise RuntimeError(f"streamlit did not start on {url}:\n{said}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


@dataclass
class Replicas:
    """A running `cx serve`: the proxy's address, HAProxy's statistics page, each replica's address and
    process id, and everything it printed so far."""

    url: str
    stats_url: str
    replica_urls: list[str]
    replica_pids: list[int]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop_replica(self, number: int) -> None:
        """Kill replica `number` (from 1) as a crash would, and wait until its port refuses."""
        os.kill(self.replica_pids[number - 1], signal.SIGKILL)
        address = self.replica_urls[number - 1].removeprefix("http://").split(":")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((address[0], int(address[1])), timeout=1).close()
            except OSError:
                return
            time.sleep(0.1)
        raise RuntimeError(f"replica {number} (pid {self.replica_pids[number - 1]}) still answers")


@contextmanager
def served_replicas(data_dir: Path, replicas: int = 2, port: int | None = None) -> Iterator[Replicas]:
    """Run `cx serve` over `data_dir` with `replicas` replicas on free loopback ports (HAProxy on `port`
    when given: a sign-in redirect address names it beforehand); yield where they are. It is stopped as
    Ctrl-C would stop it (it stops its replicas and HAProxy); a `cx serve` that does not answer in time
    is stopped, and its output is in the error."""
    port, stats_port = port or free_port(), free_port()
    command = [
        sys.executable, "-m", "cx.cli", "serve", "--data-dir", str(data_dir), "--replicas", str(replicas),
        "--port", str(port), "--stats-port", str(stats_port), "--replica-port", "0",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cx-serve-test-") as scratch:
        log = Path(scratch) / "serve.log"
        with log.open("wb") as output:
            server = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        said = ""
        try:
            deadline = time.monotonic() + SERVE_SECONDS
            while "cx serve: serving" not in said:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"cx serve did not start on port {port}:\n{said[-4000:]}")
                time.sleep(0.3)
                said = log.read_text(encoding="utf-8", errors="replace")
            found = re.findall(r"cx serve: replica \d+ at (http://127\.0\.0\.1:\d+) \(pid (\d+)\)", said)
            yield Replicas(
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{stats_port}/",
                [url for url, _ in found],
                [int(pid) for _, pid in found],
                log,
            )
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)  # it gives its replicas and HAProxy 15 s, then kills them
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                raise
