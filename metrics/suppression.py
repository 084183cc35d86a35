"""Small-cell suppression: hide statistics whose own denominator, true or published, is under the
minimum, and enough other cells of a breakdown that a hidden one cannot be worked out from the total.
A cell with no rows is not hidden: it has no data, and says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import polars as pl

DEFAULT_MIN_N = 10
HIDDEN_COLUMNS = ("value", "n", "ci_low", "ci_high", "mean")
# The true count beside the published one (sql/aggregates): read here, never shown.
TRUE_N = "raw_n"


def empty(cell: dict[str, object]) -> bool:
    """Return whether a cell has no rows at all: no data, which is not a hidden cell."""
    n = _true(cell)
    return n is None or n == 0


def hidden_rows(cells: Sequence[dict[str, object]], by: Sequence[str], min_n: int) -> set[int]:
    """Return the indexes of cells to hide: primary (true or published n under min_n, but not none)
    and complementary ones, chosen among the cells with data."""
    nothing = [empty(cell) for cell in cells]
    hidden = {i for i, cell in enumerate(cells) if not nothing[i] and _under(cell["n"], _true(cell), min_n)}
    # Along each dimension, a line of cells sums to a total shown elsewhere (the same query without
    # that dimension): one hidden cell in a line could be recovered by subtraction. The lines do not
    # change as cells are hidden, so they are drawn once.
    lines = [_lines(cells, by, dimension) for dimension in by] if hidden else []
    changed = bool(hidden)
    while changed:
        changed = False
        for along in lines:
            for members in along:
                hidden_here = [i for i in members if i in hidden]
                shown = [i for i in members if i not in hidden and not nothing[i]]
                if len(hidden_here) == 1 and shown:
                    smallest = min(shown, key=lambda i: (_whole(cells[i]["n"]), i))
                    hidden.add(smallest)
                    changed = True
    return hidden


def _lines(cells: Sequence[dict[str, object]], by: Sequence[str], dimension: str) -> list[list[int]]:
    """Return the cells of each line along `dimension`: those alike in every other dimension of `by`."""
    lines: dict[tuple[object, ...], list[int]] = defaultdict(list)
    others = [d for d in by if d != dimension]
    for i, cell in enumerate(cells):
        lines[tuple(cell[d] for d in others)].append(i)
    return list(lines.values())


def _true(cell: dict[str, object]) -> object:
    """Return a cell's true count where the result carries it, else its published one."""
    return cell.get(TRUE_N, cell["n"])


def _under(shown: object, true: object, min_n: int) -> bool:
    """Whether a cell's published or true count is under the minimum (the primary rule)."""
    return min(_whole(shown), _whole(true)) < min_n


def suppress(
    result: pl.DataFrame, by: Sequence[str], min_n: int, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Blank the statistics of hidden cells and mark them in a `suppressed` column; a cell with no rows
    keeps n = 0, with no value, and is not marked. `columns` are those returned (every one, with
    `suppressed` last, by default)."""
    if not _any_to_hide(result, min_n):
        # Most answers over many rows hide nothing: then no cell is read whole, and one step says so.
        listed = columns or [*(c for c in result.columns if c != "suppressed"), "suppressed"]
        return result.select(
            pl.lit(False).alias(c)
            if c == "suppressed"
            else pl.col(c).cast(pl.Int64)
            if c == "n"
            else pl.col(c)
            for c in listed
        )
    found = _suppressed(result, by, min_n)
    return found.select(columns) if columns else found


def _suppressed(result: pl.DataFrame, by: Sequence[str], min_n: int) -> pl.DataFrame:
    """Hide and blank, cell by cell: a result with a cell empty or under the minimum (`_any_to_hide`)."""
    cells = result.to_dicts()
    hidden = hidden_rows(cells, by, min_n)
    return _blanked(result, [i in hidden for i in range(len(cells))], [empty(cell) for cell in cells])


def suppress_parts(
    table: pl.DataFrame, bys: Sequence[Sequence[str]], minimums: Sequence[int], hiding: set[int]
) -> pl.DataFrame:
    """`suppress` each part of a table of parts at once (`cx_part`: a part's place in `bys` and
    `minimums`, each part in its display order): the parts in `hiding` (those with a cell empty or
    under their minimum) are hidden cell by cell as `suppress` hides one result, the others have
    nothing to hide. One step over the whole table, however many parts: a page's gap search finishes
    hundreds."""
    places = table["cx_part"].to_list()
    mask, nothing = [False] * table.height, [False] * table.height
    rows = [row for row, part in enumerate(places) if part in hiding]
    cells = table[rows].to_dicts() if rows else []
    members: dict[int, list[int]] = defaultdict(list)
    for k, row in enumerate(rows):
        members[places[row]].append(k)
    for part, ks in members.items():
        hidden = hidden_rows([cells[k] for k in ks], bys[part], minimums[part])
        for j, k in enumerate(ks):
            mask[rows[k]], nothing[rows[k]] = j in hidden, empty(cells[k])
    return _blanked(table, mask, nothing)


def _blanked(result: pl.DataFrame, hidden: Sequence[bool], none: Sequence[bool]) -> pl.DataFrame:
    """Mark the `hidden` cells in `suppressed` and blank their statistics; an empty one (`none`) has
    n = 0."""
    mask = pl.Series("suppressed", hidden, dtype=pl.Boolean)
    nothing = pl.Series("nothing", none, dtype=pl.Boolean)
    # One step: a hidden cell's statistics are blanked, an empty one's n is 0.
    blanked = [
        pl.when(mask).then(None).otherwise(pl.col(c)).alias(c)
        for c in HIDDEN_COLUMNS
        if c in result.columns and c != "n"
    ]
    counted = pl.when(mask).then(None).when(nothing).then(0).otherwise(pl.col("n")).cast(pl.Int64).alias("n")
    return result.with_columns(counted, *blanked, mask)


def _any_to_hide(result: pl.DataFrame, min_n: int) -> bool:
    """Return whether any cell is empty or under the minimum: without one, nothing is hidden or
    blanked."""
    return result.height > 0 and bool(result.select(under_minimum(result, pl.lit(min_n)).any()).item())


def under_minimum(result: pl.DataFrame, minimum: pl.Expr) -> pl.Expr:
    """Return, per cell of `result`, whether it has no rows or its published or true count is under
    `minimum`, read as `empty` and the primary rule of `hidden_rows` read a cell, over a whole result
    at once (a stack of several, each with its own minimum). A count that is not a whole number reads
    as 0, under any minimum."""
    counts = ["n", *([TRUE_N] if TRUE_N in result.columns else [])]
    if not all(result.schema[c].is_integer() for c in counts):
        return pl.lit(True)
    n, true = pl.col("n"), pl.col(counts[-1])
    return true.is_null() | (true == 0) | n.is_null() | (n < minimum) | (true < minimum)


def _whole(n: object) -> int:
    """Return a count as a whole number; one that is none or not whole reads as 0."""
    return n if isinstance(n, int) else 0
