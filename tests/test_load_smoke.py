"""A short smoke run of the load test (tests/load/load_test.py; `make load` runs it in full): two
sessions at once change filters and pages a few times each against a served app, with no error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).resolve().parent / "load" / "load_test.py"


def test_two_sessions_change_filters_without_error(sample_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--sessions",
            "2",
            "--actions",
            "3",
            "--think",
            "0",
            "--data-dir",
            str(sample_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(done.stdout)
    assert summary["error_list"] == [] and done.returncode == 0, done.stderr[-2000:]
    assert summary["changes"] == 6
    assert summary["count_by_action"]["open"] == 2
