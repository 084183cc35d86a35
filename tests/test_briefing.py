"""Exports of a view: the deck's slides, tables and notes, the CSV, the chart images, saved views and
`cx brief`, each checked against the query API on the small sample data."""

from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from PIL import Image
from pptx import Presentation
from streamlit.testing.v1 import AppTest
from test_suppression_audit import _NOT_STATISTICS, STATISTICS, pages_at

from cx.cli import main
from dashboard import deck, saved_views
from dashboard.brief import brief, from_link
from dashboard.briefing import PNG_PPI, SESSION_KEY, Briefing, csv_bytes, marked, png_bytes, svg_bytes
from metrics.errors import CxError
from metrics.formatting import SUPPRESSED, format_value, suppression_note
from metrics.provenance import definitions_version
from metrics.query import Engine, Query
from metrics.settings import Settings

# Counts of the inputs themselves, not statistics of survey or contact cells.
AUDITED_COLUMNS = {"self_service", "cost", "handle_minutes", "rank"}
# Digits in a deck's text that are not statistics: quarters, and the Value working's fixed divisors and
# hourly staff cost (an assumption).
_LABELS = re.compile(r"FY\d{4} Q\d|/ 60\b|/ 3600\b|\$[\d,.]+ an hour")
__all__ = ["pages_at"]  # a fixture, used by name

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
# Passport Services by channel over FY2026: 36 cells, of which the sample hides some (n < 10).
TRENDS = (
    "http://dash.example/trends?from=FY2026+Q1&to=FY2026+Q4&service=Passport+Services"
    "&metric=trust&grain=fiscal_quarter&split=channel"
)
TRENDS_QUERY = Query.of(
    "trust",
    by=["fiscal_quarter", "channel"],
    where={"service": "Passport Services"},
    start="FY2026 Q1",
    end="FY2026 Q4",
)
# Trust by age band for Passport Services by phone in FY2026 Q4: most groups are hidden.
EQUITY = (
    "http://dash.example/equity?from=FY2026+Q4&to=FY2026+Q4&service=Passport+Services&channel=phone"
    "&metric=trust&by=age_band&within=none"
)


@pytest.fixture(autouse=True)
def sample_environment(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)


@pytest.fixture(scope="module")
def trends(sample_dir: Path) -> Briefing:
    return brief(Settings(sample_dir, 10), link=TRENDS)


@pytest.fixture(scope="module")
def trends_deck(trends: Briefing) -> Any:
    return Presentation(io.BytesIO(deck.build(trends)))


def tables(slide: Any) -> list[list[list[str]]]:
    return [
        [[cell.text for cell in row.cells] for row in shape.table.rows]
        for shape in slide.shapes
        if shape.has_table
    ]


def numbers_rows(presentation: Any, title: str) -> list[list[str]]:
    """Every body row of the tables on slides whose title starts with `title`, header rows dropped."""
    rows: list[list[str]] = []
    for slide in presentation.slides:
        if slide.shapes.title is not None and slide.shapes.title.text.startswith(title):
            for table in tables(slide):
                rows += table[1:]
    return rows


def test_the_deck_has_a_title_slide_key_figures_a_slide_per_chart_and_provenance(trends_deck: Any) -> None:
    titles = [slide.shapes.title.text for slide in trends_deck.slides]
    assert titles[0] == "How has it moved? Trends over time"
    assert titles[1] == "Key figures, FY2026 Q4"
    assert titles[2] == "Trust by fiscal quarter and channel"
    # 36 rows do not fit beside the chart: they follow on slides of their own.
    assert titles[3:6] == [f"Trust by fiscal quarter and channel: the numbers ({i} of 3)" for i in (1, 2, 3)]
    assert titles[-1] == "Where these numbers come from"
    first = "\n".join(shape.text_frame.text for shape in trends_deck.slides[0].shapes if shape.has_text_frame)
    assert "service: Passport Services" in first and "FY2026 Q1 to FY2026 Q4" in first
    links = [
        run.hyperlink.address
        for shape in trends_deck.slides[0].shapes
        if shape.has_text_frame
        for paragraph in shape.text_frame.paragraphs
        for run in paragraph.runs
        if run.hyperlink.address
    ]
    assert links == [TRENDS]


