"""Comment themes: one file per theme under sql/themes/, read as strictly as a metric file, each a
share of comments with every dimension, interval and small-cell rule of a metric; the shipped ones
find the sample's planted stories."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_inputs

from metrics.catalog import VOICE, load_catalog
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHIPPED = ("hard_online_form", "long_hold", "new_renewal", "no_news", "spanish_help")


def test_bad_theme_files_are_each_named_with_every_problem() -> None:
    catalog = load_catalog(FIXTURES / "bad_themes" / "metrics")
    folder = "tests/fixtures/bad_themes/themes"
    assert [str(p) for p in catalog.problems] == [
        f"{folder}/Bad-Name.sql: file name 'Bad-Name' is not a theme name: use lowercase letters, digits and _",
        f"{folder}/bad_direction.sql: header key 'direction': value 'down' is not one of higher_is_better, "
        "lower_is_better, neutral",
        f"{folder}/bad_numbers.sql: header key 'target': value 'low' is not a number",
        f"{folder}/bad_numbers.sql: header key 'min_n': value 0 must be 1 or more",
        f"{folder}/missing_key.sql: missing header key 'owner'",
        f"{folder}/no_condition.sql: no condition after the header: the body is a condition on a response's "
        "`comment`",
        f"{folder}/reads_a_file.sql: line 6: calls read_csv(), which is not allowed: a metric reads the "
        "warehouse's views, not files, settings or other SQL",
        f"{folder}/unknown_key.sql: line 5: unknown header key 'aggregate'; known keys: label, description, "
        "owner, direction, target, min_n",
    ]
    assert sorted(catalog.metrics) == ["theme_good_theme"]


def test_the_shipped_themes_are_in_the_catalog_as_shares_of_comments() -> None:
    catalog = load_catalog()
    assert not catalog.problems
    for name in SHIPPED:
        metric = catalog.metrics[f"theme_{name}"]
        assert (metric.theme, metric.aggregate, metric.unit) == (VOICE, "share", "share of comments")


def test_theme_shares_by_hand(tmp_path: Path) -> None:
    comments = [
        "I waited on hold far too long.",  # long hold
        "Esperé mucho tiempo y nadie hablaba español.",  # long hold, Spanish help
        "The online form would not let me upload my documents.",  # hard online form
        "Renewing online took me ten minutes.",  # renewal
        "Quick and easy.",  # none
        None,  # no comment: not counted
        None,
    ]
    folder = write_inputs(tmp_path / "data", responses=[{"comment": c} for c in comments])
    engine = Engine(Warehouse(folder), load_catalog(), min_n=1, exact=True)

    def share(name: str) -> tuple[float, int]:
        row = engine.run(Query.of(f"theme_{name}")).row(0, named=True)
        return row["value"], row["n"]

    assert share("long_hold") == (pytest.approx(2 / 5), 5)
    assert share("spanish_help") == (pytest.approx(1 / 5), 5)
    assert share("hard_online_form") == (pytest.approx(1 / 5), 5)
    assert share("new_renewal") == (pytest.approx(1 / 5), 5)
    assert share("no_news") == (0.0, 5)
    # A theme slices like any metric: the two long holds are the two comments of their groups.
    by_hand = engine.run(Query.of("theme_long_hold", ["language"]))
    assert by_hand["n"].sum() == 5


def test_the_themes_find_the_samples_planted_stories(sample_engine: Engine) -> None:
    def rows(name: str, by: str, **where: str) -> dict[str, tuple[float, int]]:
        result = sample_engine.run(Query.of(f"theme_{name}", [by], where))
        return {str(r[by]): (r["value"] or 0.0, r["n"] or 0) for r in result.iter_rows(named=True)}

    # The passport redesign: praise for renewing online only from FY2025 Q3, then in about a third.
    renewal = rows("new_renewal", "fiscal_quarter", service="Passport Services")
    assert all(share == 0 for q, (share, _) in renewal.items() if q < "FY2025 Q3")
    assert all(share > 0.2 for q, (share, _) in renewal.items() if q >= "FY2025 Q3")
    # Spanish-language callers who waited: asking for help in Spanish, and no other language does.
    spanish = rows("spanish_help", "language")
    assert spanish["Spanish"][0] > 0 and all(s == 0 for lang, (s, _) in spanish.items() if lang != "Spanish")
    # The disaster surge: more long-hold comments in FY2025 Q4 than twice any other quarter's.
    holds = {
        q: share * n
        for q, (share, n) in rows("long_hold", "fiscal_quarter", service="Disaster Assistance").items()
    }
    surge = holds.pop("FY2025 Q4")
    assert surge > 2 * max(holds.values())
