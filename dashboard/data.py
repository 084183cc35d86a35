"""The one seam between Streamlit and the metric engine: a cached engine and cached results."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access
from metrics import events as events_file
from metrics import outcomes as outcome_files
from metrics.analyses import a11_report as a11
from metrics.analyses import (
    breaks,
    drivers,
    equity,
    gaps,
    headline,
    journeys,
    kpis,
    overview,
    release,
    trends,
    value,
    voice,
)
from metrics.analyses import outcomes as outcome_analysis
from metrics.catalog import Metric, load_catalog
from metrics.errors import CxError, Problem
from metrics.fiscal import FiscalQuarter, quarters_between
from metrics.interim import Interim, first_store, interim
from metrics.query import Engine, Filters, Query, settle
from metrics.settings import Settings
from metrics.store import store_path, wait_for_store
from metrics.warehouse import InputCoverage, Warehouse

# Seconds after switching to a new store by which every page run begun before has ended.
SWITCH_GRACE_S = 60
# The name of the thread the engine is opened on (a store's build, on new data).
OPENING_THREAD = "cx-open"
# On a first start, the rest of the store is built once the first visitor's page is drawn from the
# store of the overview's measures, so the two do not share the cores (a second on the sample), or
# after this many seconds if that page never finishes.
FIRST_PAGE_S = 30


class _Opening:
    """The engine being opened on a worker thread, once per server, with the steps of the store's
    build so far: the first start on new data builds the store, minutes at millions of responses,
    the store of the overview's measures first (`first_store`), answered from while the rest is built.
    When an earlier store built by the same code is there (an input or a metric file changed since),
    the server answers from it meanwhile (`interim`) and switches when the new store is in place."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.started = time.monotonic()
        self.done = threading.Event()
        self.engine: Engine | None = None
        self.error: Exception | None = None
        self.interim: Interim | None = None  # what is served while the newer store is built
        self.failed: Exception | None = None  # the newer store's build, when it failed
        self.drawn = threading.Event()  # a page was drawn in full (`page_drawn`)
        threading.Thread(target=self._open, name=OPENING_THREAD, daemon=True).start()

    def _open(self) -> None:
        try:
            settings = Settings.load()
            if settings.build == "never":
                # Serve only: wait for the store `cx build` writes rather than build one here.
                unloaded = Warehouse.unloaded(settings.data_dir, settings.memory_limit)
                wait_for_store(
                    store_path(unloaded, list(load_catalog().metrics.values()), settings.store_dir),
                    self._step,
                )
                unloaded.close()
            else:
                self.interim = interim(
                    settings.data_dir, settings.store_dir, settings.min_n, settings.memory_limit
                ) or first_store(
                    settings.data_dir, settings.store_dir, settings.min_n, settings.memory_limit, self._step
                )
                if self.interim is not None:
                    self.engine = self.interim.engine
                    self.done.set()
                    if self.interim.first:
                        self._step("the rest is prepared once this first page is drawn")
                        self.drawn.wait(FIRST_PAGE_S)
                        self._step("preparing the other measures")
            engine = Engine.open(
                settings.data_dir,
                settings.min_n,
                settings.store_dir,
                build=settings.build != "never",
                progress=self._step,
                memory_limit=settings.memory_limit,
            )
            self._switch(engine)
            settle()
        except Exception as error:  # raised again to the page that asks for the engine
            if self.engine is None:
                self.error = error
            else:  # the earlier store is still served; the page says the newer one failed
                self.failed = error
        finally:
            self.done.set()

    def _switch(self, engine: Engine) -> None:
        """Serve `engine` from now on. Results remembered from the interim engine go: a changed metric
        or input answers otherwise now. A page run under way may still remember one, so they go again
        once every run begun before the switch has ended."""
        interim, self.engine, self.interim = self.interim, engine, None
        if interim is not None:
            self._step("the new store is in place: its figures are shown from now on")
            st.cache_data.clear()
            time.sleep(SWITCH_GRACE_S)
            st.cache_data.clear()

    def _step(self, message: str) -> None:
        self.steps.append(message)
        print(f"cx build: {message}", file=sys.stderr, flush=True)  # the server's log keeps every step