def test_the_deck_table_numbers_equal_the_query_api_and_hidden_cells_show_the_symbol(
    trends_deck: Any, sample_engine: Engine
) -> None:
    expected = sample_engine.run(TRENDS_QUERY)
    assert 0 < expected["suppressed"].sum() < expected.height, "the view must hide some cells and show others"
    shown = {
        (row[0], row[1]): row[2:] for row in numbers_rows(trends_deck, "Trust by fiscal quarter and channel")
    }
    assert len(shown) == expected.height
    seed = sample_engine.warehouse.seed("channels")
    labels = dict(zip(seed["channel"], seed["label"], strict=True))
    for row in expected.iter_rows(named=True):
        # Slides name channels as people do; the CSV keeps the keys the query API gives.
        value, interval, n = shown[(row["fiscal_quarter"], labels[row["channel"]])]
        if row["suppressed"]:
            assert (value, interval, n) == (SUPPRESSED, SUPPRESSED, SUPPRESSED)
        else:
            assert value == format_value(row["value"], "percent")
            assert n == f"{row['n']:,}"
            assert (
                interval
                == f"{format_value(row['ci_low'], 'percent')} to {format_value(row['ci_high'], 'percent')}"
            )


def test_the_chart_slide_has_the_image_with_alt_text_and_notes_with_definitions(
    trends_deck: Any, trends: Briefing
) -> None:
    slide = trends_deck.slides[2]
    pictures = [shape for shape in slide.shapes if shape.shape_type == 13]
    assert len(pictures) == 1
    alt = pictures[0]._element.xpath("./p:nvPicPr/p:cNvPr")[0].get("descr")
    assert alt == trends.exhibits[0].alt and alt.startswith("Line chart of Trust")
    notes = slide.notes_slide.notes_text_frame.text
    assert trends.engine.metric("trust").description in notes
    assert "sql/metrics/trust.sql" in notes
    assert suppression_note(10) in notes
    for number in range(3, 6):  # the numbers slides carry the footnote too
        assert suppression_note(10) in trends_deck.slides[number].notes_slide.notes_text_frame.text


def test_the_last_slide_lists_every_line_of_provenance(trends_deck: Any) -> None:
    rows = {row[0]: row[1] for row in tables(trends_deck.slides[-1])[0]}
    assert rows["Link to this view"] == TRENDS
    assert rows["Metric definitions"].startswith(definitions_version())
    assert rows["Suppression"] == suppression_note(10)
    assert rows["Period"] == "FY2026 Q1 to FY2026 Q4"
    assert rows["Choices"] == "Measure: Trust; Period: Fiscal quarter; Split by: Channel"
    assert rows["Data as of"].startswith("records through FY2026 Q4")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows["Generated at"])


def test_the_key_figures_are_the_headline_tiles_of_the_views_quarter(
    trends_deck: Any, sample_engine: Engine
) -> None:
    from metrics.analyses.kpis import HEADLINE, tile

    rows = tables(trends_deck.slides[1])[0]
    assert rows[0] == ["Measure", "Value", "What it means"]
    filters = brief_filters()
    for (label, value, _), name in zip(rows[1:], HEADLINE, strict=True):
        expected = tile(sample_engine, name, filters, "FY2026 Q4")
        assert (label, value) == (
            expected.metric.label,
            format_value(expected.current["value"], expected.metric.format),
        )


def brief_filters() -> Any:
    from metrics.query import Filters

    return Filters((("service", ("Passport Services",)),), "FY2026 Q1", "FY2026 Q4")


