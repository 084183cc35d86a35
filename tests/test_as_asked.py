"""Trust on the scale the view's surveys asked it, on every page that compares the four themes: where
they asked it only as thumbs up or down, the gap search, Equity's heat map and Journeys compare Trust
(thumbs), labelled as such and never pooled, rather than treat trust as not asked. Worked by hand on
tiny datasets."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import EngineFactory

from metrics.analyses import equity, gaps, journeys
from metrics.analyses.breaks import as_asked
from metrics.measures import GAP_METRICS, THEME_METRICS
from metrics.query import Filters

WHEN = datetime(2026, 8, 15)  # FY2026 Q4
FY26Q4 = Filters(start="FY2026 Q4", end="FY2026 Q4")


def thumbs(up: int, total: int, **columns: object) -> list[dict[str, object]]:
    return [
        {"submitted_at": WHEN, "trust": 1 if i < up else 0, "trust_scale": "thumbs", "ease": 4, **columns}
        for i in range(total)
    ]


def five_point(agree: int, total: int, **columns: object) -> list[dict[str, object]]:
    return [
        {"submitted_at": WHEN, "trust": 5 if i < agree else 2, "ease": 4, **columns} for i in range(total)
    ]


def test_trust_is_taken_on_the_scale_asked_and_only_where_no_five_point_answer_is(
    make_engine: EngineFactory,
) -> None:
    only_thumbs = make_engine(responses=thumbs(3, 4))
    assert as_asked(only_thumbs, THEME_METRICS, FY26Q4) == (
        "trust_thumbs",
        "ease",
        "effectiveness",
        "emotion",
    )
    # One five-point answer among thumbs: five-point trust leads, as on the overview; never pooled.
    mixed = make_engine(responses=thumbs(3, 4) + five_point(1, 1))
    assert as_asked(mixed, THEME_METRICS, FY26Q4) == THEME_METRICS
    # Neither scale answered: trust stays, so the page says it was not asked.
    neither = make_engine(responses=[{"submitted_at": WHEN, "ease": 4, "trust": None}] * 3)
    assert as_asked(neither, THEME_METRICS, FY26Q4) == THEME_METRICS
    # Per service: each journey takes its own surveys' scale.
    split = make_engine(responses=thumbs(3, 4, service="Passports") + five_point(1, 2, service="Licensing"))
    assert as_asked(split, THEME_METRICS, FY26Q4, {"service": "Passports"})[0] == "trust_thumbs"
    assert as_asked(split, THEME_METRICS, FY26Q4, {"service": "Licensing"})[0] == "trust"
    assert as_asked(split, THEME_METRICS, FY26Q4)[0] == "trust"


def test_the_gap_search_compares_trust_as_thumbs_where_only_that_was_asked(
    make_engine: EngineFactory,
) -> None:
    # 4 of 20 aged 65+ thumbs up (20%) against 16 of 20 aged 18-24 (80%): everyone 20 of 40, 50%.
    engine = make_engine(responses=thumbs(4, 20, age_band="65+") + thumbs(16, 20, age_band="18-24"))
    found = gaps.gaps(engine, FY26Q4)
    assert found.asked == ("trust_thumbs", *GAP_METRICS[1:])
    assert "trust_thumbs" in found.metrics and "trust" not in found.metrics
    worst = found.below[0]
    assert (worst.metric, worst.dimension, worst.group, worst.context) == (
        "trust_thumbs",
        "age_band",
        "65+",
        None,
    )
    assert worst.row["value"] == pytest.approx(0.2) and worst.reference["value"] == pytest.approx(0.5)
    assert worst.difference.delta == pytest.approx(-0.3)


def test_equity_and_journeys_show_trust_thumbs_beside_the_other_themes(make_engine: EngineFactory) -> None:
    engine = make_engine(
        responses=thumbs(4, 20, age_band="65+", journey_stage="Apply", service="Passports")
        + thumbs(16, 20, age_band="18-24", journey_stage="Wait", service="Passports")
    )
    grid = equity.theme_grid(engine, "age_band", FY26Q4)
    trust = {r["age_band"]: r["value"] for r in grid.filter(metric="trust_thumbs").iter_rows(named=True)}
    assert trust == {"65+": pytest.approx(0.2), "18-24": pytest.approx(0.8)}
    assert "trust" not in grid["metric"].to_list()

    found = journeys.journey(engine, "Passports", FY26Q4)
    assert found.asked == ("trust_thumbs", "ease", "effectiveness", "emotion")
    stages = {
        r["journey_stage"]: r["value"]
        for r in found.scores.filter(metric="trust_thumbs").iter_rows(named=True)
        if r["value"] is not None
    }
    assert stages == {"Apply": pytest.approx(0.2), "Wait": pytest.approx(0.8)}
    # Ease is 4 everywhere (100% at both stages), trust thumbs rises 60 points: the average rises by 30.
    assert found.moment is None
    assert found.lowest is not None and found.lowest.stage == "Apply"
    assert found.lowest.themes == ("trust_thumbs", "ease")
    assert found.lowest.average == pytest.approx((0.2 + 1.0) / 2)
