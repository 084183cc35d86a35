"""Which numbers may leave the agency: a survey whose paperwork clearance does not allow public release
(its collection marked not publishable) makes the survey numbers of a view that includes it internal
only, and every page, export and deck says so."""

from __future__ import annotations

from pathlib import Path

from metrics.catalog import Metric
from metrics.query import Engine, Filters
from metrics.sqlfiles import read_sql


def internal_only(engine: Engine, filters: Filters) -> tuple[str, ...]:
    """Return the services in the view whose survey is not cleared for public release in its period."""
    if filters.start is None or filters.end is None or "collections" not in engine.warehouse.usable_inputs():
        return ()
    chosen = dict(filters.where)
    params: dict[str, object] = {
        "first_quarter": filters.start,
        "last_quarter": filters.end,
        "services": list(chosen.get("service", ())),
        "channels": list(chosen.get("channel", ())),
    }
    found = engine.visible(engine.warehouse.frame(read_sql(Path("reports") / "internal_only.sql"), params))
    return tuple(found["service"].to_list())


def from_surveys(engine: Engine, metric: Metric) -> bool:
    """Whether a metric's numbers come from survey answers, which the release rule covers."""
    return "responses" in engine.inputs(metric)


def release_note(services: tuple[str, ...]) -> str:
    """Say that a view's survey numbers are internal only, and why; empty when they may be published."""
    if not services:
        return ""
    names = ", ".join(services)
    if len(services) == 1:
        return f"Internal only: the survey of {names} is not cleared for public release."
    return f"Internal only: the surveys of {names} are not cleared for public release."
