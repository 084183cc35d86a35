"""The benchmark behind `cx bench`: the pages' numbers through the store, against a direct DuckDB scan
of the input rows and a plain pandas implementation of the same questions."""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cx.protocol import StreamlitSession
from cx.serve import healthy, replica_ports, streamlit_command
from metrics.analyses import (
    drivers,
    equity,
    gaps,
    headline,
    journeys,
    kpis,
    outcomes,
    overview,
    trends,
    value,
    voice,
)
from metrics.catalog import load_catalog
from metrics.dimensions import EQUITY_DIMENSIONS
from metrics.errors import CxError
from metrics.measures import THEME_METRICS
from metrics.outcomes import load_outcomes
from metrics.query import Engine, Filters, Query, settle
from metrics.settings import DEFAULT_MEMORY_LIMIT
from metrics.store import clean_scratch
from metrics.warehouse import Warehouse

Progress = Callable[[str], None]
SHARE_ITEMS = ("trust", "ease", "effectiveness", "satisfaction")
# How long a dashboard server may take to answer its health check (not to build: that comes after).
SERVER_START_S = 120


@dataclass(frozen=True)
class Interaction:
    """One scripted change on one page: the page's filters and its own choices."""

    page: str
    filters: Filters
    choice: tuple[str, ...]


def page_numbers(engine: Engine, step: Interaction) -> object:
    """Compute every number a page shows after `step`, through the functions the page calls."""
    f, c = step.filters, step.choice
    quarter = f.end or ""
    if step.page == "overview":
        # Its questions in one batch first, as the page asks them.
        overview.ask_ahead(engine, f, quarter)
        # Trust as the quarter asked it (five-point, or thumbs where only that), as the page picks it.
        measures = kpis.headline_measures(engine, f, quarter)
        apart = kpis.kept_apart(engine, measures)
        tiles = kpis.tiles(engine, (*kpis.OVERVIEW_COUNTS, *measures, *apart), f, quarter)
        # The answer in words and the equity gaps searched over every group, as the page shows them.
        return (
            tiles,
            headline.answer(engine, f, quarter, measures[0]),
            # The themes as the tiles lead with them: Trust (thumbs) where the quarter asked only that.
            kpis.largest_moves(engine, overview.moved(measures), overview.MOVED_BY, f, quarter),
            gaps.gaps(engine, f),
        )
    if step.page == "trends":
        split = c[2] or None
        return trends.series(engine, c[0], f, c[1], split), trends.wording_changes(engine, f)
    if step.page == "equity":
        within = ((c[2], c[3]),) if c[2] else ()
        return equity.breakdown(engine, c[0], c[1], f, within), equity.theme_grid(engine, c[1], f, within)
    if step.page == "journeys":
        return journeys.journey(engine, c[0], f), journeys.by_segment(engine, c[0], c[1], f)
    if step.page == "drivers":
        by = ["wait_band", *([c[1]] if c[1] else [])]
        query, _ = engine.applicable(f.query(c[0], by=by))
        return engine.run(query), drivers.importance(engine, f), drivers.v2_checklist(engine, f)
    if step.page == "voice":
        spoken = tuple(m.name for m in voice.themes(engine))
        group = (c[2], c[3]) if c[2] else None
        return (
            kpis.tiles(engine, spoken, f, quarter),
            trends.series_many(engine, spoken, f, "fiscal_quarter"),
            equity.breakdown(engine, c[0], c[1], f),
            voice.verbatims(engine, f, group, c[0], None),
            voice.suggested(engine),
        )
    if step.page == "outcomes":
        found, _ = load_outcomes(engine.catalog.metrics)
        return outcomes.progress_many(engine, found, quarter)
    return value.value(engine, f, quarter, value.load_assumptions())


