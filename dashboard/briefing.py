"""What a view exports: its exhibits (charts and tables with the numbers behind them), its key figures
and its provenance, and the files made from them: CSV, XLSX, PNG and SVG. The slide deck is in deck.py.
Nothing here draws on the page, so `cx brief` builds the same files as the buttons."""

from __future__ import annotations

import io
import math
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from metrics.formatting import NO_DATA, NOT_ASKED, SUPPRESSED
from metrics.provenance import Provenance
from metrics.query import Engine, Filters

# Where a page run keeps its briefing in the session: the deck button and `cx brief` read it there.
SESSION_KEY = "_briefing"
EXPORT_WIDTH = 760  # pixels of the plotting area; a 16:9 slide shows it at about 8 inches
PNG_PPI = 200  # at least 150 dpi, sharp on a projector and in print
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Sheet columns are sized to their text between these widths (in characters), as a reader would.
_NARROWEST, _WIDEST = 8, 60


@dataclass(frozen=True)
class Figure:
    """One key figure of the view, as the KPI slide lists it."""

    label: str
    value: str
    detail: str


@dataclass(frozen=True)
class Exhibit:
    """A chart or table of the page: `table` is the numbers as people read them (the chart's text
    alternative, the deck's native table), `data` the numbers as computed (the CSV). Hidden cells
    are already blank in both."""

    title: str
    table: pl.DataFrame
    data: pl.DataFrame
    chart: Any = None  # an Altair chart, or None for a table
    alt: str = ""
    metrics: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """A file-name-safe form of the title."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60] or "exhibit"


@dataclass
class Briefing:
    """Everything one run of a page showed, for its exports."""

    page: str  # the page's url_path
    title: str
    filters: Filters
    engine: Engine
    provenance: Provenance
    exhibits: list[Exhibit] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)  # empty: the headline measures stand in

    def metric_names(self) -> list[str]:
        """Every metric the exhibits show, once, in order of appearance."""
        return list(dict.fromkeys(n for e in self.exhibits for n in e.metrics))


def csv_bytes(exhibit: Exhibit, provenance: Provenance) -> bytes:
    """Return the exhibit's numbers as CSV: provenance first as `#` comment lines (read with
    comment="#"), then the rows; a hidden statistic reads as the suppression symbol, never 0."""
    frame = marked(exhibit.data)
    head = "".join(f"# {label}: {text}\n" for label, text in provenance.lines())
    return (head + f"# Exhibit: {exhibit.title}\n" + frame.write_csv()).encode("utf-8")


def xlsx_bytes(exhibit: Exhibit, provenance: Provenance) -> bytes:
    """Return the exhibit's numbers as an XLSX workbook: the CSV's cells on a sheet "Numbers" (numbers
    as numbers, a hidden statistic as the suppression symbol) and the CSV's `#` lines on a sheet
    "Provenance", one label and its text a row."""
    frame = marked(exhibit.data)
    numeric = {c for c, kind in exhibit.data.schema.items() if kind.is_numeric()}
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties(
        {
            "title": exhibit.title,
            "comments": f"Link to this view: {provenance.link or 'not known'}",
            # The export's own time, not the moment of writing: the same export gives the same file.
            "created": provenance.generated_at.astimezone(UTC).replace(tzinfo=None),
        }
    )
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("Numbers")
    for column, name in enumerate(frame.columns):
        sheet.write_string(0, column, name, bold)
        texts = [str(v) for v in frame[name].head(200) if v is not None]
        sheet.set_column(column, column, _width([name, *texts]))
        for row, shown in enumerate(frame[name], start=1):
            _cell(sheet, row, column, shown, name in numeric)
    sheet.freeze_panes(1, 0)
    lines = [*provenance.lines(), ("Exhibit", exhibit.title)]
    notes = book.add_worksheet("Provenance")
    notes.set_column(0, 0, _width([label for label, _ in lines]))
    notes.set_column(1, 1, _WIDEST)
    for row, (label, text) in enumerate(lines):
        notes.write_string(row, 0, label, bold)
        notes.write_string(row, 1, text)
    book.close()
    return out.getvalue()


def _cell(sheet: Worksheet, row: int, column: int, shown: Any, numeric: bool) -> None:
    """Write one cell of a marked frame: a number where the CSV has one, else the CSV's text. Text is
    always written as text, so a name starting with "=" never becomes a formula."""
    if shown is None:
        return  # an empty field in the CSV, an empty cell here
    if isinstance(shown, bool):
        sheet.write_boolean(row, column, shown)
    elif numeric and shown not in (SUPPRESSED, NO_DATA) and math.isfinite(number := float(shown)):
        # From the CSV's own text, so the two files cannot differ and nothing hidden can reach here.
        sheet.write_number(row, column, number)
    else:
        sheet.write_string(row, column, str(shown))


def _width(texts: Sequence[str]) -> int:
    return max(_NARROWEST, min(_WIDEST, max((len(t) for t in texts), default=0) + 2))


def marked(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the frame with every statistic of a hidden row written as the suppression symbol and a
    value over no rows as "no data" (or "not asked", where a `not_asked` column says so); in a frame
    without a `suppressed` column, a missing statistic is a hidden one."""
    statistics = [
        c for c, t in frame.schema.items() if c not in ("suppressed", "not_asked") and t != pl.String
    ]
    if "suppressed" in frame.columns:
        hidden = [pl.col("suppressed").fill_null(True)] * len(statistics)
    else:
        hidden = [pl.col(c).is_null() for c in statistics]
    unasked = pl.col("not_asked").fill_null(False) if "not_asked" in frame.columns else pl.lit(False)
    return frame.with_columns(
        _written(c, h, "suppressed" in frame.columns, unasked)
        for c, h in zip(statistics, hidden, strict=True)
    )


