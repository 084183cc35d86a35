"""The metric SQL sandbox: a hostile metric file is named with its line and left out, the rest of the
catalog keeps working, and DuckDB itself can reach no file once the inputs are loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from conftest import EngineFactory
from streamlit.testing.v1 import AppTest

import metrics.query
from cx.cli import main
from metrics import sandbox
from metrics.catalog import METRICS_DIR, load_catalog
from metrics.query import Query

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
HEADER = """-- label: Hostile
-- description: A metric file that tries to do more than read.
-- unit: share of respondents
-- format: percent
-- direction: neutral
-- theme: Trust
-- owner: Nobody
-- aggregate: share

-- One row per respondent.
"""
FIRST = HEADER.count("\n") + 1  # the body's first line in the file
# (body, line of the violation counted from the body's first line, message after "line N: ")
HOSTILE = {
    "second_statement": (
        "select *, 1 as value from stg_responses;\nattach '/tmp/evil.db' as evil",
        1,
        "the body holds 2 statements; a metric is a single select",
    ),
    "attach": (
        "attach '/tmp/evil.db' as evil",
        0,
        "ATTACH is not allowed: a metric is a single read-only select",
    ),
    "copy": (
        "copy (select * from stg_responses) to '/tmp/leak.csv'",
        0,
        "COPY is not allowed: a metric is a single read-only select",
    ),
    "install": ("install httpfs", 0, "INSTALL is not allowed: a metric is a single read-only select"),
    "load": ("load httpfs", 0, "LOAD is not allowed: a metric is a single read-only select"),
    "pragma": ("pragma database_list", 0, "PRAGMA is not allowed: a metric is a single read-only select"),
    "set": (
        "set enable_external_access = true",
        0,
        "SET is not allowed: a metric is a single read-only select",
    ),
    "export": (
        "export database '/tmp/all'",
        0,
        "EXPORT is not allowed: a metric is a single read-only select",
    ),
    "call": ("call pragma_version()", 0, "CALL is not allowed: a metric is a single read-only select"),
    "read_csv": (
        "select *, 1 as value\nfrom read_csv('/etc/passwd')",
        1,
        "calls read_csv(), which is not allowed: a metric reads the warehouse's views, not files, settings "
        "or other SQL",
    ),
    "read_text_in_a_subquery": (
        "select *, 1 as value\nfrom stg_responses\nwhere service in (select content from read_text('/etc/passwd'))",
        2,
        "calls read_text(), which is not allowed: a metric reads the warehouse's views, not files, settings "
        "or other SQL",
    ),
    "glob": (
        "select *, 1 as value from stg_responses, glob('/home/*')",
        0,
        "calls glob(), which is not allowed: a metric reads the warehouse's views, not files, settings or "
        "other SQL",
    ),
    "getenv": (
        "select *, getenv('HOME') as value from stg_responses",
        0,
        "calls getenv(), which is not allowed: a metric reads the warehouse's views, not files, settings or "
        "other SQL",
    ),
    "sql_as_text": (
        "select *, 1 as value from query('select * from read_text(''/etc/passwd'')')",
        0,
        "calls query(), which is not allowed: a metric reads the warehouse's views, not files, settings or "
        "other SQL",
    ),
    "a_file_named_as_a_table": (
        "select *, 1 as value from '/etc/passwd'",
        0,
        "reads '/etc/passwd', which is not a model, seed or input view (readable: "
        + ", ".join(sorted(sandbox.readable_tables()))
        + ")",
    ),
    "another_database": (
        "select *, 1 as value from evil.main.secrets",
        0,
        "reads 'evil.main.secrets': a metric reads the warehouse's views by name",
    ),
}


def hostile_folder(folder: Path, **bodies: str) -> Path:
    """Return a metric folder holding the shipped metrics and the given hostile files, with the
    shipped comment themes beside it."""
    shutil.copytree(METRICS_DIR, folder)
    shutil.copytree(METRICS_DIR.parent / "themes", folder.parent / "themes")
    for name, body in bodies.items():
        (folder / f"{name}.sql").write_text(HEADER + body + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_metric_file_is_named_with_its_line_and_left_out(tmp_path: Path, case: str) -> None:
    body, line, message = HOSTILE[case]
    catalog = load_catalog(hostile_folder(tmp_path / "metrics", **{case: body}))
    assert [str(p) for p in catalog.problems] == [f"{case}.sql: line {FIRST + line}: {message}"]
    assert case not in catalog.metrics
    assert set(catalog.metrics) == set(load_catalog().metrics)  # every other metric is kept


def test_every_shipped_metric_passes_the_sandbox() -> None:
    catalog = load_catalog()
    assert catalog.problems == ()
    shipped = [*METRICS_DIR.glob("*.sql"), *(METRICS_DIR.parent / "themes").glob("*.sql")]
    assert len(catalog.metrics) == len(shipped)


def test_a_read_only_select_with_ctes_and_table_functions_is_admitted() -> None:
    body = (
        "with online as (\n    select * from stg_responses where channel = 'website'\n)\n"
        "select online.*, 1 as value from online, range(1) as r(i)"
    )
    assert sandbox.check(body) == []


def test_cx_check_names_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = hostile_folder(tmp_path / "metrics", leak=HOSTILE["read_csv"][0])
    monkeypatch.setattr(metrics.query, "load_catalog", lambda: load_catalog(folder))
    assert main(["check", "--data-dir", str(sample_dir)]) == 1
    out = capsys.readouterr().out
    assert f"problem: leak.sql: line {FIRST + 1}: calls read_csv(), which is not allowed" in out
    assert "cx check: 1 problem(s)" in out
    # The other metrics still answer.
    assert main(["query", "trust", "--data-dir", str(sample_dir), "--format", "csv"]) == 0


def test_duckdb_reaches_no_file_once_the_inputs_are_loaded(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    engine = make_engine(responses=[{"trust": 5}] * 3)
    responses = tmp_path / "data" / "responses.parquet"
    before = responses.read_bytes()
    cursor = engine.warehouse.cursor()
    for statement in (
        "select * from read_text('/etc/passwd')",
        f"select count(*) from read_parquet('{responses}')",
        f"copy (select 1 as x) to '{responses}' (format parquet, use_tmp_file false)",
        f"copy (select 1 as x) to '{tmp_path}/leak.csv'",
        f"attach '{tmp_path}/other.duckdb' as other",
        "install httpfs",
        "load httpfs",
    ):
        with pytest.raises(duckdb.Error, match=r"disabled|Permission"):
            cursor.execute(statement)
    with pytest.raises(duckdb.Error, match="locked"):
        cursor.execute("set enable_external_access = true")
    assert responses.read_bytes() == before
    assert not (tmp_path / "leak.csv").exists()
    # The inputs were read before access was turned off, so every metric still runs.
    assert engine.run(Query.of("trust")).row(0, named=True)["n"] == 3


def test_the_app_leaves_a_hostile_metric_out_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_dir: Path
) -> None:
    folder = hostile_folder(tmp_path / "metrics", leak=HOSTILE["read_csv"][0])
    monkeypatch.setattr(metrics.query, "load_catalog", lambda: load_catalog(folder))
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        app = AppTest.from_file(APP, default_timeout=120)
        app.switch_page("app_pages/catalog.py")
        app.run()
        assert not app.exception
        assert [h.value for h in app.header][:1] == ["Metric files left out"]
        assert "1 metric file in sql/metrics/ is left out" in app.warning[0].value
        table = app.dataframe[0].value
        assert table.to_dict("records") == [
            {"File": "leak.sql", "Problem": f"line {FIRST + 1}: {HOSTILE['read_csv'][2]}"}
        ]
        assert not any("Hostile" in e.label for e in app.expander)
        app.switch_page("app_pages/overview.py")
        app.run()
        assert not app.exception
        assert {m.label for m in app.metric} >= {"Trust", "Ease"}
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
