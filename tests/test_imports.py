"""Imports: Touchpoints respondent rows, aggregated five-point counts and collections, each from a
fixture with malformed lines; known answers after import, no duplicates on a second import, input
files untouched and nothing half-written when an import fails."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import write_inputs

from metrics.analyses.trends import wording_changes
from metrics.contract import A11_ITEMS
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.imports.collections import import_collections
from metrics.imports.likert_counts import import_likert_counts
from metrics.imports.touchpoints import Target, import_touchpoints
from metrics.query import Engine, Filters, Query
from metrics.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
Q1 = FiscalQuarter(2025, 1)
PASSPORTS = Target("Passport Services", Q1)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with every input present and empty, as an agency starting from its own data has."""
    return write_inputs(tmp_path / "data")


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def engine_over(folder: Path) -> Engine:
    return Engine(Warehouse(folder), min_n=1, exact=True)


def value(engine: Engine, metric: str, **kwargs: Any) -> tuple[float, int]:
    (row,) = engine.run(Query.of(metric, **kwargs)).to_dicts()
    return row["value"], row["n"]


def test_touchpoints_import_names_each_rejected_line(data_dir: Path) -> None:
    before = (FIXTURES / "touchpoints_thumbs.csv").read_bytes()
    outcome = import_touchpoints(FIXTURES / "touchpoints_thumbs.csv", data_dir, PASSPORTS)
    report = outcome.report()
    # created_at is the upload time: line 8's 2025-01-01 does not move it out of FY2025 Q1.
    assert report[:3] == [
        "touchpoints_thumbs.csv: 8 rows read; 6 imported, 0 already imported, 2 rejected.",
        "touchpoints_thumbs.csv line 6: question_1 (trust): value '3' is not 0 (thumbs down) or 1 (thumbs up) "
        "on the thumbs_up_down scale",
        "touchpoints_thumbs.csv line 7: has 6 values; the header line has 18 columns",
    ]
    assert (
        "created_at is when Touchpoints received the upload, not when the customer answered: the rows are "
        "dated 2024-10-01, the first day of FY2025 Q1." in report
    )
    assert outcome.written is not None and outcome.written.parent == data_dir / "responses"
    assert (FIXTURES / "touchpoints_thumbs.csv").read_bytes() == before
    engine = engine_over(data_dir)
    assert engine.warehouse.check() == []
    # Thumbs up on lines 2 and 4; down on 3, 8, 9 and 10 (two respondents who answered alike).
    assert value(engine, "trust_thumbs") == (pytest.approx(2 / 6), 6)
    assert value(engine, "responses") == (6, 6)
    assert value(engine, "went_well_ease") == (1.0, 2)
    assert value(engine, "went_well_efficiency") == (0.0, 2)
    assert value(engine, "went_well_transparency") == (0.0, 1)  # null on line 4: not offered
    # Negative answers on lines 3, 8, 9 and 10: efficiency on 3, 9 and 10, ease on 3.
    assert value(engine, "could_improve_efficiency") == (0.75, 4)
    assert value(engine, "could_improve_ease") == (0.25, 4)
    imported = pl.read_parquet(outcome.written)
    assert "Waited a long time,\nthen it worked" in imported["comment"].to_list()
    assert set(imported["submitted_at"]) == {datetime(2024, 10, 1)}  # the quarter named, not the upload
    assert set(imported["age_band"]) == {"Not reported"} and set(imported["channel"]) == {"other"}
    assert set(imported["survey_version"]) == {"v2"}


def test_importing_the_same_file_twice_adds_nothing(data_dir: Path) -> None:
    import_touchpoints(FIXTURES / "touchpoints_thumbs.csv", data_dir, PASSPORTS)
    after_first = files_in(data_dir)
    again = import_touchpoints(FIXTURES / "touchpoints_thumbs.csv", data_dir, PASSPORTS)
    assert (
        again.report()[0]
        == "touchpoints_thumbs.csv: 8 rows read; 0 imported, 6 already imported, 2 rejected."
    )
    assert again.written is None and again.report()[-1] == "Nothing new to write."
    assert files_in(data_dir) == after_first
    assert value(engine_over(data_dir), "responses") == (6, 6)


