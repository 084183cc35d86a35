"""The XLSX download of an exhibit holds the CSV's cells and provenance lines: numbers as numbers, a
hidden statistic as the suppression symbol, and no hidden value anywhere in the file."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook

from dashboard.briefing import Exhibit, csv_bytes, xlsx_bytes
from metrics.formatting import NO_DATA, SUPPRESSED
from metrics.provenance import Provenance
from metrics.query import Engine, Query

PROVENANCE = Provenance(
    page="Trends",
    filters="service: Passport Services",
    period="FY2026 Q1 to FY2026 Q4",
    data_as_of="records through FY2026 Q4",
    definitions="sql-0123456789ab",
    min_n=10,
    link="http://dash.example/trends?service=Passport+Services&metric=trust",
    generated_at=datetime(2026, 5, 4, 7, 30, 15, tzinfo=UTC),
    choices="Measure: Trust",
    release="Internal only: a test of the release line",
)
# The raw statistics of the hidden row: they must appear in no file.
HIDDEN_VALUE, HIDDEN_LOW = 0.987654321, 0.876543219

# By channel: one shown row, one hidden (n under 10), one shown over no rows at all ("no data").
BY_CHANNEL = pl.DataFrame(
    {
        "channel": ["website", "phone", "mail"],
        "value": [0.625, HIDDEN_VALUE, None],
        "n": [16, 7, 0],
        "ci_low": [0.38, HIDDEN_LOW, None],
        "suppressed": [False, True, False],
    }
)
# A wide table without a `suppressed` column: a missing statistic is a hidden one.
WIDE = pl.DataFrame(
    {"quarter": ["FY2026 Q1", "FY2026 Q2"], "trust": [0.5, None], "contacts": [1200, 3]},
    schema={"quarter": pl.String, "trust": pl.Float64, "contacts": pl.Int64},
)


def csv_read(exhibit: Exhibit) -> tuple[list[tuple[str, str]], pl.DataFrame]:
    """The CSV's provenance as (label, text) pairs and its rows as text, as a reader gets them."""
    text = csv_bytes(exhibit, PROVENANCE).decode("utf-8")
    lines = [line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# ")]
    rows = pl.read_csv(io.StringIO(text), comment_prefix="#", infer_schema=False)
    return [(label, said) for label, said in lines], rows


def xlsx_read(exhibit: Exhibit) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The workbook's sheet names, its Numbers rows (header first) and its Provenance rows."""
    book = load_workbook(io.BytesIO(xlsx_bytes(exhibit, PROVENANCE)))
    numbers = list(book["Numbers"].iter_rows(values_only=True))
    provenance = list(book["Provenance"].iter_rows(values_only=True))
    return book.sheetnames, numbers, provenance


def test_hand_built_exhibits_have_the_known_cells_in_both_files() -> None:
    exhibit = Exhibit("Trust by channel", BY_CHANNEL, BY_CHANNEL)
    _, csv_rows = csv_read(exhibit)
    assert csv_rows.rows() == [
        ("website", "0.625", "16", "0.38", "false"),
        ("phone", SUPPRESSED, SUPPRESSED, SUPPRESSED, "true"),
        ("mail", NO_DATA, "0", None, "false"),  # an empty field: an empty cell in the workbook
    ]
    sheets, numbers, _ = xlsx_read(exhibit)
    assert sheets == ["Numbers", "Provenance"]
    assert numbers == [
        ("channel", "value", "n", "ci_low", "suppressed"),
        ("website", 0.625, 16, 0.38, False),
        ("phone", SUPPRESSED, SUPPRESSED, SUPPRESSED, True),
        ("mail", NO_DATA, 0, None, False),
    ]
    wide = Exhibit("Trust and contacts by quarter", WIDE, WIDE)
    assert csv_read(wide)[1].rows() == [("FY2026 Q1", "0.5", "1200"), ("FY2026 Q2", SUPPRESSED, "3")]
    assert xlsx_read(wide)[1] == [
        ("quarter", "trust", "contacts"),
        ("FY2026 Q1", 0.5, 1200),
        ("FY2026 Q2", SUPPRESSED, 3),
    ]


def test_numbers_are_numbers_and_text_is_text_never_a_formula() -> None:
    frame = pl.DataFrame({"service": ['=HYPERLINK("http://x")', "+1-800"], "value": [1.5, 2.0]})
    exhibit = Exhibit("Formulas stay text", frame, frame)
    raw = xlsx_bytes(exhibit, PROVENANCE)
    book = load_workbook(io.BytesIO(raw))
    cells = [[(c.value, c.data_type) for c in row] for row in book["Numbers"].iter_rows(min_row=2)]
    assert cells == [[('=HYPERLINK("http://x")', "s"), (1.5, "n")], [("+1-800", "s"), (2.0, "n")]]
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_the_provenance_sheet_holds_the_csvs_comment_lines() -> None:
    exhibit = Exhibit("Trust by channel", BY_CHANNEL, BY_CHANNEL)
    lines, _ = csv_read(exhibit)
    _, _, provenance = xlsx_read(exhibit)
    assert provenance == lines
    assert provenance[0] == ("Release", "Internal only: a test of the release line")
    assert ("Link to this view", PROVENANCE.link) in provenance
    assert ("Generated at", "2026-05-04 07:30:15 UTC") in provenance
    assert provenance[-1] == ("Exhibit", "Trust by channel")
    # The file is dated by the export, so the same export gives the same bytes.
    properties = load_workbook(io.BytesIO(xlsx_bytes(exhibit, PROVENANCE))).properties
    assert (properties.title, properties.created) == ("Trust by channel", datetime(2026, 5, 4, 7, 30, 15))
    assert xlsx_bytes(exhibit, PROVENANCE) == xlsx_bytes(exhibit, PROVENANCE)


def test_no_hidden_value_is_anywhere_in_either_file() -> None:
    exhibit = Exhibit("Trust by channel", BY_CHANNEL, BY_CHANNEL)
    csv_text = csv_bytes(exhibit, PROVENANCE).decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(exhibit, PROVENANCE))) as archive:
        parts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert "sharedStrings" in " ".join(parts)  # text cells are where a leak would hide
    for raw in (HIDDEN_VALUE, HIDDEN_LOW):
        for written in (repr(raw), f"{raw:.6f}", str(raw)[:6]):
            assert written not in csv_text
            assert not [name for name, text in parts.items() if written in text], written


