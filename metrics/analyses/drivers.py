"""What drives trust: each driver's share of the explained variance in trust (relative importance),
with a jackknife interval, set against how well the driver performs; for v2 surveys, the went-well
and could-improve shares per driver; and what waiting costs, the longest wait band against the shortest.

Importance is the LMG decomposition (Lindeman, Merenda and Gold 1980; equal to the Shapley value of
R-squared): regress the five-point trust answer on every subset of the six drivers, and credit each
driver with its average gain in R-squared over all orders of entry. The shares sum to 100% of what
the drivers explain together; correlated drivers share credit instead of one taking it all."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from metrics.compare import Z95, Difference, change
from metrics.formatting import NO_DATA, SUPPRESSED, format_value
from metrics.query import Engine, Filters

DRIVERS = ("effectiveness", "ease", "efficiency", "transparency", "employee", "humanity")
# The v2 checklist's two sides: what went well (asked of those who trusted), what could improve (of
# those who did not).
CHECKLIST_SIDES = ("went_well", "could_improve")
_VARIABLES = ("trust", *DRIVERS)
# A driver above an equal share of the explained variance counts as important (the quadrant line).
EQUAL_SHARE = 1 / len(DRIVERS)
# Each quadrant by (important, performing at or above the median driver), the most urgent first.
QUADRANTS = {
    (True, False): "Fix first",
    (True, True): "Keep it up",
    (False, False): "Watch",
    (False, True): "Maintain",
}
FIX_FIRST = QUADRANTS[(True, False)]
# The measures waits are set against: only answers linked to an answered contact have a wait.
WAIT_MEASURES = ("trust_after_contact", "ease_after_contact")
# Fewer complete answers than this give importances too unstable to rank, whatever the privacy floor.
MIN_COMPLETE = 100


@dataclass(frozen=True)
class Importance:
    """Drivers ranked by importance for one set of filters."""

    n: int  # respondents who answered trust (five-point) and all six drivers, as published
    r_squared: float | None  # what the six drivers explain together
    # driver, importance, ci_low, ci_high, rank, performance (with its interval), performance_n,
    # quadrant and near_the_line (what of its placement is within sampling noise of the line)
    drivers: pl.DataFrame
    hidden_reason: str | None  # why importance is not shown, when it is not
    ignored_filters: tuple[str, ...]


def importance(engine: Engine, filters: Filters) -> Importance:
    """Rank the six drivers by relative importance to trust under `filters`, with performance."""
    # The analysis and the drivers' own metrics are independent: asked side by side.
    jobs: list[Callable[[], object]] = [
        lambda: engine.analyse("driver_moments", filters),
        lambda: _performance(engine, filters),
    ]
    analysed, performed = engine.each(_call, jobs)
    moments, ignored = cast(tuple[pl.DataFrame, tuple[str, ...]], analysed)
    performance = cast(dict[str, dict[str, object]], performed)
    exact = int(moments["n"].sum()) if moments.height else 0
    # The count shown is published like every other (perturbed); the floor is checked on the true one.
    n = engine.published(exact, float(moments["keyed"].sum())) if exact else 0
    floor = max(MIN_COMPLETE, engine.min_n)
    if exact < floor:
        reason = f"fewer than {floor} respondents answered trust and all six drivers on the five-point scale"
        return Importance(n, None, _table(None, None, performance), reason, ignored)
    buckets = [_sums(row) for row in moments.iter_rows(named=True)]
    total = _add(buckets)
    # The estimate and, for the delete-one-bucket jackknife, the estimates without each twentieth of
    # the data, computed together.
    correlations = np.array([_correlation(total)] + [_correlation(_subtract(total, b)) for b in buckets])
    every, r_squared_every = lmg_shares_many(correlations)
    shares, r_squared, replicates = every[0], float(r_squared_every[0]), every[1:]
    k = len(buckets)
    error = np.sqrt((k - 1) / k * ((replicates - replicates.mean(axis=0)) ** 2).sum(axis=0))
    return Importance(n, r_squared, _table(shares, error, performance), None, ignored)


def _call(job: Callable[[], object]) -> object:
    return job()


def lmg_shares(correlation: np.ndarray) -> tuple[np.ndarray, float]:
    """Return each predictor's LMG share of R-squared (summing to 1) and R-squared itself, from the
    correlation matrix of the outcome (first row and column) and the predictors."""
    shares, r_squared = lmg_shares_many(correlation[np.newaxis])
    return shares[0], float(r_squared[0])


def lmg_shares_many(correlations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return `lmg_shares` of each of a stack of correlation matrices (m, p+1, p+1): shares (m, p) and
    R-squared (m), every regression solved for the whole stack at once."""
    m, p = correlations.shape[0], correlations.shape[1] - 1
    r_squared: dict[frozenset[int], np.ndarray] = {frozenset(): np.zeros(m)}
    for size in range(1, p + 1):
        for subset in itertools.combinations(range(p), size):
            index = [i + 1 for i in subset]
            xx = correlations[:, index][:, :, index]
            xy = correlations[:, index, 0]
            # The least-squares solution through the pseudo-inverse: drivers that move together
            # exactly (a singular block) still get the minimum-norm answer.
            beta = np.einsum("mij,mj->mi", np.linalg.pinv(xx), xy)
            r_squared[frozenset(subset)] = np.einsum("mi,mi->m", xy, beta)
    credit = np.zeros((m, p))
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                base = frozenset(subset)
                credit[:, j] += weight * (r_squared[base | {j}] - r_squared[base])
    full = r_squared[frozenset(range(p))]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(full[:, np.newaxis] > 0, credit / full[:, np.newaxis], np.nan)
    return shares, full


