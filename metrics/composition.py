"""How a metric's question becomes SQL: the rows its aggregate reads, the totals and finishing step of
each aggregate (sql/aggregates/), sums over a cube, the filters and the period. Pure functions of
their arguments, with no connection and no state: the engine, answering, and the store, building
cubes, compose the same SQL from here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Literal

import sqlglot
import sqlglot.errors
from sqlglot import expressions as exp

from metrics.errors import CxError, QueryError
from metrics.fiscal import FiscalQuarter
from metrics.sqlfiles import quote_identifier, quote_literal, read_sql

# The measures a metric's rows may carry, each with what it is when they do not: a row counts once.
MEASURES = (
    ("value", "null"),
    ("weight", "1"),
    ("score", "null"),
    ("numerator", "null"),
    ("denominator", "null"),
)
# A row's own record key digests its text columns: text is the same in every engine, where a sum's
# type (and so its text) may not be (DuckDB's HUGEINT, Spark's BIGINT).
_TEXT = "VARCHAR"
QUANTILES = {"median": 0.5, "p90": 0.9}
# The column of a metric's cube table that says which grain (grouping) a row belongs to.
GRAIN_COLUMN = "cx_grain"
# The running counts of sql/aggregates/quantile_running.sql, which a quantile's cube table keeps for
# the rows of its short grains (store.RUNNING_ROWS; null for the others): `running_cube`, `cells_over`.
RUNNING_COLUMNS = ("reached", "counted_in_group", "key_in_group")
_GROUPED = "group by all"
# A totals template's select of its breakdown keys: every column of metric_input but the measures.
_EVERY_KEY = re.compile(r"columns\(\* exclude \([^)]*\)\)")
# How a cube query reads its grains from the rows (cube_sql): the same rows, at different costs.
Plan = Literal["hubs", "roots", "copies"]


def template(aggregate: str) -> str:
    """Return the name of the totals template an aggregate's cubes and direct answers are summed by."""
    return "quantile" if aggregate in QUANTILES else aggregate


def totals(aggregate: str) -> str:
    """Return the totals template of an aggregate: one row per group, every column a sum."""
    return read_sql(Path("aggregates") / "totals" / f"{template(aggregate)}.sql")


def sums(aggregate: str) -> list[str]:
    """Return the sum columns of an aggregate's totals (every column but its keys), in order."""
    return [name for _, name in _sum_expressions(aggregate)]


def finish(aggregate: str, from_cube: bool = False) -> str:
    """Return the finishing step that turns totals into value, n and interval. A quantile's cube
    keeps a histogram, read off by its own step after each value's running count in its group."""
    if aggregate in QUANTILES and from_cube:
        return f"with cumulative as (\n{running()}\n)\nselect * from (\n{histogram()}\n)"
    if aggregate in QUANTILES:
        return read_sql(Path("aggregates") / "quantile.sql")
    return read_sql(Path("aggregates") / f"{aggregate}.sql")


def running() -> str:
    """Return the step giving each row of a quantile's histogram (`totals`, with `cell`) its running
    count in its group, and the group's count and key sum (sql/aggregates/quantile_running.sql)."""
    return read_sql(Path("aggregates") / "quantile_running.sql")


def histogram() -> str:
    """Return the step reading a quantile's value and interval off its histogram with running counts
    (`cumulative`: sql/aggregates/quantile_histogram.sql)."""
    return read_sql(Path("aggregates") / "quantile_histogram.sql")


def input_sql(
    metric_sql: str,
    columns: Mapping[str, str],
    by: Sequence[str],
    conditions: Sequence[str],
    coded: Mapping[str, str] | None = None,
) -> str:
    """Return the CTEs `metric_rows` (the metric file's rows, whose columns and their types are
    `columns`) and `metric_input` (the breakdown columns and measures, filtered), which every
    aggregate reads. A breakdown column of text with a type in `coded` is cast to it (_keys)."""
    measures = [f"cast({m if m in columns else default} as double) as {m}" for m, default in MEASURES]
    measures.append(f"cast({record_key(columns)} as double) as record_key")
    # The metric body, the breakdown columns (checked against DIMENSIONS) and the aggregate
    # templates are ours; every value a user chose travels as a bound parameter.
    return (
        f"with metric_rows as (\n{metric_sql}\n),\n"
        f"metric_input as (\n  select {', '.join([*_keys(by, columns, coded), *measures])}\n"
        f"  from metric_rows\n  {'where ' + ' and '.join(conditions) if conditions else ''}\n)"
    )


