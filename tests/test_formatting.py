"""How numbers read: each format on values worked by hand."""

from __future__ import annotations

from metrics.formatting import (
    NO_DATA,
    SUPPRESSED,
    exact_number,
    format_delta,
    format_statistic,
    format_value,
    rounds_to_zero,
)


def test_each_format_reads_as_people_read_it() -> None:
    assert format_value(0.652, "percent") == "65.2%"
    assert format_value(245.4, "duration") == "4m 05s"
    assert format_value(3725, "duration") == "1h 02m"
    assert format_value(1234.4, "integer") == "1,234"
    assert format_value(3.784, "number") == "3.78"
    # A gap between two shares is a width in points, never a share.
    assert format_value(0.039, "points") == "3.9 pts"
    assert format_delta(-0.039, "points") == "-3.9 pts"
    assert format_delta(0.021, "percent") == "+2.1 pts"
    assert format_delta(-45, "duration") == "-45s"
    # A change that shows as none has no direction: neither "+0.0 pts" nor "-0.0 pts".
    assert format_delta(0.0, "percent") == "0.0 pts"
    assert format_delta(-0.0004, "percent") == "0.0 pts"
    assert format_delta(0.0006, "percent") == "+0.1 pts"
    assert format_delta(-0.2, "duration") == "0s"
    assert format_delta(0, "integer") == "0"


def test_hidden_and_no_data_read_differently() -> None:
    assert format_statistic(0.5, True, "percent") == SUPPRESSED
    assert format_statistic(None, False, "percent") == NO_DATA
    assert format_value(None, "points") == SUPPRESSED


def test_a_number_read_again_keeps_every_digit() -> None:
    # `{:g}` keeps six significant digits: 1234.567 would come back as 1234.57.
    assert [exact_number(v) for v in (1234.567, 80.0, 0.7, 0.1 + 0.2, 1e-05)] == [
        "1234.567", "80", "0.7", "0.30000000000000004", "1e-05",
    ]  # fmt: skip
    assert all(float(exact_number(v)) == v for v in (1234.567, 0.1 + 0.2, 123456789.125))


def test_a_value_shown_as_nothing_is_told_from_a_small_one() -> None:
    assert rounds_to_zero("0.0 pts") and rounds_to_zero("0s") and rounds_to_zero("0")
    assert not rounds_to_zero("0.1 pts") and not rounds_to_zero("-45s") and not rounds_to_zero("1,000")