def _written(column: str, hidden: pl.Expr, states: bool, unasked: pl.Expr) -> pl.Expr:
    if states and column == "value":
        # A shown row with no value had no rows at all: it says so rather than leave a blank.
        return (
            pl.when(hidden)
            .then(pl.lit(SUPPRESSED))
            .when(pl.col("value").is_null() & unasked)
            .then(pl.lit(NOT_ASKED))
            .when(pl.col("value").is_null())
            .then(pl.lit(NO_DATA))
            .otherwise(pl.col(column).cast(pl.String))
            .alias(column)
        )
    return pl.when(hidden).then(pl.lit(SUPPRESSED)).otherwise(pl.col(column).cast(pl.String)).alias(column)


def export_chart(exhibit: Exhibit, provenance: Provenance) -> alt.TopLevelMixin:
    """Return the chart at a fixed width with its title and provenance written above the plot, so an
    image pasted anywhere still says what it shows and where it came from."""
    subtitle = [
        provenance.filters,
        f"Data: {provenance.data_as_of} · definitions {provenance.definitions} · "
        f"{SUPPRESSED} hidden under {provenance.min_n} responses",
        f"Generated {provenance.generated_at:%Y-%m-%d %H:%M} UTC · {_short(provenance.link)}",
    ]
    title = alt.TitleParams(
        exhibit.title,
        subtitle=subtitle,
        anchor="start",
        fontSize=16,
        subtitleFontSize=11,
        subtitleColor="#3d4551",
    )
    chart: alt.TopLevelMixin = exhibit.chart
    if isinstance(chart, alt.VConcatChart):
        # Panels stacked (an outcome's measures on their own axes) have no width together: each
        # panel takes the export's.
        chart = chart.copy()
        chart.vconcat = [panel.properties(width=EXPORT_WIDTH) for panel in chart.vconcat]
        return chart.properties(title=title)
    return chart.properties(width=EXPORT_WIDTH, title=title)


def _short(link: str, limit: int = 140) -> str:
    return link if len(link) <= limit else link[: limit - 1] + "…"


def svg_bytes(exhibit: Exhibit, provenance: Provenance) -> bytes:
    """Return the chart as SVG, with the provenance in its <title> and <desc> for screen readers."""
    svg = vlc.vegalite_to_svg(export_chart(exhibit, provenance).to_dict())
    description = exhibit.alt + " " + " ".join(f"{label}: {text}." for label, text in provenance.lines())
    opening = svg.index(">", svg.index("<svg")) + 1
    meta = f"<title>{_escape(exhibit.title)}</title><desc>{_escape(description)}</desc>"
    return (svg[:opening] + meta + svg[opening:]).encode("utf-8")


def png_bytes(exhibit: Exhibit, provenance: Provenance) -> bytes:
    """Return the chart as PNG at PNG_PPI, with the alt text and provenance as PNG text chunks."""
    png = vlc.vegalite_to_png(export_chart(exhibit, provenance).to_dict(), ppi=PNG_PPI)
    return with_text(png, [("Title", exhibit.title), ("Description", exhibit.alt), *provenance.lines()])


def with_text(png: bytes, entries: Sequence[tuple[str, str]]) -> bytes:
    """Insert iTXt chunks (UTF-8 keyword and text) after the PNG header chunk."""
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, CRC
    chunks = b""
    for keyword, text in entries:
        body = keyword.encode("latin-1", "replace")[:79] + b"\0\0\0\0\0" + text.encode("utf-8")
        chunks += struct.pack(">I", len(body)) + b"iTXt" + body
        chunks += struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF)
    return png[:end_of_header] + chunks + png[end_of_header:]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
