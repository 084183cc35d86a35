"""The overview's answer in words, worked out by hand on a tiny dataset."""

from __future__ import annotations

from datetime import datetime

from conftest import EngineFactory

from metrics.analyses.breaks import SAME
from metrics.analyses.headline import Comparison, _moved, answer, describe_answer
from metrics.compare import Difference
from metrics.query import Filters


def trust(when: datetime, positive: int, total: int) -> list[dict[str, object]]:
    return [{"submitted_at": when, "trust": 5 if i < positive else 2} for i in range(total)]


def test_the_answer_on_the_quarter_the_year_and_the_year_to_date(make_engine: EngineFactory) -> None:
    engine = make_engine(
        responses=trust(datetime(2024, 11, 15), 10, 20)  # FY2025 Q1: 50%
        + trust(datetime(2025, 8, 15), 12, 20)  # FY2025 Q4: 60%
        + trust(datetime(2025, 11, 15), 16, 20)  # FY2026 Q1: 80%
    )
    # 16/20 against 12/20: pooled .7, z = .2 / sqrt(.7 * .3 * .1) = 1.380, p = .168: within noise.
    # 16/20 against 10/20: pooled .65, z = .3 / sqrt(.65 * .35 * .1) = 1.989, p = .047: beyond noise.
    # FY2026 Q1 opens its fiscal year: no year to date apart from the quarter.
    found = answer(engine, Filters(), "FY2026 Q1")
    assert describe_answer(found) == (
        "Trust is 80.0% in FY2026 Q1: up 20.0 pts on FY2025 Q4 (within sampling noise), and up 30.0 pts on "
        "FY2025 Q1 (beyond sampling noise)."
    )
    # FY2025 Q4: 12/20 on 0 answers in FY2025 Q3 and FY2024 Q4; the year to date is (10 + 12) / 40 = 55%.
    assert describe_answer(answer(engine, Filters(), "FY2025 Q4")) == (
        "Trust is 60.0% in FY2025 Q4: no answers in FY2025 Q3 to compare with, and no answers in FY2024 Q4 "
        "to compare with. For FY2025 to date it is 55.0%, no answers in the same quarters of FY2024 to "
        "compare with."
    )


def test_no_comparison_says_whether_the_earlier_quarter_is_hidden_or_had_no_answers(
    make_engine: EngineFactory,
) -> None:
    # FY2026 Q1: 5 answers under a minimum of 10, hidden; FY2026 Q2: 12 of 20. "Hidden or no data" left
    # a leader to guess whether there was nothing to compare or something too small to show.
    engine = make_engine(
        min_n=10,
        responses=trust(datetime(2025, 11, 15), 3, 5) + trust(datetime(2026, 2, 15), 12, 20),
    )
    assert describe_answer(answer(engine, Filters(), "FY2026 Q2")) == (
        "Trust is 60.0% in FY2026 Q2: no comparison with FY2026 Q1, hidden there (\u2020: too few answers), and "
        "no answers in FY2025 Q2 to compare with. For FY2026 to date it is 60.0%, no answers in the same "
        "quarters of FY2025 to compare with."
    )


def test_the_answer_says_hidden_and_no_data_in_words(make_engine: EngineFactory) -> None:
    engine = make_engine(min_n=10, responses=trust(datetime(2025, 11, 15), 3, 5))  # FY2026 Q1: 5 answers
    assert describe_answer(answer(engine, Filters(), "FY2026 Q1")) == (
        "Trust in FY2026 Q1 is hidden to protect privacy: too few answers in this view."
    )
    assert describe_answer(answer(engine, Filters(), "FY2026 Q2")) == (
        "No one answered the trust question in FY2026 Q2 in this view."
    )