# The opening begun as the server started (`open_early`), until the first visit takes it up.
_begun: _Opening | None = None


def open_early() -> None:
    """Begin opening the engine now, as the server starts (dashboard/server.py), rather than on the
    first visit: on new data the store's build is then under way before anyone asks for a page. No
    page is drawn from it until a visitor is let in (sign-in and the access file are checked per
    page, as before)."""
    global _begun
    _begun = _Opening()


@st.cache_resource(show_spinner=False)
def _opening() -> _Opening:
    global _begun
    begun, _begun = _begun, None  # one opening per server; after a failure the next visit starts anew
    return begun or _Opening()


def ready() -> None:
    """Wait until the engine is open, showing how the store's build is going meanwhile. The app calls
    this before anything reads data, outside every cached function: Streamlit would replay elements
    drawn inside one."""
    opening = _opening()
    if opening.done.wait(timeout=2.0):  # a built store opens in about a second: no message for that
        return
    shown = st.empty()
    while not opening.done.wait(timeout=1.0):
        shown.info(
            preparing(opening.steps, time.monotonic() - opening.started), icon=":material/hourglass_top:"
        )
    shown.empty()


def page_drawn() -> None:
    """Say a page was drawn in full (the app does, last): on a first start, the rest of the store is
    built from then on."""
    _opening().drawn.set()


def newer_build() -> str | None:
    """Return what a visitor reads while the server answers from an earlier store as a newer one is
    built (or after that build failed); None when the current store is served."""
    opening = _opening()
    shown, failed = opening.interim, opening.failed
    if shown is None and failed is None:
        return None
    if shown is None:
        return f"**The newest data could not be prepared:** {failed}. The figures shown are the last ones prepared."
    if shown.first and failed is not None:
        return (
            f"**The data could not be prepared in full:** {failed}. The overview's measures are ready; "
            "the others are counted from the rows, so their pages take longer."
        )
    if shown.first:
        now = f" Now: {opening.steps[-1]}" if opening.steps else ""
        return (
            "**The data is being prepared for its first use.** The overview's measures are ready; the "
            "others are counted from the rows until the rest is prepared, so their pages take longer "
            f"({_elapsed(time.monotonic() - opening.started)} so far).{now}"
        )
    built = shown.built.strftime("%d %B %Y, %H:%M UTC")
    changes = []
    if shown.inputs_changed:
        changes.append(
            "the data of "
            + ", ".join(shown.inputs_changed)
            + " changed since: the figures are those of the earlier files"
        )
    if shown.metrics_changed:
        changes.append(
            "metric files added or changed since ("
            + ", ".join(shown.metrics_changed)
            + ") are already counted by their current definitions"
        )
    if failed is not None:
        state = f"Preparing the newest data failed: {failed}."
    else:
        now = f" Now: {opening.steps[-1]}" if opening.steps else ""
        state = f"Newer data is being prepared ({_elapsed(time.monotonic() - opening.started)} so far).{now}"
    return f"**Shown: the data prepared on {built}**; " + "; ".join(changes) + f". {state}"


def preparing(steps: Sequence[str], seconds: float) -> str:
    """Return what a visitor reads while the data is prepared: what is going on, how long it has
    taken and the last step the build reported."""
    elapsed = _elapsed(seconds)
    head = (
        "**Preparing the data for its first use.** On new data the dashboard builds its fast store once, "
        "the overview's measures first: the overview shows in 10-20 seconds for the sample and 2-3 minutes for "
        "10 million responses on two cores, the rest follows (`cx build` does it ahead of time). "
        f"{elapsed} so far."
    )
    return f"{head}\n\nNow: {steps[-1]}" if steps else f"{head}\n\nNow: reading and checking the inputs"


