"""Known answers for the business-terms views: value figures, journeys' moment that matters, trust by
wait band, and the drivers of trust, each on a tiny dataset worked out by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from conftest import EngineFactory

from metrics.analyses import drivers, journeys
from metrics.analyses.value import (
    Assumptions,
    load_assumptions,
    starts_after,
    value,
    year_to_date,
    year_to_date_blocked,
)
from metrics.errors import CxError
from metrics.formatting import NO_DATA, SUPPRESSED
from metrics.query import Engine, Filters, Query
from metrics.warehouse import Warehouse

BASELINE = datetime(2024, 11, 15, 10, 0)  # FY2025 Q1
NOW = datetime(2025, 11, 15, 10, 0)  # FY2026 Q1


def _rows(count: int, **values: Any) -> list[dict[str, Any]]:
    return [dict(values) for _ in range(count)]


def test_value_figures_equal_the_hand_computation(make_engine: EngineFactory) -> None:
    engine = make_engine(
        transactions=_rows(40, completed_at=BASELINE, channel="website")
        + _rows(60, completed_at=BASELINE, channel="phone")
        + _rows(120, completed_at=NOW, channel="website")
        + _rows(80, completed_at=NOW, channel="phone"),
        contacts=_rows(50, started_at=BASELINE, queue_wait_seconds=300.0)
        + _rows(30, started_at=NOW, queue_wait_seconds=240.0)
        + _rows(30, started_at=NOW, queue_wait_seconds=500.0, answered=False),
    )
    assumptions = Assumptions("FY2025 Q1", 50.0, {"website": 0.5, "phone": 10.0}, {"phone": 6.0})
    found = value(engine, Filters(), "FY2026 Q1", assumptions)
    # Self-service 40/100 = 0.4 at baseline, 120/200 = 0.6 now: 200 x 0.2 = 40 moved.
    assert found.baseline_self_service_share == pytest.approx(0.4)
    assert found.self_service_share == pytest.approx(0.6)
    assert found.moved_to_self_service == pytest.approx(40)
    # 40 x ($10 assisted - $0.50 self-service) = $380; 40 x 6 min = 4 staff hours, $200 at $50/h.
    assert found.cost_avoided == pytest.approx(380)
    assert found.staff_hours_freed == pytest.approx(4)
    assert found.staff_cost_of_hours_freed == pytest.approx(200)
    # Contacts per transaction 50/100 = 0.5 then, 60/200 = 0.3 now: 0.2 x 200 = 40 avoided.
    assert found.contacts_avoided == pytest.approx(40)
    # Mean wait of answered contacts 300 s then, 240 s now, over 30 answered: 60 x 30 / 3600 = 0.5 h.
    assert found.mean_wait == pytest.approx(240)
    assert found.customer_hours_saved == pytest.approx(0.5)
    assert found.gaps == ()


def test_without_transactions_the_hours_saved_waiting_are_still_computed(make_engine: EngineFactory) -> None:
    # No transactions file: the page said only that the figures could not be computed, though the
    # hours saved waiting need the contacts alone.
    engine = make_engine(
        contacts=_rows(50, started_at=BASELINE, queue_wait_seconds=300.0)
        + _rows(30, started_at=NOW, queue_wait_seconds=240.0),
    )
    (engine.warehouse.data_dir / "transactions.parquet").unlink()
    engine = Engine(Warehouse(engine.warehouse.data_dir, True), engine.catalog, 1, True)
    found = value(engine, Filters(), "FY2026 Q1", Assumptions("FY2025 Q1", 50.0, {"website": 0.5}, {}))
    # 300 s then, 240 s now, over 30 answered: 60 x 30 / 3600 = 0.5 h.
    assert found.customer_hours_saved == pytest.approx(0.5)
    assert (
        found.moved_to_self_service is None and found.contacts_avoided is None and found.cost_avoided is None
    )
    assert found.gaps == ("transactions cannot be used (Metrics and data says why)",)
    assert found.channels.is_empty()


def test_value_says_what_is_hidden_and_computes_nothing_from_it(make_engine: EngineFactory) -> None:
    engine = make_engine(
        min_n=10,
        transactions=_rows(5, completed_at=BASELINE) + _rows(50, completed_at=NOW),
    )
    found = value(engine, Filters(), "FY2026 Q1", Assumptions("FY2025 Q1", 50.0, {"website": 0.5}, {}))
    assert found.moved_to_self_service is None and found.cost_avoided is None
    assert any("FY2025 Q1 is hidden" in gap for gap in found.gaps), found.gaps
    # Hidden, not missing: the page marks these †. The website's count this quarter is hidden with the
    # baseline's, so the mean cost of a self-service transaction is too.
    assert {"baseline_self_service_share", "moved_to_self_service", "cost_avoided"} <= found.hidden
    assert found.self_service_cost is None and "self_service_cost" in found.hidden
    # With no baseline transactions at all, the same figures are missing, not hidden: "not computed".
    none_then = value(
        make_engine(min_n=10, transactions=_rows(50, completed_at=NOW)),
        Filters(),
        "FY2026 Q1",
        Assumptions("FY2025 Q1", 50.0, {"website": 0.5}, {}),
    )
    assert none_then.cost_avoided is None and not {"cost_avoided", "moved_to_self_service"} & none_then.hidden
    assert "no self-service rate in FY2025 Q1" in none_then.gaps
    # Its channels: FY2025 Q1 has no transactions data at all (None, not hidden); FY2026 Q1 has 50 on
    # the website and none by phone, which is 0 there.
    assert none_then.channels["baseline_transactions"].to_list() == [None]
    assert none_then.channels["baseline_transactions_hidden"].to_list() == [False]
    both = value(
        make_engine(
            transactions=_rows(20, completed_at=BASELINE, channel="website")
            + _rows(20, completed_at=NOW, channel="website")
            + _rows(20, completed_at=NOW, channel="phone")
        ),
        Filters(),
        "FY2026 Q1",
        Assumptions("FY2025 Q1", 50.0, {"website": 0.5, "phone": 10.0}, {"phone": 6.0}),
    )
    by_channel = dict(zip(both.channels["channel"], both.channels["baseline_transactions"], strict=True))
    assert by_channel == {"website": 20.0, "phone": 0.0}


def test_the_default_baseline_is_the_same_quarter_a_year_before(make_engine: EngineFactory) -> None:
    engine = make_engine(transactions=_rows(20, completed_at=BASELINE) + _rows(20, completed_at=NOW))
    found = value(engine, Filters(), "FY2026 Q1", Assumptions(None, 50.0, {"website": 0.5}, {}))
    assert found.baseline == "FY2025 Q1"
    assert found.moved_to_self_service == pytest.approx(0)


def test_a_baseline_before_the_data_starts_is_named_with_where_the_data_starts(
    make_engine: EngineFactory,
) -> None:
    # Transactions from FY2026 Q1 (NOW), contacts from FY2025 Q4: the figures' inputs start in FY2025 Q4.
    engine = make_engine(
        transactions=_rows(20, completed_at=NOW),
        contacts=_rows(20, started_at=datetime(2025, 8, 15, 10, 0), queue_wait_seconds=60.0),
    )
    coverage = engine.warehouse.coverage()
    assert starts_after(coverage, "FY2025 Q1") == "FY2025 Q4"
    assert starts_after(coverage, "FY2025 Q3") == "FY2025 Q4"
    # From where the data starts, a figure has something to be measured against (or says what it lacks).
    assert starts_after(coverage, "FY2025 Q4") is None
    assert starts_after(coverage, "FY2026 Q1") is None
    # Without any dated transactions or contacts there is no start to name.
    assert starts_after(make_engine(responses=_rows(3, trust=5)).warehouse.coverage(), "FY2025 Q1") is None


def test_the_year_to_date_sums_each_quarter_against_its_own_baseline(make_engine: EngineFactory) -> None:
    then_q2, now_q2 = datetime(2025, 2, 15), datetime(2026, 2, 15)  # FY2025 Q2 and FY2026 Q2
    engine = make_engine(
        transactions=_rows(40, completed_at=BASELINE, channel="website")
        + _rows(60, completed_at=BASELINE, channel="phone")
        + _rows(120, completed_at=NOW, channel="website")
        + _rows(80, completed_at=NOW, channel="phone")
        + _rows(50, completed_at=then_q2, channel="website")
        + _rows(50, completed_at=then_q2, channel="phone")
        + _rows(30, completed_at=now_q2, channel="website")
        + _rows(70, completed_at=now_q2, channel="phone"),
    )
    shipped = Assumptions(None, 50.0, {"website": 0.5, "phone": 10.0}, {"phone": 6.0})
    # FY2026 Q1 against FY2025 Q1: 40 moved, $380 (the hand computation above). FY2026 Q2 against
    # FY2025 Q2: self-service 50% then 30%, 100 x -0.2 = -20 moved, -20 x $9.50 = -$190. Together $190.
    span, sums, hidden = year_to_date(engine, Filters(), "FY2026 Q2", shipped)
    assert span == "FY2026 to date (FY2026 Q1 to FY2026 Q2)"
    assert sums["cost_avoided"] == pytest.approx(190) and hidden == frozenset()
    # Against one chosen baseline, FY2025 Q1 (40%), FY2026 Q2 moved 100 x -0.1 = -10, -$95: $285.
    chosen = shipped.adjusted(baseline_quarter="FY2025 Q1")
    assert year_to_date(engine, Filters(), "FY2026 Q2", chosen)[1]["cost_avoided"] == pytest.approx(285)
    assert year_to_date_blocked("FY2026 Q2", chosen) is None
    # A chosen baseline inside the year leaves FY2026 Q1 nothing before it: not computed, no error.
    inside = shipped.adjusted(baseline_quarter="FY2026 Q1")
    assert (
        year_to_date_blocked("FY2026 Q2", inside)
        == "the baseline FY2026 Q1 is not before every quarter of the year"
    )
    assert year_to_date(engine, Filters(), "FY2026 Q2", inside)[1] == dict.fromkeys(sums)


def test_the_shipped_assumptions_load() -> None:
    shipped = load_assumptions()
    assert shipped.staff_hourly_cost > 0 and shipped.cost_per_transaction["phone"] > 0


BAD_ASSUMPTIONS = Path(__file__).resolve().parent / "fixtures" / "bad_assumptions"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_baseline", "'baseline_quarter': 'FY2025 Q5' is not a fiscal quarter; write it like FY2025Q1"),
        ("missing_staff_cost", "'staff_hourly_cost' is missing"),
        ("negative", "'staff_hourly_cost' must be a number of 0 or more, not -5"),
        ("not_a_number", "'handle_minutes.phone' must be a number of 0 or more, not 'nine'"),
        ("not_a_table", "'cost_per_transaction' must be a table of channel = number"),
        ("not_toml", "cannot read the value assumptions: Invalid value (at line 1, column 21)"),
        ("unknown_channel", "'cost_per_transaction.pigeon': 'pigeon' is not a channel (computer, mobile, "),
        ("unknown_key", "unknown key 'staff_cost'; known keys: baseline_quarter, staff_hourly_cost, "),
    ],
)
def test_a_bad_assumptions_file_is_named_with_its_key(name: str, message: str) -> None:
    path = BAD_ASSUMPTIONS / f"{name}.toml"
    with pytest.raises(CxError) as raised:
        load_assumptions(path)
    assert str(raised.value).startswith(f"{path}: {message}")


def test_trust_after_contact_by_wait_band_by_hand(make_engine: EngineFactory) -> None:
    engine = make_engine(
        contacts=[
            {"queue_wait_seconds": 60.0},  # C0001: under 2 min
            {"queue_wait_seconds": 119.0},  # C0002: under 2 min
            {"queue_wait_seconds": 120.0},  # C0003: 2-5 min
            {"queue_wait_seconds": 1500.0},  # C0004: 20 min or more
            {"queue_wait_seconds": 1500.0, "answered": False},  # C0005: abandoned, left out
        ],
        responses=[
            {"contact_id": "C0001", "trust": 5, "ease": 4},
            {"contact_id": "C0002", "trust": 2, "ease": 5},
            {"contact_id": "C0003", "trust": 4, "ease": 1},
            {"contact_id": "C0004", "trust": 1, "ease": 2},
            {"contact_id": "C0005", "trust": 5, "ease": 5},
            {"trust": 5, "ease": 5},  # no contact: no wait band
        ],
    )
    trust = engine.run(Query.of("trust_after_contact", by=["wait_band"]))
    assert trust["wait_band"].to_list() == ["Under 2 min", "2-5 min", "20 min or more"]
    assert trust["value"].to_list() == [0.5, 1.0, 0.0]
    assert trust["n"].to_list() == [2, 1, 1]
    ease = engine.run(Query.of("ease_after_contact", by=["wait_band"]))
    assert ease["value"].to_list() == [1.0, 0.0, 0.0]


def test_the_moment_that_matters_is_the_largest_drop(make_engine: EngineFactory) -> None:
    answers = {"Learn": [5, 5], "Apply": [5, 5, 5, 1], "Wait": [5, 1, 1, 1], "Decision": [5, 5]}
    engine = make_engine(
        responses=[{"journey_stage": stage, "trust": t} for stage, scores in answers.items() for t in scores]
    )
    found = journeys.journey(engine, "Passport Services", Filters())
    trust = found.scores.filter(found.scores["metric"] == "trust")
    assert trust["journey_stage"].to_list() == ["Learn", "Apply", "Wait", "Decision"]
    assert trust["value"].to_list() == [1.0, 0.75, 0.25, 1.0]
    # Drops: Apply 1.0 - 0.75 = 0.25, Wait 0.75 - 0.25 = 0.5, Decision rises.
    assert found.moment is not None
    assert (found.moment.stage, found.moment.previous) == ("Wait", "Apply")
    assert found.moment.drop == pytest.approx(0.5)
    # Four answers a stage cannot tell a fall of 0.5 from noise: it is not named as the moment. With
    # so few answers the test is Fisher's exact: 3 of 4 against 1 of 4, p = 0.4857.
    assert not found.moment.beyond_noise
    # Three neighbouring pairs compared; the lowest stage is Wait, on its one theme shown, and it is
    # surely below none: 2 of 2 at Learn and at Decision against its 1 of 4 has p = 0.4 (the tables of
    # 0, 1 and 2 of the three agreeing at Learn have chances 4, 12 and 4 in 20; 0 and 2 are no more
    # likely than 2), Apply's 3 of 4 p = 0.4857.
    assert found.compared == 3
    assert found.lowest == journeys.Lowest("Wait", 0.25, ("trust",), ("Learn", "Apply", "Decision"))
    assert found.moment.themes == ("trust",)
    assert found.responses == {"Learn": 2, "Apply": 4, "Wait": 4, "Decision": 2}


def _stage(stage: str, metric: str, agreeing: int, n: int) -> dict[str, Any]:
    """A stage's share of `agreeing` out of `n` answers (its interval plays no part in the tests)."""
    return {
        "journey_stage": stage, "metric": metric, "value": agreeing / n, "n": n,
        "ci_low": 0.0, "ci_high": 1.0, "suppressed": False,
    }  # fmt: skip


