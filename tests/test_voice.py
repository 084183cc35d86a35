"""What customers say: the comments a view may list, by hand on tiny inputs (the class rule, the
equity slots, theme and trust), on the sample (no list ties a comment to a small group, whatever two
lists are compared; no planted personal detail survives), and the page under AppTest."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import streamlit as st
from conftest import EngineFactory, recorded_statements
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from cx.cli import main
from dashboard.briefing import SESSION_KEY, Exhibit, csv_bytes
from metrics import comments as comment_table
from metrics import topics
from metrics.analyses import voice
from metrics.analyses.kpis import tile
from metrics.catalog import parse_theme
from metrics.dimensions import EQUITY_DIMENSIONS
from metrics.errors import QueryError
from metrics.formatting import format_value
from metrics.query import Engine, Filters
from metrics.warehouse import Warehouse
from sample_data.generator import PLANTED_DETAILS

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
HOLD = "I waited on hold far too long."
OTHER = "Quick and easy."


def comments(n: int, text: str, start: datetime, **row: Any) -> list[dict[str, Any]]:
    """Return `n` responses commenting `text`, a day apart from `start`, with the other answers of `row`."""
    return [{"comment": text, "submitted_at": start + timedelta(days=i), "trust": 5} | row for i in range(n)]


def test_a_comment_is_listed_only_where_its_class_reaches_the_minimum(make_engine: EngineFactory) -> None:
    start = datetime(2024, 11, 1, 9, 0)
    rows = [
        *comments(2, HOLD, start),  # class A: website, trust 5 (positive), FY2025 Q1: three comments
        *comments(1, OTHER, start + timedelta(days=5)),
        *comments(2, HOLD, start, trust=1),  # class B: the same but negative: two comments
        *comments(1, HOLD, start, channel="phone"),  # class C: one comment by phone
        {"comment": None, "trust": 5},  # no comment: never listed, not counted
    ]
    engine = make_engine(min_n=3, responses=rows)
    everyone = voice.verbatims(engine, Filters())
    # Only class A reaches three; newest first.
    assert everyone.matching == 3
    assert everyone.rows["comment"].to_list() == [OTHER, HOLD, HOLD]
    assert everyone.rows["trust_answer"].to_list() == ["positive"] * 3
    assert everyone.rows["themes"].to_list() == ["", "Long holds", "Long holds"]
    # A theme narrows the list, not the class: class A still holds three comments.
    assert voice.verbatims(engine, Filters(), theme="theme_long_hold").matching == 2
    assert voice.verbatims(engine, Filters(), trust="negative").matching == 0
    # At a minimum of two, class B is listed too; class C never is.
    two = make_engine(min_n=2, responses=rows)
    assert voice.verbatims(two, Filters()).matching == 5
    assert voice.verbatims(two, Filters(), trust="negative").rows["comment"].to_list() == [HOLD, HOLD]
    assert voice.verbatims(two, Filters((("channel", ("phone",)),))).matching == 0


def test_a_full_list_counts_what_it_leaves_out_and_a_short_one_is_not_counted_again(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2024, 11, 1, 9, 0)
    later = start + timedelta(hours=12)
    engine = make_engine(min_n=2, responses=[*comments(3, HOLD, start), *comments(2, OTHER, later, trust=1)])
    ran = recorded_statements(engine, monkeypatch)
    # Five comments can be listed: the newest two are shown, and all five counted.
    newest = voice.verbatims(engine, Filters(), limit=2)
    assert (newest.matching, newest.rows.height, len(ran)) == (5, 2, 2)
    assert newest.rows["comment"].to_list() == [HOLD, OTHER]  # 48 hours after the first, then 36
    # A list of exactly as many as it may show cannot tell there are no more: it counts them.
    ran.clear()
    assert (voice.verbatims(engine, Filters(), limit=5).matching, len(ran)) == (5, 2)
    # A shorter list is every comment listed: counted from it, with no second statement.
    ran.clear()
    short = voice.verbatims(engine, Filters(), limit=6)
    assert (short.matching, short.rows.height, len(ran)) == (5, 5, 1)
    ran.clear()
    assert (voice.verbatims(engine, Filters(), trust="negative", limit=2).matching, len(ran)) == (2, 2)
    assert (voice.verbatims(engine, Filters(), trust="negative", limit=3).matching, len(ran)) == (2, 3)


def test_each_comment_carries_the_size_of_its_class_and_of_its_class_within_each_group(
    make_engine: EngineFactory,
) -> None:
    """Class sizes by hand: one class (website, positive, FY2025 Q1) of five commenters, three aged
    65+, one 35-44 and one who did not say; another (negative) of one. Each comment carries its
    class's size and its class's size within its own age band."""
    start = datetime(2024, 11, 1, 9, 0)
    rows = [
        *comments(3, HOLD, start, age_band="65+"),
        *comments(1, OTHER, start, age_band="35-44"),
        *comments(1, OTHER, start, age_band="Not reported"),
        *comments(1, HOLD, start, trust=1, age_band="65+"),
        {"comment": None, "trust": 5, "age_band": "65+"},  # no comment: not counted
    ]
    engine = make_engine(min_n=1, responses=rows)
    found = engine.warehouse.frame(
        f"select trust_answer, age_band, class_n, class_n_age_band from ({comment_table.sql(engine.catalog.metrics.values())})"
    )
    sizes = sorted(found.rows(), key=str)
    assert sizes == sorted(
        [
            *[("positive", "65+", 5, 3)] * 3,
            ("positive", "35-44", 5, 1),
            ("positive", "Not reported", 5, 1),  # people who did not say are a group too
            ("negative", "65+", 1, 1),
        ],
        key=str,
    )


def test_each_comment_is_listed_under_one_kind_of_equity_group_only(make_engine: EngineFactory) -> None:
    # Forty comments in one class, every one of the same equity groups (the defaults).
    start = datetime(2024, 11, 1, 9, 0)
    engine = make_engine(min_n=1, responses=comments(40, HOLD, start))
    everyone = voice.verbatims(engine, Filters(), limit=100)
    assert everyone.matching == 40
    defaults = engine.warehouse.frame("select * from stg_responses limit 1").row(0, named=True)
    listed = [
        voice.verbatims(engine, Filters(), group=(d, defaults[d]), limit=100).matching
        for d in EQUITY_DIMENSIONS
    ]
    # Each comment is in exactly one dimension's list: the lists add up to everyone's, none overlaps.
    assert sum(listed) == 40
    slots = engine.warehouse.frame(
        "select hash(response_id || ':voice') % $slots as slot, count(*) as n from stg_responses group by slot",
        {"slots": len(EQUITY_DIMENSIONS)},
    )
    by_hand = dict(zip(slots["slot"].to_list(), slots["n"].to_list(), strict=True))
    assert listed == [by_hand.get(i, 0) for i in range(len(EQUITY_DIMENSIONS))]
    # A segment is part of every class: narrowing to it takes nothing away.
    assert voice.verbatims(engine, Filters(), group=("segment", "Travelers")).matching == 40


def test_bad_choices_are_named(make_engine: EngineFactory) -> None:
    engine = make_engine(responses=comments(1, HOLD, datetime(2024, 11, 1)))
    with pytest.raises(QueryError, match="cannot be narrowed by 'service'"):
        voice.verbatims(engine, Filters(), group=("service", "Passport Services"))
    with pytest.raises(QueryError, match="no comment theme 'theme_nope'"):
        voice.verbatims(engine, Filters(), theme="theme_nope")
    with pytest.raises(QueryError, match="no trust answer 'happy'"):
        voice.verbatims(engine, Filters(), trust="happy")


def _classes(engine: Engine) -> pl.DataFrame:
    """Every comment of the sample with its trust answer and equity slot, worked out apart from the
    page's SQL (the slot's hash is DuckDB's: nobody can compute it without the rows)."""
    rows = engine.warehouse.frame(
        "select comment, service, channel, segment, fiscal_quarter, trust, trust_scale, "
        f"hash(response_id || ':voice') % {len(EQUITY_DIMENSIONS)} as slot, {', '.join(EQUITY_DIMENSIONS)} "
        "from stg_responses where comment is not null and comment <> ''"
    )
    answer = (
        pl.when(pl.col("trust").is_null())
        .then(pl.lit("not answered"))
        .when(pl.col("trust_scale") == "thumbs")
        .then(pl.when(pl.col("trust") == 1).then(pl.lit("positive")).otherwise(pl.lit("negative")))
        .when(pl.col("trust") >= 4)
        .then(pl.lit("positive"))
        .when(pl.col("trust") <= 2)
        .then(pl.lit("negative"))
        .otherwise(pl.lit("neutral"))
    )
    return rows.with_columns(answer.alias("trust_answer"))