def test_hidden_groups_show_only_the_symbol_in_deck_and_chart_data(
    sample_dir: Path, sample_engine: Engine
) -> None:
    found = brief(Settings(sample_dir, 10), link=EQUITY)
    groups = sample_engine.run(
        Query.of("trust", by=["age_band"], where={"service": "Passport Services", "channel": "phone"},
                 start="FY2026 Q4", end="FY2026 Q4")
    )  # fmt: skip
    hidden = set(groups.filter(pl.col("suppressed"))["age_band"])
    assert len(hidden) >= 3
    presentation = Presentation(io.BytesIO(deck.build(found)))
    rows = numbers_rows(presentation, "Trust by age band")
    assert {row[0] for row in rows} == set(groups["age_band"])
    for row in rows:
        if row[0] in hidden:
            assert all(cell in (SUPPRESSED, "") for cell in row[1:]), row
            assert not any(ch.isdigit() for cell in row[1:] for ch in cell), row
    # The chart's own data holds no hidden group: nothing to read off the image or the SVG.
    chart = found.exhibits[0].chart.to_dict()
    plotted = {r["age_band"] for data in chart["datasets"].values() for r in data if "age_band" in r}
    assert plotted and not plotted & hidden
    # Nor any slide, anywhere in the deck: a hidden group's name never sits next to a number.
    for slide in presentation.slides:
        for table in tables(slide):
            for row in table:
                if row[0] in hidden:
                    assert not any(ch.isdigit() for cell in row[1:] for ch in cell)


def test_the_csv_equals_the_query_with_hidden_cells_marked(trends: Briefing, sample_engine: Engine) -> None:
    exhibit = trends.exhibits[0]
    text = csv_bytes(exhibit, trends.provenance).decode("utf-8")
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert f"# Link to this view: {TRENDS}" in head
    assert f"# Suppression: {suppression_note(10)}" in head
    assert any(line.startswith(f"# Metric definitions: {definitions_version()}") for line in head)
    read = pl.read_csv(io.StringIO(text), comment_prefix="#", infer_schema=False)
    expected = sample_engine.run(TRENDS_QUERY)
    assert read.height == expected.height
    for got, want in zip(read.iter_rows(named=True), expected.iter_rows(named=True), strict=True):
        assert (got["fiscal_quarter"], got["channel"]) == (want["fiscal_quarter"], want["channel"])
        if want["suppressed"]:
            assert [got[c] for c in ("value", "n", "ci_low", "ci_high")] == [SUPPRESSED] * 4
        else:
            assert float(got["value"]) == pytest.approx(want["value"], abs=1e-12)
            assert int(got["n"]) == want["n"]
            assert float(got["ci_low"]) == pytest.approx(want["ci_low"], abs=1e-12)


def test_marking_never_writes_zero_for_a_hidden_statistic() -> None:
    frame = pl.DataFrame(
        {"group": ["a", "b"], "value": [0.5, None], "n": [12, None], "suppressed": [False, True]}
    )
    assert marked(frame).rows() == [("a", "0.5", "12", False), ("b", SUPPRESSED, SUPPRESSED, True)]
    wide = pl.DataFrame(
        {"quarter": ["FY2026 Q1"], "trust": [None]}, schema={"quarter": pl.String, "trust": pl.Float64}
    )
    assert marked(wide).rows() == [("FY2026 Q1", SUPPRESSED)]