def test_the_moment_that_matters_is_named_only_beyond_noise_over_every_pair_of_stages() -> None:
    # Five hundred answers a stage. Learn -> Apply: trust 400 -> 370 (0.80 -> 0.74), ease 350 -> 330
    # (0.70 -> 0.66): a fall of (0.06 + 0.04) / 2 = 0.05. Each theme's pooled standard error,
    # sqrt(p (1 - p) (1/500 + 1/500)): trust's p = 770/1000, 0.026616; ease's 680/1000, 0.029503; their
    # average bounds the average's: 0.028059, z = 1.7819, p = 0.07476.
    # Apply -> Wait: trust 370 -> 300, ease 330 -> 250: a fall of (0.14 + 0.16) / 2 = 0.15; errors
    # 0.029739 (670/1000) and 0.031215 (580/1000), average 0.030477: z = 4.9217, p = 8.581e-7; Holm
    # over the two pairs: 2 x 8.581e-7 = 1.716e-6.
    scores = pl.DataFrame(
        [
            _stage("Learn", "trust", 400, 500), _stage("Learn", "ease", 350, 500),
            _stage("Apply", "trust", 370, 500), _stage("Apply", "ease", 330, 500),
            _stage("Wait", "trust", 300, 500), _stage("Wait", "ease", 250, 500),
        ]
    )  # fmt: skip
    found = journeys.moment_that_matters(scores)
    assert found is not None and (found.stage, found.previous) == ("Wait", "Apply")
    assert found.drop == pytest.approx(0.15)
    assert found.p == pytest.approx(1.716e-6, rel=1e-3) and found.beyond_noise
    # Learn and Apply alone: the fall of 0.05 has p = 0.07476, within noise.
    alone = journeys.moment_that_matters(scores.filter(pl.col("journey_stage") != "Wait"))
    assert alone is not None and alone.stage == "Apply" and alone.drop == pytest.approx(0.05)
    assert alone.p == pytest.approx(0.07476, rel=1e-3) and not alone.beyond_noise


