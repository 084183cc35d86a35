"""Every page under Streamlit's AppTest: no exception, the numbers shown equal the query API's for the
same filters, a filter change changes them, and link parameters set and keep the view."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.briefing import SESSION_KEY
from dashboard.pages import PAGES as APP_PAGES
from metrics.analyses.a11_report import a11_report, shown
from metrics.analyses.equity import breakdown
from metrics.analyses.kpis import quarters_back, tile
from metrics.fiscal import FiscalQuarter
from metrics.formatting import NOT_ASKED, SUPPRESSED, format_value
from metrics.query import Engine, Filters, Query

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = tuple(p.url_path for p in APP_PAGES)  # every page of the app, in menu order
LATEST = "FY2026 Q4"  # the sample's last quarter, long complete


def open_page(page: str, **params: str | list[str]) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        app.query_params[key] = value
    app.switch_page(f"app_pages/{page}.py")
    return app.run()


def notices(app: AppTest) -> list[str]:
    """Return the page's notices, leaving out what the data itself warrants (an unusual baseline)."""
    return [w.value for w in app.warning if "is an unusual quarter" not in w.value]


@pytest.fixture(autouse=True)
def sample_environment(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow
def test_every_page_runs_without_exception_or_notice(page: str) -> None:
    app = open_page(page)
    assert not app.exception
    assert not notices(app), notices(app)
    assert app.title[0].value.endswith("?") or "?" in app.title[0].value  # titles say what the page answers


def test_overview_tiles_equal_the_query_api(sample_engine: Engine) -> None:
    app = open_page("overview")
    shown = {m.label: m.value for m in app.metric}
    for name in ("trust", "ease", "effectiveness", "emotion", "wait_median", "self_service_rate"):
        expected = tile(sample_engine, name, Filters(start="FY2023 Q1", end=LATEST), LATEST)
        assert shown[expected.metric.label] == format_value(expected.current["value"], expected.metric.format)
        # The tile's number is the engine's own answer for that quarter.
        direct = sample_engine.run(Query.of(name, by=["fiscal_quarter"], start="FY2024 Q1", end=LATEST))
        assert direct.row(-1, named=True)["value"] == expected.current["value"]


def test_trust_asked_on_the_other_scale_is_said_beside_the_tiles(sample_engine: Engine) -> None:
    # Some of the sample's surveys ask trust as thumbs up or down: the Trust tile (five-point) left
    # their answers unmentioned. The overview gives them, apart, and so do the deck's key figures.
    app = open_page("overview")
    thumbs = tile(sample_engine, "trust_thumbs", Filters(start="FY2023 Q1", end=LATEST), LATEST)
    said = (
        f"The Trust tile counts answers on the five-point scale. Some surveys in {LATEST} asked trust as "
        "thumbs up or down instead, kept apart and never pooled: Trust (thumbs) "
        f"{format_value(thumbs.current['value'], 'percent')} (n = {thumbs.current['n']:,})."
    )
    assert said in [c.value for c in app.caption]
    found = app.session_state[SESSION_KEY]
    assert [(f.label, f.detail) for f in found.figures][-1] == ("Trust (thumbs)", said)
    assert "Trust (thumbs)" not in {m.label for m in app.metric}  # beside the tiles, not one of them


def test_a_filter_change_changes_the_tiles(sample_engine: Engine) -> None:
    app = open_page("overview")
    before = {m.label: m.value for m in app.metric}
    app.multiselect(key="service").set_value(["Passport Services"]).run()
    after = {m.label: m.value for m in app.metric}
    assert after != before
    filters = Filters(where=(("service", ("Passport Services",)),), start="FY2023 Q1", end=LATEST)
    trust = tile(sample_engine, "trust", filters, LATEST)
    assert after["Trust"] == format_value(trust.current["value"], "percent")
    assert app.query_params["service"] == "Passport Services"


def test_a_link_may_spell_quarters_without_the_space() -> None:
    app = open_page("overview", **{"from": "FY2025Q1", "to": "fy2026-q3"})
    assert not app.warning, [w.value for w in app.warning]
    assert app.selectbox(key="from").value == "FY2025 Q1"
    assert app.selectbox(key="to").value == "FY2026 Q3"


def test_trends_table_equals_the_query_api(sample_engine: Engine) -> None:
    app = open_page("trends", metric="ease", split="channel", **{"from": "FY2025 Q1"})
    assert app.selectbox(key="metric").value == "ease"
    table = app.dataframe[0].value
    expected = sample_engine.run(
        Query.of("ease", by=["fiscal_quarter", "channel"], start="FY2025 Q1", end=LATEST)
    )
    assert len(table) == expected.height
    assert list(table["Ease"]) == [
        format_value(None if r["suppressed"] else r["value"], "percent")
        for r in expected.iter_rows(named=True)
    ]


def test_equity_shows_the_rural_older_online_gap(sample_engine: Engine) -> None:
    params: dict[str, str | list[str]] = {
        "from": LATEST,
        "to": LATEST,
        "channel": ["website", "mobile_app"],
        "metric": "trust",
        "by": "urbanicity",
        "within": "age_band",
        "value": "65+",
    }
    app = open_page("equity", **params)
    assert not app.exception and not app.warning
    filters = Filters(where=(("channel", ("website", "mobile_app")),), start=LATEST, end=LATEST)
    expected = breakdown(sample_engine, "trust", "urbanicity", filters, [("age_band", "65+")])
    rural = expected.groups.filter(expected.groups["urbanicity"] == "Rural").row(0, named=True)
    assert rural["value"] < expected.overall["value"] and rural["beyond_noise"]
    table = app.dataframe[0].value
    shown = dict(zip(table["Urban / suburban / rural"], table["Trust"], strict=True))
    assert shown["Rural"] == format_value(rural["value"], "percent")
    assert any("Gaps beyond sampling noise" in m.value and "Rural" in m.value for m in app.markdown)
    # The overall is the people the groups are drawn from, and the page says so: everyone aged 65+.
    older = sample_engine.run(filters.query("trust", where={"age_band": "65+"})).row(0, named=True)
    assert expected.overall["value"] == older["value"]
    said = f"against the overall **{format_value(older['value'], 'percent')}** for all customers aged 65\\+"
    assert any(said in m.value for m in app.markdown), [m.value for m in app.markdown]


def test_catalog_search_narrows_the_list(sample_engine: Engine) -> None:
    app = open_page("catalog")
    assert len(app.expander) == len(sample_engine.catalog.metrics)
    app.text_input(key="q").input("wait").run()
    labels = sorted(e.label.split(" · ")[0] for e in app.expander)
    assert labels == [
        "Ease after a contact",
        "Long holds",  # a comment theme: "waiting on hold"
        "Mean wait",
        "Median wait",
        "No news while waiting",
        "Service level (5 minutes)",
        "Trust after a contact",
        "Wait, 90th percentile",
    ]
    assert app.query_params["q"] == "wait"


def test_link_parameters_set_the_view_and_bad_ones_get_a_notice() -> None:
    app = open_page("trends", metric="nope", grain="month", service="Mars", foo="1")
    assert not app.exception
    notices = " ".join(w.value for w in app.warning)
    assert "`metric` value 'nope'" in notices
    assert "`service` value 'Mars'" in notices
    assert "`foo` is not used" in notices
    assert app.selectbox(key="metric").value == "trust"  # the default
    assert app.selectbox(key="grain").value == "month"  # the good value is kept
    assert app.query_params["metric"] == "trust"
    assert "foo" not in app.query_params
    # Two unused: said in the plural ("parameter `bar`, `foo` are ... and was ignored" before).
    two = open_page("trends", foo="1", bar="2")
    assert "The link's parameters `bar` and `foo` are not used on this page and were ignored." in [
        w.value for w in two.warning
    ]


def test_value_page_equals_the_value_model_and_carries_adjusted_assumptions(sample_engine: Engine) -> None:
    from metrics.analyses.value import load_assumptions, value

    app = open_page("value", staff_cost="80", cost_phone="20", baseline="FY2025Q4")
    assert not app.exception and not notices(app), notices(app)
    shipped = load_assumptions()
    adjusted = shipped.adjusted(
        baseline_quarter="FY2025 Q4", staff_hourly_cost=80.0, cost_per_transaction={"phone": 20.0}
    )
    expected = value(sample_engine, Filters(start="FY2023 Q1", end=LATEST), LATEST, adjusted)
    shown = {m.label: m.value for m in app.metric}
    assert shown["Cost avoided by the self-service shift"] == f"${expected.cost_avoided:,.0f}"
    assert shown["Contacts avoided"] == f"{expected.contacts_avoided:,.0f} contacts"
    assert shown["Customer hours saved waiting"] == f"{expected.customer_hours_saved:,.0f} hours"
    # Adjusted values stay in the link; untouched assumptions are left out of it.
    assert app.query_params["staff_cost"] == "80" and app.query_params["cost_phone"] == "20"
    assert "cost_website" not in app.query_params
    # A value of seven significant digits reopens as itself, not rounded to six.
    app.number_input(key="staff_cost").set_value(1234.567).run()
    assert app.query_params["staff_cost"] == "1234.567"
    app.number_input(key="staff_cost").set_value(52.0).run()
    assert "staff_cost" not in app.query_params


def test_value_page_names_a_bad_assumption_in_the_link() -> None:
    app = open_page("value", staff_cost="lots")
    assert not app.exception
    assert any("`staff_cost` value 'lots'" in w.value for w in app.warning)


def test_drivers_page_equals_the_driver_model(sample_engine: Engine) -> None:
    from metrics.analyses.drivers import importance

    app = open_page("drivers")
    assert not app.exception
    found = importance(sample_engine, Filters(start="FY2023 Q1", end=LATEST))
    ranking = app.dataframe[1].value
    assert ranking["Importance (share of R²)"].to_list() == [
        format_value(v, "percent") for v in found.drivers["importance"]
    ]
    # Each quadrant as the model places it, with what of the placement is within noise of the line.
    assert ranking["Quadrant"].to_list() == [
        f"{q} (near the line: {near} within sampling noise)" if near else q
        for q, near in zip(found.drivers["quadrant"], found.drivers["near_the_line"], strict=True)
    ]
    waits = sample_engine.run(
        Query.of("trust_after_contact", by=["wait_band"], start="FY2023 Q1", end=LATEST)
    )
    assert app.dataframe[0].value["Trust after a contact"].to_list() == [
        format_value(v, "percent") for v in waits["value"]
    ]


def test_drivers_tells_hidden_answers_from_none_in_the_checklist_and_by_wait(sample_engine: Engine) -> None:
    from metrics.analyses.drivers import v2_checklist

    # Vessel Registration's live chat: enough who trusted to show what went well, too few who did
    # not to show what could improve: no bars of that side at all, and the page says why.
    app = open_page("drivers", service="Vessel Registration", channel="live_chat")
    found = v2_checklist(
        sample_engine,
        Filters((("service", ("Vessel Registration",)), ("channel", ("live_chat",))), "FY2023 Q1", LATEST),
    )
    assert found["went_well"].is_not_null().any() and found["could_improve"].is_null().all()
    captions = [c.value for c in app.caption]
    assert (
        "What could improve, among those who did not: hidden for every driver (†), too few answers to show."
        in captions
    )
    assert not [c for c in captions if c.startswith("What went well")]
    # The side shown says on how many it rests, the hidden side not at all.
    trusted = format_value(found["went_well_n"].max(), "integer")  # type: ignore[arg-type]
    assert (
        f"Shares among {trusted} who trusted; each bar's 95% interval is in its tooltip and the CSV."
        in captions
    )
    # Business Licensing by e-mail in one quarter: v2 answers there, every one hidden: it says so,
    # rather than that there are none. At self-service kiosks there are none.
    one = {"from": "FY2026 Q3", "to": "FY2026 Q3"}
    app = open_page("drivers", service="Business Licensing", channel="email", **one)
    assert "The v2 survey answers for these filters are hidden (†): too few to show." in [
        i.value for i in app.info
    ]
    app = open_page("drivers", service="Business Licensing", channel="self_service_kiosk", **one)
    assert "No v2 survey answers for these filters." in [i.value for i in app.info]
    # By phone, trust after a contact is there in four wait bands, each hidden: not "no answers".
    app = open_page("drivers", service="Business Licensing", channel="phone", **one)
    info = [i.value for i in app.info]
    assert (
        "The trust after a contact answers linked to a contact for these filters are hidden (†): too few in every wait band to show."
        in info
    )
    assert not [i for i in info if i.startswith("No trust after a contact answers")]


def test_journeys_page_names_the_moment_that_matters(sample_engine: Engine) -> None:
    from metrics.analyses.journeys import journey

    app = open_page("journeys", journey_service="Naturalization")
    assert not app.exception
    found = journey(sample_engine, "Naturalization", Filters(start="FY2023 Q1", end=LATEST))
    assert found.moment is not None and found.moment.beyond_noise
    text = " ".join(m.value for m in app.markdown)
    assert f"The moment that matters: {found.moment.stage}." in text and "(beyond sampling noise)" in text
    assert '"strokeWidth": 28' in app.get("vega_lite_chart")[0].proto.spec  # its stage is shaded
    # Its lowest stage, Wait (the sample's planted one), is below every other beyond noise.
    assert found.lowest is not None and found.lowest.stage == "Wait" and found.lowest.beyond_noise
    assert (
        "**Lowest stage: Wait**, at " in text and ": below every other stage beyond sampling noise." in text
    )
    # Each segment's moment says whether its fall is beyond noise, the segments tested as one family.
    segments = [m.value for m in app.markdown if m.value.startswith("- **")]
    beyond = [s for s in segments if s.endswith(", beyond sampling noise)")]
    within = [s for s in segments if ": no stage falls beyond sampling noise (the largest fall: " in s]
    assert segments and len(beyond) + len(within) == len(segments)
    app.selectbox(key="journey_service").set_value("Passport Services").run()
    assert app.query_params["journey_service"] == "Passport Services"
    # The caption names the chosen service and what else applies, never "all services" beside it.
    captions = [c.value for c in app.caption]
    assert f"Passport Services; FY2023 Q1 to {LATEST}; all channels and segments." in captions


def test_journeys_on_thin_data_names_no_moment_and_says_which_themes(sample_engine: Engine) -> None:
    from metrics.analyses.journeys import journey

    # Vessel Registration by live chat: trust alone is shown, its stages have 12-19 answers, too few
    # to tell a 14.6-point fall from noise; no segment has two stages shown, nor any stage to draw.
    app = open_page("journeys", journey_service="Vessel Registration", channel="live_chat")
    assert not app.exception
    found = journey(
        sample_engine, "Vessel Registration", Filters((("channel", ("live_chat",)),), "FY2023 Q1", LATEST)
    )
    assert found.moment is not None and not found.moment.beyond_noise and found.moment.themes == ("trust",)
    text = [m.value for m in app.markdown]
    assert text[0].startswith("**No stage falls beyond sampling noise.** The largest fall, from ")
    assert "on trust, the only theme shown at both: within sampling noise, so no moment is named." in text[0]
    # Its lowest stage is lowest on its face only: not beyond noise of two of the others, and two
    # more are hidden, so not compared at all.
    assert found.lowest is not None and found.lowest.near == ("Learn", "Apply")
    assert found.lowest.hidden == ("Decision", "Follow-up")
    assert (
        f"**Lowest stage: {found.lowest.stage}**, at 73.7% on trust, the only theme shown there, but within "
        "sampling noise of Learn and Apply: it is not surely the lowest; Decision and Follow-up are hidden (†), "
        "too few answers to compare."
    ) in text
    segments = [m for m in text if m.startswith("- **")]
    assert segments and all(
        m.endswith("too few answers shown at neighbouring stages to compare them.") for m in segments
    )
    assert [i.value for i in app.info] == [
        "Every segment's trust answers for Vessel Registration under these filters are hidden (†): too few to show."
    ]
    assert len(app.get("vega_lite_chart")) == 1  # the journey's chart alone, no empty segments' chart
    assert '"strokeWidth": 28' not in app.get("vega_lite_chart")[0].proto.spec  # no stage is shaded
    # The chart, and the deck's slide of it, are titled by the one theme they show.
    assert (
        app.session_state[SESSION_KEY].exhibits[0].title == "Trust across the journey of Vessel Registration"
    )


def test_thin_views_say_hidden_or_no_data_and_conclude_nothing(sample_engine: Engine) -> None:
    from metrics.analyses.kpis import tiles

    one = {"from": LATEST, "to": LATEST}
    # Vessel Registration's live chat in one quarter: every age band hidden. The page says so, draws no
    # chart of empty axes and does not say "no group differs" of groups it could not compare.
    app = open_page("equity", service="Vessel Registration", channel="live_chat", **one)
    assert not app.exception
    assert [i.value for i in app.info] == [
        "The trust answers by age band in this view are all hidden (†): fewer than 10 responses each.",
        "The answers on the four themes by age band in this view are all hidden (†): fewer than 10 responses each.",
    ]
    assert not app.get("vega_lite_chart")
    assert not [m for m in app.markdown if "differs from the rest" in m.value]
    # Business Licensing's self-service kiosks have no survey answers at all: "no data", not hidden.
    app = open_page("equity", service="Business Licensing", channel="self_service_kiosk", **one)
    assert "No trust answers by age band in this view." in [i.value for i in app.info]
    assert not [m.value for m in app.markdown if "(n = 0)" in m.value]  # no overall of nothing
    # What customers say, the same: every group hidden, or no comments at all.
    q3 = {"from": "FY2026 Q3", "to": "FY2026 Q3"}
    app = open_page("voice", service="Vessel Registration", channel="live_chat", **q3)
    assert [i.value for i in app.info][:2] == [
        "Every theme's comments in this period are hidden (†): too few to show.",
        "The comments by age band in this view are all hidden (†): fewer than 10 comments each.",
    ]
    assert not app.get("vega_lite_chart")  # no empty axes
    assert not [m for m in app.markdown if "differs from the rest" in m.value]
    app = open_page("voice", service="Business Licensing", channel="self_service_kiosk", **q3)
    assert "No comments by age band in this view." in [i.value for i in app.info]
    assert any("against **no data** of all comments (n = 0)" in m.value for m in app.markdown)
    # By channel, the themes the v2-only channels' surveys did not ask are "not asked", not hidden.
    app = open_page("equity", by="channel", **one)
    grid = app.dataframe[1].value
    assert grid.loc[grid["Channel"] == "Email", "Ease"].tolist() == [NOT_ASKED]
    assert SUPPRESSED not in grid["Ease"].tolist()
    # The overview of the hidden view compares nothing, and says so rather than "nothing moved".
    app = open_page("overview", service="Vessel Registration", channel="live_chat", **one)
    info = [i.value for i in app.info]
    assert (
        f"No service or segment has answers shown in both quarters to compare between FY2026 Q3 and {LATEST}: "
        "nothing can be said of what changed in this view."
    ) in info
    assert not [i for i in info if "moved beyond sampling noise" in i]
    # Trends: phone surveys never asked ease (they are v2): "not asked", not "no data".
    app = open_page("trends", metric="ease", channel="phone", **{"from": "FY2025 Q1", "to": LATEST})
    assert [i.value for i in app.info] == [
        "Ease was not asked: the surveys answered under these filters did not ask this item."
    ]
    app = open_page("trends", metric="ease", service="Business Licensing", channel="self_service_kiosk", **q3)
    assert [i.value for i in app.info] == ["No data for these filters."]
    # The tiles' eight quarters: before the data begins, "no data"; a quarter too thin to show, †.
    app = open_page("overview", **{"from": "FY2023 Q1", "to": "FY2024 Q2"})
    lines = next(e for e in app.expander if e.label == "Numbers behind the eight-quarter lines")
    early = lines.dataframe[0].value.set_index("Quarter")
    assert early.loc["FY2022 Q3", "Trust"] == "no data" and early.loc["FY2023 Q1", "Trust"] != "no data"
    found = tiles(
        sample_engine,
        ("trust",),
        Filters((("service", ("Vessel Registration",)), ("channel", ("live_chat",)))),
        LATEST,
    )[0]
    assert LATEST in found.hidden_quarters and dict(found.history)[LATEST] is None
    # With no survey answers at all, the responses line says none, not †.
    app = open_page("overview", service="Business Licensing", channel="self_service_kiosk", **q3)
    assert any(
        m.value.startswith("**No responses** in FY2026 Q3; response rate unknown") for m in app.markdown
    )


def test_equity_names_channels_as_people_do_when_narrowed_to_one() -> None:
    app = open_page("equity", by="age_band", within="channel", value="in_person")
    assert not app.exception and not app.warning
    narrowed = app.selectbox(key="value")
    assert narrowed.value == "in_person" and "In person" in narrowed.options
    assert not {"in_person", "phone", "website"} & set(narrowed.options)
    assert any("customers served via in person" in m.value.lower() for m in app.markdown)


def test_reporting_counts_equal_the_report_and_the_query_api(
    sample_engine: Engine, exact_sample_engine: Engine
) -> None:
    # The page previews the submission, which carries true counts: they equal `cx query --exact`.
    app = open_page("reporting", quarter="FY2026Q4")
    assert not app.exception and not app.warning, [w.value for w in app.warning]
    assert app.selectbox(key="quarter").value == LATEST
    assert app.title[0].value == f"Are we ready to submit {LATEST} to OMB? A-11 reporting"
    # FY2026 Q4 ends on September 30, 2026: due 30 days on, and once that has passed, said how long ago.
    late = (date.today() - date(2026, 10, 30)).days
    due = "is due by October 30, 2026" if late <= 0 else f"was due by October 30, 2026, {late} day"
    assert any(f"{LATEST} {due}" in c.value for c in app.caption), [c.value for c in app.caption]
    expected = shown(a11_report(sample_engine, FiscalQuarter.parse(LATEST)), sample_engine.min_n)
    readiness = app.table[0].value.reset_index()  # a short table of long text: wrapped, not a grid
    assert list(readiness["Service"]) == expected.services["service"].to_list()
    responses = exact_sample_engine.run(Query.of("responses", by=["service"], start=LATEST, end=LATEST))
    assert list(readiness["Respondents"]) == [f"{int(v):,}" for v in responses["value"]]
    assert set(readiness["Readiness"]) <= {"✖ Not ready", "▲ Check before sending", "✔ Ready"}
    publishable = dict(zip(readiness["Service"], readiness["Publishable"], strict=True))
    assert publishable.pop("Employee HR Services") == "no: internal only"
    assert set(publishable.values()) == {"yes"}
    counts = app.dataframe[0].value
    assert len(counts) == expected.counts.height
    shown_counts = [("†" if v is None else f"{v:,}") for v in expected.counts["answers"]]
    assert list(counts["Respondents"]) == shown_counts
    # The trust counts on the page add up to the trust metric's own n for each service shown.
    trust = exact_sample_engine.run(Query.of("trust", by=["service"], start=LATEST, end=LATEST))
    for row in trust.iter_rows(named=True):
        cells = counts[(counts["Service"] == row["service"]) & (counts["Question"] == "Trust")]
        if "†" not in set(cells["Respondents"]):
            assert sum(int(c.replace(",", "")) for c in cells["Respondents"]) == row["n"]
    assert "cx report a11 --fiscal-year 2026 --quarter 4" in " ".join(c.value for c in app.caption)


def test_journeys_follows_the_sidebar_service_and_concludes_nothing_from_no_data(
    sample_engine: Engine,
) -> None:
    from metrics.analyses.journeys import default_service

    # The sidebar names one service: the page shows that service, not its own default.
    app = open_page("journeys", service="Passport Services")
    assert not app.exception
    assert app.caption[0].value.startswith("Passport Services;")
    assert not [s for s in app.selectbox if s.label == "Service"]
    # With no sidebar service, the default is the service with the most responses.
    app = open_page("journeys")
    largest = default_service(sample_engine, Filters(start="FY2023 Q1", end=LATEST))
    assert app.selectbox(key="journey_service").value == largest
    assert any(m.value.startswith("**Lowest stage:") for m in app.markdown)
    # A view whose answers are all hidden says so and names no moment; one with none says that.
    app = open_page(
        "journeys", service="Passport Services", channel="paper", **{"from": LATEST, "to": LATEST}
    )
    texts = [m.value for m in app.markdown]
    assert not any("moment" in t.lower() for t in texts), texts
    assert app.info[0].value.startswith(
        "The survey answers for Passport Services under these filters are all hidden (†): too few at every stage"
    )
    app = open_page(
        "journeys",
        service="Business Licensing",
        channel="self_service_kiosk",
        **{"from": LATEST, "to": LATEST},
    )
    assert app.info[0].value == (
        "No survey answers for Business Licensing under these filters, so no stage can be named. Widen the "
        "period or the filters."
    )


def test_the_overview_states_the_answer_first(sample_engine: Engine) -> None:
    from metrics.analyses.headline import answer, describe_answer

    app = open_page("overview")
    expected = describe_answer(answer(sample_engine, Filters(start="FY2023 Q1", end=LATEST), LATEST))
    assert app.markdown[0].value == f"**{expected}**"
    assert expected.startswith("Trust is ") and f"on {quarters_back(LATEST, 4)}" in expected
    assert "sampling noise" in expected and "FY2026 to date" in expected


def test_the_gaps_listed_are_counted_as_a_leader_reads_them() -> None:
    # Passport Services' view lists one gap in this sample, the whole sample two: "the gap", not "1 gaps".
    labels = {
        params.get("service", "every service"): [e.label for e in app.expander if "gap" in e.label]
        for params in ({"service": "Passport Services"}, {})
        for app in [open_page("overview", **params)]
    }
    assert labels == {
        "Passport Services": ["The gap listed, with its numbers"],
        "every service": ["All 2 gaps listed, with their numbers"],
    }


def test_tiles_tell_not_applicable_and_not_asked_from_hidden() -> None:
    # The app has no contacts and one channel has no self-service rate: neither prints a figure or †.
    app = open_page("overview", channel="mobile_app")
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Median wait"] == "not applicable" and metrics["Self-service rate"] == "not applicable"
    captions = " ".join(c.value for c in app.caption)
    assert "Median wait does not apply to channel Mobile app: its data has none." in captions
    assert "Self-service rate compares one channel with another: it does not apply within one." in captions
    # Nor has either a line in the last eight quarters: within one channel, self-service would be 100%.
    lines = next(e for e in app.expander if e.label == "Numbers behind the eight-quarter lines")
    drawn = list(lines.dataframe[0].value.columns)
    assert "Trust" in drawn and not {"Median wait", "Self-service rate"} & set(drawn), drawn
    # By phone (v2 surveys), ease was never asked: its eight quarters say so, on the page and in the
    # export, beside trust's values.
    app = open_page("overview", channel="phone")
    lines = next(e for e in app.expander if e.label == "Numbers behind the eight-quarter lines")
    table = lines.dataframe[0].value
    assert set(table["Ease"]) == {NOT_ASKED} and NOT_ASKED not in set(table["Trust"])
    found = app.session_state[SESSION_KEY]
    eight = next(e for e in found.exhibits if e.title == "The last eight quarters")
    from dashboard.briefing import csv_bytes

    written = [
        r
        for r in csv.reader(csv_bytes(eight, found.provenance).decode().splitlines())
        if len(r) > 2 and r[1] == "ease"
    ]
    assert written and all(r[2] == NOT_ASKED for r in written)
    # Kiosk surveys of Vessel Registration stopped asking ease, effectiveness and emotion.
    app = open_page("overview", service="Vessel Registration", channel="self_service_kiosk")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Trust"] != "not asked"  # trust is asked (a figure, or † in this small sample)
    assert {metrics[m] for m in ("Ease", "Effectiveness", "Emotion")} == {"not asked"}


def test_trends_says_where_a_line_stops_and_why() -> None:
    app = open_page("trends", metric="ease", service="Vessel Registration", channel="self_service_kiosk")
    assert not app.exception
    stops = [c.value for c in app.caption if "has no data after" in c.value]
    assert len(stops) == 1 and stops[0].endswith(": the surveys answered after it did not ask this item."), (
        stops
    )


def test_trends_draws_the_target_and_the_events_of_the_services_shown() -> None:
    app = open_page("trends", metric="self_service_rate", service="Passport Services")
    assert not app.exception
    assert any(c.value == "Dotted line: the target, 65.0%." for c in app.caption)
    events = [m.value for m in app.markdown if m.value.startswith("**Events**")]
    assert events == ["**Events** (solid lines): FY2025 Q3: Online passport renewal redesigned."]
    app = open_page("trends", metric="trust")
    events = [m.value for m in app.markdown if m.value.startswith("**Events**")]
    assert events and "Hurricane season" in events[0] and "passport" in events[0]


def test_value_keeps_a_baseline_the_assumptions_file_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from metrics.analyses import value as value_module

    # An agency that sets baseline_quarter = "FY2024 Q4" in its file keeps it: the figures and the
    # year to date are against it, not each quarter's own.
    shipped = value_module.load_assumptions().adjusted(baseline_quarter="FY2024 Q4")
    monkeypatch.setattr(value_module, "load_assumptions", lambda: shipped)
    st.cache_data.clear()
    try:
        app = open_page("value")
    finally:
        st.cache_data.clear()
    assert not app.exception
    assert any(m.value.startswith("**Baseline: FY2024 Q4** (chosen under Assumptions") for m in app.markdown)
    assert any("each quarter against FY2024 Q4." in c.value for c in app.caption)


def test_value_exports_channels_without_marking_what_is_not_hidden() -> None:
    # Vessel Registration's mobile app had no transactions in FY2023 Q4: none, 0, not hidden; a
    # self-service channel has no handle minutes: not applicable, not hidden.
    app = open_page("value", service="Vessel Registration", **{"from": "FY2024 Q1", "to": "FY2024 Q4"})
    found = app.session_state[SESSION_KEY]
    exhibit = next(e for e in found.exhibits if e.title.startswith("Transactions by channel"))
    from dashboard.briefing import csv_bytes

    written = csv_bytes(exhibit, found.provenance).decode().splitlines()
    rows = {r[0]: r for r in csv.reader(written) if r and not r[0].startswith("#")}
    assert rows["mobile_app"][3] == "0.0" and rows["website"][5] == "not applicable"
    assert rows["automated_phone"][2:4] == ["†", "†"]  # hidden counts stay hidden


def test_value_warns_of_an_unusual_baseline_and_gives_the_year_to_date(sample_engine: Engine) -> None:
    from metrics.analyses.value import load_assumptions, year_to_date

    # The default baseline of FY2026 Q4 is FY2025 Q4, the sample's disaster surge.
    app = open_page("value")
    assert not app.exception
    assert any(m.value.startswith("**Baseline: FY2025 Q4** (four quarters before") for m in app.markdown)
    warned = [w.value for w in app.warning if "unusual quarter" in w.value]
    assert len(warned) == 1 and "the mean wait in FY2025 Q4" in warned[0], warned
    # The year to date is each quarter against its own baseline, a year before it, not FY2025 Q4.
    _, sums, _ = year_to_date(
        sample_engine, Filters(start="FY2023 Q1", end=LATEST), LATEST, load_assumptions()
    )
    assert any(
        f"**FY2026 to date (FY2026 Q1 to FY2026 Q4):** ${sums['cost_avoided']:,.0f}, each quarter against its "
        "own baseline (the same season a year earlier)." in c.value
        for c in app.caption
    )
    # A view of FY2023 alone has no quarter before its first: the baseline falls inside the year, and
    # the year to date is not computed, rather than the page failing.
    early = open_page("value", **{"from": "FY2023 Q1", "to": "FY2023 Q4"})
    assert not early.exception and not early.error
    assert any(
        "not computed: the baseline FY2023 Q1 is not before every quarter of the year." in c.value
        for c in early.caption
    )
    # The working is a table the deck and CSV carry, and its results are the figures on the cards.
    working = app.table[0].value
    cards = {m.label: m.value for m in app.metric}
    assert working.loc["Cost avoided", "Result"] == cards["Cost avoided by the self-service shift"]
    assert working.loc["Customer hours saved", "Result"] == cards["Customer hours saved waiting"]
    assert "FY2025 Q4" in working.loc["Customer hours saved", "Worked out as"]
    found = app.session_state[SESSION_KEY]
    assert any(e.title.startswith("How the figures are worked out") for e in found.exhibits)
    assert all("The baseline is unusual" in f.detail for f in found.figures)
    calm = open_page("value", baseline="FY2024Q4")
    assert not [w.value for w in calm.warning if "unusual quarter" in w.value]
    # The warning gives the figures against the nearest usual same season, FY2024 Q4: the very
    # figures that baseline's own view shows, on the page and on each figure the deck carries.
    calm_cards = {m.label: m.value for m in calm.metric}
    assert "Against FY2024 Q4, the nearest same season in an earlier year that is not unusual: " in warned[0]
    assert f"{calm_cards['Cost avoided by the self-service shift']} cost avoided" in warned[0]
    assert f"{calm_cards['Contacts avoided']} avoided" in warned[0]
    for figure in found.figures:
        assert (
            f"Against FY2024 Q4, the nearest same season that is not unusual: {calm_cards[figure.label]}."
            in (figure.detail)
        )
    # Each card on the page carries it as well: a card is quoted and screenshot on its own.
    captions = [c.value for c in app.caption if "**FY2026 to date" in c.value]
    assert len(captions) == 4
    for label, caption in zip(calm_cards, captions, strict=True):
        assert caption.endswith(
            f"**Against an unusual baseline.** Against FY2024 Q4, a usual one: {calm_cards[label]}."
        )
    assert not [c.value for c in calm.caption if "unusual baseline" in c.value]


def test_measure_lists_lead_with_the_headline_and_end_with_the_checklist() -> None:
    app = open_page("trends")
    options = app.selectbox(key="metric").options
    assert options[:6] == ["Trust", "Ease", "Effectiveness", "Emotion", "Median wait", "Self-service rate"]
    assert all(o.startswith(("Went well", "Could improve")) for o in options[-14:])


@pytest.mark.parametrize("page", ["overview", "trends", "reporting", "catalog"])
def test_every_page_says_how_fresh_its_data_is(page: str) -> None:
    app = open_page(page)
    assert app.sidebar.caption[0].value.startswith(
        f"Data as of: records through {LATEST}; files last changed "
    )


def test_a_survey_not_cleared_for_release_is_marked_internal_only() -> None:
    import io

    from pptx import Presentation

    from dashboard import deck
    from dashboard.briefing import csv_bytes

    note = "Internal only: the survey of Employee HR Services is not cleared for public release."
    app = open_page("overview")  # every service, Employee HR Services' unpublishable survey among them
    assert any(note in c.value for c in app.sidebar.caption)
    marked = [c.value for c in app.caption if c.value.endswith("Internal only.")]
    assert len(marked) == 4  # trust, ease, effectiveness and emotion: waits and transactions are no survey
    found = app.session_state[SESSION_KEY]
    assert found.provenance.release == note
    assert csv_bytes(found.exhibits[0], found.provenance).decode().startswith(f"# Release: {note}\n")
    # The deck's title slide says it too (the Reporting page's deck: tables only, quick to build).
    reporting = open_page("reporting").session_state[SESSION_KEY]
    title = Presentation(io.BytesIO(deck.build(reporting))).slides[0]
    assert any(note in shape.text_frame.text for shape in title.shapes if shape.has_text_frame)
    # One publishable service: nothing is marked.
    clear = open_page("overview", service="Passport Services")
    assert not any("Internal only" in c.value for c in [*clear.caption, *clear.sidebar.caption])
    assert clear.session_state[SESSION_KEY].provenance.release == ""


def test_trends_with_every_point_hidden_says_so_and_draws_no_empty_chart() -> None:
    # Trust on Vessel Registration's kiosks: every quarter under 10 answers. An empty chart under "8
    # point(s) hidden" said less than a sentence.
    app = open_page("trends", metric="trust", service="Vessel Registration", channel="self_service_kiosk")
    assert not app.exception
    said = [i.value for i in app.info if "hidden" in i.value]
    assert said == [
        "The trust figures by fiscal quarter in this view are all hidden (†): fewer than 10 responses each."
    ]
    assert not app.get("vega_lite_chart") and not app.dataframe
