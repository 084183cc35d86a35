"""Starting the dashboard's server (dashboard/server.py) on a port something else already holds."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.server import port_taken

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port something listens on, as another dashboard would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("", 0))
        held.listen()
        yield held.getsockname()[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_port_in_use_is_found_in_either_spelling_and_a_free_one_is_not(held_port: int) -> None:
    assert port_taken(["--server.port", str(held_port), "--server.headless", "true"]) == held_port
    assert port_taken([f"--server.port={held_port}"]) == held_port
    assert port_taken(["--server.port", str(held_port), "--server.address", "127.0.0.1"]) == held_port
    assert port_taken(["--server.port", str(_free_port())]) is None
    # No port given: Streamlit looks for a free one itself. Not a port: Streamlit names the value.
    assert port_taken(["--server.headless", "true"]) is None
    assert port_taken(["--server.port", "eighty"]) is None


def test_the_server_says_the_port_is_in_use_and_opens_no_data(held_port: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "responses.parquet").write_bytes(b"not read")
    stopped = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.server",
            "--server.port",
            str(held_port),
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "CX_DATA_DIR": str(data), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stopped.returncode == 1
    assert f"Port {held_port} is in use" in stopped.stderr
    assert f"make run PORT={held_port + 1}" in stopped.stderr
    # Nothing was opened or built: the data folder holds what it held.
    assert sorted(p.name for p in data.iterdir()) == ["responses.parquet"]