def test_a_sample_exhibit_reads_back_the_same_from_csv_and_xlsx(sample_engine: Engine) -> None:
    data = sample_engine.run(
        Query.of(
            "trust",
            by=["fiscal_quarter", "channel"],
            where={"service": "Passport Services"},
            start="FY2026 Q1",
            end="FY2026 Q4",
        )
    )
    hidden = data.filter(pl.col("suppressed"))
    assert 0 < hidden.height < data.height, "the view must hide some cells and show others"
    exhibit = Exhibit("Trust by fiscal quarter and channel", data, data)
    lines, csv_rows = csv_read(exhibit)
    _, numbers, provenance = xlsx_read(exhibit)
    assert provenance == lines
    assert numbers[0] == tuple(csv_rows.columns)
    assert len(numbers) - 1 == csv_rows.height == data.height
    statistics = {c for c, kind in data.schema.items() if kind.is_numeric()}
    for got, want, computed in zip(
        numbers[1:], csv_rows.iter_rows(), data.iter_rows(named=True), strict=True
    ):
        for column, cell, text in zip(csv_rows.columns, got, want, strict=True):
            if not text:
                assert cell is None, (column, cell)
            elif column == "suppressed":
                assert cell is (text == "true")
            elif column in statistics and text not in (SUPPRESSED, NO_DATA):
                # XlsxWriter writes 16 significant digits (Excel shows 15): within one part in 10**15.
                assert isinstance(cell, int | float), (column, cell, text)
                assert cell == pytest.approx(float(text), rel=1e-15, abs=0), (column, cell, text)
            else:
                assert cell == text, (column, cell, text)
        if computed["suppressed"]:
            assert [got[csv_rows.columns.index(c)] for c in ("value", "n", "ci_low", "ci_high")] == [
                SUPPRESSED
            ] * 4
        else:
            assert got[csv_rows.columns.index("value")] == pytest.approx(computed["value"], abs=1e-12)
            assert got[csv_rows.columns.index("n")] == computed["n"]