def test_the_png_decodes_at_the_svgs_size_at_200_ppi_with_provenance(trends: Briefing) -> None:
    exhibit = trends.exhibits[0]
    svg = svg_bytes(exhibit, trends.provenance)
    root = ET.fromstring(svg)
    width, height = float(root.get("width") or 0), float(root.get("height") or 0)
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{namespace}title") is not None
    assert f"Link to this view: {TRENDS}" in (root.find(f"{namespace}desc").text or "")  # type: ignore[union-attr]
    image = Image.open(io.BytesIO(png_bytes(exhibit, trends.provenance)))
    image.load()
    assert image.format == "PNG"
    # The image is the SVG's size at PNG_PPI (vl-convert rounds the pixels down).
    expected = (width * PNG_PPI / 72, height * PNG_PPI / 72)
    assert all(abs(got - want) < 1 for got, want in zip(image.size, expected, strict=True)), (
        image.size,
        expected,
    )
    assert image.size[0] > 2000
    assert min(image.info["dpi"]) >= 150
    assert image.text["Link to this view"] == TRENDS
    assert image.text["Description"] == exhibit.alt


@pytest.mark.parametrize(
    "page", ["overview", "equity", "journeys", "drivers", "value", "reporting", "catalog"]
)
@pytest.mark.slow
def test_every_page_exports_a_deck_with_a_slide_per_exhibit(page: str) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page(f"app_pages/{page}.py")
    app.run()
    assert not app.exception
    found = app.session_state[SESSION_KEY]
    assert found.exhibits, f"{page} records nothing to export"
    presentation = Presentation(io.BytesIO(deck.build(found)))
    titles = [slide.shapes.title.text for slide in presentation.slides]
    assert titles[0] == app.title[0].value
    for exhibit in found.exhibits:
        assert any(t.startswith(exhibit.title) for t in titles), (exhibit.title, titles)
        # The sample pools Employee HR Services' unpublishable survey: the release line leads.
        head = csv_bytes(exhibit, found.provenance).split(b"\n")[:2]
        assert head[0].startswith(b"# Page: ") or (
            head[0].startswith(b"# Release: Internal only") and head[1].startswith(b"# Page: ")
        )
    pictures = sum(1 for s in presentation.slides for shape in s.shapes if shape.shape_type == 13)
    assert pictures == sum(1 for e in found.exhibits if e.chart is not None)


def test_cx_brief_writes_the_deck_of_a_link_and_names_bad_input(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], trends_deck: Any
) -> None:
    out = tmp_path / "deck.pptx"
    assert main(["brief", "--url", TRENDS, "--out", str(out), "--data-dir", str(sample_dir)]) == 0
    written = Presentation(str(out))
    assert [s.shapes.title.text for s in written.slides] == [s.shapes.title.text for s in trends_deck.slides]
    assert [tables(s) for s in list(written.slides)[1:-1]] == [
        tables(s) for s in list(trends_deck.slides)[1:-1]
    ]
    assert f"wrote {out}" in capsys.readouterr().out

    assert main(["brief", "--url", "http://dash.example/nowhere", "--out", str(out)]) == 2
    assert "'/nowhere' is not a page of the dashboard" in capsys.readouterr().err
    assert main(["brief", "--url", TRENDS.replace("metric=trust", "metric=bogus"), "--out", str(out)]) == 2
    assert "`metric` value 'bogus' is not a choice" in capsys.readouterr().err
    assert main(["brief", "--view", "no-such-view", "--out", str(out)]) == 2
    assert "'no-such-view' is not a saved view" in capsys.readouterr().err
    assert main(["brief", "--url", TRENDS, "--out", str(tmp_path / "missing" / "deck.pptx")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_links_are_read_into_a_page_and_parameters() -> None:
    assert from_link("https://cx.agency.gov/") == ("overview", {})
    assert from_link("https://cx.agency.gov/equity?by=segment&service=A&service=B") == (
        "equity",
        {"by": ["segment"], "service": ["A", "B"]},
    )
    with pytest.raises(CxError, match="'/admin' is not a page"):
        from_link("https://cx.agency.gov/admin")


@pytest.fixture
def saved_in_sample(sample_dir: Path) -> Iterator[Path]:
    """The sample's saved-view folder, emptied afterwards: the served app caches one engine per data
    folder, so saved views of a test live in the shared sample folder for the test's length only."""
    folder = saved_views.folder(sample_dir)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_saved_view_reopens_the_same_numbers_in_the_app_and_in_cx_brief(
    saved_in_sample: Path, tmp_path: Path
) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"service": "Passport Services", "to": "FY2026 Q2"})
    app.switch_page("app_pages/overview.py")
    app.run()
    before = {m.label: m.value for m in app.metric}
    app.text_input(key="_view_name").set_value("Passport brief")
    next(b for b in app.button if b.label == "Save view").click().run()
    assert any("Saved “Passport brief”" in s.value for s in app.success)
    stored = json.loads((saved_in_sample / "passport-brief.json").read_text())
    assert stored["page"] == "overview" and stored["params"]["service"] == ["Passport Services"]
    assert any("[Passport brief](?view=passport-brief)" in m.value for m in app.sidebar.markdown)

    reopened = AppTest.from_file(APP, default_timeout=120)
    reopened.query_params["view"] = "passport-brief"
    reopened.run()
    assert not reopened.exception and not reopened.warning
    assert {m.label: m.value for m in reopened.metric} == before
    assert "FY2026 Q2" in reopened.title[0].value

    out = tmp_path / "saved.pptx"
    assert main(["brief", "--view", "Passport brief", "--out", str(out)]) == 0
    figures = {row[0]: row[1] for row in tables(Presentation(str(out)).slides[1])[0][1:]}
    assert figures == {label: value for label, value in before.items() if label in figures}
    assert len(figures) == 6


