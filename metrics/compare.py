"""Is a difference real or noise? Quarter-on-quarter changes and group-versus-rest gaps, from the
value, n and 95% interval the engine returns."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from metrics.significance import (
    ALPHA,
    fisher_exact_ps,
    holm,
    needs_exact,
    normal_p,
    pooled_z,
    t_p,
    welch,
)

Z95 = 1.959963984540054
# Aggregates whose value is a proportion of n: they take the pooled two-proportion test.
PROPORTIONS = ("share", "ratio")
# Aggregates whose interval is a mean's normal interval: they take Welch's t-test.
MEANS = ("mean",)
# The tests of two proportions, by name.
EXACT = "Fisher's exact test"
POOLED = "pooled two-proportion z-test"
# The normal p-value of each of many statistics, the same function as `normal_p`'s.
_NORMAL_PS = np.frompyfunc(math.erfc, 1, 1)
FAMILY_NOTE = (
    "With many groups tested together, a difference is flagged beyond noise only when it stays so after "
    "Holm's adjustment, which keeps the chance of any false flag on this view under 5%."
)


@dataclass(frozen=True)
class Difference:
    """A difference between two statistics, in the value's units, with its test: the standardised
    statistic (for ranking), the two-sided p-value (Holm-adjusted where many are shown together)
    and the test's name."""

    delta: float | None
    z: float | None
    p: float | None = None
    test: str = ""

    @property
    def significant(self) -> bool:
        """True when the difference is beyond sampling noise at the 5% level."""
        return self.p is not None and self.p < ALPHA


NONE = Difference(None, None)
Row = Mapping[str, Any]


def _usable(row: Row | None) -> bool:
    return (
        row is not None and not row.get("suppressed") and row.get("value") is not None and bool(row.get("n"))
    )


def _proportions(x1: float, n1: float, x2: float, n2: float, delta: float) -> Difference:
    """Test x1/n1 against x2/n2: Fisher's exact test when an expected count is small, else pooled z."""
    arrays = [np.array([a], dtype=np.float64) for a in (x1, n1, x2, n2)]
    ((z, p, test),) = proportion_tests(*arrays)
    return Difference(delta, z, p, test)


