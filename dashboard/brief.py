"""`cx brief`: the briefing deck of a saved view or a link, for scheduled briefings, and the words of
the mail that carries it (`--mail-to`). The page itself runs headless (Streamlit's AppTest, no server
or browser), so the deck holds what the page shows and is the one the page's button gives."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dashboard import deck, saved_views
from dashboard.briefing import SESSION_KEY, Briefing, Figure
from dashboard.pages import PAGES, page_at
from metrics.access import load_access
from metrics.errors import CxError
from metrics.settings import Settings

APP = Path(__file__).resolve().parent / "app.py"


def from_link(link: str) -> tuple[str, dict[str, list[str]]]:
    """Return the page (url_path) and parameters a dashboard link opens, or raise naming the link."""
    parts = urlsplit(link.strip())
    spec = page_at(parts.path)
    if spec is None:
        known = ", ".join("/" if p.default else f"/{p.url_path}" for p in PAGES)
        raise CxError(f"link {link!r}: {parts.path!r} is not a page of the dashboard (pages: {known})")
    return spec.url_path, parse_qs(parts.query, keep_blank_values=True)


def brief(
    settings: Settings, view: str | None = None, link: str | None = None, person: str | None = None
) -> Briefing:
    """Run the page of a saved view or a link and return what it showed, ready for the deck. With an
    access file, the page runs as `person` (an e-mail address) and shows only their services."""
    access = load_access()
    if access is not None and not person:
        raise CxError(
            f"{access.path} limits who sees which services: give --as ADDRESS, the person the deck is for"
        )
    if access is not None and access.services_for(person) == frozenset():
        raise CxError(f"--as {person}: {access.path} grants this address no service, so it may see no figure")
    if view is not None:
        saved = saved_views.load(settings.data_dir, view)
        page, params, shown_link = saved.page, saved.params, saved.link
    elif link is not None:
        page, params = from_link(link)
        shown_link = link.strip()
        if "view" in params:
            return brief(settings, view=params["view"][0], person=person)
    else:
        raise CxError("brief: give a saved view (--view NAME) or a link (--url LINK)")
    # The page reads its settings from the environment, as the served app does.
    os.environ["CX_DATA_DIR"] = str(settings.data_dir)
    os.environ["CX_MIN_N"] = str(settings.min_n)
    from streamlit.testing.v1 import AppTest

    # Reading the finished run from this thread is expected here; Streamlit's warning about it is noise.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    print(f"Opening the {page} page with {len(params)} link parameter(s)...", file=sys.stderr)
    app = AppTest.from_file(str(APP), default_timeout=900)
    if access is not None:
        # No one signs in here: whoever runs `cx brief` holds the data, and names whom the deck is for.
        app.secrets["auth"] = {"cx_brief": {}}
        app.user = {"is_logged_in": True, "email": person, "name": person}
    for key, values in params.items():
        app.query_params[key] = values
    app.switch_page(next(p.script for p in PAGES if p.url_path == page))
    app.run()
    if app.exception:
        raise CxError(f"the {page} page failed: " + "; ".join(e.value for e in app.exception))
    # A link value the page cannot honour would silently change the deck: stop and say why.
    notices = [w.value for w in app.warning if "link" in w.value.lower()]
    if notices:
        raise CxError("the view cannot be shown as linked: " + " ".join(notices))
    if SESSION_KEY not in app.session_state:
        raise CxError(f"the {page} page showed nothing to brief (is sign-in in the way?)")
    found = app.session_state[SESSION_KEY]
    assert isinstance(found, Briefing)
    if not found.exhibits:
        # A deck of no figures would read as an answer: say what the page said instead.
        said = " ".join(i.value for i in app.info) or "no figures for this view"
        raise CxError(f"the {page} page has nothing to brief for this view: {said}")
    provenance = dataclasses.replace(found.provenance, link=shown_link, generated_at=datetime.now(UTC))
    return dataclasses.replace(found, provenance=provenance)


@dataclass(frozen=True)
class Written:
    """A deck `cx brief` wrote: where, how many slides, and the view and key figures it holds."""

    out: Path
    slides: int
    briefing: Briefing
    figures: tuple[Figure, ...]

    def attachment(self) -> tuple[str, bytes, str]:
        """Return the deck as a mail attachment: its file name, its bytes as written, its MIME type."""
        return self.out.name, self.out.read_bytes(), deck.PPTX


def write(
    settings: Settings, out: Path, view: str | None = None, link: str | None = None, person: str | None = None
) -> Written:
    """Write the deck of a view or link to `out` (as `person` sees it) and return what was written."""
    if out.parent and not out.parent.is_dir():
        raise CxError(f"--out {out}: folder {out.parent} does not exist")
    found = brief(settings, view, link, person)
    charts = sum(1 for e in found.exhibits if e.chart is not None)
    print(f"Rendering {len(found.exhibits)} exhibit(s), {charts} chart image(s)...", file=sys.stderr)
    figures = deck.key_figures(found)
    composed = deck.compose(found, figures)
    try:
        composed.save(str(out))
    except OSError as error:
        raise CxError(f"--out {out}: {error.strerror or error}") from error
    return Written(out, len(composed.slides), found, tuple(figures))


def letter(written: Written) -> tuple[str, str]:
    """Return the subject and plain-text body of the mail that carries a deck: the view, the key
    figures as the deck's KPI slide lists them (hidden ones as the symbol) and the provenance."""
    found = written.briefing
    provenance = found.provenance
    subject = f"CX briefing: {found.title} ({provenance.period})"
    quarter = f", {found.filters.end}" if found.filters.end else ""
    lines = [
        f"The briefing deck {written.out.name} ({written.slides} slides) is attached.",
        "",
        found.title,
        "",
        *([f"Key figures{quarter}:"] if written.figures else []),
        *(f"- {f.label}: {f.value}" + (f" ({f.detail})" if f.detail else "") for f in written.figures),
        *([""] if written.figures else []),
        "Where these numbers come from:",
        *(f"{label}: {text}" for label, text in provenance.lines()),
        "",
        "Sent by the CX dashboard's cx brief command.",
    ]
    return subject, "\n".join(lines) + "\n"