def _keys(by: Sequence[str], columns: Mapping[str, str], coded: Mapping[str, str] | None) -> list[str]:
    """Return the breakdown columns `by` as selected for a cube: each of text that `coded` names a type
    for (an ENUM of its values, store._coded_dimensions) cast to it. A cube groups and writes a
    column of such codes two to three times as fast as one of text."""
    coded = coded or {}
    return [
        f"cast({quote_identifier(d)} as {coded[d]}) as {quote_identifier(d)}"
        if d in coded and columns.get(d, "").upper() == _TEXT
        else quote_identifier(d)
        for d in by
    ]


def grain_sizes(metric_sql: str, columns: Mapping[str, str], grains: Sequence[Sequence[str]]) -> str:
    """Return the query estimating, in one read of a quantile's rows, how many rows each grain of its
    cube would hold (one per group and distinct value): a HyperLogLog count of each grain's keys with
    the value, a few per cent off, one column per grain in order."""
    read = list(dict.fromkeys(d for grain in grains for d in grain))
    estimates = ", ".join(
        f"approx_count_distinct(hash({', '.join([*map(quote_identifier, grain), 'value'])})) as cx_grain_{i}"
        for i, grain in enumerate(grains)
    )
    return f"{input_sql(metric_sql, columns, read, ())}\nselect {estimates} from metric_input where value is not null"


def record_key(columns: Mapping[str, str]) -> str:
    """Return each row's record key for the published counts (perturbed() in
    sql/macros/statistics.sql): its record's, where the rows carry one from sql/staging; otherwise a
    digest of the row's text columns, which every SQL engine reads alike."""
    if "record_key" in columns:
        return "record_key"
    texts = [
        f"coalesce(cast({quote_identifier(name)} as varchar), '')"
        for name, kind in columns.items()
        if kind.upper() == _TEXT
    ]
    return f"record_key_of(concat_ws('|', {', '.join(texts) or quote_literal('')}))"


def direct_sql(
    metric_sql: str, columns: Mapping[str, str], aggregate: str, by: Sequence[str], conditions: Sequence[str]
) -> str:
    """Return the query answering a breakdown from the metric's rows, with no cube."""
    prefix = input_sql(metric_sql, columns, by, conditions)
    if aggregate in QUANTILES:
        return f"{prefix}\nselect * from (\n{finish(aggregate)}\n)"
    return f"{prefix},\ntotals as (\n{totals(aggregate)}\n)\nselect * from (\n{finish(aggregate)}\n)"


def sum_over(
    table: str, keys: Sequence[str], sums: Sequence[str], conditions: Sequence[str], grain: int | None = None
) -> str:
    """Return the query summing the columns `sums` of a table's rows (of one `grain` of a metric's cube
    table) that pass `conditions`, grouped by `keys` (SQL expressions)."""
    summed = [f"sum({quote_identifier(c)}) as {quote_identifier(c)}" for c in sums]
    kept = [*([f"{GRAIN_COLUMN} = {int(grain)}"] if grain is not None else []), *conditions]
    where = f"where {' and '.join(kept)}" if kept else ""
    return f"select {', '.join([*keys, *summed])} from {table} {where} group by all"


def breakdown_keys(depth: int) -> list[str]:
    """Return the columns `breakdowns_over` puts a part's groups in, its first dimension's first."""
    return [f"cx_key{p}" for p in range(depth)]


