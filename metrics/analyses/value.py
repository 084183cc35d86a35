"""What the experience bought, in business terms, for one quarter against a baseline quarter:

- transactions moved to self-service = transactions now x (self-service share now - at baseline);
- cost avoided = moved x (mean cost of an assisted transaction - of a self-service one), each mean
  weighted by this quarter's channel mix;
- staff hours freed = moved x the mean handle minutes of an assisted transaction / 60;
- contacts avoided = (contacts per transaction at baseline - now) x transactions now;
- customer hours saved = (mean wait at baseline - now) x answered contacts now / 3600.

Assumptions (costs, handle minutes, staff cost, baseline) come from config/value_assumptions.toml
and may be overridden by the caller; none of them ever reaches SQL."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from metrics.dimensions import DIMENSIONS
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.formatting import format_value, listed
from metrics.query import Engine, Filters
from metrics.sqlfiles import SQL_DIR
from metrics.warehouse import InputCoverage

ASSUMPTIONS_FILE = SQL_DIR.parent / "config" / "value_assumptions.toml"
BASELINE_QUARTERS_BACK = 4
# The keys of config/value_assumptions.toml, and the channels its tables may name (the contract's).
_ASSUMPTION_KEYS = ("baseline_quarter", "staff_hourly_cost", "cost_per_transaction", "handle_minutes")
CHANNELS: tuple[str, ...] = DIMENSIONS["channel"].order or ()
# A baseline quarter whose input differs from the mean of its two neighbouring quarters by more than
# this share of it is called unusual: a saving against it is mostly the unusual quarter passing.
UNUSUAL = 0.25
# The inputs the figures are measured against at the baseline, by metric, as people name them.
_BASELINE_INPUTS = {
    "wait_mean": "mean wait",
    "contacts": "contact volume",
    "self_service_rate": "self-service rate",
}


@dataclass(frozen=True)
class Assumptions:
    """The numbers the value figures rest on."""

    baseline_quarter: str | None  # None: BASELINE_QUARTERS_BACK quarters before the quarter shown
    staff_hourly_cost: float
    cost_per_transaction: Mapping[str, float] = field(default_factory=dict)  # channel -> dollars
    handle_minutes: Mapping[str, float] = field(default_factory=dict)  # assisted channel -> minutes

    def adjusted(self, **changes: Any) -> Assumptions:
        """Return a copy with some values changed; mappings are merged, not replaced."""
        merged = dict(changes)
        for name in ("cost_per_transaction", "handle_minutes"):
            if name in changes:
                merged[name] = {**getattr(self, name), **changes[name]}
        return replace(self, **merged)


def load_assumptions(path: Path = ASSUMPTIONS_FILE) -> Assumptions:
    """Read the assumptions file; raise CxError naming the file and the key that is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CxError(f"{path}: cannot read the value assumptions: {error}") from error

    def number(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CxError(f"{path}: '{key}' must be a number of 0 or more, not {value!r}")
        return float(value)

    for key in raw:
        if key not in _ASSUMPTION_KEYS:
            raise CxError(f"{path}: unknown key '{key}'; known keys: {', '.join(_ASSUMPTION_KEYS)}")
    baseline = str(raw.get("baseline_quarter") or "").strip() or None
    if baseline is not None:
        try:
            baseline = FiscalQuarter.parse(baseline).label
        except ValueError as error:
            raise CxError(f"{path}: 'baseline_quarter': {error}") from None
    tables = {}
    for table in ("cost_per_transaction", "handle_minutes"):
        entries = raw.get(table, {})
        if not isinstance(entries, dict):
            raise CxError(f"{path}: '{table}' must be a table of channel = number")
        for channel in entries:
            if channel not in CHANNELS:
                raise CxError(
                    f"{path}: '{table}.{channel}': '{channel}' is not a channel ({', '.join(CHANNELS)})"
                )
        tables[table] = {str(k): number(v, f"{table}.{k}") for k, v in entries.items()}
    if "staff_hourly_cost" not in raw:
        raise CxError(f"{path}: 'staff_hourly_cost' is missing")
    return Assumptions(
        baseline,
        number(raw["staff_hourly_cost"], "staff_hourly_cost"),
        tables["cost_per_transaction"],
        tables["handle_minutes"],
    )


@dataclass(frozen=True)
class Value:
    """The value figures for a quarter against its baseline; a figure is None when an input to it is
    hidden (too few to show) or missing, and `gaps` says which and why."""

    quarter: str
    baseline: str
    transactions: float | None
    self_service_share: float | None
    baseline_self_service_share: float | None
    moved_to_self_service: float | None
    assisted_cost: float | None  # mean dollars per assisted transaction, this quarter's mix
    self_service_cost: float | None
    cost_avoided: float | None
    staff_hours_freed: float | None
    staff_cost_of_hours_freed: float | None  # part of cost_avoided, seen as staff time
    contacts_per_transaction: float | None
    baseline_contacts_per_transaction: float | None
    contacts_avoided: float | None
    mean_wait: float | None  # seconds
    baseline_mean_wait: float | None
    answered_contacts: float | None
    customer_hours_saved: float | None
    # channel, self_service, transactions, baseline_transactions (and whether each is hidden), cost,
    # handle_minutes
    channels: pl.DataFrame
    gaps: tuple[str, ...]
    ignored_filters: tuple[str, ...]
    # The figures and inputs above that are None because what they rest on is hidden (†), not missing.
    hidden: frozenset[str] = frozenset()

    @property
    def on_default_baseline(self) -> bool:
        """True when the baseline is the default one: the same season a year earlier."""
        return self.baseline == default_baseline(self.quarter)


def baseline_choices(quarters: Sequence[str], quarter: str) -> list[str]:
    """Return the quarters that may be the baseline of `quarter`: those before it."""
    return [q for q in quarters if FiscalQuarter.parse(q) < FiscalQuarter.parse(quarter)]


def baseline_for(quarter: str, assumptions: Assumptions) -> str:
    """Return the baseline quarter: the assumption's, else the default one."""
    return assumptions.baseline_quarter or default_baseline(quarter)


# The inputs the value figures are computed from: the self-service shift from transactions, the
# contacts and the waits from contacts.
VALUE_INPUTS = ("transactions", "contacts")


def starts_after(coverage: Sequence[InputCoverage], baseline: str) -> str | None:
    """Return the first quarter the value figures' inputs hold when the baseline comes before it (no
    figure has anything to be measured against there), else None. An input with no dated rows does
    not count: what it lacks the figures' own list of gaps says."""
    firsts = [c.first_quarter for c in coverage if c.input in VALUE_INPUTS and c.first_quarter]
    if not firsts:
        return None
    first = min(firsts, key=FiscalQuarter.parse)
    return first if FiscalQuarter.parse(baseline) < FiscalQuarter.parse(first) else None


def default_baseline(quarter: str) -> str:
    """Return the default baseline: four quarters before `quarter` (the same season a year earlier)."""
    baseline = FiscalQuarter.parse(quarter)
    for _ in range(BASELINE_QUARTERS_BACK):
        baseline = baseline.previous()
    return baseline.label


def value(engine: Engine, filters: Filters, quarter: str, assumptions: Assumptions) -> Value:
    """Compute the value figures for `quarter` against the baseline under `filters` (channel filters
    are left out: the self-service shift is a movement between channels)."""
    seed = engine.warehouse.seed("channels")
    self_service = dict(zip(seed["channel"], seed["self_service"], strict=True))
    baseline = baseline_for(quarter, assumptions)
    if FiscalQuarter.parse(baseline) >= FiscalQuarter.parse(quarter):
        raise CxError(f"baseline {baseline} must come before {quarter}")
    kept = Filters(tuple((d, v) for d, v in filters.where if d != "channel"), baseline, quarter)
    ignored: tuple[str, ...] = ("channel",) if len(kept.where) < len(filters.where) else ()
    gaps: list[str] = []
    hidden_inputs: set[tuple[str, str]] = set()
    unusable: set[str] = set()  # inputs that cannot be used: the figures that need them are left out

    def at(name: str, by: tuple[str, ...] = ()) -> dict[tuple[str, ...], dict[str, Any]] | None:
        if broken := engine.unusable(engine.metric(name)):
            unusable.update(broken)
            return None
        query, dropped = engine.applicable(kept.query(name, by=["fiscal_quarter", *by]))
        nonlocal ignored
        ignored += tuple(d for d in dropped if d not in ignored)
        rows = engine.run(query).filter(pl.col("fiscal_quarter").is_in([baseline, quarter]))
        return {tuple(r[d] for d in ["fiscal_quarter", *by]): r for r in rows.iter_rows(named=True)}

    def shown(
        rows: Mapping[tuple[str, ...], dict[str, Any]] | None,
        key: tuple[str, ...],
        what: str,
        column: str = "value",
    ) -> float | None:
        if rows is None:  # its input cannot be used: said once, below
            return None
        row = rows.get(key)
        if row is None:
            gaps.append(f"no {what} in {key[0]}")
            return None
        if row["suppressed"]:
            gaps.append(f"{what} in {key[0]} is hidden: too few to show")
            hidden_inputs.add((what, key[0]))
            return None
        if row[column] is None:  # a row over no records: nothing hidden, nothing there
            gaps.append(f"no {what} in {key[0]}")
            return None
        return float(row[column])

    rate = at("self_service_rate")
    share_now = shown(rate, (quarter,), "self-service rate")
    share_then = shown(rate, (baseline,), "self-service rate")
    transactions = shown(rate, (quarter,), "transactions", "n")
    transactions_then = shown(rate, (baseline,), "transactions", "n")
    moved = _product(transactions, _difference(share_now, share_then))

    mix = at("transactions", ("channel",)) or {}
    channels = sorted({key[1] for key in mix}, key=lambda c: (not self_service.get(c, False), c))
    table = pl.DataFrame(
        {
            "channel": channels,
            "self_service": [self_service.get(c, False) for c in channels],
            "transactions": [_count(mix, quarter, c) for c in channels],
            "baseline_transactions": [_count(mix, baseline, c) for c in channels],
            # Which missing counts are hidden (†); the others are of a quarter with no data at all.
            "transactions_hidden": [_hidden(mix.get((quarter, c))) for c in channels],
            "baseline_transactions_hidden": [_hidden(mix.get((baseline, c))) for c in channels],
            "cost": [assumptions.cost_per_transaction.get(c) for c in channels],
            "handle_minutes": [
                None if self_service.get(c) else assumptions.handle_minutes.get(c) for c in channels
            ],
        },
        schema={
            "channel": pl.String,
            "self_service": pl.Boolean,
            "transactions": pl.Float64,
            "baseline_transactions": pl.Float64,
            "transactions_hidden": pl.Boolean,
            "baseline_transactions_hidden": pl.Boolean,
            "cost": pl.Float64,
            "handle_minutes": pl.Float64,
        },
    )
    assisted = table.filter(~pl.col("self_service"))
    online = table.filter(pl.col("self_service"))
    assisted_cost = _weighted(assisted, "cost", gaps)
    self_service_cost = _weighted(online, "cost", gaps)
    minutes = _weighted(assisted, "handle_minutes", gaps)
    cost_avoided = _product(moved, _difference(assisted_cost, self_service_cost))
    hours = _product(moved, None if minutes is None else minutes / 60)

    contacts = at("contacts")
    contacts_now = shown(contacts, (quarter,), "contacts")
    contacts_then = shown(contacts, (baseline,), "contacts")
    per_now = _ratio(contacts_now, transactions)
    per_then = _ratio(contacts_then, transactions_then)
    avoided = _product(_difference(per_then, per_now), transactions)

    wait = at("wait_mean")
    wait_now = shown(wait, (quarter,), "mean wait")
    wait_then = shown(wait, (baseline,), "mean wait")
    answered = shown(wait, (quarter,), "answered contacts", "n")
    saved = _product(_difference(wait_then, wait_now), None if answered is None else answered / 3600)
    if unusable:  # said once, before what the usable inputs lack
        gaps.insert(0, f"{listed(sorted(unusable))} cannot be used (Metrics and data says why)")

    def hid(*inputs: tuple[str, str]) -> bool:
        return bool(hidden_inputs & set(inputs))

    rate_now, rate_then = ("self-service rate", quarter), ("self-service rate", baseline)
    count_now, count_then = ("transactions", quarter), ("transactions", baseline)
    waits = (("mean wait", quarter), ("mean wait", baseline), ("answered contacts", quarter))
    moved_hidden = hid(rate_now, rate_then, count_now)
    hidden = {
        "transactions": hid(count_now),
        "self_service_share": hid(rate_now),
        "baseline_self_service_share": hid(rate_then),
        "moved_to_self_service": moved_hidden,
        "cost_avoided": moved_hidden,
        "staff_hours_freed": moved_hidden,
        "staff_cost_of_hours_freed": moved_hidden,
        "contacts_per_transaction": hid(("contacts", quarter), count_now),
        "baseline_contacts_per_transaction": hid(("contacts", baseline), count_then),
        "contacts_avoided": hid(("contacts", quarter), ("contacts", baseline), count_now, count_then),
        "mean_wait": hid(waits[0]),
        "baseline_mean_wait": hid(waits[1]),
        "answered_contacts": hid(waits[2]),
        "customer_hours_saved": hid(*waits),
        # A mean cost over the channels' counts is missing for privacy when every count behind it is.
        "assisted_cost": assisted_cost is None and _all_hidden(assisted),
        "self_service_cost": self_service_cost is None and _all_hidden(online),
    }
    return Value(
        quarter=quarter,
        baseline=baseline,
        transactions=transactions,
        self_service_share=share_now,
        baseline_self_service_share=share_then,
        moved_to_self_service=moved,
        assisted_cost=assisted_cost,
        self_service_cost=self_service_cost,
        cost_avoided=cost_avoided,
        staff_hours_freed=hours,
        staff_cost_of_hours_freed=_product(hours, assumptions.staff_hourly_cost),
        contacts_per_transaction=per_now,
        baseline_contacts_per_transaction=per_then,
        contacts_avoided=avoided,
        mean_wait=wait_now,
        baseline_mean_wait=wait_then,
        answered_contacts=answered,
        customer_hours_saved=saved,
        channels=table,
        gaps=tuple(dict.fromkeys(gaps)),
        ignored_filters=ignored,
        hidden=frozenset(name for name, is_hidden in hidden.items() if is_hidden),
    )


def _count(mix: Mapping[tuple[str, ...], dict[str, Any]], quarter: str, channel: str) -> float | None:
    """A channel's transactions in a quarter: 0 when it has no row in a quarter with transactions in
    other channels; None when hidden, or when the quarter has no transactions data at all."""
    row = mix.get((quarter, channel))
    if row is None:
        return 0.0 if any(key[0] == quarter for key in mix) else None
    return None if row["suppressed"] else float(row["n"])


def _all_hidden(channels: pl.DataFrame) -> bool:
    """True when every channel with transactions this quarter (a count of 0 has none) is hidden."""
    some = channels.filter(pl.col("transactions").is_null() | (pl.col("transactions") > 0))
    return some.height > 0 and bool(some["transactions_hidden"].all())


def _hidden(row: Mapping[str, Any] | None) -> bool:
    return row is not None and bool(row["suppressed"])


def _weighted(channels: pl.DataFrame, column: str, gaps: list[str]) -> float | None:
    """Mean of `column` over channels weighted by this quarter's transactions; hidden channels and
    channels without an assumption are left out and named in `gaps`."""
    usable = channels.filter(pl.col("transactions").is_not_null() & pl.col(column).is_not_null())
    # A channel with no transactions this quarter weighs nothing: its missing assumption is no gap.
    for channel in channels.filter((pl.col("transactions") > 0) & pl.col(column).is_null())["channel"]:
        gaps.append(f"no {column.replace('_', ' ')} assumption for channel '{channel}': left out of the mean")
    total = float(usable["transactions"].sum())
    if not total:
        return None
    return float((usable["transactions"] * usable[column]).sum()) / total


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _product(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def unusual_baseline(engine: Engine, filters: Filters, baseline: str) -> list[str]:
    """Say which of the baseline's inputs differ from the mean of its two neighbouring quarters by
    more than UNUSUAL of it (a surge, an outage): a saving measured against it would mostly be that
    quarter passing, not the service improving."""
    return _judged(engine, filters, baseline)[0]


def _judged(engine: Engine, filters: Filters, baseline: str) -> tuple[list[str], bool]:
    """Return what is unusual about the baseline's inputs (as unusual_baseline), and whether every
    input could be judged: one missing or hidden in the baseline or a neighbour is passed over."""
    before, after = FiscalQuarter.parse(baseline).previous().label, FiscalQuarter.parse(baseline).next().label
    kept = Filters(tuple((d, v) for d, v in filters.where if d != "channel"), before, after)
    found = []
    judged = True
    for name, words in _BASELINE_INPUTS.items():
        if engine.unusable(engine.metric(name)):
            continue  # its input cannot be used: the figures say so; the others are judged
        query, _ = engine.applicable(kept.query(name, by=["fiscal_quarter"]))
        rows = {r["fiscal_quarter"]: r for r in engine.run(query).iter_rows(named=True)}
        raw = [rows.get(q, {}).get("value") for q in (before, baseline, after)]
        if any(v is None for v in raw) or any(rows[q]["suppressed"] for q in (before, baseline, after)):
            judged = False
            continue
        values = [float(v) for v in raw if v is not None]
        usual = (values[0] + values[2]) / 2
        if usual and abs(values[1] - usual) > UNUSUAL * abs(usual):
            fmt = engine.metric(name).format
            found.append(
                f"the {words} in {baseline} ({format_value(values[1], fmt)}) is "
                f"{'above' if values[1] > usual else 'below'} its neighbouring quarters' {before} and {after} "
                f"({format_value(usual, fmt)} on average) by {abs(values[1] / usual - 1):.0%}"
            )
    return found, judged


def usual_baseline(engine: Engine, filters: Filters, quarter: str, assumptions: Assumptions) -> Value | None:
    """Return the figures against the same season a year or more before the baseline, the nearest
    that is not unusual: each input judged against its neighbours (none missing or hidden) and
    none unusual; None when no earlier year's is. What a leader compares an unusual baseline with
    before quoting a saving, by a rule fixed in advance rather than a quarter picked for its result."""
    baseline = FiscalQuarter.parse(baseline_for(quarter, assumptions))
    held = [r.first_quarter for r in engine.warehouse.coverage() if r.first_quarter]
    if not held:
        return None
    earliest = min(FiscalQuarter.parse(q) for q in held)
    candidate = baseline
    while True:
        for _ in range(BASELINE_QUARTERS_BACK):
            candidate = candidate.previous()
        if candidate.previous() < earliest:  # its quarter before is not in the data: cannot be judged
            return None
        unusual, judged = _judged(engine, filters, candidate.label)
        if judged and not unusual:
            return value(engine, filters, quarter, assumptions.adjusted(baseline_quarter=candidate.label))


# The four headline figures the year to date sums.
YEAR_TO_DATE = ("cost_avoided", "staff_hours_freed", "contacts_avoided", "customer_hours_saved")


def year_to_date(
    engine: Engine, filters: Filters, quarter: str, assumptions: Assumptions
) -> tuple[str, dict[str, float | None], frozenset[str]]:
    """Return the fiscal year to date (as words), the sums over its quarters of the four headline
    figures, each quarter against its own baseline (a figure missing in any quarter is None), and those
    of them None because a quarter's figure is hidden."""
    last = FiscalQuarter.parse(quarter)
    quarters = [FiscalQuarter(last.year, q).label for q in range(1, last.quarter + 1)]
    if year_to_date_blocked(quarter, assumptions):
        return _span(quarters, last), dict.fromkeys(YEAR_TO_DATE), frozenset()
    each = [value(engine, filters, q, assumptions) for q in quarters]
    sums: dict[str, float | None] = {}
    for name in YEAR_TO_DATE:
        parts = [getattr(v, name) for v in each]
        sums[name] = None if any(p is None for p in parts) else float(sum(parts))
    hidden = frozenset(name for name in YEAR_TO_DATE if any(name in v.hidden for v in each))
    return _span(quarters, last), sums, hidden


def year_to_date_blocked(quarter: str, assumptions: Assumptions) -> str | None:
    """Why the fiscal year to date of `quarter` cannot be summed, or None: a chosen baseline inside
    the year leaves its quarters up to it with nothing before them to compare against."""
    first = FiscalQuarter(FiscalQuarter.parse(quarter).year, 1)
    baseline = assumptions.baseline_quarter
    if baseline is not None and FiscalQuarter.parse(baseline) >= first:
        return f"the baseline {baseline} is not before every quarter of the year"
    return None


def _span(quarters: list[str], last: FiscalQuarter) -> str:
    span = quarters[0] if len(quarters) == 1 else f"{quarters[0]} to {quarters[-1]}"
    return f"FY{last.year} to date ({span})"
