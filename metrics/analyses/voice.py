"""What customers say (the "What customers say" page): the comment themes (sql/themes/) as measures,
and the redacted comments a view may list, under the rules that keep a comment from being tied to a
group of fewer than the privacy minimum (sql/voice/listed.sql says how)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metrics import comments, topics
from metrics.catalog import Metric
from metrics.comments import GROUPS
from metrics.errors import QueryError
from metrics.query import Engine, Filters
from metrics.sqlfiles import quote_identifier, read_sql
from metrics.warehouse import STORE_ALIAS

# How a comment's author answered the trust question, as the list can be narrowed by it.
TRUST_ANSWERS = ("positive", "negative", "neutral", "not answered")
BASE_VIEW = "stg_responses"
SHOWN = 25  # comments a page lists at once
DOWNLOADED = 5000  # comments its CSV holds at most, newest first


@dataclass(frozen=True)
class Verbatims:
    """The newest comments a view may list: `rows` (fiscal_quarter, trust_answer, themes as labels,
    comment), and how many in all the rules let it list (`matching`)."""

    rows: pl.DataFrame
    matching: int
    ignored_filters: tuple[str, ...]


def themes(engine: Engine) -> list[Metric]:
    """Return the comment themes of the catalog, in the order of their files' names."""
    return comments.themes(engine.catalog.metrics.values())


def source(engine: Engine) -> str:
    """Return every comment as a query reads it: the store's table where the engine answers from a
    store that holds one tagged with the catalog's themes (newest first, so a list is a filtered
    read), else the comments' query. A store served while a newer one builds may have been tagged
    with the themes of earlier theme files."""
    kept = engine.store.tables.get(comments.TABLE) if engine.store is not None else None
    if kept is not None and comments.tagged(kept) == {m.name for m in themes(engine)}:
        return comments.stored()
    return f"(\n{comments.sql(engine.catalog.metrics.values())}\n)"


def _stored(engine: Engine, table: str) -> bool:
    """Whether the engine answers from a store that holds `table`, as the store recorded it (one built
    by earlier code, served while a newer one builds, may not hold it or not record it)."""
    return engine.store is not None and table in engine.store.tables


def verbatims(
    engine: Engine,
    filters: Filters,
    group: tuple[str, str] | None = None,
    theme: str | None = None,
    trust: str | None = None,
    limit: int = SHOWN,
) -> Verbatims:
    """Return the newest comments under the filters, narrowed to one `group` (a dimension of GROUPS
    and its value), one `theme` (a theme metric's name) and one `trust` answer, at most `limit`."""
    known = {m.name: m for m in themes(engine)}
    if group is not None and group[0] not in GROUPS:
        raise QueryError(f"comments cannot be narrowed by {group[0]!r}: choose one of {', '.join(GROUPS)}")
    if theme is not None and theme not in known:
        raise QueryError(f"no comment theme {theme!r}: the themes are {', '.join(known) or 'none'}")
    if trust is not None and trust not in TRUST_ANSWERS:
        raise QueryError(f"no trust answer {trust!r}: choose one of {', '.join(TRUST_ANSWERS)}")
    engine.warehouse.require(frozenset({"responses"}), "the comments")
    narrowed = Filters(
        (
            *((d, v) for d, v in filters.where if group is None or d != group[0]),
            *([(group[0], (group[1],))] if group else []),
        ),
        filters.start,
        filters.end,
    )
    conditions, params, _, dropped = engine.row_filters(engine.view_columns(BASE_VIEW), narrowed)
    chosen = group[0] if group else None
    where = f"\n  where {' and '.join(conditions)}" if conditions else ""
    about = quote_identifier(comments.tag_column(theme)) if theme else "true"
    read = source(engine)
    # The store keeps the comments in the list's order (comments.NEWEST_FIRST), so a list of its table
    # goes by row, and reads no time or id of a comment the filters leave out: at 100M responses, with
    # the system's file cache emptied before the start, the benchmark's first list (it finds none) took
    # 117-126 ms against 220-270 ms, and the first visit of What customers say 181-199 against
    # 291-338 ms (three alternating runs).
    order = "rowid" if read == comments.stored() else f"row_number() over (order by {comments.NEWEST_FIRST})"
    listable = (
        f"select *, {quote_identifier(comments.class_column(chosen))} as group_class_n, {about} as in_theme, "
        f"{order} as listed_order from {read} as comments{where}"
    )
    listed = f"with listable as (\n{listable}\n),\nlisted as (\n{read_sql(Path('voice') / 'listed.sql')}\n)\n"
    params |= {
        "min_n": engine.min_n,
        "slot": comments.slot(chosen),
        "trust": trust or "",
    }

    def over_listed(file: str, asked: dict[str, object]) -> pl.DataFrame:
        """Run a file of sql/voice/ that reads `listed`, the comments the rules let this view list."""
        return engine.warehouse.frame(f"{listed}select * from (\n{read_sql(Path('voice') / file)}\n)", asked)

    found = over_listed("verbatims.sql", params | {"limit": limit})
    # A list shorter than `limit` holds every comment listed, so they are counted only when it is full:
    # a count reads every comment the filters leave, and so does a list that finds fewer than `limit`
    # (the store keeps them newest first: one that fills up stops early). A list that found none at
    # 100M responses took 49-55 ms against 89-100 ms, and 107-124 against 159-191 ms on its first
    # read.
    matching = found.height
    if found.height >= limit:
        matching = int(over_listed("listed_count.sql", params)["matching"][0])
    labels = {name: m.label for name, m in known.items()}
    shown = found.select(
        "fiscal_quarter",
        "trust_answer",
        pl.col("themes").list.eval(pl.element().replace_strict(labels, default=pl.element())).list.join("; "),
        "comment",
    )
    return Verbatims(shown, matching, dropped)