def breakdowns_over(
    table: str,
    parts: Sequence[tuple[int, Sequence[str]]],
    sums: Sequence[str],
    conditions: Sequence[str],
    first: int = 0,
) -> tuple[str, dict[str, object]]:
    """Return the query summing the columns `sums` of a metric's cube table once for each of `parts`
    (the grain it reads and the dimensions it groups by), in one read of the table, and the parameters
    it binds: each part's rows are tagged `cx_part` (its place in `parts`, counted from `first`), and
    the values of its groups are in `cx_key0`, `cx_key1` ... (its first dimension's, its second's; null
    past its last). Planning a statement costs more than summing a cube, so many breakdowns of one
    metric under the same filters (the overview's gap search) share one; grouping by a key per place
    rather than a column per dimension (of which a part uses one or two) took a third off the
    statement at 10M responses. The parts come as lists bound to parameters (named after `first`, so
    reads of one statement differ), not as a table of constants: DuckDB binds each constant of such a
    table, and the gap search's largest statement (183 parts) took 30.3 ms against 39.8 ms at the
    median at 10M responses, alternating, the same rows."""
    keys = [d for d in dict.fromkeys(d for _, by in parts for d in by)]
    places = breakdown_keys(max((len(by) for _, by in parts), default=0))
    # Each part: its place, its grain, and its dimension at each place as its place in `keys` (-1: none).
    lists: dict[str, list[int]] = {
        "cx_part": [first + i for i in range(len(parts))],
        GRAIN_COLUMN: [int(grain) for grain, _ in parts],
    }
    for p in range(len(places)):
        lists[f"cx_dimension{p}"] = [keys.index(by[p]) if p < len(by) else -1 for _, by in parts]
    named = {column: f"cx_parts{first}_{column}" for column in lists}
    params: dict[str, object] = {named[column]: values for column, values in lists.items()}
    listed = ", ".join(f"unnest(cast(${name} as integer[])) as {column}" for column, name in named.items())
    grouped = [
        f"case cx_parts.cx_dimension{p} "
        + " ".join(f"when {j} then cx_cube.{quote_identifier(k)}" for j, k in enumerate(keys))
        + f" end as {key}"
        for p, key in enumerate(places)
    ]
    summed = [f"sum(cx_cube.{quote_identifier(c)}) as {quote_identifier(c)}" for c in sums]
    # The grains named again as a filter, so the scan skips the others' row groups before the join.
    grains = ", ".join(sorted({str(int(grain)) for grain, _ in parts}))
    where = f"where {' and '.join([f'cx_cube.{GRAIN_COLUMN} in ({grains})', *conditions])}"
    sql = (
        f"select cx_parts.cx_part, {', '.join([*grouped, *summed])}\n"
        f"from {table} as cx_cube\n"
        f"join (select {listed}) as cx_parts using ({GRAIN_COLUMN})\n"
        f"{where}\ngroup by all"
    )
    return sql, params


def histogram_over(
    table: str, by: Sequence[str], conditions: Sequence[str], grain: int | None, cell: bool
) -> str:
    """Return the query summing a quantile cube's histogram (rows per value) over the groups `by`;
    with `cell`, each group's rows get one value to partition by (sql/aggregates/quantile_histogram.sql)."""
    keys = list(map(quote_identifier, by))
    if cell:
        group = keys[0] if len(keys) == 1 else f"row({', '.join(keys)})" if keys else "0"
        keys.append(f"{group} as cell")
    return sum_over(table, [*keys, "value"], ["counted", "keyed"], conditions, grain)


def cells_over(table: str, by: Sequence[str], conditions: Sequence[str], grain: int) -> str:
    """Return a quantile cube's histogram rows of one `grain` that pass `conditions`, with the running
    counts the cube keeps (RUNNING_COLUMNS), as `running` gives them over `histogram_over`'s totals:
    for groups `by` that are each one cell of the grain, so that no row is summed with another."""
    keys = list(map(quote_identifier, by))
    group = keys[0] if len(keys) == 1 else f"row({', '.join(keys)})" if keys else "0"
    kept = [f"{GRAIN_COLUMN} = {int(grain)}", *conditions]
    return (
        f"select {', '.join([*keys, f'{group} as cell', 'value', 'counted', 'keyed', *RUNNING_COLUMNS])} "
        f"from {table} where {' and '.join(kept)}"
    )


def running_cube(source: str, dimensions: Sequence[str], grains: Sequence[int]) -> str:
    """Return a quantile's cube rows (`source`, every grain's) with RUNNING_COLUMNS: computed for the
    rows of `grains`, each cell of its grain one group, as `running` computes them for a page's
    groups; null for the rows of the other grains, which are summed again when read."""
    blank = ", ".join(f"null as {c}" for c in RUNNING_COLUMNS)
    if not grains:
        return f"select *, {blank} from {source}"
    listed = ", ".join(map(str, grains))
    cell = f"row({', '.join([GRAIN_COLUMN, *map(quote_identifier, dimensions)])})"
    counted = (
        f"with totals as (\nselect *, {cell} as cell from {source} where {GRAIN_COLUMN} in ({listed})\n)\n"
        f"select * exclude (cell) from (\n{running()}\n)"
    )
    return (
        f"select * from (\n{counted}\n)\nunion all by name\n"
        f"select *, {blank} from {source} where {GRAIN_COLUMN} not in ({listed})"
    )


