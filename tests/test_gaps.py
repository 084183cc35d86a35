"""The overview's ranked equity gaps, worked out by hand on a tiny dataset."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import EngineFactory

from metrics.analyses.gaps import compared, compared_with, gaps, who
from metrics.dimensions import phrase
from metrics.query import Engine, Filters

QUARTER = Filters(start="FY2025 Q1", end="FY2025 Q1")


def people(age: str, area: str, positive: int, total: int) -> list[dict[str, object]]:
    return [
        {
            "submitted_at": datetime(2024, 11, 15),
            "age_band": age,
            "urbanicity": area,
            "trust": 5 if i < positive else 2,
        }
        for i in range(total)
    ]


@pytest.fixture
def engine(make_engine: EngineFactory) -> Engine:
    # Trust: 80 of 100 in every cell but rural people aged 65+, where 40 of 100 trust.
    return make_engine(
        responses=people("18-24", "Urban", 80, 100)
        + people("18-24", "Rural", 80, 100)
        + people("65+", "Urban", 80, 100)
        + people("65+", "Rural", 40, 100)
    )


def test_gaps_are_ranked_within_the_people_a_group_is_one_of(engine: Engine) -> None:
    found = gaps(engine, QUARTER, names=("trust",))
    # Overall 280/400 = 70%. Alone: 65+ and rural 120/200 = 60% (-10 pts), 18-24 and urban 80% (+10).
    # Within one another: 65+ among rural 40% against rural 60% (-20), the same people as rural among
    # 65+ (kept once); 18-24 among rural and urban among 65+ 80% against 60% (+20); the others 0.
    # Everyone answered on the website about one service in one segment: those traits add nothing.
    # 12 comparisons: 4 groups alone, 4 cells seen from both traits.
    assert found.tested == 12
    below = [(g.dimension, g.group, g.context, round(g.difference.delta or 0, 4)) for g in found.below]
    assert below == [
        ("age_band", "65+", ("urbanicity", "Rural"), -0.2),
        ("age_band", "65+", None, -0.1),
        ("urbanicity", "Rural", None, -0.1),
    ]
    above = {(g.dimension, g.group, g.context, round(g.difference.delta or 0, 4)) for g in found.above}
    assert above == {
        ("age_band", "18-24", ("urbanicity", "Rural"), 0.2),
        ("urbanicity", "Urban", ("age_band", "65+"), 0.2),
        ("age_band", "18-24", None, 0.1),
        ("urbanicity", "Urban", None, 0.1),
    }
    first = found.below[0]
    assert (first.row["value"], first.row["n"], first.reference["value"], first.reference["n"]) == (
        0.4,
        100,
        0.6,
        200,
    )
    # 65+ alone: w = 200/400, 60% against the rest's 80%: se = .5 sqrt(.6 x .4 / 200 + .8 x .2 / 200)
    # = .022361, so -.1 +/- 1.96 x .022361 = -.1438 to -.0562; pooled z = -4.364 (p = 1.3e-5, x12 Holm).
    alone = found.below[1]
    assert alone.interval == pytest.approx((-0.14383, -0.05617), abs=1e-5)
    assert alone.difference.significant and alone.difference.p is not None and alone.difference.p < 0.001
    assert who(first, {}) == "customers aged 65+ in rural areas"
    assert compared_with(first, {}) == "all customers in rural areas"
    assert compared_with(alone, {}) == "everyone in the view"


def test_a_gap_under_the_floor_is_not_listed(engine: Engine) -> None:
    found = gaps(engine, QUARTER, floor=0.15, names=("trust",))
    assert [g.difference.delta for g in found.below] == [pytest.approx(-0.2)]
    assert len(found.above) == 2


def test_no_gap_is_concluded_from_no_data(engine: Engine) -> None:
    found = gaps(engine, Filters(start="FY2026 Q1", end="FY2026 Q1"), names=("trust",))
    assert (found.tested, found.below, found.above) == (0, (), ())


def test_a_group_reads_as_words() -> None:
    assert phrase("urbanicity", "Rural") == "in rural areas"
    assert phrase("disability", "Yes") == "with a disability"
    assert phrase("channel", "mobile_app", "Mobile app") == "served via Mobile app"
    assert phrase("age_band", "Not reported") == "who did not report their age band"


def test_a_gap_against_a_rest_too_small_to_show_is_not_tested(make_engine: EngineFactory) -> None:
    # 21 people without a disability all trust; the 4 with one do not. Against everyone (25), the 21 are
    # +16 pts, but "everyone else" is the 4: under the minimum of 10, that test would speak of them.
    rows = [
        {"submitted_at": datetime(2024, 11, 15), "disability": d, "trust": t}
        for d, t, count in (("No", 5, 21), ("Yes", 2, 4))
        for _ in range(count)
    ]
    assert gaps(make_engine(min_n=10, responses=rows), QUARTER, names=("trust",)).above == ()
    shown = gaps(make_engine(min_n=1, responses=rows), QUARTER, names=("trust",)).above
    assert [(g.group, round(g.difference.delta or 0, 2)) for g in shown] == [("No", 0.16)]


def test_a_measure_whose_data_cannot_be_used_is_left_out_of_the_search(tmp_path: Path) -> None:
    # Survey answers and no contacts file: trust and ease after a contact read contacts. The search
    # stopped the whole overview with a page error; it compares the themes and names what it left out.
    from conftest import write_inputs

    from metrics.analyses.gaps import comparable
    from metrics.catalog import load_catalog
    from metrics.formatting import left_out
    from metrics.warehouse import Warehouse

    rows = [{"trust": 5 if i % 2 else 2, "age_band": "65+" if i % 4 else "18-24"} for i in range(60)]
    folder = write_inputs(tmp_path / "data", responses=rows)
    (folder / "contacts.parquet").unlink()
    engine = Engine(Warehouse(folder, True), load_catalog(), 1, True)
    assert comparable(engine) == ("trust", "ease", "effectiveness", "emotion")
    found = gaps(engine, Filters())
    assert found.metrics == ("trust", "ease", "effectiveness", "emotion") and found.tested > 0
    after = [engine.metric(n) for n in ("trust_after_contact", "ease_after_contact")]
    assert {i for m in after for i in engine.unusable(m)} == {"contacts"}
    assert left_out([m.label for m in after], {"contacts"}) == (
        "Left out: Trust after a contact and Ease after a contact, which read contacts: that file cannot be "
        "used (Metrics and data says why)."
    )
    assert left_out(["Median wait"], {"contacts"}) == (
        "Left out: Median wait, which reads contacts: that file cannot be used (Metrics and data says why)."
    )
    assert left_out(["A", "B", "C"], {"x", "y"}) == (
        "Left out: A, B and C, which read x and y: those files cannot be used (Metrics and data says why)."
    )


def test_each_comparison_reads_its_own_answers_rows(make_engine: EngineFactory) -> None:
    # Trust's answers carry the mean of the 1-5 answer; the mean wait's carry none. Compared in one
    # search, each comparison's rows are its own measure's answer's, column for column.
    contacts = [
        {"started_at": datetime(2024, 11, 15), "age_band": age, "queue_wait_seconds": wait, "answered": True}
        for age, waits in (("18-24", (60.0, 120.0, 180.0)), ("65+", (600.0, 660.0, 720.0)))
        for wait in waits * 10
    ]
    engine = make_engine(
        responses=people("18-24", "Urban", 8, 10) + people("65+", "Urban", 4, 10), contacts=contacts
    )
    found = compared(engine, QUARTER, names=("trust", "wait_mean"))
    assert {g.metric for g in found} == {"trust", "wait_mean"}
    for g in found:
        answer = engine.run(QUARTER.query(g.metric, by=[g.dimension]))
        own = answer.filter(pl.col(g.dimension) == g.group).row(0, named=True)
        if g.context is None:
            assert g.row == own
        assert set(g.row) - {g.dimension, *(g.context or ())[:1]} == set(answer.columns) - {g.dimension}
    ages = {g.group: g.row for g in found if g.metric == "wait_mean" and g.context is None}
    assert ages["65+"]["value"] == pytest.approx(660.0) and "mean" not in ages["65+"]
    assert {g.group: g.row["mean"] for g in found if g.metric == "trust" and g.context is None}["65+"] == 3.2