def test_every_list_of_the_sample_keeps_to_classes_of_the_minimum(sample_engine: Engine) -> None:
    minimum = sample_engine.min_n
    rows = _classes(sample_engine)
    base = ["service", "channel", "segment", "fiscal_quarter", "trust_answer"]

    def listable(frame: pl.DataFrame) -> pl.DataFrame:
        sizes = frame.group_by(base).len()
        return frame.join(sizes, on=base).filter(pl.col("len") >= minimum)

    everyone = voice.verbatims(sample_engine, Filters(), limit=voice.DOWNLOADED)
    expected = listable(rows)
    assert 0 < expected.height < rows.height  # some comments are listed, some are not
    assert everyone.matching == expected.height
    assert set(everyone.rows["comment"]) <= set(expected["comment"])
    # Narrowed to an equity group: the comments of its dimension's slot, of classes of the minimum
    # within the group.
    groups = 0
    for dimension in ("age_band", "language", "disability"):
        for value in sorted(rows[dimension].unique().to_list()):
            group = voice.verbatims(
                sample_engine, Filters(), group=(dimension, value), limit=voice.DOWNLOADED
            )
            mine = rows.filter(
                (pl.col(dimension) == value) & (pl.col("slot") == EQUITY_DIMENSIONS.index(dimension))
            )
            within = listable(rows.filter(pl.col(dimension) == value)).select([*base, "len"]).unique()
            by_hand = mine.join(within, on=base)
            assert group.matching == by_hand.height, (dimension, value)
            groups += group.matching > 0
    assert groups > 0, "some group's comments are listed"