@dataclass(frozen=True)
class Suggestion:
    """A theme the data suggests: a topic of the comments (metrics/topics.py), its top terms, the
    share of comments it is the main topic of, and the examples a page may show of it."""

    number: int
    terms: tuple[str, ...]
    share: float
    examples: tuple[str, ...]


def suggested(engine: Engine, shown: int = 3) -> list[Suggestion] | None:
    """Return the topics found in every service's comments, each with up to `shown` distinct examples
    from classes of the privacy minimum (as verbatims lists them); None for a person who may see only
    some services, as the topics are found in all of them. Read from the store, where the build keeps
    them, or found now over an engine without one."""
    if engine.scope is not None:
        return None
    engine.warehouse.require(frozenset({"responses"}), "the comment topics")
    if _stored(engine, topics.TABLE) and _stored(engine, topics.EXAMPLES_TABLE):
        listed, examples = (
            engine.warehouse.frame(f"select * from {STORE_ALIAS}.{quote_identifier(t)}")
            for t in (topics.TABLE, topics.EXAMPLES_TABLE)
        )
    else:
        sql, params = topics.comments_sql(source(engine))
        listed, examples = topics.tables(engine.warehouse.frame(sql, params))
    allowed = examples.filter(pl.col("class_n") >= engine.min_n).sort("topic", "rank")
    found = []
    for row in listed.sort("topic").iter_rows(named=True):
        mine = allowed.filter(pl.col("topic") == row["topic"])["comment"].head(shown)
        found.append(Suggestion(row["topic"], tuple(row["terms"]), row["share"], tuple(mine)))
    return found


def theme_file(suggestion: Suggestion) -> str:
    """Return a theme file (sql/themes/) an analyst may start from for a suggested theme: its header
    to fill in and a condition matching its top terms, to be checked against its examples."""
    terms = suggestion.terms[:4]
    return (
        f"-- label: {' and '.join(terms[:2]).capitalize()}\n"
        f"-- description: Comments about {', '.join(terms)} (a topic found in the comments; say what it is).\n"
        "-- owner: Your office\n"
        "-- direction: neutral\n\n"
        f"regexp_matches(lower(comment), '{'|'.join(terms)}')\n"
    )
