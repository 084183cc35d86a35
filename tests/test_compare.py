"""Known answers for change and gap significance, worked out by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from metrics.compare import (
    MET,
    MET_WITHIN_NOISE,
    MISSED,
    SHORT_WITHIN_NOISE,
    Z95,
    adjusted,
    against_target,
    change,
    difference_interval,
    gap,
    gaps_of,
    target_met,
)
from metrics.query import Engine, Filters
from metrics.significance import fisher_exact_p, fisher_exact_ps, holm, t_p, welch

ONLINE = ("website", "mobile_app")


def test_change_in_a_share_uses_the_pooled_two_proportion_z_test() -> None:
    # 240/400 vs 200/400: pooled 440/800 = .55; se = sqrt(.55*.45*(1/400 + 1/400)) = .0351781 -> z = 2.842676
    # p = erfc(2.842676 / sqrt 2) = .004474
    result = change({"value": 0.6, "n": 400}, {"value": 0.5, "n": 400}, "share")
    assert result.delta == pytest.approx(0.1)
    assert result.z == pytest.approx(2.842676, abs=1e-6)
    assert result.p == pytest.approx(0.004474, abs=1e-6)
    assert result.test == "pooled two-proportion z-test"
    assert result.significant


def test_a_small_change_is_noise() -> None:
    # 52/100 vs 50/100: pooled .51; se = sqrt(.51*.49*.02) = .0706965 -> z = 0.282899
    result = change({"value": 0.52, "n": 100}, {"value": 0.5, "n": 100}, "share")
    assert result.z == pytest.approx(0.282899, abs=1e-6)
    assert not result.significant


def test_everyone_at_100_percent_in_a_small_group_is_not_beyond_noise() -> None:
    # 11 of 11 against 720 of 794: each group's own p(1-p)/n gave z = 9.0 (the 11/11 spread is 0).
    # Expected failures in the small group: 11 * 85 / 805 = 1.16 < 5, so Fisher's exact test:
    # p = sum of the hypergeometric chances no larger than that of the table seen = 0.6119.
    result = change({"value": 1.0, "n": 11}, {"value": 720 / 794, "n": 794}, "share")
    assert result.test == "Fisher's exact test"
    assert result.p == pytest.approx(0.6119, abs=1e-4)
    assert not result.significant
    # The same group against an overall of 731 of 805 that contains it: the rest is 720 of 794.
    assert gap({"value": 1.0, "n": 11}, {"value": 731 / 805, "n": 805}, "share").p == pytest.approx(
        0.6119, abs=1e-4
    )


def test_fisher_exact_on_a_table_worked_by_hand() -> None:
    # 3 of 3 against 0 of 3: margins 3 successes of 6. Tables a = 0..3 have chances
    # C(3,a)C(3,3-a)/C(6,3) = 1/20, 9/20, 9/20, 1/20; as unlikely as a = 3: a = 0 and 3 -> p = 0.1.
    assert fisher_exact_p(3, 3, 0, 3) == pytest.approx(0.1)
    # 2 of 3 against 1 of 3: every table at most 9/20 -> p = 1.
    assert fisher_exact_p(2, 3, 1, 3) == pytest.approx(1.0)


def test_fisher_exact_tests_many_tables_at_once_as_one_by_one() -> None:
    # The two tables above, and 0 of 2 against 2 of 2: margins 2 successes of 4, tables a = 0..2
    # with chances C(2,a)C(2,2-a)/C(4,2) = 1/6, 4/6, 1/6; as unlikely as a = 0: a = 0 and 2 -> p = 1/3.
    # And 11 of 11 against 720 of 794 (p = 0.6119, as above), which sums 12 tables of the 731 successes.
    tables = [(3, 3, 0, 3), (2, 3, 1, 3), (0, 2, 2, 2), (11, 11, 720, 794)]
    found = fisher_exact_ps(*(np.array(column) for column in zip(*tables, strict=True)))
    assert found.tolist() == pytest.approx([0.1, 1.0, 1 / 3, 0.6119], abs=1e-4)
    assert found.tolist() == pytest.approx([fisher_exact_p(*table) for table in tables], abs=1e-12)
    assert fisher_exact_ps(*(np.array([], dtype=np.int64),) * 4).tolist() == []


def test_change_in_a_mean_uses_welch() -> None:
    # Means 10 (s 5, n 100) and 9 (s 4, n 100): variances of the means .25 and .16;
    # t = 1 / sqrt(.41) = 1.561738; df = .1681 * 99 / .0881 = 188.8978
    t, df = welch(10, 0.25, 100, 9, 0.16, 100)
    assert t == pytest.approx(1.561738, abs=1e-6)
    assert df == pytest.approx(188.8978, abs=1e-3)
    now = {"value": 10.0, "n": 100, "ci_low": 10 - Z95 * 0.5, "ci_high": 10 + Z95 * 0.5}
    before = {"value": 9.0, "n": 100, "ci_low": 9 - Z95 * 0.4, "ci_high": 9 + Z95 * 0.4}
    result = change(now, before, "mean")
    assert result.test == "Welch's t-test"
    assert result.z == pytest.approx(1.561738, abs=1e-6)
    assert result.p == pytest.approx(t_p(1.561738, 188.8978), abs=1e-6)
    assert not result.significant


def test_student_t_p_values_match_the_tables() -> None:
    # Two-sided: t = 2.228 at 10 df is the 5% point; t = 2 at 10 df gives .0734; 12.706 at 1 df is 5%.
    assert t_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)
    assert t_p(2.0, 10) == pytest.approx(0.073388, abs=1e-6)
    assert t_p(12.7062, 1) == pytest.approx(0.05, abs=1e-5)


def test_holm_adjusts_a_family_worked_by_hand() -> None:
    # Sorted .005, .01, .03, .04 times 4, 3, 2, 1: .02, .03, .06, .04 -> running maximum .02, .03, .06, .06
    assert holm([0.01, 0.04, 0.03, 0.005, None]) == pytest.approx([0.03, 0.06, 0.06, 0.02, None])
    # Of these four changes each beyond noise alone, two stay so in the family.
    from metrics.compare import Difference

    family = [Difference(0.1, 2.0, p) for p in (0.01, 0.04, 0.03, 0.005)]
    assert [d.significant for d in family] == [True, True, True, True]
    assert [d.significant for d in adjusted(family)] == [True, False, False, True]


def test_change_of_a_median_uses_the_intervals() -> None:
    # half-widths 1.959964 * 10 and * 20 -> se 10 and 20 -> spread sqrt(500) = 22.36068; delta 50 -> z = 2.236068
    now = {"value": 250.0, "n": 900, "ci_low": 250 - Z95 * 10, "ci_high": 250 + Z95 * 10}
    before = {"value": 200.0, "n": 800, "ci_low": 200 - Z95 * 20, "ci_high": 200 + Z95 * 20}
    result = change(now, before, "median")
    assert result.delta == pytest.approx(50.0)
    assert result.z == pytest.approx(2.236068, abs=1e-5)


def test_suppressed_or_missing_cells_have_no_change() -> None:
    assert (
        change({"value": None, "n": None, "suppressed": True}, {"value": 0.5, "n": 100}, "share").delta
        is None
    )
    assert change(None, {"value": 0.5, "n": 100}, "share").significant is False
    counted = change({"value": 120.0, "n": 120}, {"value": 100.0, "n": 100}, "count")
    assert counted.delta == 20 and counted.z is None


def test_gap_compares_the_group_with_everyone_else() -> None:
    # Overall 0.70 of 1000 (700); group 0.50 of 200 (100) -> rest 600 of 800 = 0.75.
    # pooled 700/1000 = .7; se = sqrt(.7*.3*(1/200 + 1/800)) = .0362284 -> z = -0.25/.0362284 = -6.900656
    result = gap({"value": 0.5, "n": 200}, {"value": 0.7, "n": 1000}, "share")
    assert result.delta == pytest.approx(-0.2)
    assert result.z == pytest.approx(-6.900656, abs=1e-5)
    assert result.significant


@pytest.mark.parametrize(
    ("value", "target", "direction", "met"),
    [
        (0.72, 0.70, "higher_is_better", True),
        (0.68, 0.70, "higher_is_better", False),
        (0.05, 0.08, "lower_is_better", True),
        (0.10, 0.08, "lower_is_better", False),
        (0.5, None, "higher_is_better", None),
        (0.5, 0.4, "neutral", None),
    ],
)
def test_target_status_follows_the_direction(
    value: float, target: float | None, direction: str, met: bool | None
) -> None:
    assert target_met(value, target, direction) is met


@pytest.mark.parametrize(
    ("row", "target", "direction", "reading"),
    [
        ({"value": 0.71, "ci_low": 0.705, "ci_high": 0.715}, 0.70, "higher_is_better", MET),
        # 71% meets 70%, but the interval reaches down to 65%: a meet within noise.
        ({"value": 0.71, "ci_low": 0.65, "ci_high": 0.77}, 0.70, "higher_is_better", MET_WITHIN_NOISE),
        ({"value": 0.048, "ci_low": 0.041, "ci_high": 0.055}, 0.05, "lower_is_better", MET_WITHIN_NOISE),
        ({"value": 0.048, "ci_low": 0.046, "ci_high": 0.0499}, 0.05, "lower_is_better", MET),
        ({"value": 0.71, "ci_low": None, "ci_high": None}, 0.70, "higher_is_better", MET),  # a count
        # 66% short of 70%, but the interval reaches 72%: a miss within noise.
        ({"value": 0.66, "ci_low": 0.60, "ci_high": 0.72}, 0.70, "higher_is_better", SHORT_WITHIN_NOISE),
        ({"value": 0.66, "ci_low": 0.63, "ci_high": 0.69}, 0.70, "higher_is_better", MISSED),
        ({"value": 0.052, "ci_low": 0.045, "ci_high": 0.059}, 0.05, "lower_is_better", SHORT_WITHIN_NOISE),
        ({"value": 0.062, "ci_low": 0.055, "ci_high": 0.069}, 0.05, "lower_is_better", MISSED),
        ({"value": 0.66, "ci_low": None, "ci_high": None}, 0.70, "higher_is_better", MISSED),  # a count
        ({"value": 0.5, "ci_low": 0.1, "ci_high": 0.9, "suppressed": True}, 0.70, "higher_is_better", None),
        ({"value": None}, 0.70, "higher_is_better", None),
        ({"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}, 0.70, "neutral", None),
    ],
)
def test_a_value_against_its_target_tells_a_meet_and_a_miss_within_noise(
    row: dict[str, float | None], target: float, direction: str, reading: str | None
) -> None:
    assert against_target(row, target, direction) == reading


def test_the_interval_of_a_difference_by_hand() -> None:
    # se(a) = .1/Z95, se(b) = .05/Z95: the half-width is Z95 * sqrt(se(a)^2 + se(b)^2) = sqrt(.1^2 + .05^2)
    # = .1118034, about a difference of .2.
    a = {"value": 0.6, "n": 100, "ci_low": 0.5, "ci_high": 0.7}
    b = {"value": 0.4, "n": 400, "ci_low": 0.35, "ci_high": 0.45}
    low, high = difference_interval(a, b) or (0.0, 0.0)
    assert (low, high) == (pytest.approx(0.0881966), pytest.approx(0.3118034))
    assert difference_interval(a, {"value": 0.4, "n": 10}) is None  # no interval: a count
    assert difference_interval(a, b | {"suppressed": True}) is None


def test_the_planted_ease_gap_stays_beyond_noise_after_holm(sample_engine: Engine) -> None:
    # The sample plants an ease gap of about -28 points for rural people aged 65+ online: with every age
    # band of rural online respondents tested together, 65+ is still flagged, and only below the rest.
    from metrics.analyses.equity import breakdown

    online = Filters(where=(("channel", ONLINE),))
    found = breakdown(sample_engine, "ease", "age_band", online, within=[("urbanicity", "Rural")])
    older = found.groups.filter(pl.col("age_band") == "65+").row(0, named=True)
    assert older["beyond_noise"] and older["gap"] < -0.1
    assert older["p"] < 0.05


@pytest.mark.parametrize(
    ("value", "ci_high", "line"),
    [
        (0.75, 0.79, "Target 70.0%: met."),  # its interval, 71% to 79%, is wholly above the target
        (0.72, 0.76, "Target 70.0%: met, but within sampling noise of it."),  # 68% to 76%
        (0.66, 0.72, "Target 70.0%: not met, but within sampling noise of it."),
        (0.66, 0.69, "Target 70.0%: not met."),
    ],
)
def test_a_tile_says_a_meet_or_a_miss_within_noise_is_not_sure(
    value: float, ci_high: float, line: str
) -> None:
    from metrics.analyses.kpis import _tile, describe_tile
    from metrics.catalog import load_catalog

    trust = load_catalog().metrics["trust"]  # its target is 70%
    quarter = {"fiscal_quarter": "FY2026 Q4", "value": value, "n": 400, "suppressed": False}
    result = pl.DataFrame([quarter | {"ci_low": value - 0.04, "ci_high": ci_high}])
    assert describe_tile(_tile(trust, "FY2026 Q4", result, ()))[1] == line


def test_a_tile_without_a_change_says_which_quarter_is_hidden_had_no_data_or_was_not_asked() -> None:
    from metrics.analyses.kpis import _tile, describe_change
    from metrics.catalog import load_catalog

    trust = load_catalog().metrics["trust"]
    now = {"fiscal_quarter": "FY2026 Q4", "value": 0.7, "n": 400, "ci_low": 0.65, "ci_high": 0.75}
    hidden = {"fiscal_quarter": "FY2026 Q3", "value": None, "n": None, "ci_low": None, "ci_high": None}

    def said(*rows: dict[str, object], surveys: frozenset[str] = frozenset()) -> str:
        return describe_change(_tile(trust, "FY2026 Q4", pl.DataFrame(list(rows)), (), surveys))

    assert said(now | {"suppressed": False}, hidden | {"suppressed": True}) == (
        "No comparison with the previous quarter: FY2026 Q3 is hidden (\u2020: too few answers)."
    )
    assert (
        said(now | {"suppressed": False}) == "No comparison with the previous quarter: no data in FY2026 Q3."
    )
    # Surveys were answered in FY2026 Q3, none of them to this item: it was not asked.
    assert said(now | {"suppressed": False}, surveys=frozenset({"FY2026 Q3", "FY2026 Q4"})) == (
        "No comparison with the previous quarter: the surveys of FY2026 Q3 did not ask it."
    )
    assert (
        said(
            hidden | {"fiscal_quarter": "FY2026 Q4", "suppressed": True},
            now | {"fiscal_quarter": "FY2026 Q3", "suppressed": False},
        )
        == "No comparison with the previous quarter: FY2026 Q4 is hidden (\u2020: too few answers)."
    )


def test_gaps_tested_together_equal_each_tested_alone() -> None:
    """The overview's gap search tests thousands of gaps at once (`gaps_of`); each test is the one
    `gap` makes of that pair alone: pooled z, Fisher's exact test for a small expected count, no test
    for a hidden group, a rest under the minimum or no one else, and Welch for means."""
    overall = {"value": 731 / 805, "n": 805}
    pairs = [
        ({"value": 1.0, "n": 11}, overall),  # Fisher's exact test (worked by hand above: 0.6119)
        ({"value": 0.5, "n": 200}, {"value": 0.7, "n": 1000}),  # pooled z
        ({"value": 0.7, "n": 1000}, {"value": 0.7, "n": 1000}),  # everyone: no one else to compare with
        ({"value": 0.6, "n": 995}, {"value": 0.7, "n": 1000}),  # a rest of 5, under the minimum
        ({"value": None, "n": 40, "suppressed": True}, overall),  # hidden: no test
        ({"value": 0.0, "n": 30}, {"value": 0.0, "n": 300}),  # everyone answered alike: z = 0
        (None, overall),
    ]
    together = gaps_of(pairs, "share", smallest=10)
    assert together == [gap(g, o, "share", 10) for g, o in pairs]
    assert together[0].test == "Fisher's exact test" and together[0].p == pytest.approx(0.6119, abs=1e-4)
    assert together[1].test == "pooled two-proportion z-test" and together[1].significant
    assert [t.p for t in together[2:5]] == [None, None, None] and together[3].delta == pytest.approx(-0.1)
    assert together[5].z == 0.0 and together[5].p == 1.0
    assert together[6].delta is None
    means = [
        (
            {"value": 10.0, "n": 100, "ci_low": 9.0, "ci_high": 11.0},
            {"value": 9.0, "n": 1000, "ci_low": 8.8, "ci_high": 9.2},
        )
    ]
    assert (
        gaps_of(means, "mean") == [gap(*means[0], "mean")]
        and gaps_of(means, "mean")[0].test == "Welch's t-test"
    )
    assert gaps_of([], "share") == []


def test_holm_caps_at_one_and_takes_no_tests() -> None:
    assert holm([0.5, 0.5, 0.5]) == [1.0, 1.0, 1.0]  # each 0.5 times 3, 2, 1, at most 1
    assert holm([]) == [] and holm([None]) == [None]
