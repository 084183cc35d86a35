"""The `cx` command: query metrics, list the catalog, check inputs and metric files, make sample data,
import real data and write reports and briefing decks."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from cx import mail
from metrics.access import load_access
from metrics.analyses import alerts
from metrics.analyses.gaps import DEFAULT_FLOOR
from metrics.catalog import catalog_markdown, load_catalog
from metrics.contract import CHANNELS, INPUTS, NOT_REPORTED, SURVEY_TYPES
from metrics.dimensions import DIMENSIONS
from metrics.errors import CxError, QueryError
from metrics.fiscal import FiscalQuarter
from metrics.formatting import NO_DATA, SUPPRESSED, listed, suppression_note
from metrics.imports.likert_counts import COLUMNS as LIKERT_COLUMNS
from metrics.outcomes import load_outcomes
from metrics.query import Engine, Query
from metrics.settings import Settings
from metrics.warehouse import Warehouse


def _where(text: str) -> tuple[str, str]:
    dimension, sep, value = text.partition("=")
    if not sep or not dimension.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not DIM=VALUE (e.g. --where channel=website)")
    return dimension.strip(), value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cx", description="A-11 customer-experience metrics from parquet inputs."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="folder of input parquet files (default: $CX_DATA_DIR or sample_data/)"
    )
    common.add_argument("--min-n", type=int, help="smallest denominator shown (default: $CX_MIN_N or 10)")
    commands = parser.add_subparsers(dest="command", required=True)

    query = commands.add_parser("query", parents=[common], help="compute one metric")
    query.add_argument("metric", help="metric name, e.g. trust (see `cx metrics`)")
    query.add_argument("--by", action="append", default=[], metavar="DIM", help="break down by a dimension")
    query.add_argument(
        "--where",
        action="append",
        default=[],
        type=_where,
        metavar="DIM=VALUE",
        help="keep rows whose DIM is VALUE; repeat a DIM to accept several values",
    )
    query.add_argument("--from", dest="start", metavar="FY2025Q1", help="first fiscal quarter")
    query.add_argument("--to", dest="end", metavar="FY2026Q4", help="last fiscal quarter (inclusive)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument(
        "--exact",
        action="store_true",
        help="true counts instead of the published (perturbed) ones: for data owners, not a privacy boundary",
    )

    listing = commands.add_parser("metrics", parents=[common], help="list the metric catalog")
    listing.add_argument("--format", choices=("table", "markdown"), default="table")
    dimensions = commands.add_parser("dimensions", parents=[common], help="list the dimensions")
    dimensions.add_argument("--values", metavar="DIM", help="list the values one dimension takes in the data")
    commands.add_parser("check", parents=[common], help="validate the inputs and every metric file")
    commands.add_parser("contract", help="print the data contract as Markdown")

    data_only = argparse.ArgumentParser(add_help=False)
    data_only.add_argument(
        "--data-dir", help="folder of input parquet files (default: $CX_DATA_DIR or sample_data/)"
    )
    imports = commands.add_parser("import", help="add real data to the data folder from a CSV file")
    kinds = imports.add_subparsers(dest="kind", required=True)
    touchpoints = kinds.add_parser(
        "touchpoints", parents=[data_only], help="respondent rows exported from Touchpoints (A-11 v2)"
    )
    touchpoints.add_argument("file", type=Path, help="the Touchpoints respondent CSV")
    touchpoints.add_argument("--service", required=True, help="the service the survey is about")
    touchpoints.add_argument("--fiscal-year", type=int, required=True, metavar="YYYY")
    touchpoints.add_argument("--quarter", type=int, required=True, choices=(1, 2, 3, 4), metavar="Q")
    touchpoints.add_argument("--channel", default="other", help="Touchpoints channel key (default: other)")
    touchpoints.add_argument(
        "--segment", default=NOT_REPORTED, help=f"customer segment (default: {NOT_REPORTED})"
    )
    touchpoints.add_argument(
        "--survey-type",
        choices=SURVEY_TYPES,
        default="thumbs_up_down",
        help="scale of question_1, the trust question (default: thumbs_up_down)",
    )
    counts = kinds.add_parser(
        "likert-counts", parents=[data_only], help="aggregated counts of each 1-5 answer per A-11 item"
    )
    counts.add_argument("file", type=Path, help=f"CSV with exactly the columns {','.join(LIKERT_COLUMNS)}")
    counts.add_argument("--channel", default="other", help="Touchpoints channel key (default: other)")
    counts.add_argument("--segment", default=NOT_REPORTED, help=f"customer segment (default: {NOT_REPORTED})")
    volumes = kinds.add_parser(
        "collections", parents=[data_only], help="customers served and offered the survey per quarter"
    )
    volumes.add_argument(
        "file", type=Path, help="CSV of customers served and offered per service and quarter"
    )
    volumes.add_argument(
        "--channel", default="other", help="channel of rows without a channel column (default: other)"
    )

    report = commands.add_parser("report", help="write a report from the data")
    reports = report.add_subparsers(dest="report", required=True)
    a11 = reports.add_parser(
        "a11", parents=[common], help="the quarterly A-11 Section 280 submission, one row per service"
    )
    a11.add_argument("--fiscal-year", type=int, required=True, metavar="YYYY")
    a11.add_argument("--quarter", type=int, required=True, choices=(1, 2, 3, 4), metavar="Q")
    a11.add_argument("--out", type=Path, default=Path("."), help="folder to write the CSV to (default: .)")

    brief = commands.add_parser(
        "brief", parents=[common], help="write the briefing deck (PPTX) of a saved view or a dashboard link"
    )
    chosen = brief.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--view", metavar="NAME", help="a saved view (listed in the dashboard's sidebar)")
    chosen.add_argument("--url", metavar="LINK", help="a dashboard link, e.g. the copy-link box's")
    brief.add_argument("--out", type=Path, required=True, help="the deck to write, e.g. deck.pptx")
    brief.add_argument(
        "--as",
        dest="person",
        metavar="ADDRESS",
        help="the e-mail address the deck is for: with an access file, it shows only their services",
    )
    brief.add_argument(
        "--mail-to",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="mail the deck to ADDRESS through the SMTP relay $CX_SMTP_HOST once written; repeat it or "
        "separate addresses with commas",
    )

    told = commands.add_parser(
        "alerts",
        parents=[common],
        help="what a leader should hear about since a quarter: moves beyond noise, missed targets, "
        "outcomes off track, equity gaps widened (exit status 1 when there is any)",
    )
    told.add_argument(
        "--since",
        required=True,
        metavar="FY2026Q3",
        help="first fiscal quarter to report on, or `latest` for the data's latest quarter alone",
    )
    told.add_argument("--until", metavar="FY2026Q4", help="last fiscal quarter (default: the data's latest)")
    told.add_argument(
        "--as",
        dest="person",
        metavar="ADDRESS",
        help="the e-mail address the alerts are for: with an access file, only their services",
    )
    told.add_argument("--format", choices=("text", "json"), default="text")
    told.add_argument(
        "--floor",
        type=float,
        default=DEFAULT_FLOOR,
        help=f"smallest equity gap reported, as a share (default {DEFAULT_FLOOR}: 5 points), as on the overview",
    )
    told.add_argument(
        "--mail-to",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="also mail the alerts (and them as JSON attached) through the SMTP relay $CX_SMTP_HOST when "
        "there are any; repeat it or separate addresses with commas",
    )

    build = commands.add_parser(
        "build", parents=[common], help="build the store the dashboard answers from (fast path)"
    )
    build.add_argument(
        "--store-dir", type=Path, help="folder of the store (default: $CX_STORE_DIR or DATA_DIR/.cx-store)"
    )
    build.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where to build: duckdb (the store, here) or spark (the cube tables, as parquet in --out, "
        "on a SparkSession: pip install '.[spark]'); default duckdb",
    )
    build.add_argument(
        "--input",
        metavar="PATH_OR_URL",
        help="with --engine spark: the inputs, any path Spark reads (s3a://, abfss://; default DATA_DIR)",
    )
    build.add_argument("--out", metavar="PATH_OR_URL", help="with --engine spark: where Spark writes")
    build.add_argument(
        "--master", help="with --engine spark: Spark's master, e.g. local[2] (default: spark-submit's)"
    )
    build.add_argument(
        "--from-spark",
        type=Path,
        metavar="DIR",
        help="build the store from what `cx build --engine spark` wrote to DIR: its inputs and cube tables",
    )

    serve = commands.add_parser(
        "serve", parents=[common], help="serve the dashboard on several Streamlit replicas behind HAProxy"
    )
    serve.add_argument(
        "--replicas", type=int, help="Streamlit servers to start (default: one per core, as `nproc` says)"
    )
    serve.add_argument(
        "--port", type=int, default=8501, help="HAProxy's port, the one people open (default 8501)"
    )
    serve.add_argument(
        "--replica-port",
        type=int,
        default=8601,
        help="the first replica's loopback port, the others' follow it (default 8601; 0: any free ports)",
    )
    serve.add_argument(
        "--stats-port", type=int, default=8404, help="HAProxy's statistics page, on loopback (default 8404)"
    )

    bench = commands.add_parser(
        "bench", help="measure the dashboard at scale against a DuckDB scan and pandas"
    )
    bench.add_argument(
        "--responses", type=int, default=10_000_000, help="survey responses (default 10,000,000)"
    )
    bench.add_argument("--contacts", type=int, default=10_000_000, help="contacts (default 10,000,000)")
    bench.add_argument(
        "--data-dir",
        type=Path,
        help="folder to generate the data in and keep (default: a temporary folder, removed after)",
    )
    bench.add_argument(
        "--interactions", type=int, default=60, help="scripted page changes to time (default 60)"
    )
    bench.add_argument(
        "--skip-pandas",
        action="store_true",
        help="leave out the pandas baseline (it holds the rows in memory, about 1 GB per million responses; "
        "left out by itself when that is more than the memory available)",
    )
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    sample = commands.add_parser("sample", help="write the sample inputs of a fictional agency")
    sample.add_argument("--out", default=None, help="folder to write (default: $CX_DATA_DIR or sample_data/)")
    sample.add_argument("--seed", type=int, default=2026)
    sample.add_argument("--responses", type=int, default=200_000, help="number of survey responses")
    sample.add_argument(
        "--contacts", type=int, default=None, help="number of contacts (default: as responses)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 problems found, 2 bad request)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CxError as error:
        print(f"cx: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "contract":
        from metrics.contract_doc import contract_markdown

        print(contract_markdown(), end="")
        return 0
    if args.command == "sample":
        return _sample(args)
    if args.command == "import":
        return _import(args)
    if args.command == "bench":
        return _bench(args)
    settings = Settings.load(args.data_dir, args.min_n)
    if args.command == "brief":
        return _brief(settings, args)
    if args.command == "metrics":
        return _metrics(args.format)
    if args.command == "dimensions" and not args.values:
        for dimension in DIMENSIONS.values():
            print(f"{dimension.name:16} {dimension.label} ({dimension.kind})")
        return 0
    if args.command == "build":
        if args.engine == "spark":
            return _build_on_spark(settings, args)
        return _build(settings, args.store_dir, args.from_spark)
    if args.command == "serve":
        from cx.serve import serve

        return serve(settings, args.replicas, args.port, args.stats_port, args.replica_port)
    # Queries read the store when it is built for the current inputs; only `cx build` and the
    # dashboard build it, so a one-off query never waits for a build.
    engine = Engine.open(
        settings.data_dir,
        settings.min_n,
        settings.store_dir,
        memory_limit=settings.memory_limit,
        exact=getattr(args, "exact", False),
    )
    if args.command == "report":
        return _report_a11(engine, args)
    if args.command == "alerts":
        return _alerts(engine, args)
    if args.command == "check":
        return _check(engine)
    if args.command == "dimensions":
        if args.values not in DIMENSIONS:
            raise QueryError(f"unknown dimension '{args.values}'; dimensions: {', '.join(DIMENSIONS)}")
        print("\n".join(engine.values(args.values)))
        return 0
    where: dict[str, list[str]] = {}
    for dimension, value in args.where:
        where.setdefault(dimension, []).append(value)
    engine.check_values(where)
    result = engine.run(Query.of(args.metric, args.by, where, args.start, args.end))
    _print(result, args.format, engine.threshold(engine.metric(args.metric)))
    return 0


def _brief(settings: Settings, args: argparse.Namespace) -> int:
    # The deck is built by running the page itself, so only this command loads Streamlit.
    from dashboard.brief import letter, write

    # Addresses and relay settings are checked before the page runs: a typo costs no render.
    to = mail.recipients(args.mail_to)
    relay = mail.Relay.from_environment() if to else None
    written = write(settings, args.out, view=args.view, link=args.url, person=args.person)
    print(f"cx brief: wrote {args.out} ({written.slides} slides)")
    if relay is None:
        return 0
    subject, body = letter(written)
    try:
        mail.send(subject, body, to, [written.attachment()], relay)
    except mail.MailError as error:
        print(f"cx: error: {error} (the deck is written: {args.out})", file=sys.stderr)
        return 1
    print(f"cx brief: mailed {args.out} to {', '.join(to)} through {relay.host}:{relay.port}")
    return 0


def _alerts(engine: Engine, args: argparse.Namespace) -> int:
    """Print (and mail) what happened since a quarter; exit status 1 when there is anything to say."""
    to = mail.recipients(args.mail_to)
    relay = mail.Relay.from_environment() if to else None
    access = load_access()
    if access is not None:
        # As `cx brief`: with an access file, alerts are for one person and hold their services only.
        if not args.person:
            raise CxError(
                f"{access.path} limits who sees which services: give --as ADDRESS, the person the alerts are for"
            )
        services = access.services_for(args.person)
        if services == frozenset():
            raise CxError(
                f"--as {args.person}: {access.path} grants this address no service, so it may see no figure"
            )
        engine = engine.confined(services)
    # The quarters any input holds: waits and transactions are reported on without survey answers.
    known = engine.values("fiscal_quarter")
    if not known:
        raise CxError("no records in the data: nothing to report on")
    since, until = (
        _quarter(flag, value)
        for flag, value in (
            ("--since", known[-1] if args.since == "latest" else args.since),
            ("--until", args.until or known[-1]),
        )
    )
    if FiscalQuarter.parse(since) > FiscalQuarter.parse(until):
        raise CxError(f"--since {since} is after --until {until}")
    found_outcomes, problems = load_outcomes(engine.catalog.metrics)
    for problem in problems:
        print(f"cx alerts: outcome left out: {problem}", file=sys.stderr)
    unusable = sorted({i for m in engine.catalog.metrics.values() for i in engine.unusable(m)})
    if unusable:
        print(
            f"cx alerts: {listed(unusable)} cannot be used, so the measures that read "
            f"{'it' if len(unusable) == 1 else 'them'} are left out (`cx check` says why)",
            file=sys.stderr,
        )
    told = alerts.alerts(engine, since, until, found_outcomes, args.floor)
    text = _alert_text(told, since, until)
    if args.format == "json":
        print(json.dumps([a.as_dict() for a in told], indent=2))
    else:
        print(text, end="")
    if relay is not None and told:
        subject = f"CX alerts: {len(told)} finding{'s' if len(told) != 1 else ''} from {since} to {until}"
        attached = json.dumps([a.as_dict() for a in told], indent=2).encode("utf-8")
        name = f"cx-alerts-{since.replace(' ', '')}-{until.replace(' ', '')}.json"
        try:
            mail.send(subject, text, to, [(name, attached, "application/json")], relay)
        except mail.MailError as error:
            print(f"cx: error: {error}", file=sys.stderr)
            return 2
    return 1 if told else 0


def _quarter(flag: str, value: str) -> str:
    try:
        return FiscalQuarter.parse(value).label
    except ValueError as error:
        raise CxError(f"{flag}: {error}") from None


def _alert_text(told: Sequence[alerts.Alert], since: str, until: str) -> str:
    """The alerts as a leader reads them: by quarter, each kind's findings under it."""
    if not told:
        return f"Nothing to report from {since} to {until}: no move beyond sampling noise, missed target, outcome off track or widened equity gap.\n"
    lines = [f"What changed from {since} to {until} ({len(told)} finding{'s' if len(told) != 1 else ''}):"]
    for quarter in dict.fromkeys(a.quarter for a in told):
        lines.append(f"\n{quarter}")
        for kind in dict.fromkeys(a.kind for a in told if a.quarter == quarter):
            lines.append(f"  {kind.capitalize()}:")
            lines += [f"  - {a.text}" for a in told if a.quarter == quarter and a.kind == kind]
    lines.append(
        "\nBeyond sampling noise: at the 5% level after Holm's adjustment over every group and measure "
        "tested in a quarter. Small groups are hidden, as on the dashboard."
    )
    return "\n".join(lines) + "\n"


