"""The briefing deck (PPTX) of a view: a title slide with the provenance, the key figures, one slide
per chart with its image, a native table of its numbers, alt text and speaker notes holding the metric
definitions and the suppression footnote, and a closing slide on where the numbers came from."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import polars as pl
from PIL import Image
from pptx import Presentation
from pptx.presentation import Presentation as Deck
from pptx.shapes.picture import Picture
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from dashboard.briefing import Briefing, Exhibit, Figure, png_bytes
from metrics.analyses.kpis import HEADLINE, describe_tile, headline_measures, tile, tile_value
from metrics.provenance import file_version

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.5)
BODY_TOP = Inches(1.35)
BODY_HEIGHT = HEIGHT - BODY_TOP - Inches(0.45)
# Beyond these a table goes on slides of its own, so its text stays readable.
SIDE_TABLE_ROWS, SIDE_TABLE_COLUMNS = 16, 4
ROWS_PER_SLIDE = 15
_TITLE_ONLY, _TITLE = 5, 0  # layouts of python-pptx's default template
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def build(briefing: Briefing) -> bytes:
    """Return the deck of one view as PPTX bytes."""
    out = io.BytesIO()
    compose(briefing).save(out)
    return out.getvalue()


def compose(briefing: Briefing, figures: Sequence[Figure] | None = None) -> Deck:
    """Return the deck of one view, with its `key_figures` when already known."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    provenance = briefing.provenance
    _title_slide(deck, briefing)
    figures = key_figures(briefing) if figures is None else figures
    slide = _slide(deck, f"Key figures, {briefing.filters.end}" if briefing.filters.end else "Key figures")
    _table(slide, _figure_table(figures), MARGIN, BODY_TOP, WIDTH - 2 * MARGIN)
    _notes(slide, briefing, [] if briefing.figures else list(HEADLINE))
    for exhibit in briefing.exhibits:
        if exhibit.chart is not None:
            _chart_slides(deck, briefing, exhibit)
        else:
            _table_slides(deck, briefing, exhibit, exhibit.title)
    slide = _slide(deck, "Where these numbers come from")
    _table(
        slide,
        pl.DataFrame({"": [k for k, _ in provenance.lines()], " ": [v for _, v in provenance.lines()]}),
        MARGIN,
        BODY_TOP,
        WIDTH - 2 * MARGIN,
        first_column=Inches(2.4),
        header=False,
    )
    _notes(slide, briefing, briefing.metric_names())
    return deck


def key_figures(briefing: Briefing) -> list[Figure]:
    """Return the figures the KPI slide lists: the page's own, else the headline measures."""
    return briefing.figures or _headline(briefing)


def _headline(briefing: Briefing) -> list[Figure]:
    """The headline measures of the view's last quarter, as the overview's tiles show them."""
    quarter = briefing.filters.end
    if quarter is None:
        return []
    figures = []
    for name in headline_measures(briefing.engine, briefing.filters, quarter):
        found = tile(briefing.engine, name, briefing.filters, quarter)
        figures.append(
            Figure(
                found.metric.label,
                tile_value(found),
                " ".join(describe_tile(found)),
            )
        )
    return figures


def _figure_table(figures: Sequence[Figure]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Measure": [f.label for f in figures],
            "Value": [f.value for f in figures],
            "What it means": [f.detail for f in figures],
        },
        schema={"Measure": pl.String, "Value": pl.String, "What it means": pl.String},
    )


def _title_slide(deck: Deck, briefing: Briefing) -> None:
    provenance = briefing.provenance
    slide = deck.slides.add_slide(deck.slide_layouts[_TITLE])
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    assert title is not None
    title.left, title.top, title.width, title.height = MARGIN, Inches(1.2), WIDTH - 2 * MARGIN, Inches(2.0)
    title.text = briefing.title
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = (
        MARGIN,
        Inches(3.4),
        WIDTH - 2 * MARGIN,
        Inches(3.6),
    )
    frame = subtitle.text_frame
    lines = [
        *([provenance.release] if provenance.release else []),
        f"{provenance.page} · {provenance.filters}",
        f"Period: {provenance.period}",
        f"Data as of: {provenance.data_as_of}",
        f"Generated: {provenance.generated_at:%Y-%m-%d %H:%M} UTC · definitions {provenance.definitions}",
    ]
    frame.text = lines[0]
    for line in lines[1:]:
        frame.add_paragraph().text = line
    if provenance.link:
        run = frame.add_paragraph().add_run()
        run.text = "Open this view in the dashboard"
        run.hyperlink.address = provenance.link
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(16)
    _notes(slide, briefing, [])