def script(engine: Engine, count: int, seed: int = 8) -> list[Interaction]:
    """Return `count` interactions cycling through the pages, with filters and choices drawn from the data."""
    rng = random.Random(seed)
    rows = engine.warehouse.coverage()
    quarters = sorted({q for r in rows for q in (r.first_quarter, r.last_quarter) if q})
    responses = next(r for r in rows if r.input == "responses")
    services, channels = list(responses.services), list(responses.channels)
    segments = [str(s) for s in engine.run(Query.of("responses", by=["segment"]))["segment"].to_list()]
    last = quarters[-1]
    ends = [kpis.quarters_back(last, k) for k in range(4)]
    pages = ("overview", "trends", "equity", "journeys", "drivers", "value", "voice", "outcomes")
    steps = []
    for i in range(count):
        where: dict[str, tuple[str, ...]] = {}
        # No filter, a service, two channels, a segment: each page gets each in turn over 32 changes
        # (by i % 4 alone, the overview, every eighth, never had a page filter).
        kind = (i + i // len(pages)) % 4
        if kind == 1:
            where["service"] = (rng.choice(services),)
        elif kind == 2:
            where["channel"] = tuple(rng.sample(channels, 2))
        elif kind == 3:
            where["segment"] = (rng.choice(segments),)
        end = rng.choice(ends)
        filters = Filters(tuple(where.items()), kpis.quarters_back(end, rng.choice((3, 7, 11))), end)
        page = pages[i % len(pages)]
        choice: tuple[str, ...] = ()
        if page == "trends":
            split = rng.choice(("", "channel", "age_band", "segment"))
            choice = (rng.choice(THEME_METRICS), rng.choice(trends.GRAINS), split)
        elif page == "equity":
            within = rng.choice(("", "urbanicity"))
            choice = (
                rng.choice(THEME_METRICS),
                rng.choice(EQUITY_DIMENSIONS),
                within,
                "Rural" if within else "",
            )
        elif page == "journeys":
            choice = (rng.choice(services), rng.choice(THEME_METRICS))
        elif page == "drivers":
            choice = (rng.choice(("trust_after_contact", "ease_after_contact")), rng.choice(("", "channel")))
        elif page == "voice":
            theme = rng.choice([m.name for m in voice.themes(engine)])
            group = rng.choice(("", "age_band", "language"))
            value = {"": "", "age_band": "65+", "language": "Spanish"}[group]
            choice = (theme, rng.choice(EQUITY_DIMENSIONS), group, value)
        steps.append(Interaction(page, filters, choice))
    return steps


def questions() -> list[Query]:
    """Return the metric questions answered three ways: store, DuckDB scan of the rows, pandas."""
    found = []
    for i, item in enumerate(SHARE_ITEMS):
        found += [
            Query.of(item, ["fiscal_quarter"], {}, "FY2025 Q1", "FY2026 Q4"),
            Query.of(item, ["service"], {"channel": ["website", "phone"]}, "FY2026 Q1", "FY2026 Q4"),
            Query.of(
                item, [EQUITY_DIMENSIONS[i]], {"service": "Passport Services"}, "FY2025 Q1", "FY2026 Q4"
            ),
            Query.of(item, ["month", "channel"], {"segment": "Travelers"}),
        ]
    found += [
        Query.of("wait_median", ["fiscal_quarter"], {}, "FY2025 Q1", "FY2026 Q4"),
        Query.of("wait_median", ["service"], {"channel": "phone"}, "FY2026 Q1", "FY2026 Q4"),
    ]
    return found


def agreement_queries(engine: Engine) -> list[Query]:
    """Return queries over every metric, with breakdowns and filters that leave some cells hidden."""
    shapes: list[tuple[list[str], dict[str, str | list[str]], str | None, str | None]] = [
        ([], {}, None, None),
        (["fiscal_quarter"], {"service": "Passport Services"}, "FY2025 Q1", "FY2026 Q4"),
        (["service", "channel"], {}, "FY2026 Q4", "FY2026 Q4"),
        (["age_band", "service"], {"channel": ["phone", "in_person"]}, "FY2026 Q3", "FY2026 Q4"),
        (["month", "segment"], {"segment": ["Boaters", "Businesses"]}, None, None),
        (["race_ethnicity"], {"service": "Vessel Registration", "channel": "fax"}, "FY2026 Q4", "FY2026 Q4"),
    ]
    found = []
    for i, name in enumerate(engine.catalog.metrics):
        carried = set(engine.dimensions(engine.metric(name)))
        for by, where, start, end in (shapes[i % len(shapes)], shapes[(i + 3) % len(shapes)]):
            dims = {*by, *where} | ({"fiscal_quarter"} if start else set())
            if dims <= carried:
                found.append(Query.of(name, by, where, start, end))
    return found


def same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """Return whether two results agree: the same groups, counts and hidden cells, and values equal to
    nine significant digits (sums of fractions may round differently in the last bit)."""
    if a.columns != b.columns or a.height != b.height:
        return False
    for left, right in zip(a.iter_rows(), b.iter_rows(), strict=True):
        for x, y in zip(left, right, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                    return False
            elif x != y:
                return False
    return True


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _peak_rss_mb(usage: resource.struct_rusage | None = None) -> float:
    """Return the peak resident memory of `usage` (this process's own when None) in MB."""
    peak = (usage or resource.getrusage(resource.RUSAGE_SELF)).ru_maxrss
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _answer_all(asked: list[Query], answer: Callable[[Query], object]) -> float:
    """Return the seconds taken to answer every question, one after the other."""
    started = time.perf_counter()
    for query in asked:
        answer(query)
    return time.perf_counter() - started


# What loading the pandas baseline takes at its peak, per response with as many contacts: about
# 900 bytes measured on the 200,000-response sample (frames, the period labels, Arrow's buffers).
PANDAS_BYTES_PER_RESPONSE = 1_000


def pandas_fits(responses: int) -> str | None:
    """Return why the pandas baseline is left out at this size, or None when it fits in four fifths
    of the memory now available."""
    need = responses * PANDAS_BYTES_PER_RESPONSE
    available = _available_bytes()
    if need <= 0.8 * available:
        return None
    return (
        f"pandas would need about {need / 2**30:.0f} GiB for {responses:,} responses; "
        f"{available / 2**30:.0f} GiB is available"
    )


def _available_bytes() -> int:
    """Memory a new allocation can have: Linux's MemAvailable (free memory plus the page cache it can
    drop), else the free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def run_bench(
    responses: int,
    contacts: int,
    data_dir: Path,
    interactions: int = 60,
    min_n: int = 10,
    progress: Progress | None = None,
    pandas: bool | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> dict[str, Any]:
    """Generate the data in `data_dir` if missing, build the store, measure; return the figures.
    `pandas` runs the pandas baseline (true), leaves it out (false) or runs it when it fits (None)."""
    say = progress or (lambda _: None)
    if responses < 1 or contacts < 1:
        raise CxError(f"--responses and --contacts must be 1 or more (got {responses:,} and {contacts:,})")
    if interactions < 1:
        raise CxError(f"--interactions: value {interactions} must be 1 or more")
    if not (data_dir / "responses.parquet").is_file():
        say(f"generating {responses:,} responses and {contacts:,} contacts in {data_dir}")
        _cx(["sample", "--out", str(data_dir), "--responses", str(responses), "--contacts", str(contacts)])
    store_dir = data_dir / ".cx-store"
    say("building the store (checks, tables, cubes)")
    # Built afresh in a child process, so its time and peak memory are the build's alone, and this
    # process's peak memory is the serving side's.
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".bench-build-") as scratch:
        build_s, build_peak_rss_mb = _measured_build(data_dir, Path(scratch))
        say(f"store built in {build_s:.1f}s, {build_peak_rss_mb:.0f} MB at its peak")
        say("first page: a dashboard server started on data it has no store for, to its overview drawn")
        # The server builds a store of its own, the overview's measures first, and is stopped once
        # the page is drawn: what it left goes, and the measured build's store is the one the rest
        # of the benchmark reads (built from the same inputs and code, so under the same name).
        store_dir.mkdir(exist_ok=True)
        for old in store_dir.glob("store-*.duckdb"):
            old.unlink()
        first_page_s = first_page(data_dir, store_dir, min_n)
        say(f"first page: {first_page_s:.1f}s")
        for left in store_dir.glob("store-*.duckdb"):
            left.unlink()
        clean_scratch(store_dir)  # what the stopped server's build had half written
        for built in Path(scratch).glob("store-*.duckdb"):
            os.replace(built, store_dir / built.name)

    say("cold start: opening the store and computing the overview")
    started = time.perf_counter()
    engine = Engine.open(data_dir, min_n, store_dir, memory_limit=memory_limit)
    if engine.store is None:
        raise CxError(f"the store in {store_dir} was not built")
    steps = script(engine, interactions)
    page_numbers(
        engine, Interaction("overview", Filters((), steps[0].filters.start, steps[0].filters.end), ())
    )
    cold_start_s = time.perf_counter() - started
    say(f"cold start: {cold_start_s:.2f}s")
    settle()  # as the server does once its data is open

    say(f"{interactions} scripted interactions, each computing its page's numbers afresh")
    # Each change's page and time in the script's order: the JSON lists them (`changes`), so that a
    # run's slowest is named without running the script again; the figures by page are taken from them.
    timed: list[tuple[str, float]] = []
    for number, step in enumerate(steps, start=1):
        engine.forget_results()
        started = time.perf_counter()
        page_numbers(engine, step)
        timed.append((step.page, 1000 * (time.perf_counter() - started)))
        if number % 10 == 0:
            say(f"  {number}/{interactions}")
    latencies: dict[str, list[float]] = {}
    for page, ms in timed:
        latencies.setdefault(page, []).append(ms)
    every = [ms for _, ms in timed]
    p50, p95, slowest = statistics.median(every), _percentile(every, 0.95), max(every)
    peak_rss_mb = _peak_rss_mb()
    # The headline figures as soon as they are measured: the comparisons after them take longest.
    say(
        f"interactions: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {slowest:.1f} ms; "
        f"peak memory so far {peak_rss_mb:.0f} MB"
    )

    skipped = (
        "left out (--skip-pandas)" if pandas is False else pandas_fits(responses) if pandas is None else None
    )
    say("the same questions: store, DuckDB scan of the rows" + ("" if skipped else ", pandas"))
    scan = _scanning(data_dir, engine.store.path, min_n, memory_limit)
    asked = questions()
    engine.forget_results()
    fast_s = _answer_all(asked, engine.run)
    scan_s = _answer_all(asked, scan.run)
    pandas_s = pandas_load_s = None
    pandas_matches = None
    if skipped:
        say(f"pandas baseline skipped: {skipped}")
    else:
        from cx.bench_pandas import PandasAnswers

        loaded = time.perf_counter()
        frames = PandasAnswers.load(data_dir)
        pandas_load_s = time.perf_counter() - loaded
        pandas_s = _answer_all(asked, frames.answer)
        # pandas computes true counts: it is compared with the engine's exact answers.
        engine.exact = True
        try:
            pandas_matches = all(frames.agrees(q, engine.run(q)) for q in asked)
        finally:
            engine.exact = False
        del frames

    checks = agreement_queries(engine)
    say(f"checking the store against the direct computation on {len(checks)} queries")
    matches = all(same(engine.run(q), scan.run(q)) for q in checks)
    # The rows measured, not those asked for: a folder that already has data is measured as it is.
    held = {r.input: r.rows for r in engine.warehouse.coverage()}
    return {
        "responses": held.get("responses", responses),
        "contacts": held.get("contacts", contacts),
        "machine": _machine(),
        "build_s": round(build_s, 1),
        "build_peak_rss_mb": round(build_peak_rss_mb),
        "first_page_s": round(first_page_s, 1),
        "store_mb": round(engine.store.path.stat().st_size / 2**20, 1),
        "cold_start_s": round(cold_start_s, 2),
        "interactions": len(every),
        "interaction_p50_ms": round(p50, 1),
        "interaction_p95_ms": round(p95, 1),
        "interaction_max_ms": round(slowest, 1),
        "pages": {
            page: {
                "interactions": len(ms),
                "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(_percentile(ms, 0.95), 1),
                "max_ms": round(max(ms), 1),
            }
            for page, ms in latencies.items()
        },
        "changes": [{"page": page, "ms": round(ms, 1)} for page, ms in timed],
        "peak_rss_mb": round(peak_rss_mb),
        "questions": len(asked),
        "questions_store_s": round(fast_s, 3),
        "questions_duckdb_scan_s": round(scan_s, 3),
        "questions_pandas_s": None if pandas_s is None else round(pandas_s, 3),
        "pandas_load_s": None if pandas_load_s is None else round(pandas_load_s, 1),
        "pandas_skipped": skipped,
        "speedup_vs_duckdb_scan": round(scan_s / fast_s, 1),
        "speedup_vs_pandas": None if pandas_s is None else round(pandas_s / fast_s, 1),
        "pandas_matches": pandas_matches,
        "checked_queries": len(checks),
        "fast_path_matches": matches,
    }


def _scanning(data_dir: Path, store: Path, min_n: int, memory_limit: str) -> Engine:
    """Return an engine that computes every answer from the rows, scanning the checked copy of the
    parquet the store holds and computing each model again per question: no cube, no stored model.
    It reads the store's copy rather than copying the parquet in again, which at 100M responses
    would take a quarter of an hour and more memory than the machine has."""
    warehouse = Warehouse.unloaded(data_dir, memory_limit)
    warehouse.load_from_store(store, models=False)
    warehouse.seal()
    return Engine(warehouse, load_catalog(), min_n)


def _measured_build(data_dir: Path, store_dir: Path) -> tuple[float, float]:
    """Build the store of `data_dir` in `store_dir` with `cx build` in a child process; return its
    seconds and its peak resident memory in MB (the child's own, read when it ends)."""
    command = [
        sys.executable,
        "-m",
        "cx.cli",
        "build",
        "--data-dir",
        str(data_dir),
        "--store-dir",
        str(store_dir),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=sys.stderr)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise CxError(f"`cx build` failed with status {child.returncode}")
    return seconds, _peak_rss_mb(usage)


def first_page(data_dir: Path, store_dir: Path, min_n: int) -> float:
    """Start a dashboard server over `data_dir` with its store in `store_dir` and return the seconds
    from its start to the overview drawn for a first visitor (who waits while the server builds a
    missing store). The visitor speaks the browser's protocol (cx/protocol.py)."""
    [port] = replica_ports(1, 0)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CX_DATA_DIR": str(data_dir), "CX_STORE_DIR": str(store_dir), "CX_MIN_N": str(min_n)}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        server = subprocess.Popen(streamlit_command(port), env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            while not healthy(url):
                if server.poll() is not None or time.perf_counter() - started > SERVER_START_S:
                    output.seek(0)
                    said = output.read().decode(errors="replace")[-2000:]
                    raise CxError(f"the dashboard server did not start on {url}:\n{said}")
                time.sleep(0.1)
            visitor = StreamlitSession(url)
            asyncio.run(_visit(visitor))
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    if visitor.exceptions or "To quarter" not in visitor.widgets:
        problems = "; ".join(visitor.exceptions) or "no page filters were drawn"
        raise CxError(f"the first page was not drawn: {problems}")
    return seconds


async def _visit(visitor: StreamlitSession) -> None:
    try:
        await visitor.open()
    finally:
        await visitor.close()


def _cx(arguments: list[str]) -> None:
    """Run a `cx` command in a child process, its progress lines going to our stderr."""
    done = subprocess.run([sys.executable, "-m", "cx.cli", *arguments], stdout=sys.stderr, check=False)
    if done.returncode != 0:
        raise CxError(f"`cx {arguments[0]}` failed with status {done.returncode}")


def _machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def table(figures: dict[str, Any]) -> str:
    """Return the figures as the Markdown table the README shows."""
    m = figures["machine"]
    rows = [
        ("machine", f"{m['cpus']} CPUs, {m['memory_gb']} GiB, Python {m['python']}, DuckDB {m['duckdb']}"),
        ("data", f"{figures['responses']:,} responses, {figures['contacts']:,} contacts"),
        (
            "store build (once per data change)",
            f"{figures['build_s']} s, {figures['build_peak_rss_mb']} MB peak resident, "
            f"{figures['store_mb']} MB file",
        ),
        ("first page (server start on new data to the overview drawn)", f"{figures['first_page_s']} s"),
        ("cold start (store to overview numbers)", f"{figures['cold_start_s']} s"),
        (
            f"interaction latency ({figures['interactions']} page changes)",
            f"p50 {figures['interaction_p50_ms']} ms, p95 {figures['interaction_p95_ms']} ms, "
            f"max {figures['interaction_max_ms']} ms",
        ),
        *(
            (f"  {page}", f"p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, max {p['max_ms']} ms")
            for page, p in figures["pages"].items()
        ),
        ("peak resident memory", f"{figures['peak_rss_mb']} MB"),
        *_comparison_rows(figures),
    ]
    return "\n".join(["| measure | result |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def _comparison_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """The table's rows comparing the store with the DuckDB scan and, unless it was skipped, pandas."""
    asked, store, scan = (
        figures["questions"],
        figures["questions_store_s"],
        figures["questions_duckdb_scan_s"],
    )
    checked = f"{figures['fast_path_matches']} ({figures['checked_queries']} queries"
    if figures.get("pandas_skipped"):
        return [
            (f"{asked} questions: store / DuckDB scan", f"{store} s / {scan} s"),
            ("speed-up vs DuckDB scan", f"{figures['speedup_vs_duckdb_scan']}x"),
            ("pandas baseline", f"skipped: {figures['pandas_skipped']}"),
            ("fast path equals direct computation", f"{checked})"),
        ]
    return [
        (
            f"{asked} questions: store / DuckDB scan / pandas",
            f"{store} s / {scan} s / {figures['questions_pandas_s']} s "
            f"(pandas load {figures['pandas_load_s']} s not counted)",
        ),
        (
            "speed-up vs DuckDB scan / pandas",
            f"{figures['speedup_vs_duckdb_scan']}x / {figures['speedup_vs_pandas']}x",
        ),
        ("fast path equals direct computation", f"{checked}; pandas agrees: {figures['pandas_matches']})"),
    ]