def _sums(row: dict[str, float]) -> tuple[float, np.ndarray, np.ndarray]:
    """Return (n, sums, sums of products) of one bucket's row of driver_moments."""
    k = len(_VARIABLES)
    sums = np.array([row[f"s_{v}"] for v in _VARIABLES], dtype=float)
    products = np.zeros((k, k))
    for i, j in itertools.combinations_with_replacement(range(k), 2):
        products[i, j] = products[j, i] = row[f"s_{_VARIABLES[i]}__{_VARIABLES[j]}"]
    return float(row["n"]), sums, products


def _add(parts: list[tuple[float, np.ndarray, np.ndarray]]) -> tuple[float, np.ndarray, np.ndarray]:
    return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)  # type: ignore[return-value]


def _subtract(
    total: tuple[float, np.ndarray, np.ndarray], part: tuple[float, np.ndarray, np.ndarray]
) -> tuple[float, np.ndarray, np.ndarray]:
    return total[0] - part[0], total[1] - part[1], total[2] - part[2]


def _correlation(moments: tuple[float, np.ndarray, np.ndarray]) -> np.ndarray:
    """Return the correlation matrix from n, sums and sums of products; a constant answer (no
    variance) correlates with nothing rather than dividing by zero."""
    n, sums, products = moments
    covariance = (products - np.outer(sums, sums) / n) / max(n - 1, 1)
    deviation = np.sqrt(np.clip(np.diag(covariance), 0, None))
    scale = np.outer(deviation, deviation)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.where(scale > 0, covariance / scale, 0.0)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def _performance(engine: Engine, filters: Filters) -> dict[str, dict[str, object]]:
    """Return each driver's own metric (share answering 4 or 5) under the filters, suppression applied."""
    results = engine.run_many([engine.applicable(filters.query(driver))[0] for driver in DRIVERS])
    return {driver: result.row(0, named=True) for driver, result in zip(DRIVERS, results, strict=True)}