def summed_from(grains: Sequence[tuple[str, ...]]) -> list[int | None]:
    """Return, for each grain in order, the earlier grain it is summed from (the covering one with the
    fewest dimensions), or None for a grain read from the rows."""
    finer: list[int | None] = []
    for i, grain in enumerate(grains):
        covering = [j for j in range(i) if set(grain) <= set(grains[j])]
        finer.append(min(covering, key=lambda j: len(grains[j])) if covering else None)
    return finer


def cube_sql(
    metric_sql: str,
    columns: Mapping[str, str],
    aggregate: str,
    grains: Sequence[tuple[str, ...]],
    sums: Sequence[str],
    plan: Plan = "hubs",
    coded: Mapping[str, str] | None = None,
) -> str:
    """Return the query of a metric's cube table: its totals at every grain, each row tagged with its
    grain's index in GRAIN_COLUMN. The grains no other grain covers are grouped in one read of the rows
    (GROUPING SETS), those of one hub (`_hubs`) as one grouping by all their dimensions; each of the
    others is summed from the one it is covered by (`summed_from`), or from its hub, all of one such
    grain's or hub's followers again in one statement. `sums` are the totals' sum columns. A
    quantile's totals also keep each value, so `value` is part of every grain.

    That is the `plan` "hubs". With "roots", each grain no other covers is read from the rows as
    itself: fewer grouping operators, which need less memory (each holds tables of its own per
    thread, whatever the size of the data). With "copies", each row is copied once per grain, with
    the dimensions outside the grain blanked, and the copies are summed in one grouping: one
    operator, so the fastest where the rows are few, and the slowest where they are many.

    Its dimensions of text that `coded` names a type for are kept as that type (input_sql)."""
    extra = ("value",) if aggregate in QUANTILES else ()
    prefix = input_sql(metric_sql, columns, _read(grains), (), coded)
    return _cube(prefix, totals(aggregate), template(aggregate), grains, extra, sums, plan)


@dataclass(frozen=True)
class Plain:
    """A metric's rows in the plain shape `select *, <expression> as <name>, ... from <table>
    [where <condition>]`: every row of one table that meets a condition, with columns added. Metrics of
    one table read it together (`shared_cube_sql`)."""

    table: str
    condition: str
    added: tuple[tuple[str, str], ...]  # each added column's name and expression


def plain(metric_sql: str) -> Plain | None:
    """Return a metric's rows as a Plain shape, or None when they are not one: a join, a CTE, a
    subquery, a window or an aggregate, `*` with EXCLUDE or REPLACE, or an added column read by
    another (an added column is computed in another select when shared, where a name it reads would
    not be the added one)."""
    try:
        tree = sqlglot.parse_one(metric_sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Select) or any(
        value for key, value in tree.args.items() if key not in ("expressions", "from_", "where")
    ):
        return None
    source = tree.args.get("from_")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.args.get("alias") is not None:
        return None
    if any(node is not tree for node in tree.find_all(exp.Select, exp.Window, exp.AggFunc, exp.Subquery)):
        return None
    star, *rest = tree.expressions
    if not isinstance(star, exp.Star) or any(star.args.values()):
        return None
    if not all(isinstance(e, exp.Alias) and e.alias for e in rest):
        return None
    names = {e.alias.lower() for e in rest}
    where = tree.args.get("where")
    reads = [c.name.lower() for e in [*rest, *([where] if where else [])] for c in e.find_all(exp.Column)]
    if len(names) < len(rest) or names & set(reads):
        return None
    condition = where.this.sql(dialect="duckdb") if where is not None else "true"
    added = tuple((e.alias, e.this.sql(dialect="duckdb")) for e in rest)
    return Plain(table.sql(dialect="duckdb"), condition, added)


def shareable(aggregate: str) -> bool:
    """Whether metrics of this aggregate may be summed together: its totals keep every row (no
    `where`; each metric's rows are told apart by their own columns) and hold no value per row."""
    body = [line for line in totals(aggregate).splitlines() if not line.startswith("--")]
    return aggregate not in QUANTILES and not any(line.strip().startswith("where ") for line in body)