def test_saved_views_check_names_skip_damaged_files_and_name_unknown_ones(tmp_path: Path) -> None:
    with pytest.raises(CxError, match="use 1 to 60 characters: letters, digits, spaces and"):
        saved_views.save(tmp_path, "<script>", "trends", {}, "")
    with pytest.raises(CxError, match="page 'admin' is not a page"):
        saved_views.save(tmp_path, "ok", "admin", {}, "")
    saved = saved_views.save(
        tmp_path, "  Weekly trust ", "trends", {"metric": ["trust"]}, "http://x/trends?metric=trust"
    )
    assert (saved.key, saved.name) == ("weekly-trust", "Weekly trust")
    (tmp_path / "saved_views" / "broken.json").write_text("{not json", encoding="utf-8")
    assert [v.key for v in saved_views.listing(tmp_path)] == ["weekly-trust"]
    assert saved_views.load(tmp_path, "Weekly trust").params == {"metric": ["trust"]}
    with pytest.raises(CxError, match=r"'../etc/passwd' is not a saved view \(saved views: weekly-trust\)"):
        saved_views.load(tmp_path, "../etc/passwd")


def test_a_view_of_the_same_name_is_replaced_only_when_asked_and_views_can_be_deleted(tmp_path: Path) -> None:
    first = saved_views.save(
        tmp_path, "Trust & ease: Q4 (rural+)", "trends", {"metric": ["trust"]}, "", saved_by="Ana"
    )
    assert (first.key, first.name, first.saved_by) == (
        "trust-ease-q4-rural",
        "Trust & ease: Q4 (rural+)",
        "Ana",
    )
    # "Trust & ease - Q4 rural" has the same link key: saving it would silently replace the first.
    with pytest.raises(
        saved_views.ViewExists, match=r"a view named “Trust & ease: Q4 \(rural\+\)” was saved by Ana on "
    ):
        saved_views.save(tmp_path, "Trust & ease - Q4 rural", "equity", {}, "")
    assert saved_views.load(tmp_path, first.key).page == "trends"
    replaced = saved_views.save(tmp_path, "Trust & ease - Q4 rural", "equity", {}, "", replace=True)
    assert saved_views.load(tmp_path, first.key) == replaced
    assert saved_views.save(tmp_path, "O'Brien's view", "trends", {}, "").key == "o-brien-s-view"
    saved_views.delete(tmp_path, first.key)
    assert [v.key for v in saved_views.listing(tmp_path)] == ["o-brien-s-view"]
    with pytest.raises(CxError, match="is not a saved view"):
        saved_views.delete(tmp_path, first.key)


