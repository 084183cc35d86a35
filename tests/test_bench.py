"""The benchmark (`cx bench`) runs at a small size, reports its figures as it measures them, finds
the store, a DuckDB scan and pandas agree, leaves pandas out when asked or when it would not fit, and
refuses bad sizes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cx.bench import pandas_fits, run_bench, table
from cx.cli import main

pytestmark = pytest.mark.slow


def test_bench_runs_small(tmp_path: Path) -> None:
    messages: list[str] = []
    # On a thread of its own: a browser test run before it in this process leaves Playwright's event
    # loop running on this one, and the first page's visitor runs one of its own (`asyncio.run`).
    with ThreadPoolExecutor(1) as thread:
        figures = thread.submit(
            run_bench, 2_000, 2_000, tmp_path / "bench", interactions=6, progress=messages.append
        ).result()
    # The headline figures are reported as soon as they are measured, before the long comparisons.
    headline = next(m for m in messages if m.startswith("interactions: "))
    assert f"p95 {figures['interaction_p95_ms']:.1f} ms" in headline
    assert messages.index(headline) < next(
        i for i, m in enumerate(messages) if m.startswith("the same questions")
    )
    # The build and the first page are measured for real: a fresh build, a server started on the data.
    assert figures["build_s"] > 0 and figures["build_peak_rss_mb"] > 0
    assert figures["first_page_s"] > 0
    assert any(m.startswith("first page: ") and m.endswith("s") for m in messages)
    assert "first page (server start on new data to the overview drawn)" in table(figures)
    for key in (
        "responses",
        "contacts",
        "cold_start_s",
        "interaction_p50_ms",
        "interaction_p95_ms",
        "peak_rss_mb",
        "speedup_vs_duckdb_scan",
        "speedup_vs_pandas",
        "fast_path_matches",
    ):
        assert key in figures, key
    assert figures["responses"] == 2_000 and figures["interactions"] == 6
    # Each change in the script's order (overview, trends, equity, ...), its time among those the
    # percentiles are taken over: the slowest is the max.
    changes = figures["changes"]
    assert [c["page"] for c in changes] == ["overview", "trends", "equity", "journeys", "drivers", "value"]
    assert max(c["ms"] for c in changes) == figures["interaction_max_ms"]
    assert [c["ms"] for c in changes if c["page"] == "overview"] == [figures["pages"]["overview"]["max_ms"]]
    assert figures["fast_path_matches"] is True
    assert figures["pandas_matches"] is True and figures["pandas_skipped"] is None
    assert "pandas agrees: True" in table(figures)
    left_out = figures | {"pandas_skipped": "left out (--skip-pandas)", "speedup_vs_pandas": None}
    assert "| pandas baseline | skipped: left out (--skip-pandas) |" in table(left_out)
    json.dumps(figures)


def test_bench_leaves_pandas_out_when_asked_or_when_it_would_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("cx.bench._available_bytes", lambda: 10 * 2**30)
    assert pandas_fits(8_000_000) is None
    assert (
        pandas_fits(100_000_000)
        == "pandas would need about 93 GiB for 100,000,000 responses; 10 GiB is available"
    )
    # The command line asks the benchmark (run for real above) to leave pandas out and prints its
    # figures as JSON.
    asked: dict[str, object] = {}
    skipped = {
        "pandas_skipped": "left out (--skip-pandas)",
        "speedup_vs_pandas": None,
        "pandas_matches": None,
    }

    def bench(*args: object, **kwargs: object) -> dict[str, object]:
        asked.update(kwargs, responses=args[0])
        return skipped

    monkeypatch.setattr("cx.bench.run_bench", bench)
    arguments = ["bench", "--responses", "1500", "--contacts", "1500", "--data-dir", str(tmp_path)]
    assert main([*arguments, "--skip-pandas", "--json"]) == 0
    assert asked["pandas"] is False and asked["responses"] == 1500
    assert json.loads(capfd.readouterr().out) == skipped
    assert main([*arguments, "--json"]) == 0
    assert asked["pandas"] is None  # run when it fits


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bench", "--responses", "-5"], "--responses: value -5 must be 1 or more"),
        (["bench", "--contacts", "0"], "--contacts: value 0 must be 1 or more"),
        (["bench", "--responses", "10", "--interactions", "0"], "--interactions: value 0 must be 1 or more"),
    ],
)
def test_bench_refuses_bad_sizes(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*arguments, "--data-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
