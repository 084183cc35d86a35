"""Spark as the build engine: every metric's cube SQL transpiles to Spark SQL with no DuckDB-only
construct (no Spark needed), a metric Spark cannot run is named, and, with pyspark and Java
(`make test-spark`), the cubes Spark builds on `local[2]` equal DuckDB's and a store built from them
answers as one built here."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from conftest import EngineFactory, one

from metrics import composition, spark
from metrics.catalog import Catalog, load_catalog
from metrics.dimensions import DIMENSIONS
from metrics.query import Engine, Query
from metrics.store import cube_table_name, grains_of
from metrics.warehouse import Warehouse

SIGNIFICANT = 9  # digits a value built on Spark must share with DuckDB's


def test_every_metric_cube_sql_is_spark_sql(sample_engine: Engine) -> None:
    # The golden-SQL check: what `cx check` says of a metric file Spark cannot run says nothing here.
    assert spark.check_metrics(sample_engine.catalog, sample_engine.columns) == []
    trust = sample_engine.catalog.metrics["trust"]
    columns = sample_engine.columns(trust)
    grains = grains_of("trust", tuple(d for d in DIMENSIONS if d in columns))
    text = spark.to_spark(
        composition.cube_sql(trust.sql, columns, "share", grains, composition.sums("share")),
        lambda view: list(sample_engine.columns(trust)) if view == "stg_responses" else [],
    )
    sqlglot.parse_one(text, read="spark")  # parses back in Spark's dialect
    for duckdb_only in ("COLUMNS(", "EXCLUDE", "BY NAME", "MATERIALIZED", "::", "_of(", "_label("):
        assert duckdb_only.lower() not in text.lower()


def test_macros_are_written_out_for_spark() -> None:
    # fiscal_quarter_of(ts) inlines its own macros: October is Q1 of the next fiscal year.
    text = spark.to_spark("select fiscal_quarter_of(submitted_at) as q from stg_responses")
    assert "fiscal" not in text.lower()
    assert "MONTH(((submitted_at))) >= 10 THEN 1" in text and "% 12 DIV 3 + 1" in text
    key = spark.to_spark("select record_key_of(response_id) as k from stg_responses")
    assert key.count("LOCATE(SUBSTRING(MD5((response_id)), ") == 4


def test_star_modifiers_are_written_out_as_columns() -> None:
    columns = {"stg_responses": ["response_id", "weight", "respondents"]}
    text = spark.to_spark(
        "select * replace (respondents as weight) from stg_responses where respondents > 0",
        lambda view: columns.get(view, []),
    )
    assert (
        text
        == "SELECT `response_id`, respondents AS weight, `respondents` FROM stg_responses WHERE respondents > 0"
    )


def test_a_metric_spark_cannot_run_is_named(sample_engine: Engine) -> None:
    trust = sample_engine.catalog.metrics["trust"]
    stacked = replace(
        trust,
        name="stacked",
        path=trust.path.with_name("stacked.sql"),
        sql="select *, 1 as value from stg_responses union all by name select *, 0 as value from stg_responses",
    )
    unknown = replace(
        trust,
        name="drawn",
        path=trust.path.with_name("drawn.sql"),
        sql="select *, bar(trust, 1, 5) as label, 1 as value from stg_responses",
    )
    catalog = Catalog({"trust": trust, "stacked": stacked, "drawn": unknown}, ())
    found = [str(p) for p in spark.check_metrics(catalog, sample_engine.columns)]
    assert found == [
        "sql/metrics/stacked.sql: cannot be built on Spark: UNION ... BY NAME is DuckDB-only",
        "sql/metrics/drawn.sql: cannot be built on Spark: function bar() has no known Spark equivalent",
    ]


@pytest.fixture(scope="module")
def built_on_spark(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pyspark", reason="Spark is an optional extra: make test-spark installs it")
    out = tmp_path_factory.mktemp("spark")
    session = spark.session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    try:
        spark.build(session, str(sample_dir), str(out), load_catalog())
    finally:
        session.stop()
    return out


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        x, y = float(a), float(b)  # type: ignore[arg-type]
        return x == y or math.isclose(x, y, rel_tol=10 ** (1 - SIGNIFICANT), abs_tol=1e-12)
    return a == b


@pytest.mark.spark
def test_spark_builds_the_cubes_duckdb_builds(built_on_spark: Path, sample_dir: Path) -> None:
    engine = Engine(Warehouse(sample_dir))
    manifest = spark.read_manifest(built_on_spark)
    assert set(manifest) == set(engine.catalog.metrics)
    for name, cube in manifest.items():
        metric = engine.catalog.metrics[name]
        columns = engine.columns(metric)
        grains = grains_of(name, tuple(d for d in DIMENSIONS if d in columns))
        assert list(cube.grains) == grains
        duck = engine.warehouse.frame(
            composition.cube_sql(
                metric.sql, columns, metric.aggregate, grains, composition.sums(metric.aggregate)
            )
        )
        built = pl.read_parquet(built_on_spark / spark.CUBES / cube.table / "*.parquet")
        assert built.columns == duck.columns, name
        keys = [c for c in duck.columns if c not in composition.sums(metric.aggregate)]
        duck, built = (f.sort(keys, nulls_last=True) for f in (duck, built))
        # The same groups at every grain, and every sum (counts, record keys, totals) the same.
        assert built.select(keys).cast(pl.Utf8).equals(duck.select(keys).cast(pl.Utf8)), name
        for column in composition.sums(metric.aggregate):
            pairs = zip(built[column].to_list(), duck[column].to_list(), strict=True)
            assert all(_same(a, b) for a, b in pairs), (name, column)


@pytest.mark.spark
def test_a_store_from_spark_answers_as_one_built_here(
    built_on_spark: Path, sample_engine: Engine, tmp_path: Path
) -> None:
    served = Engine.open(
        built_on_spark / spark.INPUTS, store_dir=tmp_path / "store", build=True, prebuilt=built_on_spark
    )
    assert served.store is not None
    for name, metric in sample_engine.catalog.metrics.items():
        for dimension in sample_engine.dimensions(metric):
            query = Query.of(
                name, by=[dimension, "fiscal_quarter"] if dimension != "fiscal_quarter" else [dimension]
            )
            here, there = sample_engine.run(query), served.run(query)
            assert there["n"].to_list() == here["n"].to_list(), (name, dimension)
            assert there["suppressed"].to_list() == here["suppressed"].to_list(), (name, dimension)
            values = zip(there["value"].to_list(), here["value"].to_list(), strict=True)
            assert all(_same(a, b) for a, b in values), (name, dimension)


def _as_spark_wrote(engine: Engine, folder: Path) -> Path:
    """A folder as `cx build --engine spark` writes it, holding trust's cube table with every
    positive answer counted twice: a store that loads it shows so."""
    trust = engine.catalog.metrics["trust"]
    columns = engine.columns(trust)
    grains = grains_of("trust", tuple(d for d in DIMENSIONS if d in columns))
    cube = engine.warehouse.frame(
        composition.cube_sql(trust.sql, columns, "share", grains, composition.sums("share"))
    )
    table = folder / spark.CUBES / cube_table_name(trust)
    table.mkdir(parents=True)
    cube.with_columns(pl.col("positive") * 2).write_parquet(table / "part-0.parquet")
    manifest = {"cubes": [{"metric": "trust", "table": table.name, "grains": [list(g) for g in grains]}]}
    (folder / spark.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_store_loads_the_cubes_spark_built_unless_its_rows_differ(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    answers = [{"trust": 5}, {"trust": 1}, {"trust": 5}, {"trust": 2}]  # 2 of 4 trust
    for rows, loaded in ((answers, True), ([*answers, {"trust": 9}], False)):
        engine = make_engine(sealed=False, responses=rows)
        folder = _as_spark_wrote(engine, tmp_path / f"spark-{loaded}")
        said: list[str] = []
        served = Engine.open(
            engine.warehouse.data_dir, 1, tmp_path / f"store-{loaded}", build=True, progress=said.append,
            exact=True, prebuilt=folder,
        )  # fmt: skip
        value = one(served, "trust")["value"]
        if loaded:  # the doubled positives of the folder: 4 of 4
            assert value == 1.0, said
            loaded_line = re.compile(r"\[\d+/\d+\] trust: 56 cubes loaded from Spark's \(\d+\.\ds\)")
            assert any(loaded_line.fullmatch(s) for s in said), said
        else:  # a row breaking a value rule is left out here, and Spark counted it: trust is computed
            assert value == 0.5
            assert (
                "trust: computed here, not loaded from Spark's cubes: 1 rows of responses break a value "
                "rule and are left out"
            ) in said