def _metrics(fmt: str) -> int:
    catalog = load_catalog()
    if fmt == "markdown":
        print(catalog_markdown(catalog), end="")
        return 1 if catalog.problems else 0
    width = max(len(name) for name in catalog.metrics)
    for name, metric in catalog.metrics.items():
        print(f"{name:{width}}  {metric.label} [{metric.theme}; {metric.aggregate}; {metric.unit}]")
    for problem in catalog.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if catalog.problems else 0


def _check(engine: Engine) -> int:
    warehouse: Warehouse = engine.warehouse
    problems = warehouse.check() + engine.check_metrics()
    for name, state in warehouse.inputs.items():
        status = "ok" if not state.problems else f"{len(state.problems)} problem(s)"
        if state.rejected:
            status += f", {state.rejected:,} row{'s' if state.rejected != 1 else ''} rejected"
        rows = f"{warehouse.row_count(name):,} rows" if state.usable else "not usable"
        print(f"input   {state.source:24} {rows:>16}  {status}")
    print(f"metrics {len(engine.catalog.metrics)} files in sql/metrics/")
    for problem in problems:
        print(f"problem: {problem}")
    for warning in engine.empty_metrics():
        print(f"warning: {warning}")
    # A metric Spark cannot run still serves here: said, not failed (only `cx build --engine spark` needs it).
    from metrics.spark import check_metrics as spark_problems

    for warning in spark_problems(engine.catalog, engine.columns):
        print(f"warning: {warning}")
    print("cx check: no problems" if not problems else f"cx check: {len(problems)} problem(s)")
    return 1 if problems else 0


