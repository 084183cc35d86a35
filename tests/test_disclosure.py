"""Disclosure control across views: published counts are perturbed by the cell-key method, the same
cell shows the same number in every view, and the differencing routes a person can take with the
dashboard's controls (and the default `cx query`) recover no hidden count on the sample data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from metrics.fiscal import FiscalQuarter
from metrics.query import Engine, Query
from metrics.sqlfiles import SQL_DIR
from metrics.warehouse import Warehouse

MIN_N = 10
NOISE = 2  # the largest change perturbation makes to one published count
EQUITY = (
    "age_band",
    "race_ethnicity",
    "income_band",
    "urbanicity",
    "language",
    "disability",
    "veteran_status",
)
Cell = dict[str, Any]


@pytest.fixture(scope="module")
def exact_engine(sample_dir: Path) -> Engine:
    """The same sample with the true counts: what the data owner sees, and the truth the attacks aim at."""
    return Engine(Warehouse(sample_dir), min_n=MIN_N, exact=True)


@pytest.fixture(scope="module")
def truth(sample_dir: Path) -> Engine:
    """The true counts with nothing hidden: the answers the attacks aim at."""
    return Engine(Warehouse(sample_dir), min_n=1, exact=True)


@pytest.fixture(scope="module")
def published(sample_dir: Path) -> Engine:
    return Engine(Warehouse(sample_dir), min_n=MIN_N)


def macro(sql: str) -> Any:
    connection = duckdb.connect()
    connection.execute((SQL_DIR / "macros" / "statistics.sql").read_text(encoding="utf-8"))
    return connection.execute(f"select {sql}").fetchone()[0]  # type: ignore[index]


def test_the_perturbation_is_read_off_the_cell_key() -> None:
    # Keys split [0, 65536) into five equal bands: noise floor(key * 5 / 65536) - 2.
    assert macro("perturbed(100, 0, false)") == 98
    assert macro("perturbed(100, 13107, false)") == 98  # 13107 * 5 / 65536 = 0.99998
    assert macro("perturbed(100, 13108, false)") == 99
    assert macro("perturbed(100, 32768, false)") == 100
    assert macro("perturbed(100, 65535, false)") == 102
    assert macro("perturbed(100, 65536 + 32768, false)") == 100  # the key is taken modulo 65536
    assert macro("perturbed(0, 65535, false)") == 0  # an empty cell stays empty
    assert macro("perturbed(1, 0, false)") == 1  # a cell with rows never shows 0
    assert macro("perturbed(100, 0, true)") == 100  # exact mode


def test_published_counts_stay_within_the_noise_and_are_exact_on_request(make_engine: Any) -> None:
    rows = [{"trust": 5 if i % 3 else 2, "age_band": "65+" if i < 30 else "25-34"} for i in range(130)]
    published = make_engine(responses=rows, exact=False)
    exact = make_engine(responses=rows, exact=True)
    for by in ([], ["age_band"]):
        shown = published.run(Query.of("trust", by=by)).to_dicts()
        true = exact.run(Query.of("trust", by=by)).to_dicts()
        for cell, truth in zip(shown, true, strict=True):
            assert abs(cell["n"] - truth["n"]) <= NOISE
            positive, true_positive = round(cell["value"] * cell["n"]), round(truth["value"] * truth["n"])
            assert abs(positive - true_positive) <= NOISE
    assert [r["n"] for r in exact.run(Query.of("trust", by=["age_band"])).to_dicts()] == [100, 30]


def test_the_same_cell_shows_the_same_number_in_every_view(published: Engine) -> None:
    # One cell (a service's 65+ respondents in one quarter) asked five ways: the published n and
    # share agree to the last digit, because they depend only on the rows behind the cell.
    service, quarter = "Passport Services", "FY2025 Q2"
    views = [
        (Query.of("trust", where={"service": service, "age_band": "65+"}, start=quarter, end=quarter), {}),
        (
            Query.of("trust", by=["age_band"], where={"service": service}, start=quarter, end=quarter),
            {"age_band": "65+"},
        ),
        (
            Query.of("trust", by=["fiscal_quarter"], where={"service": service, "age_band": "65+"}),
            {"fiscal_quarter": quarter},
        ),
        (
            Query.of("trust", by=["service", "age_band"], start=quarter, end=quarter),
            {"service": service, "age_band": "65+"},
        ),
        (
            Query.of("trust", by=["age_band", "fiscal_quarter"], where={"service": [service]}),
            {"age_band": "65+", "fiscal_quarter": quarter},
        ),
    ]
    seen = {
        (cell["n"], cell["value"]) for query, match in views for cell in [row_of(published, query, match)]
    }
    assert len(seen) == 1, seen


@pytest.mark.slow
def test_the_fast_path_publishes_what_the_rows_do(sample_dir: Path, tmp_path: Path) -> None:
    engine = Engine.open(sample_dir, min_n=MIN_N, store_dir=tmp_path / "store", build=True)
    assert engine.store is not None
    for metric, by in [
        ("trust", ["age_band"]),
        ("contacts", ["channel"]),
        ("wait_median", ["service"]),
        ("response_rate", ["service"]),
        ("wait_mean", ["segment"]),
    ]:
        query = Query.of(metric, by=by, where={"fiscal_quarter": ["FY2025 Q1", "FY2025 Q2"]})
        assert engine.run(query).equals(engine.direct(query)), metric


def test_published_shares_stay_close_to_the_exact_ones(published: Engine, exact_engine: Engine) -> None:
    # A share's published numerator and denominator each move by at most 2, so the share moves by at
    # most (2 + 2p) / (n - 2) <= 4 / (n - 2): under 0.5 points from n = 1,000.
    largest = 0.0
    for metric in ("trust", "ease", "effectiveness", "satisfaction", "self_service_rate"):
        for dimension in ("service", "channel", "segment", "age_band", "fiscal_quarter"):
            query = Query.of(metric, by=[dimension])
            for shown, truth in zip(
                published.run(query).to_dicts(), exact_engine.run(query).to_dicts(), strict=True
            ):
                if shown["suppressed"] or truth["value"] is None:
                    continue
                difference = abs(shown["value"] - truth["value"])
                assert difference <= 4 / (truth["n"] - 2) + 1e-12, (metric, dimension, shown, truth)
                if truth["n"] >= 1000:
                    largest = max(largest, difference)
    assert 0 < largest < 0.005


@dataclass(frozen=True)
class Attack:
    """A differencing route to one hidden cell: published counts added and taken away."""

    route: str
    cell: str
    target: Query  # the hidden cell asked alone
    terms: tuple[tuple[int, Query, tuple[tuple[str, str], ...]], ...]  # sign, query, which row


def row_of(engine: Engine, query: Query, match: dict[str, str] | tuple[tuple[str, str], ...]) -> Cell:
    wanted = dict(match)
    rows = [r for r in engine.run(query).to_dicts() if all(r[d] == v for d, v in wanted.items())]
    assert len(rows) == 1, (query, wanted, rows)
    return rows[0]


def counts(engine: Engine, attack: Attack) -> tuple[int, int] | None:
    """Return the attacker's differenced (n, positive answers), or None when a term is hidden."""
    n = positive = 0
    for sign, query, match in attack.terms:
        cell = row_of(engine, query, match)
        if cell["suppressed"]:
            return None
        n += sign * cell["n"]
        positive += sign * round(cell["value"] * cell["n"])
    return n, positive


