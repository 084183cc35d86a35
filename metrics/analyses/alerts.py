"""What a leader should hear about (`cx alerts`): quarter by quarter, the moves beyond noise across
services and segments (declines first), targets newly missed, outcomes turning off track and equity
gaps newly beyond noise. Every finding is one a page shows too, under the same tests and the same
false-flag control, from the published numbers; small cells stay hidden."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from metrics.analyses import gaps, kpis, outcomes
from metrics.analyses.breaks import channel_labels
from metrics.compare import MISSED, Difference, adjusted, against_target, gap_error, target_met
from metrics.dimensions import DIMENSIONS
from metrics.fiscal import quarters_between
from metrics.formatting import format_delta, format_value
from metrics.outcomes import Outcome
from metrics.query import Engine, Filters, Query
from metrics.significance import normal_p

DECLINE, IMPROVEMENT, TARGET_MISSED, OFF_TRACK, GAP = (
    "decline",
    "improvement",
    "target missed",
    "outcome off track",
    "equity gap widened",
)
KINDS = (DECLINE, TARGET_MISSED, OFF_TRACK, GAP, IMPROVEMENT)  # the order they are told in
# Where moves are looked for: each service and each customer segment (as the overview's list).
MOVE_DIMENSIONS = ("service", "segment")


@dataclass(frozen=True)
class Alert:
    """One finding of one quarter: what kind, about which measure and group, in words."""

    quarter: str
    kind: str
    metric: str
    group: str  # "" for everyone
    text: str
    previous: float | None = None
    current: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def alerts(
    engine: Engine,
    since: str,
    until: str,
    found_outcomes: Sequence[Outcome] = (),
    floor: float = gaps.DEFAULT_FLOOR,
) -> list[Alert]:
    """Return what happened in each quarter from `since` to `until`, each quarter against the one
    before it, in KINDS order within a quarter. Measures whose inputs cannot be used are left out
    (an outcome's are "unavailable"), and the rest reported."""
    told = []
    for quarter in quarters_between(since, until):
        found = [
            *_moves(engine, quarter),
            *_targets(engine, quarter),
            *_off_track(engine, found_outcomes, quarter),
            *_gaps(engine, quarter, floor),
        ]
        told += sorted(found, key=lambda a: KINDS.index(a.kind))
    return told


def _moves(engine: Engine, quarter: str) -> list[Alert]:
    """Declines and improvements beyond noise in a service or segment, Holm-adjusted over every group
    and headline measure tested (the overview's "What changed this quarter")."""
    previous = kpis.quarters_back(quarter, 1)
    names = tuple(
        n for n in kpis.HEADLINE if engine.metric(n).direction != "neutral" and engine.computable(n)
    )
    found = kpis.largest_moves(
        engine, names, MOVE_DIMENSIONS, Filters((), previous, quarter), quarter, limit=10_000
    )
    labels = channel_labels(engine)
    told = []
    for move in found.listed:
        metric, delta = move.metric, move.difference.delta or 0.0
        worse = (delta < 0) == (metric.direction == "higher_is_better")
        group = labels.get(move.group, move.group)
        kind = DECLINE if worse else IMPROVEMENT
        text = (
            f"{metric.label} {'fell' if delta < 0 else 'rose'} {format_delta(abs(delta), metric.format).lstrip('+')} "
            f"for {DIMENSIONS[move.dimension].label.lower()} {group}: {format_value(move.previous, metric.format)} "
            f"in {previous} to {format_value(move.current, metric.format)} (beyond sampling noise"
            + (f"; {move.basis.note}" if move.basis.note else "")
            + ")."
        )
        told.append(
            Alert(
                quarter,
                kind,
                metric.name,
                f"{move.dimension}={move.group}",
                text,
                move.previous,
                move.current,
            )
        )
    return told


def _targets(engine: Engine, quarter: str) -> list[Alert]:
    """Measures that met their target in the previous quarter and miss it now beyond noise: the 95%
    interval of the quarter lies wholly on the wrong side of the target."""
    previous = kpis.quarters_back(quarter, 1)
    told = []
    for metric in engine.catalog.metrics.values():
        if metric.target is None or metric.direction == "neutral" or engine.unusable(metric):
            continue
        rows = {
            r["fiscal_quarter"]: r
            for r in engine.run(
                Query.of(metric.name, by=["fiscal_quarter"], start=previous, end=quarter)
            ).iter_rows(named=True)
        }
        now, before = rows.get(quarter), rows.get(previous)
        if now is None or before is None or not _shown(now) or not _shown(before):
            continue
        if not target_met(before["value"], metric.target, metric.direction):
            continue
        if against_target(now, metric.target, metric.direction) != MISSED:
            continue
        text = (
            f"{metric.label} missed its target of {format_value(metric.target, metric.format)}: "
            f"{format_value(now['value'], metric.format)}, after {format_value(before['value'], metric.format)} "
            f"in {previous} (its 95% interval is wholly short of the target)."
        )
        told.append(Alert(quarter, TARGET_MISSED, metric.name, "", text, before["value"], now["value"]))
    return told


def _off_track(engine: Engine, found: Sequence[Outcome], quarter: str) -> list[Alert]:
    """Outcomes off track in this quarter that were not in the one before."""
    previous = kpis.quarters_back(quarter, 1)
    told = []
    for outcome in found:
        if outcome.service is not None and not engine.may_see(outcome.service):
            continue
        now = outcomes.progress(engine, outcome, quarter)
        if (
            now.status != outcomes.OFF_TRACK
            or outcomes.progress(engine, outcome, previous).status == outcomes.OFF_TRACK
        ):
            continue
        why = "; ".join(
            f"{p.label}: {p.reason}"
            for p in (*now.measures, *([now.equity] if now.equity else []))
            if p.status == outcomes.OFF_TRACK
        )
        text = f"The outcome for {outcome.customer} turned off track ({why}): {outcome.statement}"
        told.append(Alert(quarter, OFF_TRACK, outcome.name, f"segment={outcome.customer}", text))
    return told


def _gaps(engine: Engine, quarter: str, floor: float) -> list[Alert]:
    """Worse-served equity gaps of the quarter (the overview's list: beyond noise, at least `floor`,
    Holm-adjusted) that are wider than the same comparison's gap the quarter before, by more than
    sampling noise (`widening`), Holm-adjusted over every listed gap so tested."""
    previous = kpis.quarters_back(quarter, 1)
    now = gaps.gaps(engine, Filters((), quarter, quarter), floor)
    before = {_key(g): g for g in gaps.compared(engine, Filters((), previous, previous), now.metrics)}
    tested: list[tuple[gaps.Gap, gaps.Gap, Difference]] = []
    for g in now.below:
        b = before.get(_key(g))
        metric = engine.metric(g.metric)
        found = None if b is None else widening(g, b, metric.aggregate, engine.threshold(metric))
        if found is not None:
            assert b is not None
            tested.append((g, b, found))
    labels: Mapping[str, str] = channel_labels(engine)
    told = []
    for (g, b, _), widened in zip(tested, adjusted([t for _, _, t in tested]), strict=True):
        if not widened.significant or not _worse_by(engine, g.metric, widened.delta or 0.0):
            continue
        metric = engine.metric(g.metric)
        text = (
            f"{metric.label} of {gaps.who(g, labels)} is {format_delta(g.difference.delta, metric.format)} against "
            f"{gaps.compared_with(g, labels)} ({format_value(g.row['value'], metric.format)} against "
            f"{format_value(g.reference['value'], metric.format)}), wider than in {previous} "
            f"({format_delta(b.difference.delta, metric.format)}) beyond sampling noise."
        )
        group = ", ".join(f"{d}={v}" for d, v in sorted(g.cell))
        told.append(Alert(quarter, GAP, g.metric, group, text, b.difference.delta, g.difference.delta))
    return told


def widening(now: gaps.Gap, before: gaps.Gap, aggregate: str, smallest: int) -> Difference | None:
    """Return how much wider the gap is now than before (now's minus before's), tested: the two
    gaps' difference over the square root of the sum of their variances, each gap's error with one
    more answer each way in the group and in the rest (`gap_error`, Agresti and Caffo), so that a
    group at 0% or 100% still counts its own noise; the p-value unadjusted. None when either gap has
    no error (hidden, no data, not a share)."""
    errors = [gap_error(g.row, g.reference, aggregate, smallest, added=1) for g in (now, before)]
    if (
        errors[0] is None
        or errors[1] is None
        or now.difference.delta is None
        or before.difference.delta is None
    ):
        return None
    wider = now.difference.delta - before.difference.delta
    spread = math.hypot(errors[0], errors[1])
    z = wider / spread if spread > 0 else 0.0
    return Difference(wider, z, normal_p(z), "z (two gaps)")


def _key(g: gaps.Gap) -> tuple[object, ...]:
    return (g.metric, g.dimension, g.group, g.context)


def _worse_by(engine: Engine, name: str, delta: float) -> bool:
    """Whether a gap that moved by `delta` moved the way that serves its group worse."""
    return (delta < 0) == (engine.metric(name).direction == "higher_is_better")


def _shown(row: Mapping[str, object] | None) -> bool:
    return row is not None and not row.get("suppressed") and row.get("value") is not None
