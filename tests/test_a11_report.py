"""The A-11 submission: counts and readiness known by hand on imported fixtures, counts equal to the
query API's on the sample data, small cells hidden for pages but not in the file sent to OMB."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from conftest import write_inputs

from cx.cli import main
from metrics.analyses.a11_report import (
    COUNT_COLUMNS,
    DETAIL_COLUMNS,
    a11_report,
    shown,
    submission_csv,
    summary_csv,
)
from metrics.contract import A11_ITEMS, V2_DRIVERS
from metrics.fiscal import FiscalQuarter
from metrics.imports.collections import import_collections
from metrics.imports.likert_counts import import_likert_counts
from metrics.imports.touchpoints import Target, import_touchpoints
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
Q1 = FiscalQuarter(2025, 1)


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """Passport Services from aggregated counts with collections; Naturalization from Touchpoints, without."""
    folder = write_inputs(tmp_path / "data")
    import_likert_counts(FIXTURES / "likert_counts.csv", folder)
    import_collections(FIXTURES / "collections.csv", folder)
    import_touchpoints(FIXTURES / "touchpoints_thumbs.csv", folder, Target("Naturalization", Q1))
    return folder


def report_q1(data_dir: Path, out: Path) -> int:
    """Run `cx report a11` for FY2025 Q1 of `data_dir` into `out`; return its exit status."""
    return main(
        [
            "report",
            "a11",
            "--fiscal-year",
            "2025",
            "--quarter",
            "1",
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
        ]
    )


def submission_rows(text: str) -> dict[str, dict[str, str]]:
    return {row["service"]: row for row in csv.DictReader(io.StringIO(text))}


def test_submission_counts_and_readiness_by_hand(imported: Path) -> None:
    report = a11_report(Engine(Warehouse(imported), exact=True), Q1)
    assert report.due.isoformat() == "2025-01-30"
    rows = submission_rows(summary_csv(report))
    passports, naturalization = rows["Passport Services"], rows["Naturalization"]
    assert [passports[f"trust_{a}"] for a in range(1, 6)] == ["1", "2", "0", "1", "3"]
    assert [passports[f"ease_{a}"] for a in range(1, 6)] == ["0", "2", "0", "4", "0"]
    assert (passports["customers_served"], passports["customers_offered"], passports["respondents"]) == (
        "1000",
        "70",
        "7",
    )
    assert float(passports["response_rate"]) == pytest.approx(7 / 70)
    assert passports["trust_question_text"] == "I trust the agency to fulfill its duties."
    assert passports["survey_type"] == "likert_scale"
    assert (passports["readiness"], passports["reasons"]) == (
        "green",
        "trust answered, drivers answered, customers served and offered known",
    )
    # Thumbs down on lines 3, 8, 9 and 10 of the export (created_at does not date a row).
    assert (naturalization["trust_thumbs_up"], naturalization["trust_thumbs_down"]) == ("2", "4")
    assert (naturalization["went_well_ease"], naturalization["could_improve_efficiency"]) == ("2", "3")
    assert naturalization["respondents"] == "6" and naturalization["response_rate"] == ""
    assert naturalization["readiness"] == "red"
    assert naturalization["reasons"] == (
        "customers served and offered unknown: import them with `cx import collections`"
    )
    assert list(rows["Passport Services"])[11:] == [name for name, _, _ in COUNT_COLUMNS]


def test_the_reporting_page_says_unknown_counts_are_unknown_not_hidden(
    imported: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # Naturalization has no collections: its customers served and offered are not known. They are
    # not hidden, and the page does not mark them so. The server's caches hold the data it opened:
    # cleared before and after, as this data is not the other tests'.
    monkeypatch.setenv("CX_DATA_DIR", str(imported))
    st.cache_resource.clear()
    st.cache_data.clear()
    request.addfinalizer(st.cache_data.clear)
    request.addfinalizer(st.cache_resource.clear)
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py"), default_timeout=120
    )
    app.query_params["quarter"] = "FY2025Q1"
    app.switch_page("app_pages/reporting.py")
    app.run()
    assert not app.exception
    readiness = app.table[0].value.reset_index()
    row = readiness[readiness["Service"] == "Naturalization"].iloc[0]
    assert (row["Customers served"], row["Offered the survey"], row["Response rate"]) == ("unknown",) * 3
    passports = readiness[readiness["Service"] == "Passport Services"].iloc[0]
    assert (passports["Customers served"], passports["Offered the survey"]) == ("1,000", "70")
    # The overview of Naturalization: its response rate has no collections to rest on, said in words.
    overview = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py"), default_timeout=120
    )
    overview.query_params["service"] = "Naturalization"
    overview.run()
    assert not overview.exception
    assert any(
        "; response rate unknown: no record of customers offered the survey" in m.value
        for m in overview.markdown
    ), [m.value for m in overview.markdown]


def test_readiness_names_every_reason(tmp_path: Path) -> None:
    folder = write_inputs(
        tmp_path / "data",
        responses=[{"ease": 4}] * 3 + [{"trust": 5, "channel": "email"}] * 2 + [{"trust": 4}] * 2,
        collections=[
            {"channel": "website", "customers_offered": 1},
            {"channel": "website", "trust_question_text": "Other words.", "service": "Passport Services"},
        ],
    )
    (row,) = a11_report(Engine(Warehouse(folder), exact=True), Q1).services.to_dicts()
    assert row["readiness"] == "yellow"
    assert row["reasons"].split("; ") == [
        "trust question worded or scaled more than one way in one channel this quarter (website)",
        "2 respondents in channels with no customers offered (email) are left out of the response rate",
    ]
    only_ease = write_inputs(tmp_path / "ease", responses=[{"ease": 4}], collections=[{}])
    (row,) = a11_report(Engine(Warehouse(only_ease), exact=True), Q1).services.to_dicts()
    assert (row["readiness"], row["reasons"]) == (
        "red",
        "no answers to the trust question, which A-11 requires",
    )
    no_drivers = write_inputs(tmp_path / "trust", responses=[{"trust": 4}], collections=[{}])
    (row,) = a11_report(Engine(Warehouse(no_drivers), exact=True), Q1).services.to_dicts()
    assert (row["readiness"], row["reasons"]) == (
        "yellow",
        "drivers missing: no answers beyond the trust question",
    )


def test_pages_see_small_cells_hidden_and_the_file_keeps_them(imported: Path) -> None:
    report = a11_report(Engine(Warehouse(imported), exact=True), Q1)
    hidden = shown(report, min_n=7)
    rows = submission_rows(summary_csv(hidden, hidden_marked=True))
    # Naturalization has 6 respondents (< 7): hidden, and Passport's 7 with it, or 6 = total - 7.
    assert rows["Naturalization"]["respondents"] == rows["Passport Services"]["respondents"] == "†"
    assert rows["Naturalization"]["response_rate"] == ""  # unknown, not hidden
    # Passport's trust (7 answers) stays; its ease (6 answers) is hidden, every answer with it.
    assert [rows["Passport Services"][f"trust_{a}"] for a in range(1, 6)] == ["1", "2", "0", "1", "3"]
    assert [rows["Passport Services"][f"ease_{a}"] for a in range(1, 6)] == ["†"] * 5
    assert rows["Naturalization"]["trust_thumbs_up"] == "†"
    assert submission_rows(summary_csv(report))["Naturalization"]["respondents"] == "6"


def test_report_counts_equal_the_query_api(sample_dir: Path) -> None:
    engine = Engine(Warehouse(sample_dir), min_n=1, exact=True)
    quarter = FiscalQuarter(2026, 4)
    rows = submission_rows(summary_csv(a11_report(engine, quarter)))
    period = {"start": quarter.label, "end": quarter.label}

    def by_service(metric: str) -> dict[str, dict[str, float]]:
        return {r["service"]: r for r in engine.run(Query.of(metric, by=["service"], **period)).to_dicts()}  # type: ignore[arg-type]

    respondents, rates = by_service("responses"), by_service("response_rate")
    for service, row in rows.items():
        assert int(row["respondents"]) == respondents[service]["value"]
        assert float(row["response_rate"]) == pytest.approx(rates[service]["value"], abs=1e-12)
    for item in A11_ITEMS:
        for service, result in by_service(item).items():
            counts = [int(rows[service][f"{item}_{a}"]) for a in range(1, 6)]
            assert sum(counts) == result["n"], (item, service)
            assert (counts[3] + counts[4]) / sum(counts) == pytest.approx(result["value"], abs=1e-12)
    for service, result in by_service("trust_thumbs").items():
        up, down = int(rows[service]["trust_thumbs_up"]), int(rows[service]["trust_thumbs_down"])
        assert (up + down, up / (up + down)) == (result["n"], pytest.approx(result["value"], abs=1e-12))
    for driver in V2_DRIVERS:
        for side in ("went_well", "could_improve"):
            for service, result in by_service(f"{side}_{driver}").items():
                assert int(rows[service][f"{side}_{driver}"]) == round(result["value"] * result["n"])


def test_cli_writes_the_full_submission_and_says_why(
    capsys: pytest.CaptureFixture[str], imported: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    status = report_q1(imported, out)
    printed = capsys.readouterr().out.splitlines()
    assert status == 1  # Naturalization is not ready
    assert printed[0] == "A-11 Section 280 submission for FY2025 Q1, due 2025-01-30:"
    assert printed[1].split() == [
        "RED",
        "(Not",
        "ready)",
        "Naturalization:",
        "customers",
        "served",
        "and",
        "offered",
        "unknown:",
        "import",
        "them",
        "with",
        "`cx",
        "import",
        "collections`",
    ]
    assert printed[2].startswith("  GREEN (Ready)")
    assert printed[-1] == (
        f"Wrote {out / 'a11-FY2025-Q1.csv'} (2 collection details: one per service, channel and trust question "
        f"as worded and scaled) and {out / 'a11-FY2025-Q1-responses.csv'} (6 v2 respondents). They carry the "
        "true counts, small cells included, because they go to OMB; the Reporting page hides counts under the "
        "minimum (10)."
    )
    details = list(csv.DictReader(io.StringIO((out / "a11-FY2025-Q1.csv").read_text(encoding="utf-8"))))
    # Every field of a Touchpoints collection detail our data has, under its name, in its order.
    assert list(details[0])[: len(DETAIL_COLUMNS)] == [name for name, _ in DETAIL_COLUMNS]
    assert list(details[0])[len(DETAIL_COLUMNS) :] == [name for name, _, _ in COUNT_COLUMNS]
    by_service = {row["service_name"]: row for row in details}
    assert by_service["Naturalization"]["volume_of_respondents"] == "6"  # under 10, yet in the file
    assert by_service["Passport Services"]["omb_control_number"] == "1405-0231"
    assert by_service["Passport Services"]["cx_collection_quarter"] == "1"
    respondents = list(csv.DictReader(io.StringIO((out / "a11-FY2025-Q1-responses.csv").read_text())))
    assert len(respondents) == 6 and {r["service_name"] for r in respondents} == {"Naturalization"}
    assert {r["question_4"] for r in respondents} == {""}  # comments are not exported
    assert sorted(p.name for p in out.iterdir()) == ["a11-FY2025-Q1-responses.csv", "a11-FY2025-Q1.csv"]


def test_a_channel_asking_trust_two_ways_gives_two_details_by_hand(tmp_path: Path) -> None:
    # Passport Services, FY2025 Q1. Website: one collection (thumbs) and 3 respondents, 2 thumbs up.
    # Phone: a collection worded A (five-point) with 2 respondents answering 5 and 4, and aggregated
    # counts worded B: 4 answering 2 and 1 answering 5. Phone is two details, A and B, not one pooled.
    a, b = "I trust the agency to fulfill its duties.", "This interaction increased my trust in the agency."
    folder = write_inputs(
        tmp_path / "data",
        responses=[
            {"channel": "website", "trust_scale": "thumbs", "survey_version": "v2", "trust": t}
            for t in (1, 1, 0)
        ]
        + [{"channel": "phone", "trust": t} for t in (5, 4)]
        + [
            {"channel": "phone", "row_kind": "answer_count", "question_text": b, "trust": t, "weight": w}
            for t, w in ((2, 4), (5, 1))
        ],
        collections=[
            {"channel": "website", "survey_type": "thumbs_up_down", "trust_question_text": a},
            {"channel": "phone", "customers_served": 400, "customers_offered": 40, "trust_question_text": a},
        ],
    )
    report = a11_report(Engine(Warehouse(folder), exact=True), Q1)
    rows = list(csv.DictReader(io.StringIO(submission_csv(report))))
    shape = [
        (
            r["channel"],
            r["trust_question_text"],
            r["survey_type"],
            r["volume_of_customers"],
            r["volume_of_respondents"],
        )
        for r in rows
    ]
    assert shape == [
        ("phone", a, "likert_scale", "400", "2"),
        ("phone", b, "likert_scale", "", "5"),  # no collection words it so: no volumes to give it
        ("website", a, "thumbs_up_down", "1000", "3"),
    ]
    phone_a, phone_b, website = rows
    assert [phone_a[f"trust_{n}"] for n in range(1, 6)] == ["0", "0", "0", "1", "1"]
    assert [phone_b[f"trust_{n}"] for n in range(1, 6)] == ["0", "4", "0", "0", "1"]
    assert (website["trust_thumbs_up"], website["trust_thumbs_down"]) == ("2", "1")
    assert phone_b["transaction_point"] == "" and phone_a["transaction_point"] == "Passport renewal submitted"
    (service,) = report.services.to_dicts()
    assert service["readiness"] == "yellow"
    assert (
        "trust question worded or scaled more than one way in one channel this quarter (phone)"
        in service["reasons"]
    )
    # The respondent-level file holds the v2 respondents only: the three on the website.
    assert sorted(report.respondents["question_1"]) == [0, 1, 1]
    assert set(report.respondents["channel"]) == {"website"}


def test_readiness_names_every_missing_collection_field(tmp_path: Path) -> None:
    folder = write_inputs(
        tmp_path / "data",
        responses=[{"trust": 5, "ease": 4}],
        collections=[{"omb_control_number": None, "reflection_text": None}],
    )
    (row,) = a11_report(Engine(Warehouse(folder), exact=True), Q1).services.to_dicts()
    assert (row["readiness"], row["reasons"]) == (
        "yellow",
        "collection details not given in the collections input: omb_control_number, reflection_text",
    )


GOLDEN = Path(__file__).resolve().parent / "golden" / "a11-FY2025-Q1.csv"


@pytest.mark.slow
def test_the_sample_submission_matches_its_golden_file(tmp_path: Path) -> None:
    """The submission for the sample's FY2025 Q1, byte for byte. A change to it is reviewed: rewrite it
    with `make golden` and read the diff before committing."""
    from sample_data.generator import generate

    generate(tmp_path / "sample")
    out = tmp_path / "out"
    report_q1(tmp_path / "sample", out)
    assert (out / "a11-FY2025-Q1.csv").read_bytes() == GOLDEN.read_bytes(), (
        "the sample's FY2025 Q1 submission changed: run `make golden` and read the diff"
    )


def test_a_survey_not_cleared_for_release_makes_a_view_internal_only(make_engine: Any) -> None:
    from metrics.analyses.release import internal_only, release_note
    from metrics.query import Filters

    # Employee HR Services' phone survey is not publishable in FY2025 Q1 only.
    engine = make_engine(
        responses=[{"trust": 5}],
        collections=[
            {"service": "Employee HR Services", "channel": "phone", "publishable": False},
            {"service": "Employee HR Services", "channel": "website", "fiscal_quarter": 2},
            {"service": "Passport Services", "channel": "phone", "publishable": True},
        ],
    )
    q1 = Filters(start="FY2025 Q1", end="FY2025 Q1")
    assert internal_only(engine, q1) == ("Employee HR Services",)
    assert internal_only(engine, Filters(start="FY2025 Q2", end="FY2025 Q4")) == ()
    assert (
        internal_only(engine, Filters((("service", ("Passport Services",)),), "FY2025 Q1", "FY2025 Q1")) == ()
    )
    assert internal_only(engine, Filters((("channel", ("website",)),), "FY2025 Q1", "FY2025 Q1")) == ()
    assert release_note(("Employee HR Services",)) == (
        "Internal only: the survey of Employee HR Services is not cleared for public release."
    )
    assert release_note(()) == ""