def test_the_sidebar_asks_before_replacing_and_deletes_a_view(sample_dir: Path) -> None:
    folder = saved_views.folder(sample_dir)
    shutil.rmtree(folder, ignore_errors=True)
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert any("Names: 1 to 60 characters" in c.value for c in app.sidebar.caption)
    app = _submit_view(app, "Trust & ease")
    assert any("Saved “Trust & ease”" in s.value for s in app.sidebar.success)
    app = _submit_view(app, "Trust & ease")
    assert any("Not saved: a view named “Trust & ease” was saved" in w.value for w in app.sidebar.warning)
    app.sidebar.checkbox(key="_view_replace").check()
    app = _submit_view(app, "Trust & ease")
    assert any("Saved “Trust & ease”" in s.value for s in app.sidebar.success)
    app.sidebar.selectbox(key="_view_delete").select("trust-ease")
    app.sidebar.button(key="_view_delete_button").click().run()
    assert saved_views.listing(sample_dir) == []
    shutil.rmtree(folder, ignore_errors=True)


def _submit_view(app: AppTest, name: str) -> AppTest:
    app.sidebar.text_input(key="_view_name").input(name)
    return next(b for b in app.sidebar.button if b.label == "Save view").click().run()


def test_an_unknown_view_in_a_link_gets_a_notice_and_the_page(sample_dir: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["view"] = "never-saved"
    app.run()
    assert not app.exception
    assert any("`view`" in w.value and "'never-saved' is not a saved view" in w.value for w in app.warning)
    assert app.metric  # the overview still shows its tiles


@pytest.mark.parametrize(
    "page", ["overview", "trends", "equity", "journeys", "drivers", "value", "reporting"]
)
@pytest.mark.slow
def test_no_export_shows_a_statistic_when_every_denominator_is_under_the_minimum(
    pages_at: Any, page: str
) -> None:
    """The suppression audit, applied to what leaves the dashboard: CSV, chart data and the deck."""
    app = pages_at(page, 10**9)
    found = app.session_state[SESSION_KEY]
    for exhibit in found.exhibits:
        read = pl.read_csv(
            io.BytesIO(csv_bytes(exhibit, found.provenance)), comment_prefix="#", infer_schema=False
        )
        numeric = [c for c, kind in exhibit.data.schema.items() if kind != pl.String and c != "suppressed"]
        for column in numeric:
            if column in AUDITED_COLUMNS or column in {c.lower() for c in _NOT_STATISTICS}:
                continue
            shown = [v for v in read[column] if v not in (None, SUPPRESSED)]
            assert not shown, f"{page}: CSV of {exhibit.title!r} column {column!r} shows {shown[:3]}"
        if exhibit.chart is not None:
            for name, rows in exhibit.chart.to_dict().get("datasets", {}).items():
                for row in rows:
                    numbers = {
                        k: row[k]
                        for k in (*STATISTICS, "gap", "importance", "performance")
                        if row.get(k) is not None
                    }
                    assert not numbers, f"{page}: chart {name} of {exhibit.title!r} shows {numbers}"
    presentation = Presentation(io.BytesIO(deck.build(found)))
    figures = tables(presentation.slides[1])[0]
    assert all(row[1] in (SUPPRESSED, "unavailable") for row in figures[1:]), figures
    for slide in list(presentation.slides)[2:-1]:
        for table in tables(slide):
            header, body = table[0], table[1:]
            for index, column in enumerate(header):
                if column in _NOT_STATISTICS:
                    continue
                shown = [row[index] for row in body if re.search(r"\d", _LABELS.sub("", row[index]))]
                assert not shown, (
                    f"{page}: deck slide {slide.shapes.title.text!r} column {column!r} shows {shown[:3]}"
                )