def test_a_change_too_small_to_show_is_said_as_none() -> None:
    # 0.04 pts shows as 0.0 pts: "up 0.0 pts" would say it rose (and a sign dropped from "0.0 pts"
    # read ".0 pts"); a change that shows is said with its size.
    def moved(delta: float, fmt: str = "percent") -> str:
        return _moved(Comparison("FY2026 Q3", Difference(delta, 0.01, 0.99, "test"), SAME), fmt)

    assert moved(0.0004) == "unchanged on FY2026 Q3 (within sampling noise)"
    assert moved(-0.0004) == "unchanged on FY2026 Q3 (within sampling noise)"
    assert moved(0.0) == "unchanged on FY2026 Q3 (within sampling noise)"
    assert moved(0.0006) == "up 0.1 pts on FY2026 Q3 (within sampling noise)"
    assert moved(-0.021) == "down 2.1 pts on FY2026 Q3 (within sampling noise)"
    assert moved(-45.0, "duration") == "down 45s on FY2026 Q3 (within sampling noise)"


def test_trust_asked_as_thumbs_alone_leads_as_trust_thumbs_never_pooled(make_engine: EngineFactory) -> None:
    # Touchpoints' v2 default asks trust as thumbs up/down. With no five-point answer in the quarter the
    # overview said "No one answered the trust question" over 20 answers, and its trust tile "not asked".
    from metrics.analyses.kpis import HEADLINE, headline_measures

    def thumbs(when: datetime, up: int, total: int) -> list[dict[str, object]]:
        return [
            {"submitted_at": when, "trust": 1 if i < up else 0, "trust_scale": "thumbs"} for i in range(total)
        ]

    q1, q2 = datetime(2025, 11, 15), datetime(2026, 2, 15)  # FY2026 Q1 and Q2
    engine = make_engine(min_n=10, responses=thumbs(q1, 10, 20) + thumbs(q2, 15, 20))
    assert headline_measures(engine, Filters(), "FY2026 Q2") == ("trust_thumbs", *HEADLINE[1:])
    # 15/20 against 10/20: pooled .625, z = .25 / sqrt(.625 * .375 * .1) = 1.633, p = .102: within noise.
    found = answer(engine, Filters(), "FY2026 Q2", "trust_thumbs")
    assert describe_answer(found).startswith(
        "Trust (thumbs) is 75.0% in FY2026 Q2: up 25.0 pts on FY2026 Q1 (within sampling noise)"
    )
    # Five-point answers in the quarter lead, even hidden: their scale is the headline's, not pooled.
    mixed = make_engine(min_n=10, responses=thumbs(q2, 15, 20) + trust(q2, 3, 5))
    assert headline_measures(mixed, Filters(), "FY2026 Q2") == HEADLINE
    assert describe_answer(answer(mixed, Filters(), "FY2026 Q2")) == (
        "Trust in FY2026 Q2 is hidden to protect privacy: too few answers in this view."
    )
    # Neither scale answered: the five-point headline says no one answered.
    assert headline_measures(engine, Filters(), "FY2026 Q3") == HEADLINE
    # Elsewhere five-point trust was asked on its other scale, not "not asked".
    from metrics.analyses.kpis import tiles
    from metrics.analyses.trends import why_empty

    assert why_empty(engine, "trust", Filters(start="FY2026 Q1", end="FY2026 Q2")) == (
        "Trust was not asked on this scale: the surveys answered under these filters asked this question "
        "on its other scale. Choose Trust (thumbs)."
    )
    (five,) = tiles(engine, ("trust",), Filters(), "FY2026 Q2")
    assert (five.state, five.note) == (
        "not asked",
        "The surveys answered in FY2026 Q2 under these filters asked this question on its other scale: "
        "see Trust (thumbs).",
    )
    # Surveys without trust on either scale did not ask it.
    ease_only = make_engine(responses=[{"submitted_at": q2, "ease": 4, "trust": None}] * 12)
    assert why_empty(ease_only, "trust", Filters(start="FY2026 Q2", end="FY2026 Q2")) == (
        "Trust was not asked: the surveys answered under these filters did not ask this item."
    )