def test_a_fall_on_few_answers_is_tested_exactly() -> None:
    # 10 of 10 agreeing at Learn, 7 of 10 at Apply: an expected count of 10 x 3 / 20 = 1.5 disagreeing
    # is under 5, so no z: Fisher's exact test, p = 0.2105 (each stage's own interval would have
    # called it beyond noise). Only one pair: no adjustment.
    found = journeys.moment_that_matters(
        pl.DataFrame([_stage("Learn", "trust", 10, 10), _stage("Apply", "trust", 7, 10)])
    )
    assert found is not None and found.drop == pytest.approx(0.3)
    assert found.p == pytest.approx(0.21053, rel=1e-4) and not found.beyond_noise
    # Two themes, ease 10 of 10 -> 5 of 10 too: each falls beyond noise alone, trust with p = 0.2105
    # does not; the average falls beyond noise only if every theme does, so its p is the largest.
    both = [_stage("Learn", "ease", 10, 10), _stage("Apply", "ease", 5, 10)]
    found = journeys.moment_that_matters(
        pl.DataFrame([_stage("Learn", "trust", 10, 10), _stage("Apply", "trust", 7, 10), *both])
    )
    assert found is not None and found.p == pytest.approx(0.21053, rel=1e-4)
    # Trust 10 of 10 -> 0 of 10 (Fisher: the two most extreme tables of C(20, 10) = 184,756, p =
    # 1.0825e-5) and ease 10 -> 5 (the tables with 10 or 5 of the 15 agreeing at Learn, each
    # C(10, 5) = 252 of C(20, 15) = 15,504 ways: p = 504 / 15,504 = 0.03251): both beyond noise, the
    # average's p is 0.03251.
    found = journeys.moment_that_matters(
        pl.DataFrame([_stage("Learn", "trust", 10, 10), _stage("Apply", "trust", 0, 10), *both])
    )
    assert found is not None and found.drop == pytest.approx(0.75)
    assert found.p == pytest.approx(0.032508, rel=1e-4) and found.beyond_noise
    # Ease rising instead (5 -> 10): the average still falls, but not every theme with it: not tested
    # beyond noise (p = 1).
    rising = [_stage("Learn", "ease", 5, 10), _stage("Apply", "ease", 10, 10)]
    found = journeys.moment_that_matters(
        pl.DataFrame([_stage("Learn", "trust", 10, 10), _stage("Apply", "trust", 0, 10), *rising])
    )
    assert found is not None and found.drop == pytest.approx(0.25) and found.p == 1.0


