"""Value: what did better service buy us? The self-service shift in dollars and staff hours, contacts
avoided and customer hours saved from shorter waits, against a baseline quarter, with every
assumption on the page, adjustable, and carried in the link."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, state
from dashboard.briefing import Figure
from dashboard.filters import current, describe, read_quarter
from metrics.analyses.value import (
    Assumptions,
    Value,
    baseline_choices,
    baseline_for,
    starts_after,
    year_to_date_blocked,
)
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.formatting import NO_DATA, SUPPRESSED, format_value


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    exhibits.title(f"What did it buy us? The value of better service in {quarter}")
    if quarter is None:
        st.info("No data yet: the value figures need transactions and contacts.")
        return
    shipped = data.assumptions()
    # The figures come first on the page, but the assumption controls must run before them.
    figures_area = st.container()
    assumptions = _adjust(shipped, quarter)
    try:
        figures = data.value_figures(filters, quarter, assumptions)
    except CxError as error:  # a broken input or assumption: say which, keep the page
        figures_area.error(f"The value figures cannot be computed: {error}")
        return
    with figures_area:
        st.caption(
            f"{quarter} against the baseline {figures.baseline}; {describe(filters)}."
            + (
                " Channel filters are left out: the self-service shift is a move between channels."
                if figures.ignored_filters
                else ""
            )
        )
        chosen = (
            "four quarters before: the same season a year earlier"
            if figures.on_default_baseline
            else "chosen under Assumptions"
        )
        st.markdown(f"**Baseline: {figures.baseline}** ({chosen}; change it under *Assumptions* below).")
        first = starts_after(data.coverage(), figures.baseline)
        if first is not None:
            # Nothing before the data to measure against: said once, not as four "not computed" cards.
            covered = [
                q
                for q in baseline_choices(data.options()["quarters"], quarter)
                if FiscalQuarter.parse(q) >= FiscalQuarter.parse(first)
            ]
            if not covered:
                choose = f"The data has no quarter before {quarter} to be a baseline."
            elif len(covered) == 1:
                choose = f"Choose {covered[0]} as the baseline under *Assumptions* below."
            else:
                choose = f"Choose a baseline from {covered[0]} to {covered[-1]} under *Assumptions* below."
            st.info(
                f"**The data starts in {first}, after the baseline {figures.baseline}:** there is nothing "
                f"there to measure {quarter} against, so no value figure is computed. {choose}",
                icon=":material/info:",
            )
            _channels(figures)
            return
        unusual = data.unusual_baseline(filters, figures.baseline)
        steadier = data.usual_baseline(filters, quarter, assumptions) if unusual else None
        if unusual:
            st.warning(
                f"The baseline {figures.baseline} is an unusual quarter: "
                + "; ".join(unusual)
                + ". A saving "
                "measured against it is then largely that quarter passing, not the service improving: "
                "compare with another baseline before quoting it. " + _against_usual(steadier),
                icon=":material/warning:",
            )
        _headline(
            figures, data.value_year_to_date(filters, quarter, assumptions), unusual, steadier, assumptions
        )
        _workings(figures, assumptions)
        _channels(figures)
        if figures.gaps:
            st.warning(
                "Some figures could not be computed: " + "; ".join(figures.gaps) + ".", icon=":material/info:"
            )


# A figure or input the page could not work out for want of data (not for privacy: that is †); the
# warning below the figures says what is missing.
NOT_COMPUTED = "not computed"
UNKNOWN = "unknown"


def _money(amount: float | None, hidden: bool = False) -> str:
    if amount is None:
        return SUPPRESSED if hidden else NOT_COMPUTED
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.0f}"


def _count(amount: float | None, unit: str, hidden: bool = False) -> str:
    if amount is None:
        return SUPPRESSED if hidden else NOT_COMPUTED
    return f"{amount:,.0f} {unit}".strip()


def _figure(v: Value, name: str, unit: str = "") -> str:
    """One of `v`'s figures as read: dollars without a unit, else a count of `unit`; † when what it
    rests on is hidden, "not computed" when it is missing."""
    amount = getattr(v, name)
    return _money(amount, name in v.hidden) if not unit else _count(amount, unit, name in v.hidden)


def _against_usual(steadier: Value | None) -> str:
    """Say what the four figures are against the nearest same season that is not unusual, if any."""
    if steadier is None:
        return "No earlier year's same season is in the data and usual enough to compare with."
    return (
        f"Against {steadier.baseline}, the nearest same season in an earlier year that is not unusual: "
        f"{_figure(steadier, 'cost_avoided')} cost avoided, {_figure(steadier, 'staff_hours_freed', 'staff hours')} "
        f"freed, {_figure(steadier, 'contacts_avoided', 'contacts')} avoided and "
        f"{_figure(steadier, 'customer_hours_saved', 'customer hours')} saved waiting (choose it under "
        "*Assumptions* for its workings)."
    )


def _headline(
    v: Value,
    to_date: tuple[str, dict[str, float | None], frozenset[str]],
    unusual: list[str],
    steadier: Value | None,
    assumptions: Assumptions,
) -> None:
    """The four figures a leader quotes, each with what it rests on and its fiscal year to date; against
    an unusual baseline, each says so and gives its figure against the nearest usual one."""
    span, sums, hidden = to_date
    blocked = year_to_date_blocked(v.quarter, assumptions)
    if blocked:
        how = f": {blocked}"
    elif assumptions.baseline_quarter:
        how = f", each quarter against {assumptions.baseline_quarter}"
    else:
        how = ", each quarter against its own baseline (the same season a year earlier)"
    cards = (
        (
            "Cost avoided by the self-service shift",
            _figure(v, "cost_avoided"),
            f"{_figure(v, 'moved_to_self_service', 'transactions')} moved to self-service",
        ),
        (
            "Staff hours freed",
            _figure(v, "staff_hours_freed", "hours"),
            f"worth {_figure(v, 'staff_cost_of_hours_freed')} of staff time (part of the cost avoided)",
        ),
        (
            "Contacts avoided",
            _figure(v, "contacts_avoided", "contacts"),
            "fewer contacts per transaction than at the baseline",
        ),
        (
            "Customer hours saved waiting",
            _figure(v, "customer_hours_saved", "hours"),
            "a negative figure is time lost to longer waits",
        ),
    )
    so_far = (
        _money(sums["cost_avoided"], "cost_avoided" in hidden),
        _count(sums["staff_hours_freed"], "hours", "staff_hours_freed" in hidden),
        _count(sums["contacts_avoided"], "contacts", "contacts_avoided" in hidden),
        _count(sums["customer_hours_saved"], "hours", "customer_hours_saved" in hidden),
    )
    caveat = f" The baseline is unusual: {'; '.join(unusual)}." if unusual else ""
    against = [""] * len(cards)
    # On the page each card says so too, briefly (the warning above gives the reasons): a card is
    # what a leader quotes or screenshots, and it must not travel without its caveat.
    on_card = (
        ["  \n**Against an unusual baseline:** compare with another before quoting."] * len(cards)
        if unusual
        else [""] * len(cards)
    )
    if steadier is not None:
        usual = (
            _figure(steadier, "cost_avoided"),
            _figure(steadier, "staff_hours_freed", "hours"),
            _figure(steadier, "contacts_avoided", "contacts"),
            _figure(steadier, "customer_hours_saved", "hours"),
        )
        against = [
            f" Against {steadier.baseline}, the nearest same season that is not unusual: {shown}."
            for shown in usual
        ]
        on_card = [
            f"  \n**Against an unusual baseline.** Against {steadier.baseline}, a usual one: {shown}."
            for shown in usual
        ]
    exhibits.figures(
        [
            Figure(
                label, shown, f"{note}; {v.quarter} against {v.baseline}; {span}: {total}{how}.{caveat}{also}"
            )
            for (label, shown, note), total, also in zip(cards, so_far, against, strict=True)
        ]
    )
    # Two to a row: four to a row cut the labels and values short on a laptop screen.
    for row, totals, cautions in ((cards[:2], so_far[:2], on_card[:2]), (cards[2:], so_far[2:], on_card[2:])):
        for column, (label, shown, note), total, caution in zip(
            st.columns(2), row, totals, cautions, strict=True
        ):
            with column.container(border=True):
                st.metric(label, shown)
                st.caption(f"{note}.  \n**{span}:** {total}{how}.{caution}")


def _workings(v: Value, a: Assumptions) -> None:
    """Say how each figure is worked out, with the numbers that went in."""
    st.header("How the figures are worked out")
    share_now = _input(v, "self_service_share", "percent")
    share_then = _input(v, "baseline_self_service_share", "percent")
    rows = (
        (
            "Moved to self-service",
            f"transactions in {v.quarter} ({_input(v, 'transactions', 'integer')}) x the rise in the self-service share "
            f"({share_then} in {v.baseline} to {share_now})",
            _figure(v, "moved_to_self_service", "transactions"),
        ),
        (
            "Cost avoided",
            f"moved x (mean cost of an assisted transaction {_input(v, 'assisted_cost', 'dollars')} - of a "
            f"self-service one {_input(v, 'self_service_cost', 'dollars')}, each weighted by {v.quarter}'s "
            "channel mix)",
            _figure(v, "cost_avoided"),
        ),
        (
            "Staff hours freed",
            f"moved x the mean handle minutes of an assisted transaction / 60, at {_money2(a.staff_hourly_cost)} "
            "an hour",
            _figure(v, "staff_hours_freed", "hours"),
        ),
        (
            "Contacts avoided",
            f"(contacts per transaction {_input(v, 'baseline_contacts_per_transaction', 'ratio')} in {v.baseline} - "
            f"{_input(v, 'contacts_per_transaction', 'ratio')} now) x transactions now",
            _figure(v, "contacts_avoided", "contacts"),
        ),
        (
            "Customer hours saved",
            f"(mean wait {_input(v, 'baseline_mean_wait', 'duration')} in {v.baseline} - "
            f"{_input(v, 'mean_wait', 'duration')} now) x {_input(v, 'answered_contacts', 'integer')} answered contacts "
            "/ 3600",
            _figure(v, "customer_hours_saved", "hours"),
        ),
    )
    # A table, not bullets: the deck and the CSV carry the working with the figures.
    exhibits.table(
        f"How the figures are worked out, {v.quarter} against {v.baseline}",
        pl.DataFrame(
            {
                "Figure": [r[0] for r in rows],
                "Worked out as": [r[1] for r in rows],
                "Result": [r[2] for r in rows],
            }
        ),
        wrap=True,
    )
    st.caption(
        "Costs and handle minutes are assumptions from config/value_assumptions.toml (illustrative defaults: "
        "replace them with your agency's cost study). Adjust them below; adjusted values travel in the link."
    )


def _money2(amount: float | None) -> str:
    return UNKNOWN if amount is None else f"${amount:,.2f}"


def _transactions(count: float | None, hidden: bool) -> str:
    """A channel's transactions in a quarter (a channel with none has 0): † when hidden, "no data"
    when the quarter has none in any channel."""
    if count is None:
        return SUPPRESSED if hidden else NO_DATA
    return f"{count:,.0f}"


def _input(v: Value, name: str, fmt: str) -> str:
    """An input of `v`'s working as read: † when hidden, "unknown" when missing; a ratio to two places,
    dollars to the cent."""
    amount = getattr(v, name)
    if amount is None:
        return SUPPRESSED if name in v.hidden else UNKNOWN
    if fmt == "dollars":
        return _money2(amount)
    return f"{amount:.2f}" if fmt == "ratio" else format_value(amount, fmt)


def _channels(v: Value) -> None:
    """Transactions by channel at the baseline and now: where the shift happened."""
    st.header(f"Transactions by channel, {v.baseline} and {v.quarter}")
    table = v.channels.with_columns(
        pl.col("channel").map_elements(data.channel_label, return_dtype=pl.String).alias("label")
    )
    described = "; ".join(
        f"{row['label']} {_transactions(row['baseline_transactions'], row['baseline_transactions_hidden'])} -> "
        f"{_transactions(row['transactions'], row['transactions_hidden'])}"
        for row in table.iter_rows(named=True)
    )
    exhibits.chart(
        f"Transactions by channel, {v.baseline} and {v.quarter}",
        charts.transactions_by_channel(table, v.baseline, v.quarter),
        pl.DataFrame(
            {
                "Channel": table["label"],
                "Self-service": ["yes" if s else "no" for s in table["self_service"]],
                f"Transactions {v.baseline}": [
                    _transactions(x, h)
                    for x, h in zip(
                        table["baseline_transactions"], table["baseline_transactions_hidden"], strict=True
                    )
                ],
                f"Transactions {v.quarter}": [
                    _transactions(x, h)
                    for x, h in zip(table["transactions"], table["transactions_hidden"], strict=True)
                ],
                "Cost per transaction": [
                    _money2(x) if x is not None else "no assumption" for x in table["cost"]
                ],
                "Handle minutes": [
                    "" if s else (f"{m:g}" if m is not None else "no assumption")
                    for s, m in zip(table["self_service"], table["handle_minutes"], strict=True)
                ],
            }
        ),
        f"Bar chart of transactions by channel, {v.baseline} then {v.quarter}: {described}.",
        numbers=_channel_numbers(v.channels),
        metrics=["transactions"],
        table_title="Numbers behind the chart, with the cost assumptions",
    )


def _channel_numbers(channels: pl.DataFrame) -> pl.DataFrame:
    """The channels' numbers for export: a hidden count is †, one of a quarter with no data says so (a
    channel with none in a quarter with data has 0), and an assumption says in words why it has no
    number, rather than be marked hidden."""
    counts = [
        pl.when(pl.col(f"{column}_hidden"))
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.col(column).cast(pl.String).fill_null(NO_DATA))
        .alias(column)
        for column in ("transactions", "baseline_transactions")
    ]
    return channels.with_columns(
        *counts,
        pl.col("cost").cast(pl.String).fill_null("no assumption"),
        pl.when(pl.col("self_service"))
        .then(pl.lit("not applicable"))
        .otherwise(pl.col("handle_minutes").cast(pl.String).fill_null("no assumption"))
        .alias("handle_minutes"),
    ).drop("transactions_hidden", "baseline_transactions_hidden")


def _adjust(shipped: Assumptions, quarter: str) -> Assumptions:
    """Draw the assumption controls and return the assumptions in force; each adjusted value is a
    link parameter (`baseline`, `staff_cost`, `cost_<channel>`, `minutes_<channel>`)."""
    options = data.options()
    self_service = data.self_service_channels()
    earlier = baseline_choices(options["quarters"], quarter)
    with st.expander("Assumptions: adjust them here; the link carries what you change", expanded=False):
        columns = st.columns(2)
        with columns[0]:
            default = baseline_for(quarter, shipped)
            baseline = state.select(
                "Baseline quarter",
                earlier or [default],
                "baseline",
                default=default,
                help="The quarter the figures compare against: by default the same quarter a year before.",
                read=read_quarter,
            )
        with columns[1]:
            staff = state.number("Staff cost per hour ($)", "staff_cost", shipped.staff_hourly_cost, step=1.0)
        st.markdown("**Cost per transaction ($) and staff handle minutes, by channel**")
        costs: dict[str, float] = {}
        minutes: dict[str, float] = {}
        for channel in options["channels"]:
            label = data.channel_label(channel)
            left, right = st.columns(2)
            with left:
                costs[channel] = state.number(
                    f"{label}: cost ($)",
                    f"cost_{channel}",
                    shipped.cost_per_transaction.get(channel, 0.0),
                    step=0.1,
                )
            if channel not in self_service:
                with right:
                    minutes[channel] = state.number(
                        f"{label}: handle minutes",
                        f"minutes_{channel}",
                        shipped.handle_minutes.get(channel, 0.0),
                        step=1.0,
                    )
    # The default is each quarter's own (a year before it), not this quarter's for every quarter: kept
    # unset, the year to date compares each of its quarters with its own. A baseline the assumptions
    # file sets is a chosen one, kept.
    own = shipped.baseline_quarter is None and baseline == default
    return shipped.adjusted(
        baseline_quarter=None if own else baseline,
        staff_hourly_cost=staff,
        cost_per_transaction=costs,
        handle_minutes=minutes,
    )


render()
