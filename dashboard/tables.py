"""Tables of the numbers behind each chart, formatted as people read them, hidden cells marked."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.state import inert
from metrics.catalog import Metric
from metrics.dimensions import DIMENSIONS
from metrics.formatting import SUPPRESSED, format_delta, format_statistic, format_value


def readable(frame: pl.DataFrame, metric: Metric, dimensions: Sequence[str]) -> pl.DataFrame:
    """Return the result as text columns: dimension labels, value, 95% interval, n, and gap if present."""
    rows = []
    for row in frame.iter_rows(named=True):
        record = {DIMENSIONS[d].label: str(row[d]) for d in dimensions}
        hidden = bool(row["suppressed"])
        record[metric.label] = format_statistic(row["value"], hidden, metric.format)
        if row.get("ci_low") is not None:
            interval = f"{format_value(row['ci_low'], metric.format)} to {format_value(row['ci_high'], metric.format)}"
        elif hidden:
            interval = SUPPRESSED
        else:
            # A median or p90 over too few values has no order-statistic interval; a count has none at all.
            interval = "too few for an interval" if metric.aggregate in ("median", "p90") and row["n"] else ""
        record["95% interval"] = interval
        record["n"] = SUPPRESSED if hidden else f"{row['n']:,}"
        if "gap" in row:
            record["Gap to overall"] = SUPPRESSED if hidden else format_delta(row["gap"], metric.format)
            record["Beyond noise"] = (
                ""
                if hidden
                else ("no" if not row["beyond_noise"] else "below" if row["gap"] < 0 else "above")
            )
        rows.append(record)
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def in_words(frame: pl.DataFrame, fmt: str, columns: Sequence[str]) -> str:
    """Return every row as its group and value, for a chart's text alternative; hidden ones as †."""
    return "; ".join(
        " ".join(str(row[c]) for c in columns) + " " + format_statistic(row["value"], row["suppressed"], fmt)
        for row in frame.iter_rows(named=True)
    )


def unshown(frame: pl.DataFrame, what: str, threshold: int, unit: str = "responses") -> str:
    """Why a breakdown has nothing to show, "" when it has: no rows at all ("no data"), or every one
    hidden (†). Either way there is nothing to draw or compare, and nothing to conclude."""
    if frame.is_empty():
        return f"No {what} in this view."
    if frame.filter(~pl.col("suppressed")).is_empty():
        return f"The {what} in this view are all hidden ({SUPPRESSED}): fewer than {threshold} {unit} each."
    return ""


def gaps_in_words(groups: pl.DataFrame, dimension: str, metric: Metric) -> str:
    """Return the groups of a breakdown (equity.Breakdown.groups) whose gap to the overall is beyond
    sampling noise, below then above it, as a sentence; or that none is."""
    flagged = groups.filter(pl.col("beyond_noise"))
    if not flagged.height:
        return "No group differs from the rest by more than sampling noise."
    sides = [
        (side, flagged.filter(test))
        for side, test in (("Below", pl.col("gap") < 0), ("Above", pl.col("gap") >= 0))
    ]
    return "**Gaps beyond sampling noise.** " + " ".join(
        f"{side} the overall: "
        + "; ".join(
            f"{inert(str(row[dimension]))} {format_value(row['value'], metric.format)} "
            f"({format_delta(row['gap'], metric.format)})"
            for row in rows.iter_rows(named=True)
        )
        + "."
        for side, rows in sides
        if rows.height
    )