def _table(
    shares: np.ndarray | None, error: np.ndarray | None, performance: dict[str, dict[str, object]]
) -> pl.DataFrame:
    """Return one row per driver with importance, interval, rank, performance and quadrant."""
    rows = []
    for i, driver in enumerate(DRIVERS):
        row = performance[driver]
        value = None if shares is None else float(shares[i])
        spread = None if error is None else Z95 * float(error[i])
        rows.append(
            {
                "driver": driver,
                "importance": value,
                "ci_low": None if value is None or spread is None else value - spread,
                "ci_high": None if value is None or spread is None else value + spread,
                "performance": None if row["suppressed"] else row["value"],
                "performance_low": None if row["suppressed"] else row["ci_low"],
                "performance_high": None if row["suppressed"] else row["ci_high"],
                "performance_n": None if row["suppressed"] else row["n"],
            }
        )
    table = pl.DataFrame(
        rows,
        schema={
            "driver": pl.String,
            "importance": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "performance": pl.Float64,
            "performance_low": pl.Float64,
            "performance_high": pl.Float64,
            "performance_n": pl.Int64,
        },
    )
    table = table.with_columns(
        pl.col("importance").rank("ordinal", descending=True).cast(pl.Int64).alias("rank")
    )
    return table.with_columns(quadrant(table), near_the_line(table)).sort(
        "rank", nulls_last=True, maintain_order=True
    )


def quadrant(table: pl.DataFrame) -> pl.Series:
    """Name each driver's quadrant: importance above an equal share (1/6) and performance below the
    drivers' median is "Fix first"."""
    median = table["performance"].median()
    names: list[str | None] = []
    for importance_value, performance_value in zip(table["importance"], table["performance"], strict=True):
        if importance_value is None or performance_value is None or median is None:
            names.append(None)
            continue
        high, strong = float(importance_value) > EQUAL_SHARE, float(performance_value) >= float(median)  # type: ignore[arg-type]
        names.append(QUADRANTS[(high, strong)])
    return pl.Series("quadrant", names, dtype=pl.String)


def near_the_line(table: pl.DataFrame) -> pl.Series:
    """Name, for each placed driver, what puts it within sampling noise of a quadrant's line: its
    importance, when the 95% interval of it holds an equal share; its performance, when the 95%
    interval of it holds the median driver's (taken as it is). Its quadrant is then not settled: the
    driver may belong on the other side. None where both placements hold beyond noise."""
    median = table["performance"].median()
    names: list[str | None] = []
    for row in table.iter_rows(named=True):
        if row["importance"] is None or row["performance"] is None or median is None:
            names.append(None)
            continue
        near = []
        if row["ci_low"] is not None and row["ci_low"] <= EQUAL_SHARE <= row["ci_high"]:
            near.append("importance")
        if row["performance_low"] is not None and row["performance_low"] <= median <= row["performance_high"]:
            near.append("performance")
        names.append(" and ".join(near) or None)
    return pl.Series("near_the_line", names, dtype=pl.String)


def fix_first(table: pl.DataFrame) -> list[str]:
    """Return the drivers to fix first, in the table's order: more important than an equal share and
    performing below the median driver."""
    return table.filter(pl.col("quadrant") == FIX_FIRST)["driver"].to_list()


def placement(row: dict[str, Any]) -> str:
    """A driver's quadrant, and what of its placement is within sampling noise of the line."""
    if not row["quadrant"]:
        return "not placed"
    near = row["near_the_line"]
    return f"{row['quadrant']} (near the line: {near} within sampling noise)" if near else row["quadrant"]


def fix_first_sentence(fix: pl.DataFrame) -> str:
    """Name the drivers to fix first (`fix`: their rows, with `label`), and each whose place there is
    within sampling noise of a line, with the interval that says so."""
    if not fix.height:
        return "No driver is both above-average in importance and below the median in performance."
    said = (
        f"**Fix first:** {', '.join(fix['label'])}: more important than an equal share (1/6) and performing "
        "below the median driver."
    )
    for row in fix.filter(pl.col("near_the_line").is_not_null()).iter_rows(named=True):
        reasons = []
        if "importance" in row["near_the_line"]:
            reasons.append(
                f"its importance's 95% interval ({format_value(row['ci_low'], 'percent')} to "
                f"{format_value(row['ci_high'], 'percent')}) holds an equal share"
            )
        if "performance" in row["near_the_line"]:
            reasons.append(
                f"its performance's 95% interval ({format_value(row['performance_low'], 'percent')} to "
                f"{format_value(row['performance_high'], 'percent')}) holds the median driver's"
            )
        said += (
            f" {row['label']} is within sampling noise of the line: {' and '.join(reasons)}, so it may not "
            "belong there."
        )
    return said


