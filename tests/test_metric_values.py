"""Known answers: every shipped metric on a tiny input whose right answer was worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import EngineFactory, one

from metrics.query import Query

# Wilson 95% bounds below were worked out with z = 1.959964:
#   center = (p + z^2/2n) / (1 + z^2/n),  half = z * sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
TRUST_ANSWERS = [5, 4, 3, 2, 1, 4, 5, None, 4, 2]  # 9 valid; 5 answer 4 or 5; sum 30


def test_wilson_interval_matches_the_domain_example(make_engine: EngineFactory) -> None:
    # 7 of 50 positive -> 14.0%, 95% Wilson interval 6.9508% to 26.1862% (sql/macros/statistics.sql).
    engine = make_engine(responses=[{"trust": 5 if i < 7 else 2} for i in range(50)])
    row = one(engine, "trust")
    assert row["value"] == pytest.approx(0.14)
    assert row["n"] == 50
    assert row["ci_low"] == pytest.approx(0.069508, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.261862, abs=1e-6)


def test_wilson_interval_at_zero_and_all(make_engine: EngineFactory) -> None:
    # 0 of 10: [0, 0.277533]; 10 of 10: [0.722467, 1].
    engine = make_engine(
        responses=[{"trust": 1, "service": "A"} for _ in range(10)]
        + [{"trust": 5, "service": "B"} for _ in range(10)]
    )
    rows = engine.run(Query.of("trust", by=["service"])).to_dicts()
    assert rows[0]["value"] == 0 and rows[0]["ci_low"] == pytest.approx(0, abs=1e-12)
    assert rows[0]["ci_high"] == pytest.approx(0.277533, abs=1e-6)
    assert rows[1]["value"] == 1 and rows[1]["ci_high"] == pytest.approx(1, abs=1e-12)
    assert rows[1]["ci_low"] == pytest.approx(0.722467, abs=1e-6)


def test_trust_share_mean_and_interval(make_engine: EngineFactory) -> None:
    engine = make_engine(responses=[{"trust": t} for t in TRUST_ANSWERS])
    row = one(engine, "trust")
    assert row["n"] == 9  # the blank answer is left out
    assert row["value"] == pytest.approx(5 / 9)
    assert row["mean"] == pytest.approx(30 / 9)
    assert row["ci_low"] == pytest.approx(0.266651, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.811221, abs=1e-6)
    assert row["suppressed"] is False


def test_trust_never_pools_thumbs_with_five_point(make_engine: EngineFactory) -> None:
    thumbs = [{"survey_version": "v2", "trust_scale": "thumbs", "trust": t} for t in (1, 1, 0, 1)]
    engine = make_engine(responses=[{"trust": t} for t in TRUST_ANSWERS] + thumbs)
    assert one(engine, "trust")["n"] == 9
    row = one(engine, "trust_thumbs")
    assert (row["value"], row["n"]) == (pytest.approx(0.75), 4)


@pytest.mark.parametrize(
    ("item", "answers", "positive", "valid", "total"),
    [
        ("satisfaction", [5, 5, 4, 3, None, 1], 3, 5, 18),
        ("effectiveness", [4, None, None, 2, 5], 2, 3, 11),
        ("ease", [1, 2, 3, 4], 1, 4, 10),
        ("efficiency", [5, None, 4, 4, 4, 3, 2], 4, 6, 22),
        ("transparency", [3, 3, 3, 5], 1, 4, 14),
        ("employee", [None, None, 5, 4, 1], 2, 3, 10),
        ("humanity", [2, 4, None, 5, 5, 5, 1, 3], 4, 7, 25),
    ],
)
def test_each_a11_item_has_its_own_denominator(
    make_engine: EngineFactory, item: str, answers: list[int | None], positive: int, valid: int, total: int
) -> None:
    # Other items stay blank on these rows, so a shared denominator would show up as the wrong n.
    engine = make_engine(responses=[{item: a} for a in answers] + [{"trust": 5}] * 3)
    row = one(engine, item)
    assert row["n"] == valid
    assert row["value"] == pytest.approx(positive / valid)
    assert row["mean"] == pytest.approx(total / valid)


def test_emotion_uses_humanity_then_employee(make_engine: EngineFactory) -> None:
    rows = [
        {"humanity": 5, "employee": 1},  # humanity 5 -> positive
        {"humanity": 2, "employee": 5},  # humanity 2 -> not positive
        {"humanity": None, "employee": 4},  # employee 4 -> positive
        {"humanity": None, "employee": None},  # left out
    ]
    row = one(make_engine(responses=rows), "emotion")
    assert row["n"] == 3
    assert row["value"] == pytest.approx(2 / 3)
    assert row["mean"] == pytest.approx((5 + 2 + 4) / 3)


@pytest.mark.parametrize(
    "driver", ["effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other"]
)
def test_v2_driver_shares_leave_out_respondents_not_offered(make_engine: EngineFactory, driver: str) -> None:
    v2 = {"survey_version": "v2", "trust": 5}
    rows = [
        v2 | {f"positive_{driver}": 1},
        v2 | {f"positive_{driver}": 0},
        v2 | {f"positive_{driver}": 1},
        v2 | {"trust": 2, f"negative_{driver}": 1},
        v2 | {"trust": 1, f"negative_{driver}": 0},
        v2 | {"trust": 2, f"negative_{driver}": 0},
        v2 | {"trust": 3, f"negative_{driver}": 0},
    ]
    engine = make_engine(responses=rows)
    went_well = one(engine, f"went_well_{driver}")
    assert (went_well["value"], went_well["n"]) == (pytest.approx(2 / 3), 3)
    could_improve = one(engine, f"could_improve_{driver}")
    assert (could_improve["value"], could_improve["n"]) == (pytest.approx(1 / 4), 4)


def test_responses_count_adds_weights(make_engine: EngineFactory) -> None:
    row = one(make_engine(responses=[{"weight": 1}, {"weight": 1}, {"weight": 3}]), "responses")
    assert (row["value"], row["n"]) == (5, 5)


def test_weighted_count_rows_give_the_same_trust_as_respondent_rows(make_engine: EngineFactory) -> None:
    expanded = one(make_engine(responses=[{"trust": t} for t in [5, 5, 5, 4, 2, 2, 1]]), "trust")
    counted = one(
        make_engine(
            responses=[{"trust": 5, "weight": 3}, {"trust": 4}, {"trust": 2, "weight": 2}, {"trust": 1}]
        ),
        "trust",
    )
    for key in ("value", "n", "ci_low", "ci_high", "mean"):
        assert counted[key] == pytest.approx(expanded[key])
    assert counted["value"] == pytest.approx(4 / 7)


def test_response_and_offer_rates_use_collections(make_engine: EngineFactory) -> None:
    engine = make_engine(
        responses=[{"channel": "website"}] * 4 + [{"channel": "email"}] * 2,
        collections=[
            {"channel": "website", "customers_offered": 20, "customers_served": 80},
            {"channel": "phone", "customers_offered": 10, "customers_served": 40},
        ],
    )
    # email responses have no collections row, so they count in neither side: 4 / (20 + 10).
    rate = one(engine, "response_rate")
    assert (rate["value"], rate["n"]) == (pytest.approx(4 / 30), 30)
    assert rate["ci_low"] == pytest.approx(0.053097, abs=1e-6)
    assert rate["ci_high"] == pytest.approx(0.296813, abs=1e-6)
    offer = one(engine, "offer_rate")
    assert (offer["value"], offer["n"]) == (pytest.approx(30 / 120), 120)


CONTACTS = [
    {"queue_wait_seconds": 60.0, "resolved_first_contact": True},
    {"queue_wait_seconds": 120.0, "resolved_first_contact": False},
    {"queue_wait_seconds": 300.0, "resolved_first_contact": True},
    {"queue_wait_seconds": 600.0, "resolved_first_contact": None},
    {"queue_wait_seconds": 30.0, "answered": False, "handle_seconds": None, "resolved_first_contact": None},
    {"queue_wait_seconds": 400.0, "answered": False, "handle_seconds": None, "resolved_first_contact": None},
]


def test_wait_statistics_leave_out_abandoned_contacts(make_engine: EngineFactory) -> None:
    engine = make_engine(contacts=CONTACTS)
    median = one(engine, "wait_median")
    assert (median["value"], median["n"]) == (pytest.approx(210.0), 4)  # (120 + 300) / 2
    p90 = one(engine, "wait_p90")
    assert p90["value"] == pytest.approx(510.0)  # 300 + 0.7 * (600 - 300): rank 1 + 0.9 * 3 = 3.7
    # Service level offered: answered within 300 s (60, 120, 300: 300 s counts as within) out of the 4
    # answered plus the one abandoned after 300 s (400 s); the caller who hung up at 30 s is left out.
    level = one(engine, "service_level")
    assert (level["value"], level["n"]) == (pytest.approx(3 / 5), 5)
    abandoned = one(engine, "abandonment_rate")
    assert (abandoned["value"], abandoned["n"]) == (pytest.approx(2 / 6), 6)
    fcr = one(engine, "first_contact_resolution")
    assert (fcr["value"], fcr["n"]) == (pytest.approx(2 / 3), 3)


def test_median_interval_uses_order_statistics(make_engine: EngineFactory) -> None:
    # 100 answered waits 1..100 s: median 50.5; ranks 50 -/+ 1.96*5 = 40.2 and 59.8 -> x[40], x[61].
    engine = make_engine(contacts=[{"queue_wait_seconds": float(s)} for s in range(1, 101)])
    row = one(engine, "wait_median")
    assert row["value"] == pytest.approx(50.5)
    assert (row["ci_low"], row["ci_high"]) == (40.0, 61.0)


def test_self_service_rate_follows_the_channel_mapping(make_engine: EngineFactory) -> None:
    channels = [
        "website",
        "phone",
        "mobile_app",
        "in_person",
        "automated_phone",
        "self_service_kiosk",
        "paper",
        "email",
    ]
    row = one(make_engine(transactions=[{"channel": c} for c in channels]), "self_service_rate")
    assert (row["value"], row["n"]) == (pytest.approx(4 / 8), 8)


@pytest.mark.parametrize(
    ("moment", "quarter"),
    [
        (datetime(2024, 9, 30, 23, 59, 59), "FY2024 Q4"),
        (datetime(2024, 10, 1, 0, 0, 0), "FY2025 Q1"),
        (datetime(2024, 12, 31, 23, 59, 59), "FY2025 Q1"),
        (datetime(2025, 1, 1, 0, 0, 0), "FY2025 Q2"),
        (datetime(2025, 3, 31, 23, 59, 59), "FY2025 Q2"),
        (datetime(2025, 4, 1, 0, 0, 0), "FY2025 Q3"),
        (datetime(2025, 6, 30, 23, 59, 59), "FY2025 Q3"),
        (datetime(2025, 7, 1, 0, 0, 0), "FY2025 Q4"),
    ],
)
def test_fiscal_quarter_boundaries(make_engine: EngineFactory, moment: datetime, quarter: str) -> None:
    engine = make_engine(responses=[{"submitted_at": moment, "trust": 5}])
    result = engine.run(Query.of("responses", by=["fiscal_quarter", "fiscal_year", "month"]))
    row = result.row(0, named=True)
    assert row["fiscal_quarter"] == quarter
    assert row["fiscal_year"] == quarter[:6]
    assert row["month"] == moment.strftime("%Y-%m")


def test_period_range_is_inclusive(make_engine: EngineFactory) -> None:
    moments = [datetime(2024, 9, 30), datetime(2024, 10, 1), datetime(2025, 3, 31), datetime(2025, 4, 1)]
    engine = make_engine(responses=[{"submitted_at": m} for m in moments])
    row = one(engine, "responses", start="FY2025Q1", end="FY2025 Q2")
    assert row["value"] == 2
    by_quarter = engine.run(Query.of("responses", by=["fiscal_quarter"], start="fy2025q2"))
    assert by_quarter["fiscal_quarter"].to_list() == ["FY2025 Q2", "FY2025 Q3"]


def test_filters_and_breakdowns_apply_to_every_dimension(make_engine: EngineFactory) -> None:
    rows = [
        {"trust": 5, "urbanicity": "Rural", "age_band": "65+", "channel": "website"},
        {"trust": 2, "urbanicity": "Rural", "age_band": "65+", "channel": "website"},
        {"trust": 5, "urbanicity": "Urban", "age_band": "65+", "channel": "website"},
        {"trust": 4, "urbanicity": "Rural", "age_band": "25-34", "channel": "phone"},
    ]
    engine = make_engine(responses=rows)
    row = one(
        engine,
        "trust",
        where={"urbanicity": "Rural", "age_band": "65+", "channel": ["website", "mobile_app"]},
    )
    assert (row["value"], row["n"]) == (pytest.approx(0.5), 2)
    by_age = engine.run(Query.of("trust", by=["age_band"]))
    assert by_age["age_band"].to_list() == ["25-34", "65+"]  # contract order, not text order
    assert by_age["n"].to_list() == [1, 3]


COUNT_ROW = {"row_kind": "answer_count", "question_text": "Wording as asked."}


def test_answer_count_rows_add_respondents_only_through_trust(make_engine: EngineFactory) -> None:
    # 7 respondents answered trust (5 + 2); 6 of them answered ease; 2 respondent rows besides.
    rows = [
        COUNT_ROW | {"trust": 5, "weight": 5},
        COUNT_ROW | {"trust": 2, "weight": 2},
        COUNT_ROW | {"ease": 4, "weight": 6},
        {"trust": 4},
        {"trust": 3},
    ]
    engine = make_engine(responses=rows, collections=[{"customers_offered": 90}])
    responses = one(engine, "responses")
    assert (responses["value"], responses["n"]) == (9, 9)
    rate = one(engine, "response_rate")
    assert (rate["value"], rate["n"]) == (pytest.approx(9 / 90), 90)
    ease = one(engine, "ease")
    assert (ease["value"], ease["n"]) == (1.0, 6)


def test_emotion_from_counts_uses_employee_only_without_humanity_counts(make_engine: EngineFactory) -> None:
    rows = [
        COUNT_ROW | {"service": "A", "humanity": 5, "weight": 3},
        COUNT_ROW | {"service": "A", "humanity": 2, "weight": 1},
        COUNT_ROW | {"service": "A", "employee": 1, "weight": 4},  # A has humanity counts: left out
        COUNT_ROW | {"service": "B", "employee": 4, "weight": 2},  # B has none: employee stands in
        COUNT_ROW | {"service": "B", "employee": 1, "weight": 3},
    ]
    result = make_engine(responses=rows).run(Query.of("emotion", by=["service"])).to_dicts()
    assert [(r["service"], r["n"], r["value"], r["mean"]) for r in result] == [
        ("A", 4, pytest.approx(3 / 4), pytest.approx(17 / 4)),
        ("B", 5, pytest.approx(2 / 5), pytest.approx(11 / 5)),
    ]


def test_a_median_of_too_few_waits_has_no_interval(make_engine: EngineFactory) -> None:
    # 5 waits: ranks 2.5 -/+ 1.96 * sqrt(5 * .25) = 0.31 and 4.69; rank 0 does not exist, so there is
    # no 95% order-statistic interval, rather than the shortest and longest waits shown as one.
    engine = make_engine(contacts=[{"queue_wait_seconds": float(s)} for s in (10, 20, 30, 40, 50)])
    row = one(engine, "wait_median")
    assert row["value"] == pytest.approx(30.0)
    assert (row["ci_low"], row["ci_high"]) == (None, None)
