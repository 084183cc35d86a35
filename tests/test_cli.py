"""The `cx` command as people type it: query, metrics, check, contract; bad requests get clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import write_inputs

from cx.cli import main
from metrics.settings import Settings

DIMENSION_LIST = (
    "Dimensions: fiscal_quarter, fiscal_year, month, service, channel, segment, journey_stage, age_band, "
    "race_ethnicity, income_band, urbanicity, language, disability, veteran_status, survey_version, trust_scale, "
    "wait_band"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_query_by_quarter_as_csv(capsys: pytest.CaptureFixture[str], sample_dir: Path) -> None:
    status, out, _ = run(
        capsys, "query", "trust", "--by", "fiscal_quarter", "--format", "csv", "--data-dir", str(sample_dir)
    )
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["fiscal_quarter", "value", "n", "ci_low", "ci_high", "suppressed", "mean"]
    assert [r["fiscal_quarter"] for r in rows] == [
        f"FY{y} Q{q}" for y in range(2023, 2027) for q in range(1, 5)
    ]
    assert all(0.3 < float(r["value"]) < 0.95 for r in rows)


def test_query_filters_period_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write_inputs(
        tmp_path,
        responses=[{"trust": 5, "channel": "website"}] * 12 + [{"trust": 1, "channel": "phone"}] * 12,
    )
    status, out, _ = run(
        capsys,
        "query",
        "trust",
        "--where",
        "channel=website",
        "--where",
        "channel=phone",
        "--by",
        "channel",
        "--from",
        "FY2025Q1",
        "--to",
        "FY2025Q1",
        "--format",
        "json",
        "--data-dir",
        str(folder),
    )
    assert status == 0
    # Published counts are within 2 of the true ones; `--exact` gives the true ones.
    published = [(r["channel"], r["n"]) for r in json.loads(out)]
    assert [c for c, _ in published] == ["phone", "website"] and all(abs(n - 12) <= 2 for _, n in published)
    status, out, _ = run(
        capsys, "query", "trust", "--by", "channel", "--exact", "--format", "json", "--data-dir", str(folder)
    )
    rows = json.loads(out)
    assert [(r["channel"], r["value"], r["n"]) for r in rows] == [("phone", 0.0, 12), ("website", 1.0, 12)]


def test_table_format_marks_suppressed_cells(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write_inputs(tmp_path, responses=[{"trust": 5}] * 4)
    status, out, _ = run(capsys, "query", "trust", "--data-dir", str(folder))
    assert status == 0
    assert out.splitlines()[0].split() == ["value", "n", "ci_low", "ci_high", "suppressed", "mean"]
    assert out.splitlines()[2].split() == ["†", "†", "†", "†", "True", "†"]
    assert "fewer than 10 responses" in out


def test_min_n_comes_from_the_flag_or_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_inputs(tmp_path, responses=[{"trust": 5}] * 4)
    assert (
        json.loads(
            run(
                capsys,
                "query",
                "trust",
                "--format",
                "json",
                "--exact",
                "--min-n",
                "3",
                "--data-dir",
                str(folder),
            )[1]
        )[0]["n"]
        == 4
    )
    monkeypatch.setenv("CX_MIN_N", "3")
    monkeypatch.setenv("CX_DATA_DIR", str(folder))
    assert json.loads(run(capsys, "query", "trust", "--format", "json")[1])[0]["value"] == 1.0
    monkeypatch.setenv("CX_MIN_N", "three")
    status, _, err = run(capsys, "query", "trust")
    assert (status, err) == (2, "cx: error: CX_MIN_N: value 'three' is not a whole number\n")


def test_memory_limit_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_inputs(tmp_path, responses=[{"trust": 5}] * 12)
    monkeypatch.setenv("CX_DATA_DIR", str(folder))
    monkeypatch.setenv("CX_MEMORY_LIMIT", "512MB")
    assert Settings.load().memory_limit == "512MB"
    assert json.loads(run(capsys, "query", "trust", "--format", "json")[1])[0]["value"] == 1.0
    for bad in ("lots", "3 apples", "-1GB", "3GB; drop table x"):
        monkeypatch.setenv("CX_MEMORY_LIMIT", bad)
        status, _, err = run(capsys, "query", "trust")
        assert (status, err) == (
            2,
            f"cx: error: CX_MEMORY_LIMIT: value '{bad}' is not a size such as 3GB or 512MB\n",
        )
    monkeypatch.setenv("CX_MEMORY_LIMIT", " ")
    assert Settings.load().memory_limit == "3GB"


def test_sql_in_a_where_value_is_only_a_value(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write_inputs(
        tmp_path,
        responses=[{"service": "Passport Services"}] * 12 + [{"service": "O'Hare Field Office"}] * 11,
    )
    for hostile in ("x' OR 1=1 --", "x'); drop view stg_responses; --"):
        status, out, err = run(
            capsys,
            "query",
            "responses",
            "--where",
            f"service={hostile}",
            "--format",
            "json",
            "--min-n",
            "1",
            "--data-dir",
            str(folder),
        )
        # The value is named as unknown (checked against the data, never spliced into SQL).
        assert (status, out) == (2, "")
        assert err == (
            f"cx: error: filter on 'service': unknown value '{hostile}'; known values: O'Hare Field Office, "
            "Passport Services\n"
        )
    # A real value with a quote in it matches exactly, and nothing was dropped.
    status, out, _ = run(
        capsys,
        "query",
        "responses",
        "--where",
        "service=O'Hare Field Office",
        "--format",
        "json",
        "--exact",
        "--min-n",
        "1",
        "--data-dir",
        str(folder),
    )
    assert json.loads(out)[0]["value"] == 11
    assert (
        json.loads(
            run(capsys, "query", "responses", "--format", "json", "--exact", "--data-dir", str(folder))[1]
        )[0]["n"]
        == 23
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "trusst"], "cx: error: unknown metric 'trusst'; did you mean trust?"),
        (
            ["query", "trust", "--by", "age"],
            "cx: error: unknown dimension 'age'; did you mean age_band? " + DIMENSION_LIST,
        ),
        (["query", "trust", "--where", "state=VA"], "cx: error: unknown dimension 'state' " + DIMENSION_LIST),
        (
            ["query", "trust", "--from", "2025Q1"],
            "cx: error: period: '2025Q1' is not a fiscal quarter; write it like FY2025Q1",
        ),
        (
            ["query", "trust", "--from", "FY2026Q1", "--to", "FY2025Q1"],
            "cx: error: period: FY2026 Q1 is after FY2025 Q1",
        ),
        (
            ["query", "response_rate", "--by", "age_band"],
            "cx: error: metric 'response_rate' cannot be broken down or filtered by 'age_band': its rows carry "
            "fiscal_quarter, fiscal_year, service, channel",
        ),
    ],
)
def test_bad_requests_name_what_is_wrong(
    capsys: pytest.CaptureFixture[str], sample_dir: Path, args: list[str], message: str
) -> None:
    status, out, err = run(capsys, *args, "--data-dir", str(sample_dir))
    assert (status, out, err.strip()) == (2, "", message)


def test_where_needs_dim_equals_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["query", "trust", "--where", "channel"])
    assert raised.value.code == 2
    assert "'channel' is not DIM=VALUE (e.g. --where channel=website)" in capsys.readouterr().err


def test_check_is_clean_on_the_sample(capsys: pytest.CaptureFixture[str], sample_dir: Path) -> None:
    status, out, _ = run(capsys, "check", "--data-dir", str(sample_dir))
    assert status == 0, out
    assert out.splitlines()[-1] == "cx check: no problems"


def test_check_names_the_file_and_column_of_a_broken_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write_inputs(
        tmp_path, responses=[{"ease": 7}], contacts=[{}], transactions=[{}], collections=[{}]
    )
    status, out, _ = run(capsys, "check", "--data-dir", str(folder))
    assert status == 1
    assert "problem: responses.parquet: column 'ease': value 7 is outside 1-5 (1 row)" in out.splitlines()
    assert out.splitlines()[-1] == "cx check: 1 problem(s)"


def test_metrics_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "metrics")
    assert status == 0
    assert any(line.startswith("trust ") and "Trust [Trust; share;" in line for line in out.splitlines())


def test_installed_console_script(sample_dir: Path) -> None:
    cx = Path(sys.executable).parent / "cx"
    env = {**os.environ, "CX_DATA_DIR": str(sample_dir)}
    done = subprocess.run(
        [str(cx), "query", "trust", "--by", "fiscal_quarter", "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert len(done.stdout.splitlines()) == 17  # header + 16 quarters


IMPORTS = Path(__file__).resolve().parent / "fixtures" / "imports"


def test_import_touchpoints_prints_what_it_did(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write_inputs(tmp_path / "data")
    args = [
        "import",
        "touchpoints",
        str(IMPORTS / "touchpoints_thumbs.csv"),
        "--service",
        "Passport Services",
    ]
    args += [
        "--fiscal-year",
        "2025",
        "--quarter",
        "1",
        "--channel",
        "other_digital",
        "--data-dir",
        str(folder),
    ]
    status, out, _ = run(capsys, *args)
    assert status == 1  # some lines were rejected
    lines = out.splitlines()
    assert lines[0] == "touchpoints_thumbs.csv: 8 rows read; 6 imported, 0 already imported, 2 rejected."
    assert [line.split(":")[0] for line in lines[1:3]] == [f"touchpoints_thumbs.csv line {n}" for n in (6, 7)]
    assert lines[-1].startswith(f"Wrote {folder / 'responses' / 'imported-touchpoints-'}")
    # Touchpoints' own channel keys are channels like any other.
    written = Path(lines[-1].removeprefix("Wrote ").split(" ")[0].rstrip("."))
    assert set(pl.read_parquet(written)["channel"]) == {"other_digital"}
    status, out, _ = run(capsys, *args)
    assert (
        out.splitlines()[0]
        == "touchpoints_thumbs.csv: 8 rows read; 0 imported, 6 already imported, 2 rejected."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["likert-counts", "--channel", "pigeon"],
            "--channel: value 'pigeon' is not a channel key; one of computer,",
        ),
        (["likert-counts", "--data-dir", "/nonexistent/cx"], "data folder /nonexistent/cx does not exist"),
        (["collections"], "likert_counts.csv: line 1 lacks columns customers_served, customers_offered,"),
    ],
)
def test_import_refuses_bad_requests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    folder = write_inputs(tmp_path / "data")
    kind, *rest = args
    command = ["import", kind, str(IMPORTS / "likert_counts.csv"), *rest]
    if "--data-dir" not in rest:
        command += ["--data-dir", str(folder)]
    status, _, err = run(capsys, *command)
    assert status == 2
    assert err.startswith("cx: error: " + (str(IMPORTS) + "/" if kind == "collections" else "") + message), (
        err
    )


def test_a_filter_value_the_data_never_holds_is_an_error_listing_the_known_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write_inputs(tmp_path, responses=[{"channel": "phone"}, {"channel": "website"}] * 6)
    status, out, err = run(capsys, "query", "trust", "--where", "channel=Phone", "--data-dir", str(folder))
    assert (status, out) == (2, "")
    assert err == "cx: error: filter on 'channel': unknown value 'Phone'; known values: phone, website\n"
    status, out, _ = run(capsys, "dimensions", "--values", "channel", "--data-dir", str(folder))
    assert (status, out) == (0, "phone\nwebsite\n")
    status, _, err = run(capsys, "dimensions", "--values", "chanel", "--data-dir", str(folder))
    assert status == 2 and "unknown dimension 'chanel'" in err


def test_check_warns_of_a_metric_that_returns_no_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metrics.catalog import load_catalog

    folder = write_inputs(tmp_path / "data", responses=[{"channel": "phone", "trust": 5}] * 12)
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "trust_by_fax.sql").write_text(
        "-- label: Trust by fax\n-- description: Trust among fax respondents.\n-- unit: share\n"
        "-- format: percent\n-- direction: higher_is_better\n-- theme: Trust\n-- owner: Test\n"
        "-- aggregate: share\n\n-- One row per answer by fax.\nselect *, case when trust >= 4 then 1 else 0 end "
        "as value from stg_responses where channel = 'Fax' and trust is not null\n"
    )
    monkeypatch.setattr("metrics.query.load_catalog", lambda: load_catalog(metrics))
    status, out, _ = run(capsys, "check", "--data-dir", str(folder))
    assert status == 0
    assert "warning: trust_by_fax.sql: returns no rows on the data: check its filters" in out
