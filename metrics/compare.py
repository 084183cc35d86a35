"""Is a difference real or noise? Quarter-on-quarter changes and group-versus-rest gaps, from the
value, n and 95% interval the engine returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054
# Aggregates whose value is a proportion of n: they take the two-proportion z-test.
PROPORTIONS = ("share", "ratio")


@dataclass(frozen=True)
class Difference:
    """A difference between two statistics, in the value's units, and whether it is beyond noise."""

    delta: float | None
    z: float | None

    @property
    def significant(self) -> bool:
        """True when the difference is beyond sampling noise at the 95% level (|z| > 1.96)."""
        return self.z is not None and abs(self.z) > Z95


NONE = Difference(None, None)
Row = Mapping[str, Any]


def _usable(row: Row | None) -> bool:
    return (
        row is not None and not row.get("suppressed") and row.get("value") is not None and bool(row.get("n"))
    )


def _standard_error(row: Row, aggregate: str) -> float | None:
    if aggregate in PROPORTIONS:
        p, n = float(row["value"]), float(row["n"])
        return math.sqrt(p * (1 - p) / n) if 0 <= p <= 1 else None
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return None  # counts carry no interval: their changes are not tested
    return (float(row["ci_high"]) - float(row["ci_low"])) / (2 * Z95)


def _difference(a: Row, b: Row, aggregate: str) -> Difference:
    delta = float(a["value"]) - float(b["value"])
    errors = (_standard_error(a, aggregate), _standard_error(b, aggregate))
    if errors[0] is None or errors[1] is None:
        return Difference(delta, None)
    spread = math.sqrt(errors[0] ** 2 + errors[1] ** 2)
    return Difference(delta, delta / spread if spread > 0 else None)


def change(current: Row | None, previous: Row | None, aggregate: str) -> Difference:
    """Return current minus previous, with z from the two independent samples."""
    if not (_usable(current) and _usable(previous)):
        return NONE
    assert current is not None and previous is not None
    return _difference(current, previous, aggregate)


def gap(group: Row | None, overall: Row | None, aggregate: str) -> Difference:
    """Return group minus overall; z compares the group with everyone else (the overall without it).

    For proportions the rest is exact (overall successes and n minus the group's); for other
    statistics the overall's interval stands in for the rest's, which is conservative."""
    if not (_usable(group) and _usable(overall)):
        return NONE
    assert group is not None and overall is not None
    delta = float(group["value"]) - float(overall["value"])
    if aggregate not in PROPORTIONS:
        return Difference(delta, _difference(group, overall, aggregate).z)
    rest_n = float(overall["n"]) - float(group["n"])
    if rest_n <= 0:
        return Difference(delta, None)
    rest_value = (
        float(overall["value"]) * float(overall["n"]) - float(group["value"]) * float(group["n"])
    ) / rest_n
    rest = {"value": min(max(rest_value, 0.0), 1.0), "n": rest_n}
    return Difference(delta, _difference(group, rest, aggregate).z)


def target_met(value: float | None, target: float | None, direction: str) -> bool | None:
    """Return whether a value meets its target given the metric's direction; None when unknown."""
    if value is None or target is None or direction == "neutral":
        return None
    return value >= target if direction == "higher_is_better" else value <= target