def test_no_planted_personal_detail_reaches_a_listed_comment(sample_engine: Engine) -> None:
    listed = voice.verbatims(sample_engine, Filters(), limit=voice.DOWNLOADED)
    text = "\n".join(listed.rows["comment"])
    assert "[name]" in text or "[phone]" in text or "[email]" in text  # redacted ones are listed
    for detail in PLANTED_DETAILS:
        assert detail not in text, detail


@pytest.fixture
def voice_app(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)

    def open_page(**params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            app.query_params[key] = value
        app.switch_page("app_pages/voice.py")
        return app.run()

    return open_page


def test_the_page_shows_the_theme_shares_and_the_comments_the_rules_allow(
    voice_app: Any, sample_engine: Engine
) -> None:
    disaster = "Disaster Assistance"
    app = voice_app(service=disaster)
    assert not app.exception
    shown = {m.label: m.value for m in app.metric}
    filters = Filters((("service", (disaster,)),), "FY2023 Q1", "FY2026 Q4")
    expected = tile(sample_engine, "theme_long_hold", filters, "FY2026 Q4")
    assert shown["Long holds"] == format_value(expected.current["value"], "percent")
    # The planted surge: long holds peak in Disaster Assistance's FY2025 Q4, and the chart's numbers
    # say so.
    by_quarter = sample_engine.run(filters.query("theme_long_hold", by=["fiscal_quarter"]))
    peak = by_quarter.sort("value", descending=True).row(0, named=True)
    assert peak["fiscal_quarter"] == "FY2025 Q4"
    numbers = next(d.value for d in app.dataframe if "Long holds" in d.value.columns)
    quarter = numbers[numbers["Quarter"] == "FY2025 Q4"]
    assert quarter["Long holds"].tolist() == [format_value(peak["value"], "percent")]
    # The comments, narrowed by theme and trust answer from the link: the engine's list, as typed.
    passports = "Passport Services"
    app = voice_app(service=passports, say="theme_new_renewal", trust="positive")
    assert not app.exception
    listed = voice.verbatims(
        sample_engine,
        Filters((("service", (passports,)),), "FY2023 Q1", "FY2026 Q4"),
        None,
        "theme_new_renewal",
        "positive",
    )
    table = app.table[0].value
    assert len(table) == len(listed.rows) > 0
    assert table["Comment"].tolist() == listed.rows["comment"].to_list()
    assert set(table["Trust answer"]) == {"positive"}
    assert all("Praise for online renewal" in t for t in table["Themes"])


def test_a_theme_that_did_not_move_has_no_arrow(voice_app: Any) -> None:
    # On the sample no comment of FY2026 Q3 or Q4 asks for help in Spanish: 0.0% on 0.0%. An up arrow
    # beside "+0.0 pts" said it rose.
    app = voice_app()
    assert not app.exception
    tiles = {m.label: m for m in app.metric}
    spanish = tiles["Help in Spanish"]
    assert (spanish.value, spanish.proto.delta) == ("0.0%", "0.0 pts")
    none, up, down = 2, 1, 0  # Streamlit's MetricDirection
    assert spanish.proto.direction == none
    for m in app.metric:  # a change that shows keeps its arrow
        assert m.proto.direction == (
            none if m.proto.delta == "0.0 pts" else down if m.proto.delta[0] == "-" else up
        )


def test_the_page_lists_nothing_for_groups_under_the_minimum(
    voice_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CX_MIN_N", "100000")
    # The server opens its engine once, with the minimum it starts with: open it afresh here, and
    # again after, so no other test is served this minimum.
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        app = voice_app(from_group="age_band", group="65+")
        assert not app.exception
        assert any("at least 100000 people" in c.value for c in app.caption)  # the minimum is in force
        assert not [t for t in app.table if "Comment" in t.value.columns]  # no comment, no table of them
        assert any("None of this view's comments can be listed" in i.value for i in app.info)
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def test_topics_by_hand_are_found_the_same_every_time() -> None:
    holds = [
        f"I waited on hold by phone for {w} hours" for w in ("two", "three", "four", "five", "six", "many")
    ]
    forms = [
        f"The online form was confusing on page {p}" for p in ("one", "two", "three", "four", "five", "six")
    ]
    comments = [*holds, *holds, *forms, *forms]  # every word of a kind in twelve comments
    found = topics.discover(comments, topics=2)
    assert found == topics.discover(comments, topics=2)  # deterministic
    assert [t.share for t in found] == [0.5, 0.5]
    by_word = {t.terms[0]: t for t in found}
    hold_topic = next(t for t in found if "hold" in t.terms)
    form_topic = next(t for t in found if "form" in t.terms)
    assert {"waited", "hold", "phone"} <= set(hold_topic.terms) and "form" not in hold_topic.terms
    assert {"online", "form", "confusing"} <= set(form_topic.terms) and "hold" not in form_topic.terms
    assert len(by_word) == 2
    # Its examples are its own comments, each text once, and stop words and numbers are no terms.
    assert {comments[i] for i in hold_topic.examples} == set(holds)
    assert not {"the", "was", "on", "for", "two", "six"} & {term for t in found for term in t.terms}
    # Words fewer people used than the privacy minimum are not topics: here, no topic at all.
    assert topics.discover(holds[:5] + forms[:4]) == []


def test_suggested_themes_show_examples_only_from_classes_of_the_minimum(
    make_engine: EngineFactory, sample_engine: Engine, tmp_path: Path
) -> None:
    start = datetime(2024, 11, 1, 9, 0)
    rows = [
        *comments(12, HOLD, start),
        *comments(12, "The online form was confusing.", start, channel="phone", trust=1),
    ]
    engine = make_engine(min_n=12, responses=rows)
    found = voice.suggested(engine)
    assert found is not None and len(found) == 2
    shown = {example for s in found for example in s.examples}
    assert shown == {HOLD, "The online form was confusing."}
    stricter = voice.suggested(make_engine(min_n=13, responses=rows))
    assert stricter is not None and all(not s.examples for s in stricter)
    # Found in every service's comments: not for someone who may see only some services.
    assert voice.suggested(sample_engine.confined(frozenset({"Passport Services"}))) is None
    # A suggestion's theme file parses as a theme, and its condition finds its examples.
    path = tmp_path / "themes" / "suggested.sql"
    path.parent.mkdir()
    path.write_text(voice.theme_file(found[0]), encoding="utf-8")
    metric, problems = parse_theme(path)
    assert problems == [] and metric is not None and metric.condition
    tagged = engine.warehouse.frame(f"select comment from stg_responses where {metric.condition}")
    assert set(found[0].examples) <= set(tagged["comment"])


@pytest.mark.slow
def test_no_planted_detail_reaches_the_page_its_comments_csv_or_its_deck(
    voice_app: Any, sample_engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    app = voice_app()
    assert not app.exception
    shown = [
        *(e.value for e in app.markdown),
        *(e.value for e in app.caption),
        *(e.value for e in app.code),
        *(t.value.to_csv() for t in app.table),
        *(d.value.to_csv() for d in app.dataframe),
    ]
    # The comments' CSV, as the page's button makes it.
    everything = voice.verbatims(
        sample_engine, Filters(start="FY2023 Q1", end="FY2026 Q4"), limit=voice.DOWNLOADED
    )
    exhibit = Exhibit("Comments", everything.rows, everything.rows)
    provenance = app.session_state[SESSION_KEY].provenance
    shown.append(csv_bytes(exhibit, provenance).decode("utf-8"))
    # The page's deck, as `cx brief` writes it.
    deck = tmp_path / "voice.pptx"
    assert (
        main(
            [
                "brief",
                "--url",
                "http://localhost:8501/voice",
                "--out",
                str(deck),
                "--data-dir",
                str(sample_dir),
            ]
        )
        == 0
    )
    shown += [
        shape.text_frame.text
        for slide in Presentation(str(deck)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    text = "\n".join(shown)
    assert "[name]" in text  # redacted comments are there
    for detail in PLANTED_DETAILS:
        assert detail not in text, detail


@pytest.mark.slow
def test_the_stores_comments_and_topics_equal_those_composed_over_the_rows(
    sample_engine: Engine, sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = Engine(Warehouse(sample_dir, sealed=False))
    assert stored.use_store(tmp_path / "store", build=True)
    assert voice.source(stored) == comment_table.stored() != voice.source(sample_engine)
    period = ("FY2023 Q1", "FY2026 Q4")
    asked: list[tuple[Filters, dict[str, Any]]] = [
        (Filters((), *period), {}),
        (Filters((("service", ("Passport Services",)),), *period), {"theme": "theme_new_renewal"}),
        (Filters((("channel", ("website", "phone")),), "FY2025 Q1", "FY2026 Q4"), {"trust": "positive"}),
        (Filters((), *period), {"group": ("language", "English")}),
        (Filters((), *period), {"group": ("segment", "Travelers")}),
    ]
    for filters, choices in asked:
        fast = voice.verbatims(stored, filters, limit=voice.DOWNLOADED, **choices)
        rows = voice.verbatims(sample_engine, filters, limit=voice.DOWNLOADED, **choices)
        assert fast.matching == rows.matching > 0, choices
        assert fast.rows.equals(rows.rows), choices
    assert voice.suggested(stored) == voice.suggested(sample_engine)
    # Each theme has its column in the store; a store tagged with other theme files (one served while
    # a newer one builds) lists the comments from the rows, by the current files.
    assert stored.store is not None
    kept = dict(stored.store.tables[comment_table.TABLE])
    assert comment_table.tagged(kept) == {m.name for m in voice.themes(stored)}
    del kept[comment_table.tag_column("theme_new_renewal")]
    earlier = Engine.serving(
        Warehouse.unloaded(sample_dir),
        replace(stored.store, tables={comment_table.TABLE: kept}),
        stored.catalog,
    )
    assert voice.source(earlier) == voice.source(sample_engine)
    # The topics are read from the store's tables where it records them; where it does not (a store
    # from before it did), they are found again in the comments.
    assert {topics.TABLE, topics.EXAMPLES_TABLE} <= set(stored.store.tables)
    found = voice.suggested(stored)
    assert found

    def found_again(source: str) -> tuple[str, dict[str, object]]:
        raise AssertionError("the topics were found again")

    monkeypatch.setattr(topics, "comments_sql", found_again)
    assert voice.suggested(stored) == found
    unrecorded = Engine.serving(
        Warehouse.unloaded(sample_dir), replace(stored.store, tables={}), stored.catalog
    )
    with pytest.raises(AssertionError, match="found again"):
        voice.suggested(unrecorded)