def test_touchpoints_on_the_five_point_scale(tmp_path: Path, data_dir: Path) -> None:
    export = tmp_path / "export.csv"
    drivers = ",".join(["null"] * 14)
    export.write_text(
        "external_id,question_1,positive_effectiveness,positive_ease,positive_efficiency,positive_transparency,"
        "positive_humanity,positive_employee,positive_other,negative_effectiveness,negative_ease,"
        "negative_efficiency,negative_transparency,negative_humanity,negative_employee,negative_other,question_4\n"
        f"a,5,{drivers},null\nb,3,{drivers},null\nc,4,1,{','.join(['null'] * 13)},null\nd,0,{drivers},null\n",
        encoding="utf-8",
    )
    outcome = import_touchpoints(export, data_dir, Target("Naturalization", Q1, "website", "likert_scale"))
    assert [r.line for r in outcome.rejected] == [5]
    assert "value '0' is not 1 to 5 on the likert_scale scale" in outcome.rejected[0].reason
    engine = engine_over(data_dir)
    assert value(engine, "trust") == (pytest.approx(2 / 3), 3)
    assert value(engine, "trust", where={"channel": "website", "service": "Naturalization"})[1] == 3


def test_a_checklist_that_does_not_follow_the_trust_answer_is_rejected(
    tmp_path: Path, data_dir: Path
) -> None:
    export = tmp_path / "export.csv"
    header = (FIXTURES / "touchpoints_thumbs.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    cells = dict.fromkeys(header.split(","), "null") | {
        "external_id": "x",
        "question_1": "0",
        "positive_ease": "1",
    }
    cells["created_at"] = "2024-11-01"
    export.write_text(header + "\n" + ",".join(cells.values()) + "\n", encoding="utf-8")
    (rejected,) = import_touchpoints(export, data_dir, PASSPORTS).rejected
    assert rejected.reason == (
        "positive_ease: value '1', but this checklist follows only a positive trust answer (question_1 is 0)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"external_id,question_1\nx,1\n", "lacks columns positive_effectiveness, positive_ease,"),
        (b"", "is empty; the first line must name the columns"),
        (
            b"external_id,question_1\n\xe9t\xe9,1\n",
            "line 2 is not UTF-8 text (byte 0xe9); save the file as UTF-8",
        ),
    ],
)
def test_a_file_that_cannot_be_read_writes_nothing(
    tmp_path: Path, data_dir: Path, content: bytes, message: str
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(content)
    before = files_in(data_dir)
    with pytest.raises(CxError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        import_touchpoints(export, data_dir, PASSPORTS)
    assert str(raised.value).startswith(str(export))
    assert files_in(data_dir) == before


def test_a_failed_write_leaves_the_data_folder_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files_in(data_dir)

    def fail(self: pl.DataFrame, path: Path, **kwargs: Any) -> None:
        Path(path).write_bytes(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", fail)
    with pytest.raises(OSError, match="disk full"):
        import_touchpoints(FIXTURES / "touchpoints_thumbs.csv", data_dir, PASSPORTS)
    assert files_in(data_dir) == before
    assert not (data_dir / "responses").exists()


def test_likert_counts_import_names_each_rejected_line(data_dir: Path) -> None:
    outcome = import_likert_counts(FIXTURES / "likert_counts.csv", data_dir)
    assert outcome.report() == [
        "likert_counts.csv: 14 rows read; 9 imported, 0 already imported, 5 rejected.",
        "likert_counts.csv line 11: scale_value: value '6' is not a whole number 1 to 5",
        "likert_counts.csv line 12: question_key: value 'speed' is not one of " + ", ".join(A11_ITEMS),
        "likert_counts.csv line 13: Passport Services, FY2025 Q1, ease = 4 is also on line 7",
        "likert_counts.csv line 14: count: value '-1' is not a whole number 0 or more",
        "likert_counts.csv line 15: question_text differs from line 7 for Passport Services, FY2025 Q1, ease: "
        "one item is asked one way in a quarter",
        "1 of the imported counts is 0 and adds no row.",
        f"Wrote {outcome.written}.",
    ]
    engine = engine_over(data_dir)
    assert engine.warehouse.check() == []
    q1 = {"start": "FY2025 Q1", "end": "FY2025 Q1"}
    trust = engine.run(Query.of("trust", **q1)).row(0, named=True)  # type: ignore[arg-type]
    assert (trust["value"], trust["n"], trust["mean"]) == (pytest.approx(4 / 7), 7, pytest.approx(24 / 7))
    assert value(engine, "ease", **q1) == (pytest.approx(4 / 6), 6)
    # Respondents are the trust answers (7), not one per item count (7 + 6).
    assert value(engine, "responses", **q1) == (7, 7)


def test_a_count_imported_again_with_another_value_is_refused(tmp_path: Path, data_dir: Path) -> None:
    import_likert_counts(FIXTURES / "likert_counts.csv", data_dir)
    changed = tmp_path / "changed.csv"
    lines = (FIXTURES / "likert_counts.csv").read_text(encoding="utf-8").splitlines()
    changed.write_text(
        "\n".join([lines[0], lines[1].replace(",5,3", ",5,30"), lines[2]]) + "\n", encoding="utf-8"
    )
    outcome = import_likert_counts(changed, data_dir)
    assert outcome.report()[:2] == [
        "changed.csv: 2 rows read; 0 imported, 1 already imported, 1 rejected.",
        "changed.csv line 2: count 30 for Passport Services, FY2025 Q1, trust = 5 differs from the 3 imported "
        "before; remove that import's file to replace it",
    ]


def test_a_wording_change_in_the_counts_shows_in_trends(data_dir: Path) -> None:
    import_likert_counts(FIXTURES / "likert_counts.csv", data_dir)
    (change,) = wording_changes(engine_over(data_dir), Filters(), ("trust", "ease"))
    assert change.describe() == (
        "FY2025 Q2: trust question now asked as “This interaction increased my trust in the agency. "
        "(five-point scale)”; no longer “I trust the agency to fulfill its duties. (five-point scale)”"
    )


def test_collections_import_names_each_rejected_line(data_dir: Path) -> None:
    outcome = import_collections(FIXTURES / "collections.csv", data_dir)
    assert outcome.report()[:5] == [
        "collections.csv: 5 rows read; 2 imported, 0 already imported, 3 rejected.",
        "collections.csv line 4: customers_offered: value 80 is more than customers_served (50)",
        "collections.csv line 5: fiscal_quarter: value '5' is not a whole number 1 to 4; survey_type: value "
        "'stars' is not one of likert_scale, thumbs_up_down; publishable: value 'maybe' is not true or false",
        "collections.csv line 6: Passport Services, FY2025 Q1, channel other is also on line 2",
        f"Wrote {outcome.written}.",
    ]
    import_likert_counts(FIXTURES / "likert_counts.csv", data_dir)
    engine = engine_over(data_dir)
    assert engine.warehouse.check() == []
    rates = engine.run(Query.of("response_rate", by=["fiscal_quarter"])).to_dicts()
    assert [(r["fiscal_quarter"], r["value"], r["n"]) for r in rates] == [
        ("FY2025 Q1", pytest.approx(7 / 70), 70),
        ("FY2025 Q2", pytest.approx(3 / 60), 60),
    ]
    again = import_collections(FIXTURES / "collections.csv", data_dir)
    assert (again.imported, again.already, again.written) == (0, 2, None)


def test_a_quarter_reported_again_with_other_figures_is_not_merged(tmp_path: Path, data_dir: Path) -> None:
    import_collections(FIXTURES / "collections.csv", data_dir)
    other = tmp_path / "other.csv"
    other.write_text(
        "service,fiscal_year,fiscal_quarter,channel,customers_served,customers_offered,trust_question_text,"
        "survey_type,publishable\n"
        "Passport Services,2025,1,other,1100,70,I trust the agency to fulfill its duties.,likert_scale,true\n",
        encoding="utf-8",
    )
    (rejected,) = import_collections(other, data_dir).rejected
    assert rejected.reason == (
        "Passport Services, FY2025 Q1, channel other is already imported with customers_served 1000; "
        "figures are not merged"
    )


# Round trip: counts of every item for two services and two quarters, loaded as counts and expanded
# into the respondent rows they summarise, give the same figures. Employee is answered by no more
# respondents than humanity, so Emotion is the same either way (see sql/metrics/emotion.sql).
COUNTS = {
    ("Passport Services", 1): {
        "trust": [1, 2, 0, 5, 9],
        "ease": [0, 1, 1, 6, 7],
        "humanity": [2, 0, 3, 4, 8],
    },
    ("Passport Services", 2): {
        "trust": [0, 0, 4, 4, 4],
        "satisfaction": [3, 1, 1, 2, 5],
        "employee": [1, 1, 0, 2, 3],
    },
    ("Naturalization", 1): {
        "trust": [5, 3, 2, 1, 1],
        "effectiveness": [2, 2, 2, 2, 2],
        "efficiency": [0, 0, 0, 0, 9],
        "transparency": [4, 0, 0, 0, 0],
        "humanity": [1, 2, 3, 2, 1],
        "employee": [3, 1, 1, 1, 0],
    },
    ("Naturalization", 2): {"trust": [2, 2, 2, 2, 2], "satisfaction": [0, 0, 1, 0, 0]},
}


def _expanded() -> list[dict[str, Any]]:
    rows = []
    for (service, quarter), items in COUNTS.items():
        answers = {
            item: [a for a, k in enumerate(counts, start=1) for _ in range(k)]
            for item, counts in items.items()
        }
        start = FiscalQuarter(2025, quarter).start
        for i in range(max(len(a) for a in answers.values())):
            row: dict[str, Any] = {
                "service": service,
                "submitted_at": pl.datetime(start.year, start.month, start.day),
            }
            row = {"service": service, "channel": "other", "submitted_at": _midnight(start)}
            row |= {item: a[i] if i < len(a) else None for item, a in answers.items()}
            rows.append(row)
    return rows


def _midnight(day: Any) -> Any:
    from datetime import datetime

    return datetime(day.year, day.month, day.day)


def test_figures_from_counts_equal_figures_from_the_same_answers_as_rows(tmp_path: Path) -> None:
    counts_dir = write_inputs(tmp_path / "counts")
    lines = ["service,fiscal_year,fiscal_quarter,question_key,question_text,scale_value,count"]
    for (service, quarter), items in COUNTS.items():
        for item, counts in items.items():
            lines += [
                f"{service},2025,{quarter},{item},The {item} item.,{a},{k}" for a, k in enumerate(counts, 1)
            ]
    (tmp_path / "counts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not import_likert_counts(tmp_path / "counts.csv", counts_dir).rejected
    from_counts = engine_over(counts_dir)
    from_rows = engine_over(write_inputs(tmp_path / "rows", responses=_expanded()))
    for metric, by in itertools.product(
        ("trust", "satisfaction", "effectiveness", "ease", "efficiency", "transparency", "employee", "humanity",
         "emotion", "responses"),
        (["service", "fiscal_quarter"], ["service"], ["fiscal_quarter"], []),
    ):  # fmt: skip
        expected = from_rows.run(Query.of(metric, by=by))
        got = from_counts.run(Query.of(metric, by=by))
        assert got.height == expected.height > 0, (metric, by)
        for want, have in zip(expected.to_dicts(), got.to_dicts(), strict=True):
            assert [have[d] for d in by] == [want[d] for d in by]
            for key in ("value", "n", "ci_low", "ci_high", "mean"):
                if key in want and want[key] is None:
                    assert have[key] is None, (metric, by, key)
                elif key in want:
                    assert have[key] == pytest.approx(want[key], abs=1e-12, rel=0), (metric, by, key)


def test_an_upload_after_the_quarter_imports_into_the_quarter_named(tmp_path: Path, data_dir: Path) -> None:
    # Uploaded in January (created_at), answered in FY2025 Q1: every row goes to FY2025 Q1.
    header = (FIXTURES / "touchpoints_thumbs.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    export = tmp_path / "uploaded.csv"
    lines = [header]
    for i, created in enumerate(
        ("2025-01-06 14:00:00 UTC", "2025-01-20 09:30:00 UTC", "2025-01-31 23:00:00 UTC")
    ):
        cells = dict.fromkeys(header.split(","), "null") | {"external_id": f"u{i}", "question_1": "1"}
        cells["created_at"] = created
        lines.append(",".join(cells.values()))
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = import_touchpoints(export, data_dir, PASSPORTS)
    assert (outcome.imported, outcome.rejected) == (3, [])
    assert value(engine_over(data_dir), "responses", by=["fiscal_quarter"]) == (3, 3)
    assert engine_over(data_dir).run(Query.of("responses", by=["fiscal_quarter"]))[
        "fiscal_quarter"
    ].to_list() == ["FY2025 Q1"]


@pytest.mark.parametrize(
    ("written", "local", "reason"),
    [
        # 03:00 UTC on January 1 is 22:00 on December 31 in Washington: still FY2025 Q1.
        ("2025-01-01 03:00:00 UTC", datetime(2024, 12, 31, 22, 0), None),
        ("2025-01-01T03:00:00Z", datetime(2024, 12, 31, 22, 0), None),
        # 06:00 UTC is 01:00 on January 1 in Washington: FY2025 Q2, named as such.
        (
            "2025-01-01 06:00:00+00:00",
            datetime(2025, 1, 1, 1, 0),
            "submitted_at: 2025-01-01 (in America/New_York) is in FY2025 Q2, not FY2025 Q1 (2024-10-01 to 2024-12-31)",
        ),
        ("2024-12-31 23:30:00", datetime(2024, 12, 31, 23, 30), None),  # no zone: already local
    ],
)
def test_a_true_submission_time_is_read_in_the_agencys_time_zone(
    tmp_path: Path, data_dir: Path, written: str, local: datetime, reason: str | None
) -> None:
    from metrics.imports.touchpoints import local_time

    assert local_time(written, "America/New_York") == local
    header = (FIXTURES / "touchpoints_thumbs.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    cells = dict.fromkeys([*header.split(","), "submitted_at"], "null") | {
        "external_id": "z",
        "question_1": "1",
    }
    cells["submitted_at"] = written
    export = tmp_path / "answered.csv"
    export.write_text(",".join(cells) + "\n" + ",".join(cells.values()) + "\n", encoding="utf-8")
    outcome = import_touchpoints(export, data_dir, PASSPORTS)
    assert [r.reason for r in outcome.rejected] == ([reason] if reason else [])
    if reason is None:
        assert pl.read_parquet(outcome.written)["submitted_at"].to_list() == [local]
