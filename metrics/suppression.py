"""Small-cell suppression: hide statistics whose own denominator is under the minimum, and enough
other cells of a breakdown that a hidden one cannot be worked out from the total."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import polars as pl

DEFAULT_MIN_N = 10
HIDDEN_COLUMNS = ("value", "n", "ci_low", "ci_high", "mean")


def hidden_rows(cells: Sequence[dict[str, object]], by: Sequence[str], min_n: int) -> set[int]:
    """Return the indexes of cells to hide: primary (n < min_n) and complementary ones."""
    hidden = {i for i, cell in enumerate(cells) if not isinstance(cell["n"], int) or cell["n"] < min_n}
    changed = bool(hidden)
    while changed:
        changed = False
        # Along each dimension, a line of cells sums to a total shown elsewhere (the same query
        # without that dimension): one hidden cell in a line could be recovered by subtraction.
        for dimension in by:
            lines: dict[tuple[object, ...], list[int]] = defaultdict(list)
            for i, cell in enumerate(cells):
                lines[tuple(cell[d] for d in by if d != dimension)].append(i)
            for members in lines.values():
                hidden_here = [i for i in members if i in hidden]
                shown = [i for i in members if i not in hidden]
                if len(hidden_here) == 1 and shown:
                    smallest = min(shown, key=lambda i: (_n(cells[i]), i))
                    hidden.add(smallest)
                    changed = True
    return hidden


def _n(cell: dict[str, object]) -> int:
    n = cell["n"]
    return n if isinstance(n, int) else 0


def suppress(result: pl.DataFrame, by: Sequence[str], min_n: int) -> pl.DataFrame:
    """Blank the statistics of hidden cells and mark them in a `suppressed` column."""
    cells = result.to_dicts()
    hidden = hidden_rows(cells, by, min_n)
    mask = pl.Series("suppressed", [i in hidden for i in range(len(cells))], dtype=pl.Boolean)
    blanked = [
        pl.when(mask).then(None).otherwise(pl.col(c)).alias(c) for c in HIDDEN_COLUMNS if c in result.columns
    ]
    return result.with_columns(blanked).with_columns(mask)