def _print(result: pl.DataFrame, fmt: str, min_n: int) -> None:
    if fmt == "csv":
        print(result.write_csv(), end="")
    elif fmt == "json":
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in result.iter_rows(named=True)
        ]
        print(json.dumps(rows, indent=2))
    else:
        print(_table(result))
        if result["suppressed"].any():
            print(suppression_note(min_n))


def _table(result: pl.DataFrame) -> str:
    def cell(value: object, row: dict[str, object]) -> str:
        if value is None:
            # Hidden, no data at all, or a column that does not apply (a count has no interval).
            return SUPPRESSED if row.get("suppressed") else NO_DATA if row.get("n") == 0 else ""
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value)

    rows = [[cell(v, row) for v in row.values()] for row in result.iter_rows(named=True)]
    header = list(result.columns)
    widths = [max(len(x) for x in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _import(args: argparse.Namespace) -> int:
    from metrics.imports.collections import import_collections
    from metrics.imports.likert_counts import import_likert_counts
    from metrics.imports.touchpoints import Target, import_touchpoints

    data_dir = Settings.load(args.data_dir).data_dir
    if args.channel not in CHANNELS:
        raise CxError(f"--channel: value '{args.channel}' is not a channel key; one of {', '.join(CHANNELS)}")
    if args.kind == "touchpoints":
        if not 2000 <= args.fiscal_year <= 2100:
            raise CxError(f"--fiscal-year: value {args.fiscal_year} is not a fiscal year such as 2025")
        target = Target(
            args.service.strip(),
            FiscalQuarter(args.fiscal_year, args.quarter),
            args.channel,
            args.survey_type,
            args.segment,
            Settings.load(args.data_dir).time_zone,
        )
        if not target.service:
            raise CxError("--service: give the service's name")
        outcome = import_touchpoints(args.file, data_dir, target)
    elif args.kind == "likert-counts":
        outcome = import_likert_counts(args.file, data_dir, args.channel, args.segment)
    else:
        outcome = import_collections(args.file, data_dir, args.channel)
    print("\n".join(outcome.report()))
    return 1 if outcome.rejected else 0


def _report_a11(engine: Engine, args: argparse.Namespace) -> int:
    from metrics.analyses.a11_report import READINESS, RED, a11_report, respondents_csv, submission_csv

    report = a11_report(engine, FiscalQuarter(args.fiscal_year, args.quarter))
    stem = f"a11-FY{args.fiscal_year}-Q{args.quarter}"
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for target, text in (
        (args.out / f"{stem}.csv", submission_csv(report)),
        (args.out / f"{stem}-responses.csv", respondents_csv(report)),
    ):
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        written.append(target)
    print(f"A-11 Section 280 submission for {report.quarter}, due {report.due:%Y-%m-%d}:")
    for row in report.services.iter_rows(named=True):
        status = f"{row['readiness'].upper()} ({READINESS[row['readiness']]})"
        print(f"  {status:31} {row['service']}: {row['reasons']}")
    print(
        f"Wrote {written[0]} ({report.details.height} collection details: one per service, channel and trust "
        f"question as worded and scaled) and {written[1]} ({report.respondents.height} v2 respondents). They "
        "carry the true counts, small cells included, because they go to OMB; the Reporting page hides "
        f"counts under the minimum ({engine.min_n})."
    )
    return 1 if (report.services["readiness"] == RED).any() else 0


def _build(settings: Settings, store_dir: Path | None, from_spark: Path | None = None) -> int:
    started = time.perf_counter()
    data_dir = settings.data_dir
    if from_spark is not None:
        from metrics.spark import INPUTS, read_manifest

        read_manifest(from_spark)  # a folder that is no Spark build's is named before anything is read
        data_dir = from_spark / INPUTS
    folder = store_dir or (settings.store_dir if from_spark is None else data_dir / ".cx-store")
    print(f"Building the store for {data_dir} in {folder}...", file=sys.stderr)
    engine = Engine.open(
        data_dir,
        settings.min_n,
        folder,
        build=True,
        progress=lambda m: print(f"  {m}", file=sys.stderr),
        memory_limit=settings.memory_limit,
        prebuilt=from_spark,
    )
    if engine.store is None:
        raise CxError(f"the store could not be built in {folder}")
    cubes = sum(len(c) for c in engine.store.cubes.values())
    print(f"Store ready in {time.perf_counter() - started:.1f}s: {engine.store.path} ({cubes} cubes).")
    return 0


def _build_on_spark(settings: Settings, args: argparse.Namespace) -> int:
    """`cx build --engine spark`: the cube tables and the inputs' rows as parquet in --out, built on
    a SparkSession; `cx build --from-spark` then makes the store the dashboard serves from them."""
    from metrics import spark

    if not args.out:
        raise CxError("cx build --engine spark needs --out: the folder or URL Spark writes the cubes to")
    source = args.input or str(settings.data_dir)
    started = time.perf_counter()
    print(f"Building the cube tables of {source} on Spark into {args.out}...", file=sys.stderr)
    cubes = spark.build(
        spark.session(args.master),
        source,
        args.out,
        load_catalog(),
        lambda m: print(f"  {m}", file=sys.stderr),
    )
    print(
        f"Built on Spark in {time.perf_counter() - started:.1f}s: {len(cubes)} cube tables in {args.out}. "
        f"Next, where the dashboard runs: cx build --from-spark {args.out}"
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    import tempfile

    from cx.bench import run_bench, table

    for flag, count in (("--responses", args.responses), ("--contacts", args.contacts)):
        if count < 1:
            raise CxError(f"{flag}: value {count} must be 1 or more")

    def progress(message: str) -> None:
        print(f"cx bench: {message}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="cx-bench-") as scratch:
        folder = args.data_dir or Path(scratch)
        figures = run_bench(
            args.responses,
            args.contacts,
            folder,
            args.interactions,
            progress=progress,
            pandas=False if args.skip_pandas else None,
            memory_limit=Settings.load().memory_limit,
        )
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from sample_data.generator import generate

    out = Path(args.out) if args.out else Settings.load().data_dir
    if args.responses < 1:
        raise CxError(f"--responses: value {args.responses} must be 1 or more")
    started = time.perf_counter()
    print(f"Writing sample inputs to {out} (seed {args.seed}, {args.responses:,} responses)...")
    counts = generate(
        out,
        seed=args.seed,
        responses=args.responses,
        contacts=args.contacts,
        progress=lambda m: print(f"  {m}"),
    )
    summary = ", ".join(f"{counts[name]:,} {name}" for name in INPUTS if name in counts)
    print(f"Done in {time.perf_counter() - started:.1f}s: {summary}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