def _elapsed(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s" if seconds >= 60 else f"{int(seconds)} s"


def _opened() -> Engine:
    """Return the engine over the configured data directory, opened once per server: it answers from
    the store of the current inputs, building the store first when the inputs changed."""
    opening = _opening()
    opening.done.wait()
    if opening.error is not None:
        _opening.clear()  # the next visit tries again, after the data or settings are mended
        raise opening.error
    assert opening.engine is not None
    return opening.engine


def viewer() -> frozenset[str] | None:
    """Return the services the person looking may see (None: every service), by the access file."""
    return access.scope(_services())


@st.cache_data(show_spinner=False)
def _services() -> tuple[str, ...]:
    """Return every service in the data (which the access file is checked against)."""
    return _opened().values("service")


def engine() -> Engine:
    """Return the engine as the person looking may use it: confined to the services they may see.
    A cached function that takes no Filters takes `viewer()` as an argument too, so one person's
    answers are never served to another; Filters carry the services already (`filters.sidebar`)."""
    return _opened().confined(viewer())


def run(query: Query) -> pl.DataFrame:
    """Return a query's result as the person looking may see it."""
    return _run(query, viewer())


@st.cache_data(show_spinner=False, max_entries=2000)
def _run(query: Query, scope: frozenset[str] | None) -> pl.DataFrame:
    return _opened().confined(scope).run(query)


def metric(name: str) -> Metric:
    """Return a metric of the catalog."""
    return engine().metric(name)


def choice(name: str) -> str:
    """Return a measure as a list of choices names it: its label, and "(unavailable)" when the inputs it
    reads cannot be used, so that whoever picks it knows before the page says why."""
    found = metric(name)
    return f"{found.label} (unavailable)" if engine().unusable(found) else found.label


@st.cache_resource(show_spinner=False)
def page_css() -> str:
    """Return the pages' stylesheet (on a phone, on paper), read once per server."""
    return (Path(__file__).parent / "page.css").read_text(encoding="utf-8")


def options() -> dict[str, list[str]]:
    """Return the choices the filters offer: quarters, services (those the person may see), channels
    and segments in the data."""
    return _options(viewer())


@st.cache_data(show_spinner=False)
def _options(scope: frozenset[str] | None) -> dict[str, list[str]]:
    coverage = _opened().warehouse.coverage()
    quarters = sorted({q for r in coverage for q in (r.first_quarter, r.last_quarter) if q})
    every = quarters_between(quarters[0], quarters[-1]) if quarters else []
    responses = next(r for r in coverage if r.input == "responses")
    segments = run(Query.of("responses", by=["segment"]))["segment"].to_list() if responses.usable else []
    return {
        "quarters": every,
        "services": sorted({s for r in coverage for s in r.services if scope is None or s in scope}),
        "channels": sorted({c for r in coverage for c in r.channels}),
        "segments": segments,
    }


@st.cache_data(show_spinner=False)
def channels() -> pl.DataFrame:
    """Return the channel seed: each channel's key, people-facing label and self-service flag."""
    return engine().warehouse.seed("channels")


@st.cache_data(show_spinner=False)
def channel_labels() -> dict[str, str]:
    """Return the people-facing name of each channel key."""
    seed = channels()
    return dict(zip(seed["channel"], seed["label"], strict=True))


@st.cache_data(show_spinner=False)
def self_service_channels() -> set[str]:
    """Return the channels counted as self-service (sql/seeds/channels.csv)."""
    seed = channels()
    return set(seed.filter(pl.col("self_service"))["channel"])


def channel_label(channel: str) -> str:
    """Return a channel's people-facing name."""
    return channel_labels().get(channel, channel)


def labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Return a result with its channel keys (if any) as people-facing names, for charts and tables;
    CSV downloads keep the keys, as the query API and `cx query` give them."""
    if "channel" not in frame.columns:
        return frame
    return frame.with_columns(pl.col("channel").replace_strict(channel_labels(), default=pl.col("channel")))


@st.cache_data(show_spinner=False)
def tile(name: str, filters: Filters, quarter: str) -> kpis.Tile:
    """Return a KPI tile."""
    return kpis.tile(engine(), name, filters, quarter)


@st.cache_data(show_spinner=False)
def tiles(names: tuple[str, ...], filters: Filters, quarter: str) -> list[kpis.Tile]:
    """Return KPI tiles, computed side by side."""
    return kpis.tiles(engine(), names, filters, quarter)


def tile_or_problem(name: str, filters: Filters, quarter: str) -> kpis.Tile | CxError:
    """Return a KPI tile, or the error that keeps it from being computed (a broken input, say), so a
    page can show the other tiles."""
    try:
        return tile(name, filters, quarter)
    except CxError as error:
        return error


def tiles_or_problems(names: tuple[str, ...], filters: Filters, quarter: str) -> list[kpis.Tile | CxError]:
    """Return `tile_or_problem` of each name: all together when every tile can be computed, else one
    by one, so each tile that cannot be computed shows its own error."""
    try:
        return list(tiles(names, filters, quarter))
    except CxError:
        return [tile_or_problem(name, filters, quarter) for name in names]


@st.cache_data(show_spinner=False)
def ask_overview(filters: Filters, quarter: str) -> None:
    """Answer every question of the overview's parts in one batch before they draw, each then read
    from the engine (metrics/analyses/overview.py)."""
    overview.ask_ahead(engine(), filters, quarter)


@st.cache_data(show_spinner=False)
def headline_measures(filters: Filters, quarter: str) -> tuple[str, ...]:
    """Return the headline measures as the view's quarter asked them (trust, or Trust (thumbs))."""
    return kpis.headline_measures(engine(), filters, quarter)


@st.cache_data(show_spinner=False)
def answer(filters: Filters, quarter: str) -> str:
    """Return the overview's answer in words: trust this quarter, on the quarter, the year and to date,
    on the scale the quarter asked it."""
    trust = headline_measures(filters, quarter)[0]
    return headline.describe_answer(headline.answer(engine(), filters, quarter, trust))


@st.cache_data(show_spinner=False)
def largest_moves(
    names: Sequence[str], dimensions: Sequence[str], filters: Filters, quarter: str
) -> kpis.Moves:
    """Return the largest significant moves of the quarter, and how many groups were tested."""
    return kpis.largest_moves(engine(), tuple(names), tuple(dimensions), filters, quarter)


@st.cache_data(show_spinner=False)
def internal_only(filters: Filters) -> str:
    """Return the view's release note: why its survey numbers are internal only, or empty."""
    return release.release_note(release.internal_only(engine(), filters))


@st.cache_data(show_spinner=False)
def equity_gaps(filters: Filters, floor: float) -> gaps.Gaps:
    """Return the view's largest equity gaps of at least `floor`, beyond noise."""
    return gaps.gaps(engine(), filters, floor)


@st.cache_data(show_spinner=False)
def series(
    name: str, filters: Filters, grain: str, split: str | None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Return a metric over time."""
    return trends.series(engine(), name, filters, grain, split)


@st.cache_data(show_spinner=False)
def series_many(names: tuple[str, ...], filters: Filters, grain: str) -> list[pl.DataFrame]:
    """Return several metrics over time, asked at once."""
    return [frame for frame, _ in trends.series_many(engine(), names, filters, grain)]


@st.cache_data(show_spinner=False)
def why_empty(name: str, filters: Filters, nothing: str = trends.NOTHING, offered: bool = True) -> str:
    """Say why a measure has no series under the filters: not asked (or asked on its other scale), or
    no data (`nothing`); `offered`: the page offers the other scale's measure."""
    return trends.why_empty(engine(), name, filters, nothing, offered)


@st.cache_data(show_spinner=False)
def where_it_stops(name: str, filters: Filters) -> str | None:
    """Return where a measure's quarterly line stops before the period does, and why."""
    frame, _ = series(name, filters, "fiscal_quarter", None)
    return trends.where_it_stops(engine(), name, filters, frame)


@st.cache_data(show_spinner=False)
def wording_changes(filters: Filters, items: tuple[str, ...] = ("trust",)) -> list[trends.WordingChange]:
    """Return where the trust question (or the other `items`) changed."""
    return trends.wording_changes(engine(), filters, items)


@st.cache_data(show_spinner=False)
def events() -> tuple[events_file.Event, ...]:
    """Return the events of config/events.toml (a bad file raises CxError naming it)."""
    return events_file.load_events()


@st.cache_data(show_spinner=False)
def population_breaks(name: str, filters: Filters) -> list[breaks.Break]:
    """Return the quarters where the channels or survey versions behind a measure changed."""
    return breaks.breaks(engine(), name, filters)


@st.cache_data(show_spinner=False)
def breakdown(
    name: str, dimension: str, filters: Filters, within: tuple[tuple[str, str], ...]
) -> equity.Breakdown:
    """Return a metric by the groups of a dimension against the overall."""
    return equity.breakdown(engine(), name, dimension, filters, within)


@st.cache_data(show_spinner=False)
def groups(dimension: str, name: str) -> tuple[str, ...]:
    """Return the values of `dimension` to narrow measure `name` to: those its data holds, or, where
    its rows do not carry the dimension, those any input's do."""
    carried = dimension in engine().dimensions(metric(name))
    return engine().values(dimension, name if carried else None)


@st.cache_data(show_spinner=False)
def opening_measure(names: tuple[str, ...], filters: Filters) -> str:
    """Return the measure a page of `names` opens on: trust as the view's surveys asked it, else the
    first that can be computed."""
    return kpis.opening_measure(engine(), names, filters)


@st.cache_data(show_spinner=False)
def as_asked(
    names: tuple[str, ...], filters: Filters, within: tuple[tuple[str, str], ...] = ()
) -> tuple[str, ...]:
    """Return `names` with trust on the scale the view's surveys asked it."""
    return breaks.as_asked(engine(), names, filters, dict(within))


@st.cache_data(show_spinner=False)
def theme_grid(dimension: str, filters: Filters, within: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    """Return the four themes across the groups of a dimension."""
    return equity.theme_grid(engine(), dimension, filters, within)


@st.cache_data(show_spinner=False)
def coverage() -> list[InputCoverage]:
    """Return what each input holds."""
    return engine().warehouse.coverage()


def metric_problems() -> tuple[Problem, ...]:
    """Return why each metric file left out of the catalog was left out (header, sandbox, parse)."""
    return engine().catalog.problems


def input_problems() -> list[Problem]:
    """Return every data-contract problem of every input, each naming its file, column and value."""
    return engine().warehouse.check()


@st.cache_data(show_spinner="Computing the value figures...")
def value_figures(filters: Filters, quarter: str, assumptions: value.Assumptions) -> value.Value:
    """Return the value figures for a quarter against its baseline under the given assumptions."""
    return value.value(engine(), filters, quarter, assumptions)


@st.cache_data(show_spinner=False)
def unusual_baseline(filters: Filters, baseline: str) -> list[str]:
    """Return what is unusual about a baseline quarter against its neighbours."""
    return value.unusual_baseline(engine(), filters, baseline)


@st.cache_data(show_spinner=False)
def usual_baseline(filters: Filters, quarter: str, assumptions: value.Assumptions) -> value.Value | None:
    """Return the value figures against the nearest same season before the baseline that is not unusual."""
    return value.usual_baseline(engine(), filters, quarter, assumptions)


@st.cache_data(show_spinner=False)
def value_year_to_date(
    filters: Filters, quarter: str, assumptions: value.Assumptions
) -> tuple[str, dict[str, float | None], frozenset[str]]:
    """Return the fiscal year to date and the sums of the headline value figures over it."""
    return value.year_to_date(engine(), filters, quarter, assumptions)


@st.cache_data(show_spinner=False)
def assumptions() -> value.Assumptions:
    """Return the shipped value assumptions (config/value_assumptions.toml)."""
    return value.load_assumptions()


@st.cache_data(show_spinner=False)
def journey(service: str, filters: Filters) -> journeys.Journey:
    """Return a service's journey: theme scores and responses per stage, and the moment that matters."""
    return journeys.journey(engine(), service, filters)


@st.cache_data(show_spinner=False)
def journey_default_service(filters: Filters) -> str | None:
    """Return the service with the most survey responses under the filters."""
    return journeys.default_service(engine(), filters)


@st.cache_data(show_spinner=False)
def journey_by_segment(
    service: str, theme: str, filters: Filters
) -> tuple[pl.DataFrame, dict[str, journeys.Moment | None]]:
    """Return one theme by segment and stage for a service, with each segment's moment that matters."""
    return journeys.by_segment(engine(), service, theme, filters)


@st.cache_data(show_spinner=False)
def by_wait(name: str, filters: Filters, split: str | None) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Return a measure by wait band (and by `split`), with the filters its answers cannot take."""
    return drivers.by_wait(engine(), name, filters, split)


@st.cache_data(show_spinner="Ranking the drivers of trust...")
def driver_importance(filters: Filters) -> drivers.Importance:
    """Return the drivers of trust ranked by relative importance, with performance."""
    return drivers.importance(engine(), filters)


@st.cache_data(show_spinner=False)
def v2_checklist(filters: Filters) -> pl.DataFrame:
    """Return the v2 went-well and could-improve shares per driver."""
    return drivers.v2_checklist(engine(), filters)


def a11_report(quarter: str) -> a11.A11Report:
    """Return the quarter's A-11 submission as pages show it: small cells hidden, and only the
    services the person may see."""
    return _a11_report(quarter, viewer())


@st.cache_data(show_spinner=False)
def _a11_report(quarter: str, scope: frozenset[str] | None) -> a11.A11Report:
    current = _opened().confined(scope)
    return a11.shown(a11.a11_report(current, FiscalQuarter.parse(quarter)), current.min_n)


@st.cache_data(show_spinner=False, max_entries=200)
def verbatims(
    filters: Filters,
    group: tuple[str, str] | None,
    theme: str | None,
    trust: str | None,
    limit: int = voice.SHOWN,
) -> voice.Verbatims:
    """Return the newest comments the view may list (metrics/analyses/voice.py)."""
    return voice.verbatims(engine(), filters, group, theme, trust, limit)


def suggested() -> list[voice.Suggestion] | None:
    """Return the themes the comments suggest, or None for a person who may see only some services."""
    return _suggested(viewer())


@st.cache_data(show_spinner=False)
def _suggested(scope: frozenset[str] | None) -> list[voice.Suggestion] | None:
    return voice.suggested(_opened().confined(scope))


@st.cache_data(show_spinner=False)
def outcomes() -> tuple[tuple[outcome_files.Outcome, ...], tuple[Problem, ...]]:
    """Return the outcomes of config/outcomes/ and a problem for every file that did not read."""
    return outcome_files.load_outcomes(engine().catalog.metrics)


def outcomes_progress(names: tuple[str, ...], quarter: str) -> list[outcome_analysis.OutcomeProgress]:
    """Return the progress of the outcomes `names` as of a quarter, as the person looking may see it."""
    return _outcomes_progress(names, quarter, viewer())


@st.cache_data(show_spinner=False)
def _outcomes_progress(
    names: tuple[str, ...], quarter: str, scope: frozenset[str] | None
) -> list[outcome_analysis.OutcomeProgress]:
    found = {o.name: o for o in outcomes()[0]}
    return outcome_analysis.progress_many(_opened().confined(scope), [found[n] for n in names], quarter)