def alone(query: Query, dimension: str, value: str) -> Query:
    """Return the query without its breakdown, filtered to one group of `dimension`."""
    return Query(query.metric, (), (*query.where, (dimension, (value,))), query.start, query.end)


def hidden_cells(
    exact: Engine, truth: Engine, query: Query, dimension: str
) -> Iterator[tuple[Cell, list[Cell], list[Cell]]]:
    """Yield each primary hidden cell of a breakdown (true n 1..9) with the shown and the other hidden cells."""
    rows = exact.run(query).to_dicts()
    for row in rows:
        if not row["suppressed"] or row[dimension] is None:
            continue
        if 0 < truth.run(alone(query, dimension, row[dimension])).row(0, named=True)["n"] < MIN_N:
            others = [r for r in rows if r is not row]
            yield row, [r for r in others if not r["suppressed"]], [r for r in others if r["suppressed"]]


def attacks(exact: Engine, truth: Engine) -> Iterator[Attack]:
    """Yield the five routes of the privacy review at every hidden cell the sample offers them."""
    services = exact.run(Query.of("responses", by=["service"]))["service"].to_list()
    quarters = ["FY2025 Q1", "FY2025 Q2", "FY2025 Q3", "FY2025 Q4"]
    segments = exact.run(Query.of("responses", by=["segment"]))["segment"].to_list()
    scopes: list[tuple[tuple[tuple[str, tuple[str, ...]], ...], str]] = [
        *(((("service", (s,)),), d) for s, d in itertools.product(services, EQUITY)),
        # The channel split within a service and a customer segment, as the Trends page draws it.
        *(
            ((("service", (s,)), ("segment", (g,))), "channel")
            for s, g in itertools.product(services, segments)
        ),
    ]
    for scope, dimension in scopes:
        service = " / ".join(v[0] for _, v in scope)
        split = Query("trust", (dimension,), scope)
        for cell, shown, other_hidden in hidden_cells(exact, truth, split, dimension):
            name = f"{service} / {dimension} = {cell[dimension]}"
            total = Query("trust", (), scope)
            # 1 and 4: a page's split (or a breakdown) against the total, each other hidden cell asked
            # on its own through a filter, as the sidebar allows.
            yield Attack(
                "a page's split by channel against the sidebar filter to each channel"
                if dimension == "channel"
                else "a breakdown against the total, complements asked on their own",
                name,
                alone(split, dimension, cell[dimension]),
                (
                    (1, total, ()),
                    *((-1, split, ((dimension, r[dimension]),)) for r in shown),
                    *(
                        (-1, Query("trust", (), (*scope, (dimension, (r[dimension],)))), ())
                        for r in other_hidden
                    ),
                ),
            )
            # 2: a filter with two values minus the same filter with one of them.
            if shown:
                partner = shown[0][dimension]
                yield Attack(
                    "two-value filter minus one-value filter",
                    name,
                    alone(split, dimension, cell[dimension]),
                    (
                        (1, Query("trust", (), (*scope, (dimension, (cell[dimension], partner)))), ()),
                        (-1, Query("trust", (), (*scope, (dimension, (partner,)))), ()),
                    ),
                )
    for service, channel in itertools.product(services, ("phone", "in_person", "live_chat", "mobile_app")):
        scope = (("service", (service,)), ("channel", (channel,)))
        for quarter in quarters:
            # 3: months (Trends' month grain) against their quarter.
            months = Query("trust", ("month",), scope, quarter, quarter)
            for cell, shown, other_hidden in hidden_cells(exact, truth, months, "month"):
                yield Attack(
                    "months against their quarter",
                    f"{service} / {channel} / {cell['month']}",
                    alone(months, "month", cell["month"]),
                    (
                        (1, Query("trust", (), scope, quarter, quarter), ()),
                        *((-1, months, (("month", r["month"]),)) for r in shown),
                        *(
                            (-1, Query("trust", (), (*scope, ("month", (r["month"],))), quarter, quarter), ())
                            for r in other_hidden
                        ),
                    ),
                )
        # 5: one period range against another one quarter shorter.
        by_quarter = Query("trust", ("fiscal_quarter",), scope, quarters[0], quarters[-1])
        for cell, _, _ in hidden_cells(exact, truth, by_quarter, "fiscal_quarter"):
            last = cell["fiscal_quarter"]
            if last == quarters[0]:
                continue
            before = FiscalQuarter.parse(last).previous().label
            yield Attack(
                "period range against one a quarter shorter",
                f"{service} / {channel} / {last}",
                alone(by_quarter, "fiscal_quarter", last),
                (
                    (1, Query("trust", (), scope, quarters[0], last), ()),
                    (-1, Query("trust", (), scope, quarters[0], before), ()),
                ),
            )