def v2_checklist(engine: Engine, filters: Filters) -> pl.DataFrame:
    """Return, per driver, the share saying it went well (among those who trusted) and the share saying
    it could improve (among those who did not), from v2 surveys, suppression applied: a hidden share has
    no n, a side no one answered has n 0 (unless the other side is hidden)."""
    asked = [(driver, side) for driver in (*DRIVERS, "other") for side in CHECKLIST_SIDES]
    results = engine.run_many([engine.applicable(filters.query(f"{side}_{d}"))[0] for d, side in asked])
    answers = {key: result.row(0, named=True) for key, result in zip(asked, results, strict=True)}
    rows = []
    for driver in (*DRIVERS, "other"):
        row: dict[str, object] = {"driver": driver}
        # The two sides split one group, those who answered trust: beside a hidden side, one no one
        # answered is hidden too, as "no data" would tell that the whole small group answered alike.
        hidden = any(answers[(driver, side)]["suppressed"] for side in CHECKLIST_SIDES)
        for side in CHECKLIST_SIDES:
            result = answers[(driver, side)]
            blank = result["suppressed"] or (hidden and not result["n"])
            row[side] = None if blank else result["value"]
            row[f"{side}_n"] = None if blank else result["n"]
            row[f"{side}_ci_low"] = None if blank else result["ci_low"]
            row[f"{side}_ci_high"] = None if blank else result["ci_high"]
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def unshown(checklist: pl.DataFrame, sides: Sequence[str] = CHECKLIST_SIDES) -> str | None:
    """Why `sides` of a `v2_checklist` have no share to show: SUPPRESSED when answers are there but
    too few (a hidden share has no n), NO_DATA when no one answered them (n is 0); None when a driver
    has one to show."""
    if any(checklist[side].is_not_null().any() for side in sides):
        return None
    return SUPPRESSED if any(checklist[f"{side}_n"].is_null().any() for side in sides) else NO_DATA


def checklist_sizes(checklist: pl.DataFrame) -> dict[str, int]:
    """Return how many respondents each side of a `v2_checklist` rests on, for the sides with answers
    shown (not hidden, not "no data"): a side's drivers share one denominator (the respondents shown
    it), published alike."""
    sizes = {side: int(cast(int, checklist[f"{side}_n"].max() or 0)) for side in CHECKLIST_SIDES}
    return {side: n for side, n in sizes.items() if n > 0}


def checklist_numbers(checklist: pl.DataFrame) -> pl.DataFrame:
    """A `v2_checklist` a driver and side a row, with `suppressed`: the rows its exports write, where a
    hidden share (†) and a share over no answers ("no data") are told apart."""
    return pl.concat(
        [
            checklist.select(
                "driver",
                pl.lit(side).alias("side"),
                pl.col(side).alias("value"),
                pl.col(f"{side}_n").alias("n"),
                pl.col(f"{side}_ci_low").alias("ci_low"),
                pl.col(f"{side}_ci_high").alias("ci_high"),
                pl.col(f"{side}_n").is_null().alias("suppressed"),
            )
            for side in CHECKLIST_SIDES
        ]
    )


def by_wait(
    engine: Engine, name: str, filters: Filters, split: str | None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Return a measure by wait band (and by `split`), with the filters its answers cannot take."""
    query, ignored = engine.applicable(filters.query(name, by=["wait_band", *([split] if split else [])]))
    return engine.run(query), ignored


@dataclass(frozen=True)
class WaitCost:
    """The longest wait band shown against the shortest: what waiting costs."""

    shortest: dict[str, Any]  # the shortest wait band's row
    longest: dict[str, Any]
    difference: Difference  # longest minus shortest, tested


def wait_cost(by_band: pl.DataFrame, aggregate: str) -> WaitCost | None:
    """Compare the longest wait band shown with the shortest, of a result by wait band in band order;
    None when fewer than two bands are shown."""
    shown = by_band.filter(~pl.col("suppressed"))
    if shown.height < 2:
        return None
    first, last = shown.row(0, named=True), shown.row(-1, named=True)
    # Two separate groups of respondents: the two-sample test of a change applies.
    return WaitCost(first, last, change(last, first, aggregate))
