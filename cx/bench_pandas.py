"""The benchmark's plain pandas baseline: the benchmark's questions answered from data frames held in
memory, the way an analysis script would, to compare speed and numbers with the store."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import polars as pl

from metrics.query import Query

_DIMENSIONS = ["service", "channel", "segment", "age_band", "race_ethnicity", "income_band", "urbanicity"]
_ITEMS = ["trust", "ease", "effectiveness", "satisfaction"]


def _periods(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Add fiscal_quarter (`FY2025 Q1`) and month (`2024-10`) columns from a timestamp column."""
    at = frame[column]
    fiscal_year = at.dt.year + (at.dt.month >= 10).astype(int)
    quarter = (at.dt.month + 2) % 12 // 3 + 1
    frame["fiscal_quarter"] = "FY" + fiscal_year.astype(str) + " Q" + quarter.astype(str)
    frame["month"] = at.dt.strftime("%Y-%m")
    return frame


@dataclass
class PandasAnswers:
    """Responses and contacts as pandas data frames, with their fiscal periods worked out once."""

    responses: pd.DataFrame
    contacts: pd.DataFrame

    @classmethod
    def load(cls, data_dir: Path) -> PandasAnswers:
        """Read the columns the questions need from the parquet inputs."""
        responses = pd.read_parquet(
            data_dir / "responses.parquet",
            columns=["submitted_at", "trust_scale", "weight", *_DIMENSIONS, *_ITEMS],
        )
        contacts = pd.read_parquet(
            data_dir / "contacts.parquet",
            columns=["started_at", "answered", "queue_wait_seconds", "service", "channel", "segment"],
        )
        return cls(_periods(responses, "submitted_at"), _periods(contacts, "started_at"))

    def answer(self, query: Query) -> pd.DataFrame:
        """Return the query's groups with value and n (top-2-box shares, or the median wait)."""
        if query.metric == "wait_median":
            rows = self.contacts[self.contacts["answered"]]
        else:
            rows = self.responses[self.responses[query.metric].notna()]
            if query.metric == "trust":
                rows = rows[rows["trust_scale"] == "five_point"]
        for dimension, values in query.where:
            rows = rows[rows[dimension].isin(values)]
        if query.start:
            rows = rows[rows["fiscal_quarter"] >= query.start]
        if query.end:
            rows = rows[rows["fiscal_quarter"] <= query.end]
        by = list(query.by)
        if query.metric == "wait_median":
            waits = rows.groupby(by)["queue_wait_seconds"] if by else rows["queue_wait_seconds"]
            result = pd.DataFrame({"value": waits.median(), "n": waits.count()})
        else:
            weight = rows["weight"].astype(float)
            parts = pd.DataFrame(
                {"positive": weight * (rows[query.metric] >= 4), "answered": weight}
                | {d: rows[d] for d in by}
            )
            sums = (
                parts.groupby(by)[["positive", "answered"]].sum()
                if by
                else parts[["positive", "answered"]].sum().to_frame().T
            )
            result = pd.DataFrame({"value": sums["positive"] / sums["answered"], "n": sums["answered"]})
        return result.reset_index() if by else result.reset_index(drop=True)

    def agrees(self, query: Query, shown: pl.DataFrame) -> bool:
        """Return whether pandas finds the same value and n for every cell the store shows."""
        answered = self.answer(query)
        found = {
            tuple(row[d] for d in query.by): (row["value"], row["n"]) for row in answered.to_dict("records")
        }
        for row in shown.filter(~pl.col("suppressed")).iter_rows(named=True):
            other = found.get(tuple(row[d] for d in query.by))
            if other is None or int(other[1]) != row["n"]:
                return False
            if not math.isclose(float(other[0]), row["value"], rel_tol=1e-9):
                return False
        return True
