"""Bad input, one failure mode per test: the exact message names the file, column and value, and
everything that does not read the bad input keeps working."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import frame, write_inputs

from metrics.errors import CxError, InputError
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in Warehouse(folder).check()]


def with_responses(tmp_path: Path, responses: pl.DataFrame) -> Path:
    folder = write_inputs(tmp_path, contacts=[{}] * 3, transactions=[{}], collections=[{}])
    responses.write_parquet(folder / "responses.parquet")
    return folder


def test_missing_column(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{"trust": 5}]).drop("trust"))
    assert problems_of(folder) == ["responses.parquet: missing column 'trust' (TINYINT)"]


def test_wrong_type(tmp_path: Path) -> None:
    bad = frame("responses", [{"trust": 5}]).with_columns(pl.col("trust").cast(pl.String))
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'trust' has type VARCHAR; expected TINYINT (a whole number)"
    ]


def test_answer_seven_on_a_five_point_item(tmp_path: Path) -> None:
    bad = frame("responses", [{"ease": 7}, {"ease": 4}])
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'ease': value 7 is outside 1-5 (1 row)"
    ]


def test_value_not_in_the_allowed_list(tmp_path: Path) -> None:
    bad = frame("responses", [{"channel": "carrier_pigeon"}, {"channel": "carrier_pigeon"}, {}])
    (problem,) = problems_of(with_responses(tmp_path, bad))
    assert problem.startswith(
        "responses.parquet: column 'channel': value 'carrier_pigeon' is not allowed (2 rows); allowed: computer, mobile,"
    )


def test_null_where_a_value_is_required(tmp_path: Path) -> None:
    bad = frame("responses", [{"service": None}, {}])
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'service' is empty in 1 row; it must always have a value"
    ]


def test_duplicate_ids(tmp_path: Path) -> None:
    bad = frame("responses", [{}, {}]).with_columns(pl.lit("R1").alias("response_id"))
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'response_id': value 'R1' appears 2 times; ids must be unique"
    ]


def test_thumbs_answer_outside_zero_one(tmp_path: Path) -> None:
    bad = frame("responses", [{"survey_version": "v2", "trust_scale": "thumbs", "trust": 4}])
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'trust': value 4 is not 0 or 1 on the thumbs scale (1 row)"
    ]


def test_fractional_number_in_a_whole_number_column(tmp_path: Path) -> None:
    floats = frame("responses", [{"ease": 4}, {"ease": 2}]).with_columns(pl.col("ease").cast(pl.Float64))
    assert problems_of(with_responses(tmp_path, floats)) == []  # whole floats are accepted
    halves = floats.with_columns(pl.lit(2.5).alias("ease"))
    assert problems_of(with_responses(tmp_path, halves)) == [
        "responses.parquet: column 'ease': value 2.5 is not a whole number (2 rows)"
    ]


def test_file_that_is_not_parquet(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    (folder / "responses.parquet").write_text("id,trust\n1,5\n")
    (problem,) = problems_of(folder)
    assert problem.startswith("responses.parquet: cannot be read as parquet (")


def test_missing_input(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    (folder / "transactions.parquet").unlink()
    assert problems_of(folder) == [
        "transactions.parquet: not found: the transactions input is a file transactions.parquet or a folder "
        f"transactions/ of parquet files in {folder}"
    ]


def test_folder_input_names_the_bad_file(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    (folder / "responses.parquet").unlink()
    (folder / "responses").mkdir()
    frame("responses", [{"trust": 5}]).write_parquet(folder / "responses" / "2025q1.parquet")
    (folder / "responses" / "2025q2.parquet").write_bytes(b"not parquet")
    (problem,) = problems_of(folder)
    assert problem.startswith("responses/2025q2.parquet: cannot be read as parquet (")


def test_folder_input_reads_every_file(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    (folder / "responses.parquet").unlink()
    (folder / "responses").mkdir()
    for part in ("a", "b"):
        rows = frame("responses", [{"trust": 5}] * 3)
        rows.with_columns((pl.lit(part) + pl.col("response_id")).alias("response_id")).write_parquet(
            folder / "responses" / f"{part}.parquet"
        )
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    assert problems_of(folder) == []
    assert engine.run(Query.of("responses")).row(0, named=True)["value"] == 6


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    bad = frame("responses", [{"ease": 9, "channel": "fax machine"}]).drop("segment")
    folder = with_responses(tmp_path, bad)
    frame("contacts", [{"queue_wait_seconds": -5.0}]).write_parquet(folder / "contacts.parquet")
    assert problems_of(folder) == [
        "responses.parquet: missing column 'segment' (VARCHAR)",
        "contacts.parquet: column 'queue_wait_seconds': value -5.0 is below 0 (1 row)",
    ]


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    frame("contacts", [{}] * 3).drop("age_band", "journey_stage").write_parquet(folder / "contacts.parquet")
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    assert problems_of(folder) == []
    result = engine.run(Query.of("abandonment_rate", by=["age_band"]))
    assert result["age_band"].to_list() == ["Not reported"]


def test_rows_that_break_a_rule_are_rejected_and_the_rest_served(tmp_path: Path) -> None:
    bad = frame(
        "responses", [{"ease": 7, "trust": 5}, {"trust": 5}, {"trust": 2}, {"trust": 4}, {"trust": 4}]
    )
    bad = bad.with_columns(  # the last two share an id: both are rejected, since which is right is unknown
        pl.when(pl.col("response_id") == "R0005")
        .then(pl.lit("R0004"))
        .otherwise(pl.col("response_id"))
        .alias("response_id")
    )
    folder = with_responses(tmp_path, bad)
    warehouse = Warehouse(folder)
    assert [str(p) for p in warehouse.check()] == [
        "responses.parquet: column 'ease': value 7 is outside 1-5 (1 row)",
        "responses.parquet: column 'response_id': value 'R0004' appears 2 times; ids must be unique",
    ]
    assert (warehouse.inputs["responses"].rejected, warehouse.row_count("responses")) == (3, 2)
    row = Engine(warehouse, min_n=1, exact=True).run(Query.of("trust")).row(0, named=True)
    assert (row["n"], row["value"]) == (2, pytest.approx(1 / 2))


def test_an_unusable_input_fails_only_the_metrics_that_read_it(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{"trust": 5}]).drop("segment"))
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    with pytest.raises(InputError) as raised:
        engine.run(Query.of("trust"))
    assert str(raised.value) == (
        "metric 'trust' reads responses, which cannot be used: responses.parquet: missing column 'segment' "
        "(VARCHAR). Run `cx check` to list every problem."
    )
    assert engine.run(Query.of("abandonment_rate")).row(0, named=True)["n"] == 3
    assert engine.run(Query.of("self_service_rate")).row(0, named=True)["n"] == 1


def test_a_single_file_and_a_folder_are_read_together(tmp_path: Path) -> None:
    # Imports add files to responses/ beside the responses.parquet already there.
    folder = with_responses(tmp_path, frame("responses", [{"trust": 5}] * 2))
    (folder / "responses").mkdir()
    frame("responses", [{"trust": 1}] * 3).with_columns(
        (pl.lit("new-") + pl.col("response_id")).alias("response_id")
    ).write_parquet(folder / "responses" / "imported.parquet")
    warehouse = Warehouse(folder)
    assert warehouse.inputs["responses"].source == "responses.parquet and responses/"
    assert problems_of(folder) == []
    row = Engine(warehouse, min_n=1, exact=True).run(Query.of("trust")).row(0, named=True)
    assert (row["n"], row["value"]) == (5, pytest.approx(2 / 5))


def test_an_older_file_without_the_new_optional_columns_gets_their_defaults(tmp_path: Path) -> None:
    # Files written before row_kind and question_text existed sit beside imported files that have them:
    # the old rows are respondents with no wording, not nulls that break the contract.
    old = frame("responses", [{"trust": 5}] * 2).drop("row_kind", "question_text")
    folder = with_responses(tmp_path, old)
    (folder / "responses").mkdir()
    counts = frame(
        "responses",
        [{"trust": 4, "weight": 3, "row_kind": "answer_count", "question_text": "I trust the agency."}],
    ).with_columns(pl.lit("count-1").alias("response_id"))
    counts.write_parquet(folder / "responses" / "counts.parquet")
    assert problems_of(folder) == []
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    assert engine.run(Query.of("responses")).row(0, named=True)["value"] == 5
    kinds = engine.warehouse.cursor().sql(
        "select row_kind, count(*) from raw_responses group by 1 order by 1"
    )
    assert kinds.fetchall() == [("answer_count", 1), ("respondent", 2)]


def test_an_answer_count_row_must_count_one_item_with_its_wording(tmp_path: Path) -> None:
    bad = frame(
        "responses",
        [
            {"row_kind": "answer_count", "trust": 5, "ease": 4, "question_text": "Trust?"},
            {"row_kind": "answer_count", "ease": 4},
            {"row_kind": "answer_count", "ease": 4, "question_text": "Easy?"},
        ],
    )
    assert problems_of(with_responses(tmp_path, bad)) == [
        "responses.parquet: column 'row_kind': value answer_count must count answers to exactly one A-11 item "
        "on the five-point scale, with its question_text (2 rows)"
    ]


def test_a_truncated_file(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{"trust": 5}] * 50))
    whole = (folder / "responses.parquet").read_bytes()
    (folder / "responses.parquet").write_bytes(whole[: len(whole) // 2])
    (problem,) = problems_of(folder)
    assert problem.startswith(
        "responses.parquet: cannot be read as parquet (Invalid Input Error: No magic bytes"
    )


def test_an_empty_file(tmp_path: Path) -> None:
    folder = with_responses(tmp_path, frame("responses", [{}]))
    (folder / "responses.parquet").write_bytes(b"")
    (problem,) = problems_of(folder)
    assert problem.startswith("responses.parquet: cannot be read as parquet (")
    assert "too small to be a Parquet file" in problem


def test_a_file_damaged_inside_is_named_when_loaded_and_the_rest_is_served(tmp_path: Path) -> None:
    # The footer is intact, so the columns can be described; the pages of rows cannot be read.
    folder = with_responses(tmp_path, frame("responses", [{"trust": 5}] * 3))
    rows = [{"queue_wait_seconds": float(i), "contact_id": f"C{i:06d}"} for i in range(5000)]
    frame("contacts", rows).write_parquet(folder / "contacts.parquet")
    damaged = bytearray((folder / "contacts.parquet").read_bytes())
    damaged[4 : len(damaged) // 3] = bytes(len(damaged) // 3 - 4)
    (folder / "contacts.parquet").write_bytes(bytes(damaged))
    (problem,) = problems_of(folder)
    assert problem.startswith("contacts.parquet: cannot be read as parquet (")
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    with pytest.raises(InputError, match="contacts"):
        engine.run(Query.of("wait_median"))
    assert engine.run(Query.of("trust")).row(0, named=True)["n"] == 3


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame("responses", [{"comment": "fine"}, {"comment": "x"}]).to_arrow()
    latin1 = pa.array([b"fine", b"caf\xe9"], type=pa.binary()).view(pa.string())  # bytes as they are
    table = table.set_column(table.schema.get_field_index("comment"), "comment", latin1)
    folder = with_responses(tmp_path, frame("responses", [{}]))
    pq.write_table(table, folder / "responses.parquet")
    assert problems_of(folder) == [
        "responses.parquet: column 'comment' holds text that is not UTF-8 (e.g. caf\\xE9); write the file "
        "with UTF-8 text"
    ]


def test_a_ten_megabyte_string_is_refused_and_quoted_short(tmp_path: Path) -> None:
    huge = "A" * 10 * 1024 * 1024
    folder = with_responses(tmp_path, frame("responses", [{"comment": huge}, {}]))
    (problem,) = problems_of(folder)
    assert problem == (
        f"responses.parquet: column 'comment': value '{'A' * 60}… (10,485,760 characters)' is longer than "
        "10,000 characters (1 row)"
    )
    channel = with_responses(tmp_path / "channel", frame("responses", [{"channel": huge}]))
    (problem,) = problems_of(channel)
    assert problem.startswith(
        f"responses.parquet: column 'channel': value '{'A' * 60}… (10,485,760 characters)' is not allowed (1 row)"
    )


def test_a_date_in_the_future(tmp_path: Path) -> None:
    from datetime import datetime

    bad = frame("responses", [{"submitted_at": datetime(2099, 1, 1)}, {}])
    (problem,) = problems_of(with_responses(tmp_path, bad))
    assert problem.startswith(
        "responses.parquet: column 'submitted_at': value 2099-01-01 00:00:00 is in the future, after "
    )
    assert problem.endswith(" (1 row)")


def test_input_files_are_never_modified(tmp_path: Path) -> None:
    bad = frame("responses", [{"ease": 7}, {"channel": "fax machine"}, {}])
    folder = with_responses(tmp_path, bad)
    (folder / "transactions.parquet").write_bytes(b"PAR1 broken")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    engine.warehouse.check()
    engine.check_metrics()
    engine.run(Query.of("abandonment_rate"))
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


def test_cx_check_counts_the_rejected_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cx.cli import main

    folder = with_responses(tmp_path, frame("responses", [{"ease": 7}, {"ease": 9}, {"ease": 4}]))
    assert main(["check", "--data-dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "input",
        "responses.parquet",
        "1",
        "rows",
        "2",
        "problem(s),",
        "2",
        "rows",
        "rejected",
    ]
    assert "problem: responses.parquet: column 'ease': value 7 is outside 1-5 (1 row)" in lines


def test_a_timestamp_with_a_zone_is_read_in_the_agencys_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    # 03:00 UTC on January 1 is 22:00 on December 31 in Washington (FY2025 Q1) and 19:00 in
    # Los Angeles; 06:00 UTC is 01:00 on January 1 in Washington (FY2025 Q2).
    zoned = frame(
        "responses", [{"submitted_at": datetime(2025, 1, 1, 3)}, {"submitted_at": datetime(2025, 1, 1, 6)}]
    ).with_columns(pl.col("submitted_at").dt.replace_time_zone("UTC"))
    folder = with_responses(tmp_path, zoned)
    engine = Engine(Warehouse(folder), min_n=1, exact=True)
    assert engine.warehouse.check() == []
    by_quarter = engine.run(Query.of("responses", by=["fiscal_quarter"]))
    assert dict(zip(by_quarter["fiscal_quarter"], by_quarter["n"], strict=True)) == {
        "FY2025 Q1": 1,
        "FY2025 Q2": 1,
    }
    local = engine.warehouse.frame("select submitted_at from stg_responses order by 1")[
        "submitted_at"
    ].to_list()
    assert local == [datetime(2024, 12, 31, 22), datetime(2025, 1, 1, 1)]
    monkeypatch.setenv("CX_TIMEZONE", "America/Los_Angeles")
    west = Engine(Warehouse(folder), min_n=1, exact=True).run(Query.of("responses", by=["fiscal_quarter"]))
    assert west["fiscal_quarter"].to_list() == ["FY2025 Q1"] and west["n"].to_list() == [2]
    monkeypatch.setenv("CX_TIMEZONE", "Mars/Olympus")
    with pytest.raises(
        CxError, match="CX_TIMEZONE: value 'Mars/Olympus' is not a time zone such as America/New_York"
    ):
        Warehouse(folder)