def shared_cube_sql(
    rows: Sequence[Plain],
    columns: Mapping[str, str],
    aggregate: str,
    grains: Sequence[tuple[str, ...]],
    plan: Plan = "hubs",
    coded: Mapping[str, str] | None = None,
) -> tuple[str, list[list[str]], list[str]]:
    """Return the query of the cube tables of several metrics whose rows are Plain shapes of one table
    (of `columns`, which carries `record_key`): the cube_sql of each, side by side, from one read of
    the table's rows. The grouping of the rows into each grain, most of a cube's cost, is done once
    instead of once per metric. Also return each metric's sum columns, in the order of `sums`, and
    each one's column counting its rows: a group is the metric's where that count is above 0. `plan`
    and `coded` are cube_sql's."""
    measures = [m for m, _ in MEASURES]
    template_sums = _sum_expressions(aggregate)
    flags, selected, summed, names, counts = [], [], [], [], []
    for i, shape in enumerate(rows):
        flag, count = f"cx_in{i}", f"cx_rows{i}"
        flags.append(f"coalesce(({shape.condition}), false) as {flag}")
        added = dict(shape.added)
        for measure, default in MEASURES:
            expression = added.get(measure, measure if measure in columns else default)
            selected.append(f"case when {flag} then cast(({expression}) as double) end as {measure}_cx{i}")
        selected.append(f"case when {flag} then 1 end as cx_row{i}")
        for expression, name in template_sums:
            renamed = re.sub(rf"\b({'|'.join(measures)})\b", rf"\g<1>_cx{i}", expression)
            summed.append(f"{renamed} as {name}_cx{i}")
        names.append([f"{name}_cx{i}" for _, name in template_sums])
        summed.append(f"count(cx_row{i}) as {count}")
        counts.append(count)
    table = rows[0].table
    read = _read(grains)
    prefix = (
        f"with cx_rows as (\n  select *, {', '.join(flags)}\n  from {table}\n),\n"
        f"metric_input as (\n  select {', '.join([*_keys(read, columns, coded), *selected])},"
        f" cast(record_key as double) as record_key\n"
        f"  from cx_rows\n  where {' or '.join(f'cx_in{i}' for i in range(len(rows)))}\n)"
    )
    # One totals template of every metric's sums, which `_cube` groups as it groups any template.
    text = (
        "select\n    columns(* exclude (record_key)),\n    "
        + ",\n    ".join(summed)
        + "\nfrom metric_input\ngroup by all"
    )
    every = [s for own, count in zip(names, counts, strict=True) for s in [*own, count]]
    return _cube(prefix, text, template(aggregate), grains, (), every, plan), names, counts


def overlap_sql(rows: Sequence[Plain]) -> str:
    """Return the query counting, in one read of a table, its rows by which of several Plain shapes
    of it they are in: one row per combination found, `cx_in` listing whether each shape holds it."""
    flags = ", ".join(f"coalesce(({shape.condition}), false)" for shape in rows)
    return f"select [{flags}] as cx_in, count(*) as cx_rows from {rows[0].table} group by all"


def _sum_expressions(aggregate: str) -> list[tuple[str, str]]:
    """Return each sum of an aggregate's totals template: its expression and its name, in order."""
    body = "\n".join(line for line in totals(aggregate).splitlines() if not line.startswith("--"))
    return re.findall(r"^\s*(\S.*) as (\w+),?$", body, flags=re.MULTILINE)


def _read(grains: Sequence[tuple[str, ...]]) -> list[str]:
    """Return the dimensions a cube reads from the rows: those of the grains read from the rows."""
    finer = summed_from(grains)
    return list(dict.fromkeys(d for i, parent in enumerate(finer) if parent is None for d in grains[i]))


