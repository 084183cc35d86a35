"""The data-quality panel on Metrics and data: every input problem is listed with its file, rows that
break a rule are left out and counted, and the pages keep serving what does not read a broken input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import frame, write_inputs
from streamlit.testing.v1 import AppTest

from dashboard.data import preparing

# Each starts the app on fresh data, building its store: left out of `make test-fast`.
pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    responses = [
        {"trust": 5 if i % 3 else 2, "ease": 4, "age_band": "65+" if i % 2 else "18-24"} for i in range(40)
    ]
    folder = write_inputs(tmp_path / "data", responses=responses, transactions=[{}] * 20, collections=[{}])
    monkeypatch.setenv("CX_DATA_DIR", str(folder))
    monkeypatch.setenv("CX_MIN_N", "1")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()
    st.cache_data.clear()


def open_page(page: str, **params: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        app.query_params[key] = value
    app.switch_page(f"app_pages/{page}.py")
    app.run()
    assert not app.exception
    return app


def test_a_rejected_row_is_counted_and_the_rest_served(data_dir: Path) -> None:
    frame("contacts", [{"queue_wait_seconds": -5.0}, {"queue_wait_seconds": 90.0}]).write_parquet(
        data_dir / "contacts.parquet"
    )
    app = open_page("catalog")
    assert "Data quality" in [h.value for h in app.header]
    (warning,) = app.warning
    assert warning.value.startswith(
        "1 problem in contacts. Rows left out because they break a rule: 1 of contacts; the other rows are served."
    )
    sources = app.table[0].value.reset_index()
    assert dict(zip(sources["Input"], sources["Rows rejected"], strict=True))["contacts"] == "1"
    assert app.dataframe[-1].value.to_dict("records") == [
        {"File": "contacts.parquet", "Problem": "column 'queue_wait_seconds': value -5.0 is below 0 (1 row)"}
    ]
    shown = {m.label: m.value for m in open_page("overview").metric}
    assert shown["Median wait"] == "1m 30s"  # the one good contact


def test_an_unusable_input_is_named_and_the_rest_served(data_dir: Path) -> None:
    frame("contacts", [{}, {}]).drop("queue_wait_seconds").write_parquet(data_dir / "contacts.parquet")
    app = open_page("catalog")
    (warning,) = app.warning
    assert "Not usable, so the metrics that read it are unavailable: contacts." in warning.value
    app = open_page("overview")
    shown = {m.label: m.value for m in app.metric}
    assert shown["Trust"] not in ("", None, "†", "unavailable")
    assert shown["Median wait"] == "unavailable"  # it reads contacts; the reason is under it
    assert any("contacts.parquet: missing column 'queue_wait_seconds'" in t.value for t in app.text)
    # The gap search compares what it can and says what it left out; no part of the page is lost.
    assert not app.error, [e.value for e in app.error]
    assert any(
        "Left out: Trust after a contact and Ease after a contact, which read contacts: that file cannot be "
        "used (Metrics and data says why)." in c.value
        for c in app.caption
    )
    assert "Where are we failing whom?" in [h.value for h in app.header]
    # A page whose measure reads the broken input says so instead of failing, and its list said so.
    app = open_page("trends", metric="wait_median")
    assert app.error[0].value.startswith("This page cannot be shown with the current data.")
    assert "Median wait (unavailable)" in app.selectbox[0].options and "Trust" in app.selectbox[0].options
    # The drivers need survey answers alone: only the waits, which need contacts, are left out.
    app = open_page("drivers")
    assert [e.value for e in app.error] == [
        "Trust by wait cannot be shown with the current data. Metrics and data lists every problem."
    ]
    assert {"Which drivers matter most, and how are we doing on them?"} <= {h.value for h in app.header}
    assert any(h.value.startswith("What customers say went well") for h in app.header)
    # An outcome's measure that reads contacts is unavailable, not "no data"; the others are judged.
    app = open_page("outcomes")
    assert not app.error, [e.value for e in app.error]
    said = [m.value for m in app.markdown]
    assert any(
        m.startswith("**? Service level (5 minutes).** Unavailable\\: its data \\(contacts\\) cannot be used")
        for m in said
    ), said
    # It is in the table and the words, not on the chart: a target drawn alone reads as a line to reach.
    assert not [c for c in app.get("vega_lite_chart") if "Service level (5 minutes)" in c.proto.spec]
    assert any("Service level (5 minutes)" in str(t.value) for t in [*app.table, *app.dataframe])


def test_without_survey_answers_the_waits_and_records_are_still_served(data_dir: Path) -> None:
    # A contact centre not yet surveying: no responses file. Every page said only that it could not be
    # shown: the overview's tiles of waits and transactions asked which quarters had survey answers.
    (data_dir / "responses.parquet").unlink()
    contacts = [{"queue_wait_seconds": 60.0 * (1 + i % 5), "answered": True} for i in range(30)]
    frame("contacts", contacts).write_parquet(data_dir / "contacts.parquet")
    app = open_page("overview")
    shown = {m.label: m.value for m in app.metric}
    # 30 waits of 1 to 5 minutes, six of each: the median is 3 minutes.
    assert shown["Median wait"] == "3m 00s" and shown["Trust"] == "unavailable", shown
    assert [e.value for e in app.error] == [
        "The answer in words cannot be shown with the current data. Metrics and data lists every problem."
    ]
    assert "Where are we failing whom?" in [h.value for h in app.header]
    # Trends and Equity open on the first measure there are records for, not on unreadable trust.
    for page in ("trends", "equity"):
        opened = open_page(page)
        assert opened.selectbox(key="metric").value == "wait_median", page
    assert open_page("equity").error[0].value.startswith("The four themes cannot be shown")
    # Narrowed to one channel, the groups offered are the waits' own (the list read the responses).
    narrowed = open_page("equity", within="channel")
    assert narrowed.selectbox(key="value").options and narrowed.selectbox(key="metric").value == "wait_median"
    assert [e.value for e in narrowed.error] == [e.value for e in open_page("equity").error]
    # A wait with no records under a filter says so: no survey asks a wait, so the responses, which
    # are missing, are not read to tell "not asked" from "no data".
    empty = open_page("trends", metric="wait_median", channel="website")
    assert "No data for these filters." in [i.value for i in empty.info], [i.value for i in empty.info]
    assert not empty.exception and not empty.error


def test_clean_inputs_say_so(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    app = open_page("catalog")
    assert not app.warning
    assert any(m.value.startswith("Every input meets the data contract") for m in app.markdown)
    st.cache_resource.clear()
    st.cache_data.clear()


def test_preparing_says_how_long_and_the_last_step() -> None:
    early = preparing([], 5.7)
    assert "5 s so far." in early and early.endswith("Now: reading and checking the inputs")
    later = preparing(["copied stg_responses (36.1s)", "[3/38] ease: 14 cubes over 6,113 rows (0.4s)"], 192.4)
    assert "3 min 12 s so far." in later and later.endswith(
        "Now: [3/38] ease: 14 cubes over 6,113 rows (0.4s)"
    )


def test_a_start_that_fails_says_why_and_the_next_visit_tries_again(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CX_MEMORY_LIMIT", "lots")
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert app.exception[0].message == "CX_MEMORY_LIMIT: value 'lots' is not a size such as 3GB or 512MB"
    monkeypatch.setenv("CX_MEMORY_LIMIT", "1GB")
    app = open_page("overview")
    assert not app.exception and app.metric


def test_surveys_asking_trust_as_thumbs_alone_lead_with_trust_thumbs(data_dir: Path) -> None:
    # A v2 survey asking trust as thumbs up/down and nothing on the five-point scale: the overview said
    # no one answered trust and drew its tile "not asked" over 40 answers.
    # 30 of 40 thumbs up: 10 of the 20 aged 65+, all 20 aged 18-24.
    answers = [
        {
            "trust": 1 if i % 2 or i >= 20 else 0,
            "trust_scale": "thumbs",
            "survey_version": "v2",
            "age_band": "65+" if i < 20 else "18-24",
        }
        for i in range(40)
    ]
    frame("responses", answers).write_parquet(data_dir / "responses.parquet")
    app = open_page("overview")
    assert not app.error, [e.value for e in app.error]
    tiles = {m.label: m.value for m in app.metric}
    # 30 of 40 thumbs up, published as the pages publish counts (adjusted by up to 2).
    shown = tiles["Trust (thumbs)"]
    assert shown.endswith("%") and 70 <= float(shown[:-1]) <= 80 and "Trust" not in tiles
    assert app.markdown[0].value.startswith(f"**Trust (thumbs) is {shown} in ")
    # Trends and Equity on five-point trust say where its answers are, not "not asked" or "n = 0".
    other = (
        "Trust was not asked on this scale: the surveys answered under these filters asked this question "
        "on its other scale. Choose Trust (thumbs)."
    )
    for page in ("trends", "equity"):
        shown = open_page(page, metric="trust")
        assert other in [i.value for i in shown.info], (page, [i.value for i in shown.info])
        assert not [m.value for m in shown.markdown if "(n = 0)" in m.value]
    # Trends and Equity open on the trust its surveys asked; Equity's heat map compares it with the
    # other themes.
    assert open_page("trends").selectbox(key="metric").value == "trust_thumbs"
    equity = open_page("equity")
    assert equity.selectbox(key="metric").value == "trust_thumbs"
    assert [m.value for m in equity.markdown if m.value.startswith("**Trust (thumbs)** by age band")]
    # Journeys compares Trust (thumbs) across the stages; ease, which these surveys did not ask, says so.
    journeys = open_page("journeys")
    stages = next(t for t in journeys.dataframe if "Trust (thumbs)" in t.value.columns).value
    assert set(stages["Ease"]) == {"not asked"} and "not asked" not in set(stages["Trust (thumbs)"]), stages
    # Drivers' trust by wait: trust after a contact was not asked either, as trust was not: it says so
    # rather than that no answers followed a contact, and where the other scale's answers are.
    waits = [i.value for i in open_page("drivers").info if i.value.startswith("Trust after a contact")]
    assert waits == [
        "Trust after a contact was not asked on this scale: the surveys answered under these filters "
        "asked this question on its other scale. See Trust (thumbs) on the Trends page: it counts every "
        "answer to the question, not only those Trust after a contact counts."
    ]
    # Metrics and data says why trust after a contact has no latest value, and where the answers are.
    catalog = open_page("catalog")
    [after] = [m.value for m in catalog.markdown if "`trust_after_contact`" in m.value]
    assert "**Latest (FY2025 Q1):** not asked. The surveys answered in FY2025 Q1 under these filters" in after
    assert "see Trust (thumbs), which counts every answer to the question" in after
    # The overview's gap search compares the trust answers there are, not five-point trust's none.
    overview = open_page("overview")
    said = " ".join(c.value for c in overview.caption)
    assert "after Holm's adjustment over all" in said and "left out" not in said
    listed = [m.value for m in overview.markdown if m.value.startswith("**1\\. ")]
    assert listed and all(m.startswith("**1\\. Trust (thumbs), customers aged ") for m in listed), listed


def test_value_says_the_data_starts_after_the_baseline_rather_than_four_not_computed(data_dir: Path) -> None:
    # The fixture's transactions are all in one quarter and there are no contacts: the default baseline,
    # a year earlier, comes before the data. The page showed four "not computed" cards and a list of
    # what was missing, never saying that the data starts later.
    app = open_page("value")
    said = [i.value for i in app.info if "The data starts in" in i.value]
    assert len(said) == 1 and said[0].endswith("to be a baseline."), said
    quarter = app.title[0].value.rsplit(" ", 2)[-2:]
    assert said[0].startswith(f"**The data starts in {' '.join(quarter)}, after the baseline ")
    assert not [m for m in app.markdown if "not computed" in m.value]
    assert not [w for w in app.warning if "could not be computed" in w.value]