def proportion_tests(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> list[tuple[float | None, float | None, str]]:
    """Return the statistic, p-value and test of each x1/n1 against x2/n2 (arrays of counts), all at
    once, as `_proportions` tests one (no statistic for a group of no one)."""
    statistics, p, exact = _proportion_arrays(x1, n1, x2, n2)
    return [
        (None, None, "") if math.isnan(z) else (z, chance, EXACT if small else POOLED)
        for z, chance, small in zip(statistics.tolist(), p.tolist(), exact.tolist(), strict=True)
    ]


def _proportion_arrays(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return `proportion_tests` as arrays: each statistic (NaN: none), p-value (NaN: none), and
    whether it is Fisher's exact test's."""
    statistics = pooled_z(x1, n1, x2, n2)
    counts = [np.round(a).astype(np.int64) for a in (x1, n1, x2, n2)]
    small = needs_exact(*counts) & ~np.isnan(statistics)
    p = _NORMAL_PS(np.abs(statistics) / math.sqrt(2)).astype(np.float64)
    p[small] = fisher_exact_ps(*(c[small] for c in counts))
    p[np.isnan(statistics)] = np.nan
    return statistics, p, small


def _error(row: Row) -> float | None:
    """Return the standard error of a statistic from its 95% interval."""
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return None  # counts carry no interval: their changes are not tested
    return (float(row["ci_high"]) - float(row["ci_low"])) / (2 * Z95)


def _by_interval(a: Row, b: Row, aggregate: str, delta: float) -> Difference:
    """Test a difference of means (Welch's t) or quantiles (normal, from the order-statistic intervals)."""
    errors = (_error(a), _error(b))
    if errors[0] is None or errors[1] is None or errors[0] ** 2 + errors[1] ** 2 == 0:
        return Difference(delta, None)
    if aggregate in MEANS:
        t, df = welch(
            float(a["value"]), errors[0] ** 2, float(a["n"]), float(b["value"]), errors[1] ** 2, float(b["n"])
        )
        return Difference(delta, t, t_p(t, df), "Welch's t-test")
    z = delta / math.sqrt(errors[0] ** 2 + errors[1] ** 2)
    return Difference(delta, z, normal_p(z), "normal test on the intervals")


def change(current: Row | None, previous: Row | None, aggregate: str) -> Difference:
    """Return current minus previous, tested as two independent samples."""
    if not (_usable(current) and _usable(previous)):
        return NONE
    assert current is not None and previous is not None
    delta = float(current["value"]) - float(previous["value"])
    if aggregate in PROPORTIONS:
        n1, n2 = float(current["n"]), float(previous["n"])
        return _proportions(float(current["value"]) * n1, n1, float(previous["value"]) * n2, n2, delta)
    return _by_interval(current, previous, aggregate, delta)


def gap(group: Row | None, overall: Row | None, aggregate: str, smallest: int = 1) -> Difference:
    """Return group minus overall; the test compares the group with everyone else (the overall without it).

    For proportions the rest is exact (overall successes and n minus the group's); for other
    statistics the overall's spread stands in for the rest's, which is conservative. A rest of fewer
    than `smallest` (the suppression minimum) is not tested: the test would speak of a hidden group."""
    return gaps_of([(group, overall)], aggregate, smallest)[0]


def gaps_of(
    pairs: Sequence[tuple[Row | None, Row | None]], aggregate: str, smallest: int = 1
) -> list[Difference]:
    """Return `gap` of each (group, overall) pair, made all at once (`gap_tests`)."""

    def cells(rows: list[Row | None]) -> dict[str, list[Any]]:
        found = {
            c: [None if row is None else row.get(c) for row in rows]
            for c in ("value", "n", "ci_low", "ci_high")
        }
        # No row at all is no statistic to test, as a hidden one is not.
        found["suppressed"] = [row is None or bool(row.get("suppressed")) for row in rows]
        return found

    tests = gap_tests(cells([g for g, _ in pairs]), cells([o for _, o in pairs]), aggregate, smallest)
    return [tests.difference(i) for i in range(len(pairs))]


# Statistics by column (value, n, suppressed, and ci_low and ci_high where a test reads them), one
# entry per cell.
Cells = Mapping[str, Sequence[Any]]


@dataclass(frozen=True)
class GapTests:
    """`gap` of many pairs made at once, as columns: each one's difference, statistic, p-value (None:
    none) and test. The overview's gap search makes thousands, and keeps a few dozen."""

    delta: list[float | None]
    z: list[float | None]
    p: list[float | None]
    test: list[str]

    def difference(self, i: int) -> Difference:
        """Return the `i`th pair's test as `gap` returns it."""
        return Difference(self.delta[i], self.z[i], self.p[i], self.test[i])


def gap_tests(groups: Cells, overalls: Cells, aggregate: str, smallest: int = 1) -> GapTests:
    """Return `gap` of each group against its overall (the `i`th cell of each), tested all at once:
    the pooled z and the expected-count rule on arrays, Fisher's exact test and the normal p-value
    per pair."""

    def statistics(cells: Cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        value = np.array(cells["value"], dtype=np.float64)  # None reads as NaN
        n = np.array(cells["n"], dtype=np.float64)
        hidden = np.array(cells["suppressed"], dtype=bool)  # None reads as not hidden
        return value, n, ~hidden & ~np.isnan(value) & ~np.isnan(n) & (n != 0)  # as `_usable`

    value, size, usable = statistics(groups)
    overall, total, overall_usable = statistics(overalls)
    usable &= overall_usable
    with np.errstate(invalid="ignore"):
        delta, rest = value - overall, total - size
        untested = (rest < smallest) | ((rest <= 0) if aggregate in PROPORTIONS else False)
    count = len(value)
    deltas: list[float | None] = [
        d if u else None for d, u in zip(delta.tolist(), usable.tolist(), strict=True)
    ]
    z: list[float | None] = [None] * count
    p: list[float | None] = [None] * count
    test = [""] * count
    tested = np.flatnonzero(usable & ~untested)
    if aggregate in PROPORTIONS:
        successes = value[tested] * size[tested]
        rest_successes = np.minimum(
            np.maximum(overall[tested] * total[tested] - successes, 0.0), rest[tested]
        )
        made_z, chances, exact = _proportion_arrays(successes, size[tested], rest_successes, rest[tested])
        made = ~np.isnan(made_z)
        for name, which in ((EXACT, exact), (POOLED, made & ~exact)):
            for i in tested[which].tolist():
                test[i] = name
        lines = np.full((2, count), np.nan)
        lines[0, tested], lines[1, tested] = made_z, chances
        z, p = ([None if math.isnan(v) else v for v in line] for line in lines.tolist())
    else:
        for i in tested.tolist():
            a, b = (
                {c: cells[c][i] for c in ("value", "n", "ci_low", "ci_high") if c in cells}
                for cells in (groups, overalls)
            )
            found = _by_interval(a, b, aggregate, float(delta[i]))
            z[i], p[i], test[i] = found.z, found.p, found.test
    return GapTests(deltas, z, p, test)


def gap_interval(
    group: Row | None, overall: Row | None, aggregate: str, smallest: int = 1
) -> tuple[float, float] | None:
    """Return the 95% interval of a proportion's gap to an overall that contains it (None otherwise).

    With w the group's share of the overall, group - overall = (1 - w) (group - rest), so the gap's
    standard error is (1 - w) times the unpooled error of the group against the rest."""
    error = gap_error(group, overall, aggregate, smallest)
    if error is None:
        return None
    assert group is not None and overall is not None
    delta = float(group["value"]) - float(overall["value"])
    return delta - Z95 * error, delta + Z95 * error


def gap_error(
    group: Row | None, overall: Row | None, aggregate: str, smallest: int = 1, added: int = 0
) -> float | None:
    """Return the standard error of a proportion's gap to an overall that contains it (`gap_interval`'s),
    None where it has none. `added`: one more answer each way in the group and in the rest (Agresti
    and Caffo's adjustment), so that a group or rest at 0% or 100% still carries its own noise: the
    unpooled error p (1 - p) / n of 10 of 10 is 0."""
    if aggregate not in PROPORTIONS or not (_usable(group) and _usable(overall)):
        return None
    assert group is not None and overall is not None
    p, n, total = float(group["value"]), float(group["n"]), float(overall["n"])
    rest_n = total - n
    if rest_n < max(smallest, 1):
        return None
    rest = min(max((float(overall["value"]) * total - p * n) / rest_n, 0.0), 1.0)
    p, rest = (p * n + added) / (n + 2 * added), (rest * rest_n + added) / (rest_n + 2 * added)
    return (rest_n / total) * math.sqrt(
        p * (1 - p) / (n + 2 * added) + rest * (1 - rest) / (rest_n + 2 * added)
    )


def adjusted(differences: Sequence[Difference]) -> list[Difference]:
    """Return the differences with Holm-adjusted p-values: the family is everything shown together."""
    return [replace(d, p=p) for d, p in zip(differences, holm([d.p for d in differences]), strict=True)]


def target_met(value: float | None, target: float | None, direction: str) -> bool | None:
    """Return whether a value meets its target given the metric's direction; None when unknown."""
    if value is None or target is None or direction == "neutral":
        return None
    return value >= target if direction == "higher_is_better" else value <= target


# A value read against its target: met beyond noise (its whole 95% interval meets it); met, but its
# interval reaches past the target (a meet within sampling noise); short, but its interval reaches it (a
# miss within noise); or short beyond noise (missed). A value without an interval is a count, not a
# sample: it is met or missed as it stands.
MET, MET_WITHIN_NOISE = "met", "met within noise"
SHORT_WITHIN_NOISE, MISSED = "short within noise", "missed"
WITHIN_NOISE = (MET_WITHIN_NOISE, SHORT_WITHIN_NOISE)


def against_target(row: Row | None, target: float | None, direction: str) -> str | None:
    """Return how a statistic stands against its target (MET, MET_WITHIN_NOISE, SHORT_WITHIN_NOISE,
    MISSED); None when there is no value, no target or the metric is neutral."""
    value = None if row is None or row.get("suppressed") else row.get("value")
    met = target_met(None if value is None else float(value), target, direction)
    if met is None:
        return None
    assert row is not None
    # The bound that could still reach across the target: the low end of a value that meets a "higher
    # is better" target, the high end of one that falls short of it (and the other way round).
    low, high = row.get("ci_low"), row.get("ci_high")
    bound = (low if met else high) if direction == "higher_is_better" else (high if met else low)
    across = bound is not None and target_met(float(bound), target, direction) is not met
    if met:
        return MET_WITHIN_NOISE if across else MET
    return SHORT_WITHIN_NOISE if across else MISSED


def difference_interval(a: Row | None, b: Row | None, z: float = Z95) -> tuple[float, float] | None:
    """Return the 95% interval of a minus b for two independent statistics, from their own intervals
    (normal approximation), or the wider one `z` standard errors either side gives; None when either
    has no value or no interval."""
    if not (_usable(a) and _usable(b)):
        return None
    assert a is not None and b is not None
    errors = (_error(a), _error(b))
    if errors[0] is None or errors[1] is None:
        return None
    delta = float(a["value"]) - float(b["value"])
    spread = z * math.sqrt(errors[0] ** 2 + errors[1] ** 2)
    return delta - spread, delta + spread