def _cube(
    prefix: str,
    totals_text: str,
    name: str,
    grains: Sequence[tuple[str, ...]],
    extra: tuple[str, ...],
    sums: Sequence[str],
    plan: Plan = "hubs",
) -> str:
    """Return the cube query of cube_sql from its CTEs `prefix` (which end with `metric_input`) and a
    totals template's text (`name` names its file), by `plan`."""
    if plan == "copies":
        return _copies(prefix, totals_text, name, grains, extra)
    keyed = [(*grain, *extra) for grain in grains]
    finer = summed_from(grains)
    every = [*_read(grains), *extra]
    roots = [i for i, parent in enumerate(finer) if parent is None]
    # A quantile's grains carry each value, so a hub of them is nearly as long as its rows: summing
    # from it cost more than reading the rows (the median wait at 10M contacts: 93 s against 66 s).
    hubs = _hubs(grains, roots) if plan == "hubs" and not extra else [[r] for r in roots]
    read = [tuple(k for k in every if any(k in keyed[r] for r in hub)) for hub in hubs]
    first = _grouping_sets(totals_text, name, every, read)
    # Every part lists the same columns in the same order, so a plain UNION ALL joins them in any SQL
    # engine (the cubes may be built on Spark: metrics/spark.py).
    listed = ", ".join(map(quote_identifier, [*every, *sums]))
    alone = [hub[0] for hub in hubs if len(hub) == 1]
    parts = []
    if alone:
        ids = ", ".join(str(_grouping_id(every, keyed[r])) for r in alone)
        parts.append(
            f"select case cx_set {_cases(every, [keyed[r] for r in alone], alone)} end "
            f"as {GRAIN_COLUMN}, {listed} from cx_sets where cx_set in ({ids})"
        )
    for hub, keys in zip(hubs, read, strict=True):
        # A grain read alone is in cx_sets already; a hub's own grains are summed from its rows too.
        under = [
            i for i in range(len(grains)) if _root(finer, i) in hub and (len(hub) > 1 or finer[i] is not None)
        ]
        if under:
            parts.append(_followers(every, keys, [keyed[i] for i in under], under, sums))
    union = "\nunion all\n".join(parts)
    return f"{prefix},\ncx_sets as materialized (\n{first}\n)\n{union}"


def _hubs(grains: Sequence[tuple[str, ...]], roots: Sequence[int]) -> list[list[int]]:
    """Return the grains read from the rows (`roots`, none covering another), in groups each read as
    one grouping set: the union of its grains' dimensions (a hub), which they are then summed from.
    A hub has one dimension more than its widest grain, so its groups are a small multiple of theirs:
    where the rows are many more than those, as at millions of rows, summing three grains from one
    hub's groups costs little beside a pass over the rows for each. The hubs covering the most grains
    are taken first; a grain no hub shares with another is a group of its own, read as itself."""
    candidates: dict[frozenset[str], None] = {}
    for a, b in combinations(roots, 2):
        union = frozenset(grains[a]) | frozenset(grains[b])
        if len(union) <= max(len(grains[a]), len(grains[b])) + 1:
            candidates[union] = None
    left, groups = list(roots), []
    while left:
        covering = [[r for r in left if set(grains[r]) <= hub] for hub in candidates]
        best = max(covering, key=len, default=[])
        if len(best) < 2:
            break
        groups.append(best)
        left = [r for r in left if r not in best]
    return sorted([*groups, *([r] for r in left)])


def _root(finer: Sequence[int | None], i: int) -> int:
    """Return the grain read from the rows that grain `i` is summed from, through any others."""
    while (parent := finer[i]) is not None:
        i = parent
    return i


def _followers(
    every: Sequence[str],
    root: Sequence[str],
    sets: Sequence[Sequence[str]],
    indexes: Sequence[int],
    sums: Sequence[str],
) -> str:
    """Return the totals of the grains `indexes` (grouped by `sets`), summed from the rows of the
    grain `root` among the grouping sets of `every` key, each tagged with its grain."""
    grouped = [d for d in root if any(d in s for s in sets)]
    # Each of `every` key in its place: the grouped ones, and null for the others.
    listed = ", ".join(
        quote_identifier(k) if k in grouped else f"null as {quote_identifier(k)}" for k in every
    )
    summed = ", ".join(f"sum({quote_identifier(s)}) as {quote_identifier(s)}" for s in sums)
    return (
        f"select case {_grouping_of(grouped)} {_cases(grouped, sets, indexes)} end as {GRAIN_COLUMN}, "
        f"{listed}, {summed} from cx_sets where cx_set = {_grouping_id(every, root)} "
        f"group by grouping sets ({_sets(sets)})"
    )


