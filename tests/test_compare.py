"""Known answers for change and gap significance, worked out by hand."""

from __future__ import annotations

import pytest

from metrics.compare import Z95, change, gap, target_met


def test_change_in_a_share_uses_the_two_proportion_z_test() -> None:
    # 0.60 of 400 vs 0.50 of 400: se = sqrt(.6*.4/400 + .5*.5/400) = sqrt(.0006 + .000625) = .035 -> z = 2.857143
    result = change({"value": 0.6, "n": 400}, {"value": 0.5, "n": 400}, "share")
    assert result.delta == pytest.approx(0.1)
    assert result.z == pytest.approx(2.857143, abs=1e-6)
    assert result.significant


def test_a_small_change_is_noise() -> None:
    # 0.52 of 100 vs 0.50 of 100: se = sqrt(.2496/100 + .25/100) = .070682 -> z = 0.282955
    result = change({"value": 0.52, "n": 100}, {"value": 0.5, "n": 100}, "share")
    assert result.z == pytest.approx(0.282955, abs=1e-6)
    assert not result.significant


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
    # se = sqrt(.5*.5/200 + .75*.25/800) = sqrt(.00125 + .000234375) = .0385276 -> z = -0.25/.0385276 = -6.488857
    result = gap({"value": 0.5, "n": 200}, {"value": 0.7, "n": 1000}, "share")
    assert result.delta == pytest.approx(-0.2)
    assert result.z == pytest.approx(-6.488857, abs=1e-5)
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
