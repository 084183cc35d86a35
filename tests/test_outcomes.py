"""Customer outcomes: strict files (one bad-file fixture per failure), the progress rule by hand, a
measure and an equity objective on tiny inputs, the shipped outcomes on the sample and the page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import EngineFactory, batches
from streamlit.testing.v1 import AppTest

from dashboard.briefing import SESSION_KEY, csv_bytes
from metrics.analyses import outcomes as progress_of
from metrics.analyses.outcomes import (
    AT_RISK,
    HIDDEN,
    NO_DATA,
    NOT_ASKED,
    OFF_TRACK,
    ON_TRACK,
    describe,
    judge,
)
from metrics.catalog import load_catalog
from metrics.outcomes import load_outcomes
from metrics.query import Engine, Query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bad_outcomes"
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
Q = ("FY2026 Q1", "FY2026 Q2", "FY2026 Q3", "FY2026 Q4")


def test_bad_outcome_files_are_each_named_and_the_good_one_is_read() -> None:
    found, problems = load_outcomes(load_catalog().metrics, FIXTURES)
    assert [o.name for o in found] == ["good"]
    folder = "tests/fixtures/bad_outcomes"
    messages = [str(p) for p in problems]
    assert messages[:3] == [
        f"{folder}/bad_equity_dimension.toml: equity: dimension 'service' is not an equity dimension "
        "(age_band, race_ethnicity, income_band, urbanicity, language, disability, veteran_status)",
        f"{folder}/bad_quarter.toml: measure 1: by 'next spring' is not a fiscal quarter like \"FY2026 Q4\"",
        f"{folder}/empty_statement.toml: key 'statement' must be a text that is not empty",
    ]
    assert f"{folder}/missing_owner.toml: missing key 'owner'" in messages
    assert (
        f"{folder}/negative_gap.toml: equity: max_gap -0.05 must be 0 or more (0.05 is 5 points)" in messages
    )
    assert f"{folder}/no_measures.toml: key 'measure' must be one or more [[measure]] tables" in messages
    assert any(m.startswith(f"{folder}/not_toml.toml: cannot be read as an outcome: ") for m in messages)
    assert (
        f"{folder}/neutral_metric.toml: measure 1: metric 'responses' is neutral (neither higher nor lower "
        "is better): it takes no target"
    ) in messages
    assert (
        f"{folder}/share_out_of_range.toml: measure 1: target 75.0 is a share of trust: give it between 0 and 1 "
        "(0.8 is 80%)"
    ) in messages
    assert f"{folder}/target_not_a_number.toml: measure 1: target 'high' is not a number" in messages
    assert (
        f"{folder}/unknown_key.toml: unknown key 'deadline'; known keys: channels, customer, equity, measure, "
        "owner, service, statement"
    ) in messages
    assert (
        f"{folder}/unknown_metric.toml: measure 1: metric 'happiness' is not in the catalog (`cx metrics` lists them)"
    ) in messages
    # One problem per bad file, each file named once: every fixture is a failure of its own.
    bad = sorted(p.name for p in FIXTURES.glob("*.toml") if p.name != "good.toml")
    assert sorted({m.split(": ")[0].rsplit("/", 1)[1] for m in messages}) == bad
    assert len(messages) == len(bad)


def test_the_shipped_outcomes_read() -> None:
    found, problems = load_outcomes(load_catalog().metrics)
    assert problems == ()
    assert len(found) == 3 and all(o.equity is not None for o in found)


@pytest.mark.parametrize(
    ("values", "target", "direction", "by", "expected"),
    [
        ((0.60, 0.66), 0.65, "higher_is_better", "FY2027 Q4", ON_TRACK),  # meets it now
        ((0.60, 0.62), 0.65, "higher_is_better", "FY2026 Q4", OFF_TRACK),  # its quarter came
        ((0.50, 0.54, 0.58, 0.62), 0.65, "higher_is_better", "FY2027 Q1", ON_TRACK),  # +4 pts a quarter
        (
            (0.50, 0.55, None, 0.62),
            0.65,
            "higher_is_better",
            "FY2027 Q1",
            ON_TRACK,
        ),  # a hidden quarter skipped
        ((0.59, 0.60, 0.61, 0.62), 0.70, "higher_is_better", "FY2027 Q2", AT_RISK),  # +1 pt: 0.64 by then
        ((0.65, 0.64, 0.63, 0.62), 0.70, "higher_is_better", "FY2027 Q2", OFF_TRACK),  # moving away
        ((0.62, 0.62), 0.70, "higher_is_better", "FY2027 Q2", OFF_TRACK),  # not moving
        ((None, None, None, 0.62), 0.70, "higher_is_better", "FY2027 Q2", AT_RISK),  # one quarter to judge by
        ((0.09, 0.08, 0.07, 0.06), 0.05, "lower_is_better", "FY2027 Q1", ON_TRACK),  # -1 pt a quarter
        ((0.09, 0.08, 0.07, 0.06), 0.02, "lower_is_better", "FY2027 Q2", AT_RISK),  # 0.04 by then
        ((0.09, 0.08, 0.07, None), 0.05, "lower_is_better", "FY2027 Q2", NO_DATA),  # nothing to judge
    ],
)
def test_progress_by_hand(
    values: tuple[float | None, ...], target: float, direction: str, by: str, expected: str
) -> None:
    history = tuple(zip(Q[-len(values) :], values, strict=True))
    status, reason = judge(history, target, direction, by, "FY2026 Q4")
    assert status == expected, reason


def test_a_pace_within_noise_is_no_pace() -> None:
    history = tuple(zip(Q, (0.50, 0.54, 0.58, 0.62), strict=True))
    assert judge(history, 0.65, "higher_is_better", "FY2027 Q1", "FY2026 Q4", moved=False) == (
        AT_RISK,
        "not met, and no change beyond sampling noise over the last quarters to tell its pace by",
    )


def test_a_miss_within_noise_when_the_quarter_has_come_is_at_risk_not_off_track() -> None:
    history = tuple(zip(Q, (0.60, 0.62, 0.64, 0.66), strict=True))
    assert judge(history, 0.70, "higher_is_better", "FY2026 Q4", "FY2026 Q4", within_noise=True) == (
        AT_RISK,
        "FY2026 Q4 has come, and it is short of the target by no more than sampling noise",
    )
    assert judge(history, 0.70, "higher_is_better", "FY2026 Q4", "FY2026 Q4")[0] == OFF_TRACK


def trust_answers(quarter_day: datetime, positive: int, negative: int, **row: Any) -> list[dict[str, Any]]:
    return [{"submitted_at": quarter_day, "trust": 5} | row] * positive + [
        {"submitted_at": quarter_day, "trust": 1} | row
    ] * negative


def travelers(
    tmp_path: Path,
    target: float = 0.9,
    by: str = "FY2026 Q4",
    max_gap: float | None = 0.1,
    gap_by: str = "FY2026 Q4",
) -> Path:
    """Write an outcome file of trust for travelers (with an equity objective by age band unless
    `max_gap` is None) in a folder of its own, and return the folder."""
    folder = tmp_path / "outcomes"
    folder.mkdir()
    equity = (
        f'[equity]\nmetric = "trust"\ndimension = "age_band"\nmax_gap = {max_gap}\nby = "{gap_by}"\n'
        if max_gap is not None
        else ""
    )
    (folder / "travelers.toml").write_text(
        'customer = "Travelers"\nstatement = "As a traveler, I want to be trusted."\nowner = "Us"\n'
        f'[[measure]]\nmetric = "trust"\ntarget = {target}\nby = "{by}"\n' + equity,
        encoding="utf-8",
    )
    return folder


def test_a_measure_and_an_equity_objective_on_tiny_inputs(make_engine: EngineFactory, tmp_path: Path) -> None:
    q1, q2 = datetime(2025, 11, 15), datetime(2026, 2, 15)  # FY2026 Q1 and Q2
    rows = [
        *trust_answers(q1, 30, 70),  # 30% in FY2026 Q1
        *trust_answers(q2, 25, 25, age_band="65+"),  # FY2026 Q2: 50% of 65+ ...
        *trust_answers(q2, 45, 5, age_band="35-44"),  # ... and 90% of 35-44: a 40-point gap
        *trust_answers(q2, 3, 0, age_band="Not reported"),  # not a group of people: left out of the gap
        *trust_answers(q2, 9, 1, segment="Boaters"),  # another segment: not in the outcome
    ]
    engine = make_engine(min_n=1, responses=rows)
    folder = travelers(tmp_path, gap_by="FY2026 Q2")
    (outcome,), problems = load_outcomes(engine.catalog.metrics, folder)
    assert problems == ()
    found = progress_of.progress(engine, outcome, "FY2026 Q2")
    (trust,) = found.measures
    # 30% then 73 of 103 (the "Not reported" count too): a rise beyond noise of 41 points a quarter
    # reaches 90% by FY2026 Q4.
    assert trust.latest == pytest.approx(73 / 103)
    assert dict(trust.history)["FY2026 Q1"] == pytest.approx(0.3)
    assert trust.status == ON_TRACK
    equity = found.equity
    assert equity is not None
    assert equity.latest == pytest.approx(0.4) and equity.widest == ("65+", "35-44")
    assert equity.status == OFF_TRACK  # its quarter has come with a 40-point gap
    assert found.status == OFF_TRACK  # the worst of the two
    # A gap between shares is a width in points, read and drawn as such, never as a share.
    assert (trust.format, equity.format) == ("percent", "points")
    assert describe(equity).startswith("40.0 pts between 35-44 and 65+ in FY2026 Q2 (beyond sampling noise)")
    assert "against at most 10.0 pts by FY2026 Q2: off track" in describe(equity)
    # Where a quarter is hidden, it says so rather than judge.
    # The same 40-point gap against a limit of 30 points: its interval (by hand from the two Wilson
    # intervals of 25/50 and 45/50, .4 - 1.96 * .0808 = .242) reaches 30 points, so it is no sure miss.
    (folder / "travelers.toml").write_text(
        (folder / "travelers.toml").read_text(encoding="utf-8").replace("max_gap = 0.1", "max_gap = 0.3"),
        encoding="utf-8",
    )
    (lenient,), _ = load_outcomes(engine.catalog.metrics, folder)
    equity = progress_of.progress(engine, lenient, "FY2026 Q2").equity
    assert equity is not None and equity.status == AT_RISK
    assert equity.reason == "FY2026 Q2 has come, and it is short of the target by no more than sampling noise"
    strict = make_engine(min_n=150, responses=rows)
    hidden = progress_of.progress(strict, outcome, "FY2026 Q2")
    assert hidden.measures[0].status == HIDDEN
    # Its equity groups are all hidden too: nothing judged, and the outcome is hidden, not "no data".
    assert hidden.equity is not None and hidden.equity.status == HIDDEN
    assert (hidden.status, hidden.headline) == (HIDDEN, HIDDEN)
    # In FY2026 Q1 no one gave an age band: the equity objective has no data, so the outcome's status
    # (its measure's: one quarter to judge by) says that part was not judged.
    earlier = progress_of.progress(engine, outcome, "FY2026 Q1")
    assert earlier.equity is not None and earlier.equity.status == NO_DATA
    assert (earlier.status, earlier.headline) == (AT_RISK, "at risk so far: 1 of 2 not judged")
    assert found.headline == OFF_TRACK  # every part judged


@pytest.mark.parametrize(
    ("older", "younger", "max_gap", "reason", "noise"),
    [
        # 25 of 50 against 45 of 50: a 40-point gap, beyond noise; its interval by hand from the two
        # Wilson intervals, .4 -/+ 1.96 x .0808, is 24.2 to 55.8 points. A 30-point limit lies in it: no
        # sure miss. A 20-point one does not.
        ((25, 50), (45, 50), 0.3, "wider than that by no more than sampling noise", "beyond sampling noise"),
        ((25, 50), (45, 50), 0.2, "wider than that", "beyond sampling noise"),
        # 12 of 20 (60%) against 15 of 20 (75%): 15 points, but within noise of none (pooled 27 of 40, z = .15 /
        # sqrt(.675 x .325 x .1) = 1.013, p = .31); its interval, .15 -/+ 1.96 x .1357, is -11.6 to
        # 41.6 points, holding both none and the 10-point limit.
        (
            (12, 20),
            (15, 20),
            0.1,
            "wider than that by no more than sampling noise",
            "within sampling noise: these two may not differ",
        ),
    ],
)
def test_a_gap_wider_than_its_limit_before_its_date_says_how_sure_that_is(
    make_engine: EngineFactory,
    tmp_path: Path,
    older: tuple[int, int],
    younger: tuple[int, int],
    max_gap: float,
    reason: str,
    noise: str,
) -> None:
    q2 = datetime(2026, 2, 15)  # FY2026 Q2; the limit is for FY2026 Q4: not come
    rows = [
        *trust_answers(q2, older[0], older[1] - older[0], age_band="65+"),
        *trust_answers(q2, younger[0], younger[1] - younger[0], age_band="35-44"),
    ]
    engine = make_engine(min_n=1, responses=rows)
    folder = travelers(tmp_path, max_gap=max_gap)
    (outcome,), _ = load_outcomes(engine.catalog.metrics, folder)
    equity = progress_of.progress(engine, outcome, "FY2026 Q2").equity
    assert equity is not None and equity.status == AT_RISK
    assert equity.reason == f"{reason}, and a gap's pace is not projected (it has no test) before FY2026 Q4"
    assert f"in FY2026 Q2 ({noise}) against at most" in describe(equity)


def test_an_equity_gap_of_hidden_groups_is_hidden_not_no_data(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    q2 = datetime(2026, 2, 15)
    folder = travelers(tmp_path)
    # 40 answers aged 35-44 and 4 aged 65+ under a minimum of 10: the 65+ group is hidden, so there are
    # two groups but no two shown: the gap is hidden, not missing.
    rows = [*trust_answers(q2, 30, 10, age_band="35-44"), *trust_answers(q2, 2, 2, age_band="65+")]
    engine = make_engine(min_n=10, responses=rows)
    (outcome,), _ = load_outcomes(engine.catalog.metrics, folder)
    equity = progress_of.progress(engine, outcome, "FY2026 Q2").equity
    assert equity is not None
    assert (equity.status, equity.reason) == (
        HIDDEN,
        "too few responses in FY2026 Q2 to show two groups to compare",
    )
    # Four aged 18-24 are hidden, and the next smallest group, 30 aged 45-54, with them (else the total
    # would give them away). The widest gap is of the two groups shown, and says so: a hidden group may
    # lie outside them.
    rows = [*trust_answers(q2, 30, 10, age_band="35-44"), *trust_answers(q2, 20, 20, age_band="65+")]
    rows += [*trust_answers(q2, 15, 15, age_band="45-54"), *trust_answers(q2, 2, 2, age_band="18-24")]
    equity = progress_of.progress(make_engine(min_n=10, responses=rows), outcome, "FY2026 Q2").equity
    assert equity is not None and equity.unseen == 2 and equity.widest == ("65+", "35-44")
    assert describe(equity).startswith(
        "25.0 pts between 35-44 and 65+ of the groups shown (2 hidden, †) in FY2026 Q2"
    )
    # Only the 35-44 group answered: one group, nothing to compare, and nothing hidden.
    engine = make_engine(min_n=10, responses=trust_answers(q2, 30, 10, age_band="35-44"))
    equity = progress_of.progress(engine, outcome, "FY2026 Q2").equity
    assert equity is not None
    assert (equity.status, equity.reason) == (NO_DATA, "fewer than two groups with answers in FY2026 Q2")


def test_trust_asked_as_thumbs_or_not_at_all_is_not_asked_rather_than_no_data(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    # The target is on the five-point scale; the quarter's surveys asked trust as thumbs up or down.
    # "No data" said no one answered, over 40 answers.
    q2 = datetime(2026, 2, 15)
    folder = travelers(tmp_path)
    thumbs = [
        {"submitted_at": q2, "trust": i % 2, "trust_scale": "thumbs", "age_band": "65+"} for i in range(40)
    ]
    engine = make_engine(min_n=10, responses=thumbs)
    (outcome,), _ = load_outcomes(engine.catalog.metrics, folder)
    found = progress_of.progress(engine, outcome, "FY2026 Q2")
    other = (
        "the surveys answered in FY2026 Q2 asked this question on its other scale (see Trust (thumbs)), "
        "and the target is set on this one"
    )
    assert [(p.status, p.reason) for p in found.parts] == [(NOT_ASKED, other), (NOT_ASKED, other)]
    assert found.status == NOT_ASKED and found.headline == NOT_ASKED
    assert describe(found.measures[0]) == f"Not asked: {other}."
    # Surveys that asked ease alone did not ask trust on either scale.
    engine = make_engine(min_n=10, responses=[{"submitted_at": q2, "ease": 4, "trust": None}] * 20)
    (measure,) = progress_of.progress(engine, outcome, "FY2026 Q2").measures
    assert (measure.status, measure.reason) == (
        NOT_ASKED,
        "the surveys answered in FY2026 Q2 did not ask this item",
    )
    # No survey answered at all in the quarter: no data.
    engine = make_engine(min_n=10, responses=trust_answers(datetime(2025, 11, 15), 20, 20))
    (measure,) = progress_of.progress(engine, outcome, "FY2026 Q2").measures
    assert (measure.status, measure.reason) == (NO_DATA, "no data in FY2026 Q2")


def test_an_equity_gap_met_among_the_groups_shown_says_so(make_engine: EngineFactory, tmp_path: Path) -> None:
    # The four groups of the test above: 25 points between the two shown, two hidden. Against a limit
    # of 30 points it is met, but only among the groups shown; trust (67 of 114, about 59%) meets 50%.
    q2 = datetime(2026, 2, 15)
    rows = [*trust_answers(q2, 30, 10, age_band="35-44"), *trust_answers(q2, 20, 20, age_band="65+")]
    rows += [*trust_answers(q2, 15, 15, age_band="45-54"), *trust_answers(q2, 2, 2, age_band="18-24")]
    engine = make_engine(min_n=10, responses=rows)
    (outcome,), _ = load_outcomes(engine.catalog.metrics, travelers(tmp_path, target=0.5, max_gap=0.3))
    found = progress_of.progress(engine, outcome, "FY2026 Q2")
    assert found.equity is not None and found.equity.status == ON_TRACK
    assert found.equity.reason.endswith(", among the groups shown (2 hidden, not compared)")
    # The sentence says it once, at the start: not again in its reason.
    said = describe(found.equity)
    assert said.startswith("25.0 pts between 35-44 and 65+ of the groups shown (2 hidden, †) in FY2026 Q2")
    assert "not compared" not in said and said.count("hidden") == 1
    assert (found.status, found.headline) == (ON_TRACK, "on track so far: 2 equity groups hidden")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        # 73 of 103 is 70.9%; its Wilson interval by hand: centre (.7087 + 1.96²/206) / (1 + 1.96²/103)
        # = .7013, half-width 1.96 * sqrt(.7087 * .2913 / 103 + 1.96² / (4 * 103²)) / 1.0373 = .0865,
        # so 61.5% to 78.8%.
        (0.70, "meets the target in FY2026 Q2, though by no more than sampling noise"),
        (0.60, "meets the target in FY2026 Q2"),
    ],
)
def test_a_measure_that_meets_its_target_within_noise_says_so(
    make_engine: EngineFactory, tmp_path: Path, target: float, reason: str
) -> None:
    q2 = datetime(2026, 2, 15)
    engine = make_engine(min_n=1, responses=trust_answers(q2, 73, 30))
    row = engine.run(Query.of("trust", by=["fiscal_quarter"])).row(0, named=True)
    assert (row["ci_low"], row["ci_high"]) == (
        pytest.approx(0.6148, abs=5e-4),
        pytest.approx(0.7878, abs=5e-4),
    )
    folder = travelers(tmp_path, target=target, by="FY2026 Q2", max_gap=None)
    (outcome,), _ = load_outcomes(engine.catalog.metrics, folder)
    (trust,) = progress_of.progress(engine, outcome, "FY2026 Q2").measures
    assert (trust.status, trust.reason) == (ON_TRACK, reason)


def test_every_outcome_asked_at_once_is_judged_as_one_by_one(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Outcomes page asks every outcome's questions in one `run_many` (progress_many): the same
    progress as each outcome read alone, from the same rows."""
    engine = make_engine(min_n=1, responses=[{"trust": t, "ease": e} for t, e in ((5, 4), (2, 5), (4, 1))])
    found, _ = load_outcomes(engine.catalog.metrics)
    asked = batches(engine, monkeypatch)
    together = progress_of.progress_many(engine, found, "FY2025 Q1")
    questions = sum(len(o.measures) + (o.equity is not None) for o in found)
    assert asked[0] == questions and len(found) >= 2
    monkeypatch.undo()
    engine.forget_results()
    assert together == [progress_of.progress(engine, o, "FY2025 Q1") for o in found]