def test_the_lowest_stage_is_said_so_only_beyond_noise_over_every_pair_of_stages() -> None:
    # Trust alone: Learn 400 of 500 (0.80), Apply 370 of 500 (0.74), Wait 120 of 200 (0.60), Decision
    # 140 of 200 (0.70). Wait is lowest. Pooled z of each pair, sqrt(p (1 - p) (1/n1 + 1/n2)):
    # Learn-Wait 520/700, error 0.036567, z = 5.469, p = 4.5e-8; Apply-Wait 490/700, 0.038341, z =
    # 3.651, p = 2.6e-4; Learn-Decision 540/700, 0.035133, z = 2.846, p = 0.00442; Learn-Apply 770/1000,
    # 0.026616, z = 2.254, p = 0.02418; Wait-Decision 260/400, 0.047697, z = 2.097, p = 0.03603,
    # beyond noise alone; Apply-Decision 510/700, 0.037206, z = 1.075, p = 0.2823. Holm over the six:
    # Learn-Apply 3 x 0.02418 = 0.0726, Wait-Decision max(2 x 0.03603, 0.0726) = 0.0726: within noise.
    # Wait is not surely below Decision.
    stages = {"Learn": (400, 500), "Apply": (370, 500), "Wait": (120, 200), "Decision": (140, 200)}
    scores = pl.DataFrame([_stage(s, "trust", *counts) for s, counts in stages.items()])
    found = journeys.lowest_stage(scores)
    assert found == journeys.Lowest("Wait", pytest.approx(0.60), ("trust",), ("Decision",))
    assert not found.beyond_noise
    # Decision at 150 of 200 (0.75): 0.15 from Wait, 270/400, error 0.046838, z = 3.2025, p = 0.00136,
    # third smallest of six, times four is 0.0055: Wait is below every other stage beyond noise.
    stages["Decision"] = (150, 200)
    found = journeys.lowest_stage(pl.DataFrame([_stage(s, "trust", *counts) for s, counts in stages.items()]))
    assert found is not None and found.stage == "Wait" and found.near == () and found.beyond_noise
    # Decision hidden: Wait is below every other stage shown, and Decision is named as not compared.
    hidden = {**_stage("Decision", "trust", 150, 200), "value": None, "ci_low": None, "ci_high": None}
    rows = [_stage(s, "trust", *counts) for s, counts in stages.items() if s != "Decision"]
    found = journeys.lowest_stage(pl.DataFrame([*rows, hidden | {"suppressed": True, "n": None}]))
    assert found is not None and (found.stage, found.near, found.hidden) == ("Wait", (), ("Decision",))


