"""Breaks: when the channels or survey versions behind a measure change between quarters, a change is
compared like for like or called not comparable, never the raw one; Trends lists the break."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import EngineFactory

from metrics.analyses.breaks import breaks
from metrics.analyses.kpis import describe_change, largest_moves, tiles
from metrics.compare import change
from metrics.query import Filters, Query

Q1, Q2 = datetime(2024, 11, 15, 12), datetime(2025, 2, 15, 12)  # FY2025 Q1 and Q2


def answers(
    when: datetime, channel: str, version: str, positive: int, total: int, **item: Any
) -> list[dict[str, Any]]:
    return [
        {"submitted_at": when, "channel": channel, "survey_version": version, "trust": 5, **item}
        | ({"effectiveness": 5 if i < positive else 2} if version == "v1" else {})
        for i in range(total)
    ]


def switched(make_engine: EngineFactory) -> Any:
    # FY2025 Q1: website 10 of 20 effective, phone 18 of 20 (both on v1). FY2025 Q2: website 12 of 20;
    # phone moved to v2, which does not ask effectiveness. Raw: 28/40 = 70% -> 12/20 = 60%, -10 pts.
    # Like for like on the website: 50% -> 60%, +10 pts.
    return make_engine(
        responses=answers(Q1, "website", "v1", 10, 20)
        + answers(Q1, "phone", "v1", 18, 20)
        + answers(Q2, "website", "v1", 12, 20)
        + answers(Q2, "phone", "v2", 0, 20)
    )


def test_a_switch_to_v2_compares_the_channels_asked_in_both_quarters(make_engine: EngineFactory) -> None:
    engine = switched(make_engine)
    (tile,) = tiles(engine, ("effectiveness",), Filters(), "FY2025 Q2")
    assert tile.current["value"] == pytest.approx(0.6)  # the quarter's own figure is unchanged
    assert tile.change.delta == pytest.approx(0.10)  # not the raw -0.10
    assert tile.basis.where == (("channel", ("website",)), ("survey_version", ("v1",)))
    assert "like for like on Website (survey v1)" in describe_change(tile)
    assert "1 other channel left out" in describe_change(tile)


def test_no_stratum_asked_in_both_quarters_is_not_comparable(make_engine: EngineFactory) -> None:
    engine = make_engine(responses=answers(Q1, "website", "v1", 10, 20) + answers(Q2, "website", "v2", 0, 20))
    (tile,) = tiles(engine, ("trust",), Filters(), "FY2025 Q2")
    assert tile.change.delta is None and not tile.basis.comparable
    assert describe_change(tile) == (
        "No like-for-like change on the previous quarter: not comparable: Website (survey v1) no longer "
        "asked; Website (survey v2) newly asked."
    )


def test_a_group_whose_population_changed_moves_like_for_like(make_engine: EngineFactory) -> None:
    # Website 100 of 200 in both quarters; phone 190 of 200 in FY2025 Q1, then moved to v2. The raw
    # change, 290/400 = 72.5% -> 50%, is far beyond noise; like for like (the website) nothing moved.
    engine = make_engine(
        responses=answers(Q1, "website", "v1", 100, 200)
        + answers(Q1, "phone", "v1", 190, 200)
        + answers(Q2, "website", "v1", 100, 200)
        + answers(Q2, "phone", "v2", 0, 200)
    )
    raw = engine.run(Query.of("effectiveness", by=["fiscal_quarter"])).to_dicts()
    assert change(raw[1], raw[0], "share").significant
    assert (
        largest_moves(engine, ("effectiveness",), ("service", "segment"), Filters(), "FY2025 Q2").listed == ()
    )


def test_trends_lists_the_quarter_the_population_changed(make_engine: EngineFactory) -> None:
    engine = switched(make_engine)
    (found,) = breaks(engine, "effectiveness", Filters())
    assert found.describe() == "FY2025 Q2: no longer asked in Phone (agent) (survey v1)"
    assert [b.describe() for b in breaks(engine, "trust", Filters())] == [
        "FY2025 Q2: now also asked in Phone (agent) (survey v2); no longer asked in Phone (agent) (survey v1)"
    ]


def test_an_empty_series_says_not_asked_only_of_a_survey_item(make_engine: EngineFactory) -> None:
    from metrics.analyses.trends import why_empty

    # Surveys were answered, on trust alone: ease was not asked. The response rate also needs
    # collections, which there are none of: no data, not "not asked".
    engine = make_engine(responses=[{"trust": 5, "ease": None}] * 3)
    assert why_empty(engine, "ease", Filters()) == (
        "Ease was not asked: the surveys answered under these filters did not ask this item."
    )
    assert why_empty(engine, "response_rate", Filters()) == "No data for these filters."


@pytest.mark.parametrize("trust_scale", ["thumbs", "five_point"])
def test_a_measure_of_some_answers_to_an_item_is_not_asked_where_its_item_was_not(
    make_engine: EngineFactory, trust_scale: str
) -> None:
    """Trust after a contact counts the five-point trust answers of respondents after a contact (its
    file says `asks: trust`). Three respondents after a contact answered trust as thumbs: five-point
    trust was not asked, so neither was trust after a contact, and its tile, outcome and series say
    so and point to the other scale. Answered on the five-point scale by three respondents with no
    contact instead, trust was asked and none of its answers followed a contact: no data."""
    from pathlib import Path

    from metrics.analyses.outcomes import progress
    from metrics.analyses.trends import NOTHING, why_empty
    from metrics.formatting import NO_DATA, NOT_ASKED
    from metrics.outcomes import Measure, Outcome

    after = trust_scale == "thumbs"
    responses = [
        {"trust": 1 if after else 5, "trust_scale": trust_scale, "contact_id": f"C000{i}" if after else None}
        for i in (1, 2, 3)
    ]
    engine = make_engine(responses=responses, contacts=[{}] * 3)
    [tile] = tiles(engine, ("trust_after_contact",), Filters(), "FY2025 Q1")
    trusted = Outcome(
        "trusted",
        "Travelers",
        "Trusted help",
        "Test",
        (Measure("trust_after_contact", 0.7, "FY2025 Q1"),),
        Path(),
    )
    [outcome] = progress(engine, trusted, "FY2025 Q1").measures
    if after:
        assert tile.state == NOT_ASKED and tile.note == (
            "The surveys answered in FY2025 Q1 under these filters asked this question on its other scale: "
            "see Trust (thumbs), which counts every answer to the question, not only those Trust after a "
            "contact counts."
        )
        assert outcome.status == "not asked" and outcome.reason == (
            "the surveys answered in FY2025 Q1 asked this question on its other scale (see Trust (thumbs), which "
            "counts every answer to the question, not only those Trust after a contact counts), and the target "
            "is set on this one"
        )
        assert why_empty(engine, "trust_after_contact", Filters()).startswith(
            "Trust after a contact was not asked on this scale"
        )
    else:
        assert tile.state == NO_DATA and outcome.status == NO_DATA
        assert why_empty(engine, "trust_after_contact", Filters()) == NOTHING
    # Trust itself: thumbs only, not asked on five points; five points, three answers all 4 or 5.
    [trust] = tiles(engine, ("trust",), Filters(), "FY2025 Q1")
    assert (trust.state, trust.current["value"]) == ((NOT_ASKED, None) if after else (trust.state, 1.0))


def test_a_measure_of_some_answers_is_not_asked_only_where_its_item_was_asked_of_no_one(
    make_engine: EngineFactory,
) -> None:
    """FY2025 Q1: five-point trust answered by two respondents with no contact; FY2025 Q2: trust as
    thumbs by two after a contact. Trust after a contact has no answers in either quarter, but trust
    was asked in the first: over both, that is no data, not "not asked"; in the second alone, and
    where ease was asked of no one, it is not asked."""
    from metrics.analyses.trends import NOTHING, why_empty

    responses = [
        *({"submitted_at": Q1, "trust": 5} for _ in range(2)),
        *(
            {"submitted_at": Q2, "trust": 1, "trust_scale": "thumbs", "contact_id": f"C000{i}"}
            for i in (1, 2)
        ),
    ]
    engine = make_engine(responses=responses, contacts=[{"started_at": Q2}] * 2)
    assert why_empty(engine, "trust_after_contact", Filters((), "FY2025 Q1", "FY2025 Q2")) == NOTHING
    assert why_empty(engine, "trust_after_contact", Filters((), "FY2025 Q2", "FY2025 Q2")) == (
        "Trust after a contact was not asked on this scale: the surveys answered under these filters asked "
        "this question on its other scale. Choose Trust (thumbs): it counts every answer to the question, not "
        "only those Trust after a contact counts."
    )
    assert why_empty(engine, "ease_after_contact", Filters((), "FY2025 Q1", "FY2025 Q2")) == (
        "Ease after a contact was not asked: the surveys answered under these filters did not ask Ease, "
        "whose answers it counts."
    )