def _copies(
    prefix: str,
    totals_text: str,
    name: str,
    grains: Sequence[tuple[str, ...]],
    extra: tuple[str, ...],
) -> str:
    """Return the cube query of cube_sql's plan "copies": each row copied once per grain, the
    dimensions outside the grain blanked, the copies summed in one grouping by grain and dimensions.
    Its sums are those of the other plans, row for row, though a count they sum again from counts
    (a HUGEINT) stays a BIGINT here."""
    keys = _read(grains)
    flags = [f"cx_k{j}" for j in range(len(keys))]
    listed = [
        "(" + ", ".join([str(i), *("true" if k in grain else "false" for k in keys)]) + ")"
        for i, grain in enumerate(grains)
    ]
    blanked = [
        f"case when {f} then {quote_identifier(k)} end as {quote_identifier(k)}"
        for f, k in zip(flags, keys, strict=True)
    ]
    kept = f"metric_input.* exclude ({', '.join(map(quote_identifier, keys))})" if keys else "metric_input.*"
    selected = _keyed(totals_text, name, [GRAIN_COLUMN, *keys, *extra])
    read, found = re.subn(r"\bfrom metric_input\b", "from cx_copies", selected)
    if found != 1:
        raise CxError(f"sql/aggregates/totals/{name}.sql: a totals template reads `from metric_input` once")
    return (
        f"{prefix},\ncx_grains as (\n  select * from (values {', '.join(listed)}) "
        f"as cx_grains({', '.join([GRAIN_COLUMN, *flags])})\n),\n"
        f"cx_copies as (\n  select {', '.join([GRAIN_COLUMN, *blanked, kept])}\n"
        f"  from metric_input cross join cx_grains\n)\nselect\n{read}{_GROUPED}"
    )


def _keyed(text: str, name: str, keys: Sequence[str]) -> str:
    """Return a totals template's select list and what follows, up to its `group by all`, with its
    breakdown keys named `keys`. A template is one select ending in `group by all`; anything else is
    named."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
    if not body.startswith("select\n") or not body.endswith(_GROUPED):
        raise CxError(
            f"sql/aggregates/totals/{name}.sql: a totals template is one `select` ending in `{_GROUPED}`"
        )
    listed = ", ".join(map(quote_identifier, keys))
    # The template's `columns(* exclude (...))` is its breakdown keys: named, as any SQL engine reads.
    selected, found = _EVERY_KEY.subn(listed, body[len("select\n") : -len(_GROUPED)], count=1)
    if not found:
        raise CxError(
            f"sql/aggregates/totals/{name}.sql: a totals template selects its keys as "
            "`columns(* exclude (<its measures>))`"
        )
    return selected


def _grouping_sets(text: str, name: str, keys: Sequence[str], sets: Sequence[Sequence[str]]) -> str:
    """Return a totals template grouped by `sets` instead of by all its columns, with the grouping's
    id as `cx_set`."""
    identified = f"select\n    {_grouping_of(keys)} as cx_set,\n"
    return identified + _keyed(text, name, keys) + f"group by grouping sets ({_sets(sets)})"


def _sets(sets: Sequence[Sequence[str]]) -> str:
    return ", ".join("(" + ", ".join(map(quote_identifier, s)) + ")" for s in sets)


def _grouping_of(keys: Sequence[str]) -> str:
    """Return the SQL of grouping_id(keys) from grouping() of each key: Spark's grouping_id() takes
    only its grouping columns in its own order, and grouping() of one column reads alike everywhere."""
    return " + ".join(
        f"grouping({quote_identifier(k)}) * {1 << (len(keys) - 1 - i)}" for i, k in enumerate(keys)
    )


def _grouping_id(keys: Sequence[str], grouped: Sequence[str]) -> int:
    """Return what grouping_id(keys) is for the rows grouped by `grouped`: one bit per key, the first
    key the highest, set where the key is not grouped."""
    return sum(1 << (len(keys) - 1 - k) for k, key in enumerate(keys) if key not in grouped)


def _cases(keys: Sequence[str], sets: Sequence[Sequence[str]], indexes: Sequence[int]) -> str:
    return " ".join(f"when {_grouping_id(keys, s)} then {i}" for s, i in zip(sets, indexes, strict=True))


def conditions(
    where: Sequence[tuple[str, Sequence[str]]], start: str | None, end: str | None
) -> tuple[list[str], dict[str, object]]:
    """Return the where-clause conditions and their bound parameters for filters and a period.
    Dimension names are checked against DIMENSIONS by the caller; values are only ever parameters."""
    found: list[str] = []
    params: dict[str, object] = {}
    for i, (dimension, values) in enumerate(where):
        names = []
        for j, value in enumerate(values):
            params[f"w{i}_{j}"] = _normalise(dimension, value)
            names.append(f"$w{i}_{j}")
        found.append(f"{quote_identifier(dimension)} in ({', '.join(names)})")
    if start:
        params["period_start"] = start
        found.append("fiscal_quarter >= $period_start")
    if end:
        params["period_end"] = end
        found.append("fiscal_quarter <= $period_end")
    return found, params


def _normalise(dimension: str, value: str) -> str:
    if dimension == "fiscal_quarter":
        try:
            return FiscalQuarter.parse(value).label
        except ValueError as error:
            raise QueryError(f"filter on fiscal_quarter: {error}") from None
    return value


def period(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Return a period's first and last fiscal quarter as labels, checked: each parses and the first
    is not after the last."""
    try:
        first = FiscalQuarter.parse(start) if start else None
        last = FiscalQuarter.parse(end) if end else None
    except ValueError as error:
        raise QueryError(f"period: {error}") from None
    if first and last and first > last:
        raise QueryError(f"period: {first} is after {last}")
    return (first.label if first else None), (last.label if last else None)