def test_the_shipped_outcomes_on_the_sample_are_judged(sample_engine: Engine) -> None:
    found, _ = load_outcomes(sample_engine.catalog.metrics)
    statuses = {o.name: progress_of.progress(sample_engine, o, "FY2026 Q4") for o in found}
    travelers = statuses["travelers_renew_online"]
    ease = next(p for p in travelers.measures if p.metric == "ease")
    # Its value meets the 85% target, and its 95% interval reaches below it: no sure meet.
    assert ease.status == ON_TRACK
    assert ease.reason == "meets the target in FY2026 Q4, though by no more than sampling noise"
    survivors = statuses["disaster_survivors_reach_a_person"]
    abandonment = next(p for p in survivors.measures if p.metric == "abandonment_rate")
    # Its quarter is FY2026 Q4: 7 of 194 contacts published (3.6%), within its 5% target; its 95%
    # interval (about 1.8% to 7.3%) reaches past it.
    assert abandonment.latest == pytest.approx(7 / 194)
    assert abandonment.status == ON_TRACK
    assert abandonment.reason == "meets the target in FY2026 Q4, though by no more than sampling noise"


def test_the_outcomes_page_shows_each_outcome_and_its_status(
    sample_dir: Path, sample_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("app_pages/outcomes.py")
    app.run()
    assert not app.exception
    found, _ = load_outcomes(sample_engine.catalog.metrics)
    headers = [h.value for h in app.header]
    for outcome in found:
        status = progress_of.progress(sample_engine, outcome, "FY2026 Q4").headline
        assert any(h.startswith(f"{outcome.customer}: ") and h.endswith(status) for h in headers), headers
    assert not app.warning  # every shipped file reads
    # Boaters' urban and rural groups are hidden in FY2026 Q4 on this sample: its gap is hidden, and
    # its export says so in the value and the status alike.
    briefing = app.session_state[SESSION_KEY]
    boaters = next(e for e in briefing.exhibits if e.title.startswith("Boaters"))
    written = csv_bytes(boaters, briefing.provenance).decode()
    assert (
        "\ngap:ease,FY2026 Q4,†,0.05,FY2027 Q4,hidden,too few responses in FY2026 Q4 to show two groups"
        in written
    )


def test_the_widest_gap_is_tested_as_one_of_every_pair() -> None:
    # Three groups of 100: 50%, 60% and 64%. The widest gap, 64% against 50%, tested alone: pooled
    # .57, z = .14 / sqrt(.57 x .43 x .02) = 2.000, p = .0455, beyond noise. But it was picked as the
    # widest of three pairs; the others: 60 against 50, z = .10 / sqrt(.55 x .45 x .02) = 1.421,
    # p = .155; 64 against 60, z = .04 / sqrt(.62 x .38 x .02) = .583, p = .560. Holm: the smallest
    # p times three is .137, within noise.
    ordered = [{"value": v, "n": 100, "suppressed": False} for v in (0.50, 0.60, 0.64)]
    for row, (low, high) in zip(ordered, ((0.40, 0.60), (0.50, 0.70), (0.54, 0.74)), strict=True):
        row |= {"ci_low": low, "ci_high": high}
    beyond, interval = progress_of.widest_gap(ordered, "share")
    assert not beyond
    # Its interval holds all three pairs' gaps at once (95% over the three): z of 1 - .05 / 6, 2.394;
    # each group's standard error (.1 / 1.96) from its interval: .14 -/+ 2.394 x sqrt(2) x .05102.
    assert interval == pytest.approx((0.14 - 0.17274, 0.14 + 0.17274), abs=1e-4)
    # Two groups are one pair: the usual test and 95% interval.
    beyond, interval = progress_of.widest_gap([ordered[0], ordered[2]], "share")
    assert beyond
    assert interval == pytest.approx((0.14 - 0.14142, 0.14 + 0.14142), abs=1e-4)
    assert progress_of.widest_gap(ordered[:1], "share") == (False, None)


def test_a_measure_whose_data_cannot_be_used_is_unavailable_and_the_rest_judged(tmp_path: Path) -> None:
    # An agency with survey answers and no contact-centre file: the wait cannot be computed. It was a
    # page error that hid every outcome; it is one part not judged, told apart from "no data".
    from conftest import write_inputs

    from metrics.analyses.outcomes import UNAVAILABLE
    from metrics.warehouse import Warehouse

    q2 = datetime(2026, 2, 15)
    folder = write_inputs(tmp_path / "data", responses=trust_answers(q2, 40, 10))
    (folder / "contacts.parquet").unlink()
    engine = Engine(Warehouse(folder, True), load_catalog(), 1, True)
    outcomes = travelers(tmp_path, target=0.5, max_gap=None)
    (outcomes / "travelers.toml").write_text(
        (outcomes / "travelers.toml").read_text(encoding="utf-8")
        + '[[measure]]\nmetric = "wait_median"\ntarget = 300\nby = "FY2026 Q4"\n',
        encoding="utf-8",
    )
    (outcome,), problems = load_outcomes(engine.catalog.metrics, outcomes)
    assert problems == ()
    found = progress_of.progress(engine, outcome, "FY2026 Q2")
    trust, wait = found.measures
    assert trust.status == ON_TRACK and trust.latest == pytest.approx(0.8)  # 40 of 50 against 50%
    assert (wait.status, wait.reason) == (
        UNAVAILABLE,
        "its data (contacts) cannot be used; Metrics and data says why",
    )
    assert wait.latest is None and all(v is None for _, v in wait.history) and len(wait.history) == 8
    assert describe(wait) == "Unavailable: its data (contacts) cannot be used; Metrics and data says why."
    assert (found.status, found.headline) == (ON_TRACK, "on track so far: 1 of 2 not judged")
    # With nothing else to judge, the outcome is unavailable, not "no data".
    alone = progress_of.OutcomeProgress(outcome, "FY2026 Q2", (wait,), None)
    assert (alone.status, alone.headline) == (UNAVAILABLE, UNAVAILABLE)
