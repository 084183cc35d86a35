"""Serve the dashboard on loopback for a test or the load test: one place that starts the server,
waits until it answers, and stops it, and that names the browser they drive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    """Serve the dashboard over `data_dir` on a free loopback port; yield its address. A server that
    does not answer in time is stopped, and its output is in the error."""
    port = _free_port()
    env = {**os.environ, "CX_DATA_DIR": str(data_dir)}
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # The output goes to a file, not a pipe: a long run would fill a pipe nobody reads.
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_SECONDS
            while not _healthy(url):
                if time.monotonic() > deadline or server.poll() is not None:
                    output.seek(0)
                    said = output.read().decode(errors="replace")[-4000:]
                    raise RuntimeError(f"streamlit did not start on {url}:\n{said}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