def _chart_slides(deck: Deck, briefing: Briefing, exhibit: Exhibit) -> None:
    slide = _slide(deck, exhibit.title)
    png = png_bytes(exhibit, briefing.provenance)
    beside = exhibit.table.height <= SIDE_TABLE_ROWS and exhibit.table.width <= SIDE_TABLE_COLUMNS
    box_width = Inches(8.2) if beside else WIDTH - 2 * MARGIN
    picture = _picture(slide, png, MARGIN, BODY_TOP, box_width, BODY_HEIGHT)
    # Alt text: what a screen reader says for the image.
    picture._element.xpath("./p:nvPicPr/p:cNvPr")[0].set("descr", exhibit.alt)
    _notes(slide, briefing, list(exhibit.metrics), exhibit.alt)
    if beside:
        left = MARGIN + box_width + Inches(0.3)
        _table(slide, exhibit.table, left, BODY_TOP, WIDTH - left - MARGIN)
    else:
        _table_slides(deck, briefing, exhibit, f"{exhibit.title}: the numbers")


def _table_slides(deck: Deck, briefing: Briefing, exhibit: Exhibit, title: str) -> None:
    parts = list(_pages(exhibit.table))
    for number, part in enumerate(parts, start=1):
        suffix = f" ({number} of {len(parts)})" if len(parts) > 1 else ""
        slide = _slide(deck, title + suffix)
        _table(slide, part, MARGIN, BODY_TOP, WIDTH - 2 * MARGIN)
        _notes(slide, briefing, list(exhibit.metrics))


def _pages(table: pl.DataFrame) -> Iterator[pl.DataFrame]:
    if table.height == 0:
        yield table
    for start in range(0, table.height, ROWS_PER_SLIDE):
        yield table.slice(start, ROWS_PER_SLIDE)


def _slide(deck: Deck, title: str) -> Slide:
    slide: Slide = deck.slides.add_slide(deck.slide_layouts[_TITLE_ONLY])
    shape = slide.shapes.title
    assert shape is not None
    shape.left, shape.top, shape.width, shape.height = (
        MARGIN,
        Inches(0.3),
        Emu(WIDTH - 2 * MARGIN),
        Inches(0.9),
    )
    shape.text = title
    for paragraph in shape.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(28)
    return slide


def _picture(slide: Slide, png: bytes, left: int, top: int, width: int, height: int) -> Picture:
    """Place the image as large as fits the box, keeping its proportions."""
    pixels_wide, pixels_high = Image.open(io.BytesIO(png)).size
    scale = min(width / pixels_wide, height / pixels_high)
    return slide.shapes.add_picture(
        io.BytesIO(png), Emu(left), Emu(top), Emu(int(pixels_wide * scale)), Emu(int(pixels_high * scale))
    )


def _table(
    slide: Slide,
    table: pl.DataFrame,
    left: int,
    top: int,
    width: int,
    first_column: int | None = None,
    header: bool = True,
) -> None:
    """Add a native table: people can restyle it, and screen readers read its cells."""
    if table.width == 0:
        box = slide.shapes.add_textbox(Emu(left), Emu(top), Emu(width), Inches(0.6))
        box.text_frame.text = "No numbers for these filters."
        return
    rows = table.height + (1 if header else 0)
    shape = slide.shapes.add_table(
        rows, table.width, Emu(left), Emu(top), Emu(width), Emu(Inches(0.32) * rows)
    )
    grid = shape.table
    grid.first_row = header
    if first_column is not None and table.width > 1:
        grid.columns[0].width = Emu(first_column)
        rest = Emu((width - first_column) // (table.width - 1))
        for index in range(1, table.width):
            grid.columns[index].width = rest
    body = [[str(c) for c in table.columns]] if header else []
    body += [["" if v is None else str(v) for v in row] for row in table.iter_rows()]
    size = Pt(12 if table.width <= 3 else 10)
    for r, values in enumerate(body):
        for c, value in enumerate(values):
            cell = grid.cell(r, c)
            cell.text = value
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = size
                    run.font.bold = header and r == 0


def _notes(slide: Slide, briefing: Briefing, names: Sequence[str], alt: str = "") -> None:
    """Speaker notes: the chart in words, each metric's definition and version, the suppression rule."""
    lines = [alt] if alt else []
    for name in names:
        metric = briefing.engine.metric(name)
        relative = f"sql/metrics/{metric.path.name}"
        lines.append(
            f"{metric.label}: {metric.description} ({relative}, version {file_version(metric.path)})"
        )
    provenance = briefing.provenance
    lines.append(provenance.suppression)
    lines.append(
        f"{provenance.filters}. Period {provenance.period}. Data {provenance.data_as_of}. "
        f"Definitions {provenance.definitions}."
    )
    notes = slide.notes_slide.notes_text_frame
    assert notes is not None
    notes.text = "\n".join(lines)
