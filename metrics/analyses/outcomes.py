"""Progress towards customer outcomes (config/outcomes/, the Outcomes page and `cx alerts`): each
measure's value in a quarter against its target and date, judged on track, at risk or off track by the
rule below, and the equity objective's widest gap judged the same way; all from the published
numbers, with hidden and missing quarters told apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

import polars as pl

from metrics.analyses.breaks import on_the_other_scale, other_scale_named, unasked
from metrics.analyses.kpis import quarters_back
from metrics.compare import (
    WITHIN_NOISE,
    Row,
    adjusted,
    against_target,
    change,
    difference_interval,
    target_met,
)
from metrics.contract import NOT_REPORTED
from metrics.dimensions import DIMENSIONS
from metrics.fiscal import FiscalQuarter, quarters_between
from metrics.formatting import POINTS, SUPPRESSED, format_value
from metrics.outcomes import EquityObjective, Measure, Outcome
from metrics.query import Engine, Filters, Query
from metrics.significance import ALPHA

ON_TRACK, AT_RISK, OFF_TRACK = "on track", "at risk", "off track"
HIDDEN, NO_DATA = "hidden", "no data"
# A measure whose inputs cannot be used (no contacts file, say): not judged, and not "no data" either,
# which would say there was nothing to count.
UNAVAILABLE = "unavailable"
# A survey item the quarter's surveys did not ask, or asked on its other scale (trust as thumbs up or
# down against a target on the five-point scale): not judged, and not "no data", which would say no
# one answered.
NOT_ASKED = "not asked"
STATUSES = (ON_TRACK, AT_RISK, OFF_TRACK, HIDDEN, UNAVAILABLE, NOT_ASKED, NO_DATA)
HISTORY = 8  # quarters of each trend shown
PACE = 4  # quarters the pace is read over
RULE = (
    "**On track**: the latest quarter meets the target, or at the pace of the last four quarters (the "
    "average change a quarter between the first and the last of them with a value) it will by the "
    "target's quarter. **At risk**: it is moving towards the target, but too slowly to reach it by "
    "then; or its change over those quarters is within sampling noise, or one quarter is all there is, "
    "so there is no pace to judge by. **Off track**: the target's quarter has come without it met, or it "
    "moved away from the target beyond sampling noise. A value short of its target by no more than "
    "sampling noise (the target lies within its 95% interval) is at risk, not off track, when its "
    "quarter has come; one that meets it by no more than sampling noise is said so. An equity gap has "
    "no test of its pace, so it is on track when met, off track when its quarter has come without it, "
    "and at risk otherwise (said so when it is wider than its limit by no more than sampling noise). The widest gap was picked for being the widest of every pair of groups, so "
    "it is beyond sampling noise only as one of them all (Holm's adjustment over the pairs), and its "
    "interval holds every pair's gap at once. A hidden quarter (too few responses) and a quarter with "
    "no data are not judged, nor is a measure whose data cannot be used or that the quarter's surveys did "
    "not ask (or asked on its other scale: trust as thumbs up or down, say, against a target on the "
    "five-point scale). An outcome takes the worst status of its measures and its equity objective, and says how "
    'many of them could not be judged ("on track so far: 1 of 3 not judged").'
)


@dataclass(frozen=True)
class Progress:
    """One measure of an outcome (or its equity objective's widest gap) as of a quarter."""

    label: str
    metric: str
    format: str
    direction: str  # the gap's is lower_is_better
    target: float
    by: str
    quarter: str
    status: str
    reason: str
    latest: float | None
    history: tuple[tuple[str, float | None], ...]  # oldest first; None where hidden or no data
    widest: tuple[str, str] | None = None  # the equity gap's lowest and highest groups
    beyond_noise: bool | None = None  # whether the widest gap is beyond sampling noise
    unseen: int = 0  # groups hidden in the latest quarter: the widest gap is of the groups shown


@dataclass(frozen=True)
class OutcomeProgress:
    """An outcome as of a quarter: each measure's progress and the equity objective's."""

    outcome: Outcome
    quarter: str
    measures: tuple[Progress, ...]
    equity: Progress | None

    @property
    def parts(self) -> tuple[Progress, ...]:
        """Its measures, then its equity objective's widest gap when it has one."""
        return (*self.measures, *([self.equity] if self.equity else []))

    @property
    def status(self) -> str:
        """The outcome's overall status: its worst judged one (off track, at risk, on track); with none
        judged, hidden when a part is hidden, else unavailable when a part's data cannot be used, else
        not asked when the surveys did not ask a part, else no data."""
        judged = [p.status for p in self.parts]
        for status in (OFF_TRACK, AT_RISK, ON_TRACK, HIDDEN, UNAVAILABLE, NOT_ASKED):
            if status in judged:
                return status
        return NO_DATA

    @property
    def unjudged(self) -> tuple[Progress, ...]:
        """The parts that are hidden, unavailable, not asked or have no data: the status says nothing
        of them."""
        return tuple(p for p in self.parts if p.status in (HIDDEN, UNAVAILABLE, NOT_ASKED, NO_DATA))

    @property
    def headline(self) -> str:
        """The status as a leader should read it: "on track" while a part is hidden or has no data
        would claim more than the data does, so the parts not judged are counted with it."""
        left_out = self.unjudged
        said = [f"{len(left_out)} of {len(self.parts)} not judged"] if left_out else []
        # A gap met among the groups shown says nothing of a hidden group: "on track" says so.
        unseen = self.equity.unseen if self.equity is not None and self.equity.status == ON_TRACK else 0
        if unseen and self.status == ON_TRACK:
            said.append(f"{unseen} equity group{'s' if unseen > 1 else ''} hidden")
        if not said or self.status in (HIDDEN, UNAVAILABLE, NOT_ASKED, NO_DATA):
            return self.status
        return f"{self.status} so far: {'; '.join(said)}"


def _index(label: str) -> int:
    q = FiscalQuarter.parse(label)
    return q.year * 4 + q.quarter


def judge(
    history: Sequence[tuple[str, float | None]],
    target: float,
    direction: str,
    by: str,
    quarter: str,
    moved: bool = True,
    within_noise: bool = False,
) -> tuple[str, str]:
    """Return the status of a measure with values by quarter (oldest first, ending at `quarter`)
    against `target` by the quarter `by`, and the reason in words. `moved` says whether the change
    over the quarters its pace is read from is beyond sampling noise: a pace within noise is no pace.
    `within_noise` says the target lies within the latest value's 95% interval: a meet is then said to
    be no sure one, and a miss when the target's quarter has come is no sure miss. A missing latest
    value is judged by the caller (hidden or no data)."""
    values = dict(history)
    latest = values.get(quarter)
    if latest is None:
        return NO_DATA, f"no value in {quarter}"
    if target_met(latest, target, direction):
        if within_noise:
            return ON_TRACK, f"meets the target in {quarter}, though by no more than sampling noise"
        return ON_TRACK, f"meets the target in {quarter}"
    if _index(quarter) >= _index(by):
        if within_noise:
            return AT_RISK, f"{by} has come, and it is short of the target by no more than sampling noise"
        return OFF_TRACK, f"{by} has come and the target is not met"
    start = _index(quarter) - PACE + 1
    recent = [(_index(q), v) for q, v in history if v is not None and _index(q) >= start]
    if len(recent) < 2:
        return AT_RISK, "not met, and one quarter is too few to tell its pace"
    if not moved:
        return (
            AT_RISK,
            "not met, and no change beyond sampling noise over the last quarters to tell its pace by",
        )
    (first, earliest), (last, _) = recent[0], recent[-1]
    pace = (latest - earliest) / (last - first)
    projected = latest + pace * (_index(by) - _index(quarter))
    toward = pace > 0 if direction == "higher_is_better" else pace < 0
    if target_met(projected, target, direction):
        return ON_TRACK, f"at its pace of the last quarters it reaches the target by {by}"
    if toward:
        return AT_RISK, f"moving towards the target, too slowly to reach it by {by}"
    return OFF_TRACK, "not moving towards the target"


def progress_many(engine: Engine, outcomes: Sequence[Outcome], quarter: str) -> list[OutcomeProgress]:
    """Return `progress` of each outcome, every outcome's questions asked at once (Engine.run_many):
    the sample's three outcomes took 30-33 ms in two statements at 200,000 responses, against 44 ms
    asked outcome by outcome and 60 ms question by question."""
    engine.run_many(
        [q for outcome in outcomes for q in _questions(engine, outcome, _filters(outcome, quarter))]
    )
    # Each outcome's questions are answered: read one by one from the engine's answers.
    return [_progress(engine, outcome, quarter) for outcome in outcomes]


def _filters(outcome: Outcome, quarter: str) -> Filters:
    """The filters an outcome is read under as of `quarter`: its own customers, service and channels
    over the quarters its pace and history look back on."""
    return Filters(tuple(outcome.where.items()), quarters_back(quarter, HISTORY - 1), quarter)


def progress(engine: Engine, outcome: Outcome, quarter: str) -> OutcomeProgress:
    """Return the outcome's progress as of `quarter`: each measure and its equity objective."""
    return progress_many(engine, (outcome,), quarter)[0]


def _progress(engine: Engine, outcome: Outcome, quarter: str) -> OutcomeProgress:
    """`progress`, its questions (`_questions`) asked already."""
    filters = _filters(outcome, quarter)
    start = filters.start or quarter
    measures = []
    quarters = tuple((q, None) for q in quarters_between(start, quarter))
    for measure in outcome.measures:
        metric = engine.metric(measure.metric)
        if broken := engine.unusable(metric):
            measures.append(
                Progress(
                    metric.label, metric.name, metric.format, metric.direction, measure.target, measure.by,
                    quarter, UNAVAILABLE, _cannot_use(broken), None, quarters,
                )
            )  # fmt: skip
            continue
        rows = {
            r["fiscal_quarter"]: r
            for r in engine.run(_measure_query(engine, measure, filters)).iter_rows(named=True)
        }
        history = tuple((q, _shown(rows.get(q))) for q in quarters_between(start, quarter))
        window = [
            rows[q]
            for q in quarters_between(quarters_back(quarter, PACE - 1), quarter)
            if _shown(rows.get(q))
        ]
        moved = len(window) >= 2 and change(window[-1], window[0], metric.aggregate).significant
        noise = against_target(rows.get(quarter), measure.target, metric.direction) in WITHIN_NOISE
        status, reason = _judged(
            rows.get(quarter), history, measure.target, metric.direction, measure.by, quarter, moved, noise
        )
        if status == NO_DATA:
            status, reason = _not_asked(engine, metric.name, filters, quarter) or (status, reason)
        measures.append(
            Progress(
                metric.label, metric.name, metric.format, metric.direction, measure.target, measure.by,
                quarter, status, reason, _shown(rows.get(quarter)), history,
            )
        )  # fmt: skip
    return OutcomeProgress(outcome, quarter, tuple(measures), _equity(engine, outcome, filters, quarter))


def _questions(engine: Engine, outcome: Outcome, filters: Filters) -> list[Query]:
    """The questions an outcome's progress reads of the measures whose data can be used."""
    usable = [m for m in outcome.measures if not engine.unusable(engine.metric(m.metric))]
    asked = [_measure_query(engine, measure, filters) for measure in usable]
    objective = outcome.equity
    if objective is not None and not engine.unusable(engine.metric(objective.metric)):
        asked.append(_equity_query(engine, objective, filters))
    return asked


def _measure_query(engine: Engine, measure: Measure, filters: Filters) -> Query:
    """A measure of progress by quarter under the outcome's filters."""
    return engine.applicable(filters.query(measure.metric, by=["fiscal_quarter"]))[0]


def _equity_query(engine: Engine, objective: EquityObjective, filters: Filters) -> Query:
    """The equity objective's measure by quarter and by its dimension's groups."""
    return engine.applicable(filters.query(objective.metric, by=["fiscal_quarter", objective.dimension]))[0]


def _equity(engine: Engine, outcome: Outcome, filters: Filters, quarter: str) -> Progress | None:
    """The equity objective's widest gap between shown groups, quarter by quarter, judged as a measure
    whose lower value is better, with whether the latest widest gap is beyond noise."""
    objective = outcome.equity
    if objective is None:
        return None
    metric = engine.metric(objective.metric)
    label = (
        f"Widest gap in {metric.label.lower()} between {DIMENSIONS[objective.dimension].label.lower()} groups"
    )
    # A gap between two shares is a width in points, not a share: its own format keeps it off the
    # shares' axis and out of their words.
    fmt = POINTS if metric.format == "percent" else metric.format
    if broken := engine.unusable(metric):
        return Progress(
            label, metric.name, fmt, "lower_is_better", objective.max_gap, objective.by, quarter,
            UNAVAILABLE, _cannot_use(broken), None,
            tuple((q, None) for q in quarters_between(filters.start or quarter, quarter)),
        )  # fmt: skip
    result = engine.run(_equity_query(engine, objective, filters))
    history: list[tuple[str, float | None]] = []
    widest: tuple[str, str] | None = None
    tested: bool | None = None
    noise = False  # the limit lies within the 95% interval of the latest widest gap
    hidden = False  # the latest quarter has groups, too few of them shown to compare
    unseen = 0
    for q in quarters_between(filters.start or quarter, quarter):
        # "Not reported" is no group of people: the objective is about the groups people are in.
        groups = result.filter(
            (pl.col("fiscal_quarter") == q) & (pl.col(objective.dimension) != NOT_REPORTED)
        )
        shown = groups.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
        if shown.height < 2:
            history.append((q, None))
            hidden = q == quarter and groups.height >= 2 and bool(groups["suppressed"].any())
            continue
        ordered = shown.sort("value")
        low, high = ordered.row(0, named=True), ordered.row(-1, named=True)
        history.append((q, float(high["value"]) - float(low["value"])))
        if q == quarter:
            unseen = groups.height - shown.height
            widest = (str(low[objective.dimension]), str(high[objective.dimension]))
            tested, interval = widest_gap(list(ordered.iter_rows(named=True)), metric.aggregate)
            noise = interval is not None and interval[0] <= objective.max_gap <= interval[1]
    latest = dict(history).get(quarter)
    if latest is None and hidden:
        status, reason = HIDDEN, f"too few responses in {quarter} to show two groups to compare"
    elif latest is None:
        # Answers from one group alone (or people who did not say) were asked the item: no data to compare.
        answered = result.filter(
            (pl.col("fiscal_quarter") == quarter) & (pl.col("suppressed") | pl.col("value").is_not_null())
        ).height
        why = None if answered else _not_asked(engine, metric.name, filters, quarter)
        status, reason = why or (NO_DATA, f"fewer than two groups with answers in {quarter}")
    else:
        status, reason = judge(
            history, objective.max_gap, "lower_is_better", objective.by, quarter, False, noise
        )
        if status == ON_TRACK and unseen:
            reason += _among_shown(unseen)
        if status == AT_RISK and _index(quarter) < _index(objective.by):
            # Wider than the limit by no more than noise is no sure miss, as a measure's is not.
            wider = "wider than that by no more than sampling noise" if noise else "wider than that"
            reason = f"{wider}, and a gap's pace is not projected (it has no test) before {objective.by}"
    return Progress(
        label, metric.name, fmt, "lower_is_better", objective.max_gap, objective.by, quarter,
        status, reason, latest, tuple(history), widest, tested, unseen,
    )  # fmt: skip


def widest_gap(ordered: Sequence[Row], aggregate: str) -> tuple[bool, tuple[float, float] | None]:
    """Return whether the gap between the highest and the lowest of `ordered` (groups by value, lowest
    first) is beyond sampling noise, and its interval. It is the widest for having been picked so, out
    of every pair of groups: it is tested as one of them all, with Holm's adjustment over the pairs,
    and its interval is wide enough to hold all the pairs' true gaps at once (Bonferroni's, 95% over
    the k(k-1)/2 pairs of k groups). Tested alone, the widest of many gaps is beyond noise more often
    than the 5% a test allows, where the groups do not differ at all."""
    pairs = list(combinations(range(len(ordered)), 2))
    if not pairs:
        return False, None
    tests = adjusted([change(ordered[j], ordered[i], aggregate) for i, j in pairs])
    widest = pairs.index((0, len(ordered) - 1))
    z = NormalDist().inv_cdf(1 - ALPHA / (2 * len(pairs)))
    return tests[widest].significant, difference_interval(ordered[-1], ordered[0], z)


def _judged(
    row: dict[str, Any] | None,
    history: Sequence[tuple[str, float | None]],
    target: float,
    direction: str,
    by: str,
    quarter: str,
    moved: bool,
    within_noise: bool,
) -> tuple[str, str]:
    if row is not None and row.get("suppressed"):
        return HIDDEN, f"too few responses in {quarter} to show"
    if row is None or row.get("value") is None:
        return NO_DATA, f"no data in {quarter}"
    return judge(history, target, direction, by, quarter, moved, within_noise)


def _not_asked(engine: Engine, name: str, filters: Filters, quarter: str) -> tuple[str, str] | None:
    """Return NOT_ASKED and why, when surveys were answered in `quarter` under the filters without
    asking the item of `name` on its scale; None otherwise (there is then simply no data)."""
    if quarter not in unasked(engine, name, filters, quarter, quarter):
        return None
    if other := on_the_other_scale(engine, name, filters, quarter, quarter):
        return NOT_ASKED, (
            f"the surveys answered in {quarter} asked this question on its other scale (see "
            f"{other_scale_named(engine, name, other)}), and the target is set on this one"
        )
    return NOT_ASKED, f"the surveys answered in {quarter} did not ask this item"


def _cannot_use(inputs: frozenset[str]) -> str:
    """The reason a measure is not judged when the inputs it reads cannot be used."""
    names = " and ".join(sorted(inputs))
    return f"its data ({names}) cannot be used; Metrics and data says why"


def _among_shown(unseen: int) -> str:
    """What a gap's reason adds when it is met only among the groups shown: the reason is read alone too
    (the export's column), so it says so itself."""
    return f", among the groups shown ({unseen} hidden, not compared)"


def _shown(row: dict[str, Any] | None) -> float | None:
    if row is None or row.get("suppressed") or row.get("value") is None:
        return None
    return float(row["value"])


def describe(p: Progress) -> str:
    """Say a measure's progress in words: where it stands against its target and why it is judged so."""
    if p.latest is None:
        return f"{p.status.capitalize()}: {p.reason}."
    word = "at most" if p.direction == "lower_is_better" else "at least"
    value, target = format_value(p.latest, p.format), format_value(p.target, p.format)
    if p.widest is None:
        return f"{value} in {p.quarter} against {word} {target} by {p.by}: {p.status}, {p.reason}."
    low, high = p.widest
    # A widest gap within noise of none says these two may not differ: another pair still might.
    noise = "beyond sampling noise" if p.beyond_noise else "within sampling noise: these two may not differ"
    # A hidden group may lie outside the two: the gap is the widest of those shown, and says so.
    among = f" of the groups shown ({p.unseen} hidden, {SUPPRESSED})" if p.unseen else ""
    # The opening has said so: the reason need not again.
    reason = p.reason.removesuffix(_among_shown(p.unseen)) if p.unseen else p.reason
    return (
        f"{value} between {high} and {low}{among} in {p.quarter} ({noise}) against {word} "
        f"{target} by {p.by}: {p.status}, {reason}."
    )