@pytest.mark.slow
def test_no_differencing_route_recovers_a_hidden_count(
    published: Engine, exact_engine: Engine, truth: Engine
) -> None:
    tried = list(attacks(exact_engine, truth))
    routes = {a.route for a in tried}
    assert len(routes) == 5 and len(tried) >= 40, (routes, len(tried))
    open_without_noise = hits = open_routes = 0
    exact_per_route: dict[str, int] = {}
    candidates: dict[str, set[int]] = {}
    for attack in tried:
        cell = truth.run(attack.target).row(0, named=True)
        true_counts = (cell["n"], round(cell["value"] * cell["n"]))
        through_exact = counts(exact_engine, attack)
        if through_exact is not None:
            # The route is real: with the true counts and suppression alone, it gives the hidden count.
            assert through_exact == true_counts, attack
            open_without_noise += 1
            exact_per_route[attack.route] = exact_per_route.get(attack.route, 0) + 1
        seen = counts(published, attack)
        if seen is None:
            continue  # a term of the route is itself hidden
        open_routes += 1
        hits += seen[0] == true_counts[0]
        # What the attacker can know: each published term is within NOISE of its truth.
        slack = NOISE * len(attack.terms)
        possible = {c for c in range(seen[0] - slack, seen[0] + slack + 1) if c >= 0}
        candidates[attack.cell] = candidates.get(attack.cell, possible) & possible
        assert len(candidates[attack.cell]) >= 2, (attack, seen, true_counts)
    # Every route recovers hidden counts exactly without perturbation: the suite attacks real routes.
    assert set(exact_per_route) == routes, exact_per_route
    assert open_without_noise >= 30 and open_routes >= 20, (open_without_noise, open_routes)
    # A lucky guess is no recovery, but a route that mostly lands on the truth would be one.
    assert hits <= 0.4 * open_routes, (hits, open_routes)


def test_the_drivers_count_is_published_like_every_other(published: Engine, exact_engine: Engine) -> None:
    # The drivers page sums its own count (respondents who answered trust and all six drivers): it is
    # perturbed too, or two filters' counts would give a small group's count by subtraction.
    from metrics.analyses.drivers import importance
    from metrics.query import Filters

    services = published.run(Query.of("responses", by=["service"]))["service"].to_list()
    pairs = [
        (
            importance(published, Filters(where=(("service", (s,)),))).n,
            importance(exact_engine, Filters(where=(("service", (s,)),))).n,
        )
        for s in services
    ]
    assert all(abs(shown - true) <= NOISE for shown, true in pairs)
    assert any(shown != true for shown, true in pairs)