# The class a comment is counted in (sql/voice/classed.sql gives its trust answer): the commenters of
# the same service, channel, customer segment, fiscal quarter and trust answer.
COMMENT_CLASS = ("service", "channel", "segment", "fiscal_quarter", "trust_answer")


def comments(tags: Sequence[tuple[str, str]], groups: Sequence[str], slots: int, prefix: str) -> str:
    """Return every response's comment, with the list `themes` of the tags whose condition (SQL over
    the row, from a theme file) holds (`tags` pairs a tag with it) and a column for each tag saying
    whether it does (the tag's name after `prefix`), its trust answer (sql/voice/
    classed.sql), the size of its class (`class_n`: the commenters of the same COMMENT_CLASS) and of
    its class within each group of `groups` (`class_n_<dimension>`), and its `slot` among `slots`
    (sql/voice/listed.sql says why). Each size is counted once per class and joined to its rows:
    counted over a window of every row, each window held every row with its comment (the table took
    11.1-13.2 s that way at 10M responses and takes 4.1-5.3 s, 178 s and 75 s at 100M: the same
    rows in the same order)."""
    columns = [quote_identifier(prefix + tag) for tag, _ in tags]
    checks = [
        f"coalesce((\n{condition}\n), false) as {column}"
        for (_, condition), column in zip(tags, columns, strict=True)
    ]
    cases = [
        f"case when {column} then {quote_literal(tag)} end"
        for (tag, _), column in zip(tags, columns, strict=True)
    ]
    themes = f"list_filter([{', '.join(cases)}], lambda t: t is not null)" if cases else "[]::varchar[]"
    checked = f"select *{''.join(', ' + c for c in checks)}\nfrom stg_responses\nwhere comment is not null and comment <> ''"
    rows = f"select *, {themes} as themes\nfrom (\n{checked}\n)"
    counts, joins, sizes = [], [], []
    for column, keys in [
        ("class_n", COMMENT_CLASS),
        *((f"class_n_{d}", (*COMMENT_CLASS, d)) for d in groups),
    ]:
        name, listed = quote_identifier("cx_" + column), ", ".join(map(quote_identifier, keys))
        counts.append(
            f"{name} as (\nselect {listed}, cast(sum(weight) as bigint) as {quote_identifier(column)}\n"
            "from classed\ngroup by all\n)"
        )
        # Rows without a value (a null service) are a class too: keys are matched as `partition by` would.
        matched = " and ".join(
            f"classed.{k} is not distinct from {name}.{k}" for k in map(quote_identifier, keys)
        )
        joins.append(f"join {name} on {matched}")
        sizes.append(f"{name}.{quote_identifier(column)}")
    slot = f"hash(classed.response_id || ':voice') % {int(slots)} as slot"
    return (
        f"with voice_rows as (\n{rows}\n),\nclassed as (\n{read_sql(Path('voice') / 'classed.sql')}\n),\n"
        + ",\n".join(counts)
        + f"\nselect classed.*, {', '.join([*sizes, slot])}\nfrom classed\n"
        + "\n".join(joins)
    )