def test_the_segments_moments_are_one_family() -> None:
    # Two segments' journeys, each with one fall of p = 0.03 and one rise of p = 0.5: alone, each fall
    # is beyond noise; listed together, Holm over the four pairs makes them 4 x 0.03 = 0.12, and
    # then max(0.12, 3 x 0.03) = 0.12: within noise. The rises are never named.
    pairs = [journeys.Moment("Apply", "Learn", 0.04, 0.03), journeys.Moment("Wait", "Apply", -0.02, 0.5)]
    assert [m.p for m in journeys._largest_falls([pairs]) if m] == [pytest.approx(0.06)]
    together = journeys._largest_falls([pairs, pairs])
    assert [(m.stage, m.p) for m in together if m] == [("Apply", pytest.approx(0.12))] * 2
    assert not any(m.beyond_noise for m in together if m)


def test_no_moment_when_no_stage_falls(make_engine: EngineFactory) -> None:
    engine = make_engine(responses=[{"journey_stage": s, "trust": 5} for s in ("Learn", "Apply", "Wait")])
    found = journeys.journey(engine, "Passport Services", Filters())
    assert found.moment is None and found.compared == 2


def test_one_stage_shown_concludes_nothing(make_engine: EngineFactory) -> None:
    # Answers at Apply only: no stage to compare it with, and nothing for it to be lowest of.
    alone = journeys.journey(
        make_engine(responses=[{"journey_stage": "Apply", "trust": 5}] * 3), "Passport Services", Filters()
    )
    assert alone.moment is None and alone.compared == 0 and alone.lowest is None
    # Each segment answers at one stage: the journey compares Apply with Decision (the stages shown
    # are its neighbours), but no segment has two stages, so none has a moment, not even "no fall".
    engine = make_engine(
        responses=[{"journey_stage": "Apply", "trust": 5, "segment": "travelers"}] * 3
        + [{"journey_stage": "Decision", "trust": 1, "segment": "businesses"}] * 3
    )
    found = journeys.journey(engine, "Passport Services", Filters())
    # Decision is lowest, but 0 of 3 against 3 of 3 is within noise (Fisher's exact test, p = 0.1).
    assert found.compared == 1 and found.lowest == journeys.Lowest("Decision", 0.0, ("trust",), ("Apply",))
    frame, moments = journeys.by_segment(engine, "Passport Services", "trust", Filters())
    assert set(frame["segment"].to_list()) == {"travelers", "businesses"} and moments == {}


