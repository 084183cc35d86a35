"""Problems found in inputs, metric files and queries, each naming its file, column or key and value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file or a metric file: where it is and what is wrong."""

    source: str  # a file name such as responses.parquet or sql/metrics/trust.sql
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class CxError(Exception):
    """An error to show the user as it is: its text names what is wrong and where."""


class QueryError(CxError):
    """A query that cannot run as asked: unknown metric, dimension, value or period."""


class AccessError(QueryError):
    """A question about a service the person asking may not see (the access file)."""


class InputError(CxError):
    """A query that reads an input that is missing or failed its data-contract checks."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{what}: {listed}{more}. Run `cx check` to list every problem.")
