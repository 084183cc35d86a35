"""Every comment as the pages may list it: redacted, tagged with the comment themes it is about,
classed (its class's size, within each group a list can be narrowed to) and given its equity slot
(sql/voice/listed.sql says why). The store keeps it as one table, newest first, so a page's list
is a filtered read; without a store it is composed over the responses."""

from __future__ import annotations

from collections.abc import Iterable

from metrics import composition
from metrics.catalog import VOICE, Metric
from metrics.dimensions import EQUITY_DIMENSIONS
from metrics.sqlfiles import quote_identifier
from metrics.warehouse import STORE_ALIAS

TABLE = "voice_comments"
# The groups a list of comments can be narrowed to, besides the sidebar's filters. A segment is part
# of every comment's class already; an equity group takes the comments of its dimension's slot.
GROUPS = ("segment", *EQUITY_DIMENSIONS)
SLOTS = EQUITY_DIMENSIONS  # slot i lists a comment under EQUITY_DIMENSIONS[i] only
# Each theme's own true-or-false column, beside the list of themes a page shows: a list narrowed to a
# theme reads one small column instead of every comment's list (sql/voice/listed.sql).
TAG_PREFIX = "cx_tag_"
# The order of a list of comments, newest first, and the order the store keeps them in: a list of the
# store's table reads its rows in their order (metrics/analyses/voice.py).
NEWEST_FIRST = "submitted_at desc, response_id"


def themes(metrics: Iterable[Metric]) -> list[Metric]:
    """Return the comment themes among `metrics`, in the order of their files' names."""
    return sorted((m for m in metrics if m.theme == VOICE and m.condition), key=lambda m: m.name)


def sql(metrics: Iterable[Metric]) -> str:
    """Return the query of every comment, tagged with the themes among `metrics`."""
    tags = [(m.name, m.condition or "") for m in themes(metrics)]
    return composition.comments(tags, EQUITY_DIMENSIONS, len(SLOTS), TAG_PREFIX)


def tag_column(theme: str) -> str:
    """Return the column saying whether a comment is about `theme` (a theme metric's name)."""
    return TAG_PREFIX + theme


def tagged(columns: Iterable[str]) -> frozenset[str]:
    """Return the themes a table of the comments with these columns was tagged with."""
    return frozenset(c.removeprefix(TAG_PREFIX) for c in columns if c.startswith(TAG_PREFIX))


def stored() -> str:
    """Return the store's table of the comments, as a query reads it."""
    return f"{STORE_ALIAS}.{quote_identifier(TABLE)}"


def class_column(group: str | None) -> str:
    """Return the column holding a comment's class size within a group of `group` (a dimension of
    GROUPS), or its class's own size for none or a segment, which every class carries."""
    return f"class_n_{group}" if group in EQUITY_DIMENSIONS else "class_n"


def slot(group: str | None) -> int:
    """Return the slot a list narrowed by `group` takes its comments from: -1 (every comment) for no
    group or a segment."""
    return SLOTS.index(group) if group in SLOTS else -1