def test_lmg_matches_the_two_predictor_formula() -> None:
    # Outcome-predictor correlations r1 = 0.6, r2 = 0.4; between predictors r12 = 0.3.
    # R2 = (r1^2 + r2^2 - 2 r1 r2 r12) / (1 - r12^2) = 0.376 / 0.91 = 0.4131868...
    # LMG1 = (r1^2 + R2 - r2^2) / 2 = 0.3065934..., LMG2 = (r2^2 + R2 - r1^2) / 2 = 0.1065934...
    correlation = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.3], [0.4, 0.3, 1.0]])
    shares, r_squared = drivers.lmg_shares(correlation)
    assert r_squared == pytest.approx(0.4131868131868132)
    assert shares[0] == pytest.approx(0.3065934065934066 / 0.4131868131868132)
    assert shares[1] == pytest.approx(0.1065934065934066 / 0.4131868131868132)


def test_the_checklist_tells_a_hidden_share_from_one_no_one_answered(make_engine: EngineFactory) -> None:
    from dashboard.briefing import marked

    # Four who trusted, three of them selecting ease as what went well; no one who did not trust, so
    # no one was shown what could improve.
    rows = [{"trust": 5, "positive_ease": 1}] * 3 + [{"trust": 5, "positive_ease": 0}]
    shown = drivers.v2_checklist(make_engine(min_n=1, responses=rows), Filters())
    ease = shown.row(shown["driver"].to_list().index("ease"), named=True)
    assert (ease["went_well"], ease["went_well_n"]) == (0.75, 4)
    assert (ease["could_improve"], ease["could_improve_n"]) == (None, 0)
    assert drivers.unshown(shown) is None and drivers.unshown(shown, ("went_well",)) is None
    assert drivers.unshown(shown, ("could_improve",)) == NO_DATA
    # The page says on how many each side shown rests: the four who trusted; no side of no one.
    assert drivers.checklist_sizes(shown) == {"went_well": 4}
    # Its exports write the two states apart: the share, and "no data" for the side no one answered.
    written = marked(drivers.checklist_numbers(shown)).filter(pl.col("driver") == "ease")
    assert written.select("side", "value", "n").rows() == [
        ("went_well", "0.75", "4"),
        ("could_improve", NO_DATA, "0"),
    ]
    # Under a minimum of 5, the four answers are hidden: not "no answers". The side no one answered is
    # hidden beside them, as "no data" would tell that all four trusted.
    hidden = drivers.v2_checklist(make_engine(min_n=5, responses=rows), Filters())
    assert drivers.unshown(hidden, ("went_well",)) == SUPPRESSED
    assert drivers.unshown(hidden, ("could_improve",)) == SUPPRESSED
    assert drivers.unshown(hidden) == SUPPRESSED
    assert drivers.checklist_sizes(hidden) == {}
    written = marked(drivers.checklist_numbers(hidden)).filter(pl.col("driver") == "ease")
    assert written.select("side", "value", "n").rows() == [
        ("went_well", SUPPRESSED, SUPPRESSED),
        ("could_improve", SUPPRESSED, SUPPRESSED),
    ]
    # "Other" was neither selected nor left unselected by anyone: no one answered it, on either side.
    assert drivers.unshown(hidden.filter(pl.col("driver") == "other")) == NO_DATA


def test_a_planted_driver_ranks_first(make_engine: EngineFactory) -> None:
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(300):
        answers = {d: int(rng.integers(1, 6)) for d in drivers.DRIVERS}
        # Trust follows ease, with a little noise; the other drivers are unrelated to it.
        answers["trust"] = int(np.clip(answers["ease"] + rng.integers(-1, 2) * (rng.random() < 0.2), 1, 5))
        rows.append(answers)
    engine = make_engine(responses=rows)
    found = drivers.importance(engine, Filters())
    assert found.n == 300 and found.hidden_reason is None
    first = found.drivers.row(0, named=True)
    assert first["driver"] == "ease" and first["rank"] == 1
    assert first["importance"] > 0.8
    assert first["ci_low"] < first["importance"] < first["ci_high"]
    assert found.drivers["importance"].sum() == pytest.approx(1.0)
    # Performance is the driver's own metric: the share answering 4 or 5.
    ease_shares = sum(1 for r in rows if r["ease"] >= 4) / len(rows)
    assert first["performance"] == pytest.approx(ease_shares)


def test_too_few_complete_answers_hide_the_ranking(make_engine: EngineFactory) -> None:
    engine = make_engine(responses=[{d: 4 for d in ("trust", *drivers.DRIVERS)} for _ in range(20)])
    found = drivers.importance(engine, Filters())
    assert found.hidden_reason is not None and "100" in found.hidden_reason
    assert found.drivers["importance"].is_null().all()


def test_an_unusual_baseline_is_named_with_its_numbers(make_engine: EngineFactory) -> None:
    from metrics.analyses.value import unusual_baseline

    # FY2025 Q1, Q2, Q3: ten answered contacts each, waiting 60 s, 120 s, 70 s. The baseline FY2025 Q2's
    # mean wait of 120 s is 85% above its neighbours' 65 s (more than 25%); the contact volume is not.
    waits = {datetime(2024, 11, 15): 60.0, datetime(2025, 2, 15): 120.0, datetime(2025, 5, 15): 70.0}
    engine = make_engine(
        contacts=[
            {"started_at": day, "queue_wait_seconds": wait} for day, wait in waits.items() for _ in range(10)
        ]
    )
    assert unusual_baseline(engine, Filters(), "FY2025 Q2") == [
        "the mean wait in FY2025 Q2 (2m 00s) is above its neighbouring quarters' FY2025 Q1 and FY2025 Q3 "
        "(1m 05s on average) by 85%"
    ]
    assert unusual_baseline(engine, Filters(), "FY2025 Q1") == []  # no quarter before it: nothing to judge by


def _seasons(waits: dict[datetime, float], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each quarter: 10 answered contacts waiting its wait, and 10 website and 10 phone transactions;
    `now` has 15 website and 5 phone."""
    transactions = []
    for day in waits:
        website = 15 if day == now else 10
        transactions += _rows(website, completed_at=day, channel="website")
        transactions += _rows(20 - website, completed_at=day, channel="phone")
    contacts = [
        {"started_at": day, "queue_wait_seconds": wait} for day, wait in waits.items() for _ in range(10)
    ]
    return {"transactions": transactions, "contacts": contacts}


def test_an_unusual_baseline_is_compared_with_the_nearest_usual_same_season(
    make_engine: EngineFactory,
) -> None:
    from metrics.analyses.value import usual_baseline

    # Mid-quarter days from FY2023 Q4 to FY2026 Q1, every mean wait 60 s but FY2025 Q1's 120 s (a
    # surge: 100% above its neighbours) and FY2026 Q1's, the quarter shown, 90 s.
    days = [datetime(2023 + (m + 7) // 12, (m + 7) % 12 + 1, 15) for m in range(0, 27, 3)]
    now = datetime(2025, 11, 15)
    waits = {day: 60.0 for day in days} | {datetime(2024, 11, 15): 120.0, now: 90.0}
    assumptions = Assumptions(None, 50.0, {"website": 0.5, "phone": 10.0}, {"phone": 6.0})
    engine = make_engine(**_seasons(waits, now))
    found = usual_baseline(engine, Filters(), "FY2026 Q1", assumptions)
    # The default baseline FY2025 Q1 is unusual; FY2024 Q1, a year before it, is judged usual (its
    # neighbours FY2023 Q4 and FY2024 Q2 are in the data). Against it: self-service 10/20 = 0.5 then,
    # 15/20 = 0.75 now: 20 x 0.25 = 5 moved; 5 x ($10 - $0.50) = $47.50 avoided; 5 x 6 min = 0.5 staff
    # hours; contacts per transaction 10/20 both: none avoided; (60 s - 90 s) x 10 answered / 3600 =
    # -1/12 customer hours (time lost to a longer wait).
    assert found is not None and found.baseline == "FY2024 Q1"
    assert found.moved_to_self_service == pytest.approx(5)
    assert found.cost_avoided == pytest.approx(47.5)
    assert found.staff_hours_freed == pytest.approx(0.5)
    assert found.contacts_avoided == pytest.approx(0)
    assert found.customer_hours_saved == pytest.approx(-1 / 12)
    # FY2024 Q1 unusual too: FY2023 Q1, a year before, has no quarter before it in the data to be
    # judged by, so there is none to compare with.
    surged = make_engine(**_seasons(waits | {datetime(2023, 11, 15): 200.0}, now))
    assert usual_baseline(surged, Filters(), "FY2026 Q1", assumptions) is None


BAD_ANALYSES = Path(__file__).resolve().parent / "fixtures" / "bad_analyses"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unknown_key", "line 2: unknown header key 'key'; known keys: reads, keys"),
        ("twice", "line 2: header key 'reads' is given twice"),
        ("empty_value", "line 2: header key 'keys' has no value"),
        ("no_reads", "missing header key 'reads' (the view the analysis reads)"),
    ],
)
def test_an_analysis_header_is_read_strictly(name: str, message: str) -> None:
    from metrics.query import parse_analysis

    source = f"tests/fixtures/bad_analyses/{name}.sql"
    with pytest.raises(CxError) as raised:
        parse_analysis((BAD_ANALYSES / f"{name}.sql").read_text(encoding="utf-8"), source)
    assert str(raised.value) == f"{source}: {message}"


def test_the_shipped_analysis_header_reads_its_view_and_keys() -> None:
    from metrics.query import parse_analysis
    from metrics.sqlfiles import SQL_DIR

    found = parse_analysis((SQL_DIR / "analyses" / "driver_moments.sql").read_text(encoding="utf-8"), "x")
    assert (found.base, found.keys) == ("stg_responses", ("bucket",))


def test_page_rules_known_by_hand() -> None:
    from metrics.analyses.drivers import fix_first, wait_cost
    from metrics.analyses.journeys import offered, opening
    from metrics.analyses.value import baseline_choices

    # 80 of 100 trust after under 2 minutes, 40 of 100 after 20 minutes or more (a hidden band between):
    # pooled .6, z = -.4 / sqrt(.6 x .4 x .02) = -5.77, so the 40-point cost is beyond noise.
    bands = pl.DataFrame(
        {
            "wait_band": ["Under 2 min", "5-10 min", "20 min or more"],
            "value": [0.8, None, 0.4],
            "n": [100, 3, 100],
            "suppressed": [False, True, False],
        }
    )
    cost = wait_cost(bands, "share")
    assert cost is not None
    assert (cost.shortest["wait_band"], cost.longest["wait_band"]) == ("Under 2 min", "20 min or more")
    assert cost.difference.delta == pytest.approx(-0.4) and cost.difference.significant
    assert wait_cost(bands.head(1), "share") is None  # one band: nothing to compare
    ranked = pl.DataFrame(
        {"driver": ["ease", "humanity", "efficiency"], "quadrant": ["Fix first", "Maintain", "Fix first"]}
    )
    assert fix_first(ranked) == ["ease", "efficiency"]
    # The sidebar's services win; the page opens on the largest service when it is offered.
    narrowed = Filters(where=(("service", ("Naturalization",)),))
    assert offered(narrowed, ["Passport Services", "Naturalization"]) == ["Naturalization"]
    assert opening(["Naturalization"], "Passport Services") == "Naturalization"
    assert opening(["Naturalization", "Passport Services"], "Passport Services") == "Passport Services"
    assert baseline_choices(["FY2025 Q3", "FY2025 Q4", "FY2026 Q1"], "FY2025 Q4") == ["FY2025 Q3"]


def test_a_driver_within_noise_of_a_line_is_named_so() -> None:
    from metrics.analyses.drivers import fix_first_sentence, near_the_line, quadrant

    # Performance median of .70, .60 and .80 is .70: a's interval (.68 to .72) holds it. An equal
    # share is 1/6 = .1667: b's importance interval (.16 to .18) holds it. c is clear of both lines;
    # d has no importance (too few answers) and is not placed.
    table = pl.DataFrame(
        {
            "driver": ["a", "b", "c", "d"],
            "label": ["A", "B", "C", "D"],
            "importance": [0.30, 0.17, 0.10, None],
            "ci_low": [0.28, 0.16, 0.09, None],
            "ci_high": [0.32, 0.18, 0.11, None],
            "performance": [0.70, 0.60, 0.80, 0.70],
            "performance_low": [0.68, 0.59, 0.75, 0.60],
            "performance_high": [0.72, 0.61, 0.85, 0.80],
        }
    )
    table = table.with_columns(quadrant(table), near_the_line(table))
    assert table["near_the_line"].to_list() == ["performance", "importance", None, None]
    assert table["quadrant"].to_list() == ["Keep it up", "Fix first", "Maintain", None]
    said = fix_first_sentence(table.filter(pl.col("quadrant") == "Fix first"))
    assert said.startswith("**Fix first:** B: more important than an equal share (1/6)")
    assert (
        "B is within sampling noise of the line: its importance's 95% interval (16.0% to 18.0%) holds an "
        "equal share, so it may not belong there." in said
    )
