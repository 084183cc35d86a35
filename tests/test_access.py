"""Each person sees only their services: the access file is read strictly (one bad file per failure),
the engine narrows every question to the services it grants (totals, breakdowns, analyses, reports),
and every page, export, saved view, link and `cx brief` shows only those services to a person limited
to some, and nothing to someone the file does not name."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import OIDC, OTHERS, PASSPORTS
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from dashboard import brief, saved_views
from dashboard.briefing import SESSION_KEY, csv_bytes
from dashboard.pages import PAGES as APP_PAGES
from metrics.access import load_access
from metrics.analyses import a11_report, release
from metrics.errors import AccessError, CxError
from metrics.fiscal import FiscalQuarter
from metrics.query import Engine, Filters, Query
from metrics.settings import Settings

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
BAD_ACCESS = Path(__file__).resolve().parent / "fixtures" / "bad_access"
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "access.example.toml"
PAGES = tuple(p.url_path for p in APP_PAGES)  # every page of the app, in menu order
GRANTS = f"""
[[grant]]
who = ["@cx-office.example.gov"]
services = "all"

[[grant]]
who = ["pat@passports.example.gov"]
services = ["{PASSPORTS}"]
"""
PAT = {"is_logged_in": True, "name": "Pat", "email": "pat@passports.example.gov", "email_verified": True}
DIRECTOR = {"is_logged_in": True, "name": "Dee", "email": "dee@cx-office.example.gov"}
STRANGER = {"is_logged_in": True, "name": "Sam", "email": "sam@elsewhere.example.org"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_toml", "cannot read the access file: "),
        ("unknown_top_key", "unknown key 'admins'; the file holds [[grant]] tables only"),
        ("grant_not_tables", "'grant' must be [[grant]] tables"),
        ("unknown_grant_key", "grant 1: unknown key 'service'; known keys: who, services"),
        ("missing_who", "grant 1: 'who' is missing"),
        ("missing_services", "grant 1: 'services' is missing"),
        ("empty_who", "grant 1: 'who' must be a list of e-mail addresses or @domains"),
        ("not_an_address", "grant 1: 'who' value 'ada' is neither an e-mail address"),
        ("empty_services", "grant 1: 'services' must be a list of service names, or \"all\""),
        ("services_not_a_list", "grant 1: 'services' must be a list of service names, or \"all\""),
    ],
)
def test_a_bad_access_file_is_named_with_its_grant_and_key(name: str, message: str) -> None:
    path = BAD_ACCESS / f"{name}.toml"
    with pytest.raises(CxError) as raised:
        load_access(path)
    assert str(raised.value).startswith(f"{path}: {message}")


def test_a_misspelt_service_is_named_with_the_known_ones() -> None:
    path = BAD_ACCESS / "unknown_service.toml"
    access = load_access(path)
    assert access is not None
    with pytest.raises(CxError) as raised:
        access.check_services([PASSPORTS, "Naturalization"])
    assert str(raised.value) == (
        f"{path}: grant 1: unknown service 'Pasport Services'; known services: Naturalization, {PASSPORTS}"
    )


def test_who_sees_what_by_address_and_domain() -> None:
    access = load_access(EXAMPLE)
    assert access is not None
    assert access.services_for("someone@passports.example.gov") == {PASSPORTS}
    assert access.services_for("ADA@Example.gov") == {"Disaster Assistance", "Vessel Registration"}
    assert access.services_for("me@cx-office.example.gov") is None  # "all"
    assert access.services_for("director@example.gov") is None
    # A domain grant is that domain alone, not one that ends the same way or a subdomain.
    assert access.services_for("x@evilpassports.example.gov") == frozenset()
    assert access.services_for("x@sub.passports.example.gov") == frozenset()
    assert access.services_for("stranger@example.org") == frozenset()
    assert access.services_for(None) == frozenset()
    assert load_access(EXAMPLE.parent / "no-such-file.toml") is None


def test_the_example_grants_services_the_sample_holds(sample_engine: Engine) -> None:
    access = load_access(EXAMPLE)
    assert access is not None
    access.check_services(sample_engine.values("service"))


def test_a_confined_engine_answers_about_its_services_only(sample_engine: Engine) -> None:
    mine = sample_engine.confined(frozenset({PASSPORTS}))
    passports = sample_engine.run(Query.of("trust", where={"service": PASSPORTS}))
    # The overall ("all services") is that service's figure, cell for cell.
    assert mine.run(Query.of("trust")).equals(passports)
    assert mine.run(Query.of("trust", where={"service": [PASSPORTS, "Naturalization"]})).equals(passports)
    assert mine.run(Query.of("trust", by=["service"]))["service"].to_list() == [PASSPORTS]
    assert mine.direct(Query.of("ease", by=["channel"])).equals(
        sample_engine.direct(Query.of("ease", by=["channel"], where={"service": PASSPORTS}))
    )
    assert mine.run_many([Query.of("responses")])[0].equals(
        sample_engine.run(Query.of("responses", where={"service": PASSPORTS}))
    )
    assert mine.values("service") == (PASSPORTS,)
    with pytest.raises(AccessError, match="not among the services you may see: Naturalization"):
        mine.run(Query.of("trust", where={"service": "Naturalization"}))
    with pytest.raises(AccessError, match="you may see no service"):
        sample_engine.confined(frozenset()).run(Query.of("trust"))
    assert sample_engine.confined(None) is sample_engine


def test_a_confined_engine_narrows_analyses_and_reports(sample_engine: Engine) -> None:
    mine = sample_engine.confined(frozenset({PASSPORTS}))
    passports = Filters((("service", (PASSPORTS,)),))
    assert mine.analyse("driver_moments", Filters())[0].equals(
        sample_engine.analyse("driver_moments", passports)[0]
    )
    report = a11_report.a11_report(mine, FiscalQuarter.parse("FY2025 Q1"))
    assert report.services["service"].to_list() == [PASSPORTS]
    assert set(report.details["service"]) == {PASSPORTS}
    assert set(report.respondents["service_name"]) == {PASSPORTS}
    everything = Filters((), "FY2025 Q1", "FY2026 Q4")
    assert "Employee HR Services" in release.internal_only(sample_engine, everything)
    assert release.internal_only(mine, everything) == ()


@pytest.fixture
def access_file(tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "access.toml"
    path.write_text(GRANTS, encoding="utf-8")
    monkeypatch.setenv("CX_ACCESS_FILE", str(path))
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    return path


def open_page(
    page: str, user: dict[str, Any] | None, auth: bool = True, **params: str | list[str]
) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    if auth:
        app.secrets["auth"] = OIDC
    if user is not None:
        app.user = user
    for key, value in params.items():
        app.query_params[key] = value
    app.switch_page(f"app_pages/{page}.py")
    return app.run()


def everything_shown(app: AppTest) -> str:
    """Every text the run drew, with every exported CSV's bytes."""
    parts = [str(e.value) for kind in ("markdown", "caption", "text", "title", "header", "subheader",
             "info", "warning", "error", "success") for e in getattr(app, kind)]  # fmt: skip
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [str(o) for box in app.multiselect for o in box.options]
    parts += [str(o) for box in app.selectbox for o in box.options]
    if SESSION_KEY in app.session_state:
        found = app.session_state[SESSION_KEY]
        parts += [csv_bytes(e, found.provenance).decode() for e in found.exhibits]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_a_person_limited_to_one_service_sees_only_it(access_file: Path, page: str) -> None:
    # Someone who sees everything goes first, so a cached answer of theirs would leak if caches were shared.
    assert not open_page(page, DIRECTOR).exception
    app = open_page(page, PAT)
    assert not app.exception, app.exception
    shown = everything_shown(app)
    leaked = [s for s in OTHERS if s in shown]
    assert not leaked, leaked
    assert [b.options for b in app.multiselect if b.label == "Service"] == [[PASSPORTS]]
    if page != "catalog":
        assert PASSPORTS in shown


def test_the_overall_figures_are_that_services(access_file: Path, sample_dir: Path) -> None:
    everyone = open_page("overview", DIRECTOR, service=PASSPORTS)
    pat = open_page("overview", PAT)
    tiles = {m.label: m.value for m in pat.metric}
    assert tiles and tiles == {m.label: m.value for m in everyone.metric}
    assert tiles != {m.label: m.value for m in open_page("overview", DIRECTOR).metric}
    found = pat.session_state[SESSION_KEY]
    deck = Presentation(io.BytesIO(brief.deck.build(found)))
    texts = " ".join(s.text for slide in deck.slides for s in slide.shapes if s.has_text_frame)
    assert PASSPORTS in texts and not [s for s in OTHERS if s in texts]


def test_a_link_to_another_service_says_so_and_shows_nothing_of_it(access_file: Path) -> None:
    app = open_page("overview", PAT, service="Naturalization", metric="trust")
    assert not app.exception
    notices = [w.value for w in app.warning]
    assert any("'Naturalization', which is not among the services you may see" in n for n in notices), notices
    assert not app.metric and not app.get("vega_lite_chart")
    assert "Choose from the services you may see" in " ".join(i.value for i in app.info)
    # A link naming a service of theirs and another shows theirs, and says the other is withheld.
    both = open_page("trends", PAT, service=[PASSPORTS, "Naturalization"])
    assert both.multiselect(key="service").value == [PASSPORTS]
    assert any("Naturalization" in w.value for w in both.warning)
    assert not [s for s in OTHERS if s in everything_shown(both).replace("'Naturalization', which", "")]


@pytest.mark.parametrize("user", [STRANGER, {**PAT, "email_verified": False}])
def test_someone_the_file_does_not_name_sees_no_number(access_file: Path, user: dict[str, Any]) -> None:
    app = open_page("overview", user)
    assert not app.exception
    assert [t.value for t in app.title] == ["No service to show you"]
    assert not app.metric and not app.get("vega_lite_chart") and not app.get("download_button")
    assert not app.multiselect and "%" not in everything_shown(app)


def test_an_access_file_without_sign_in_shows_nothing(access_file: Path) -> None:
    app = open_page("overview", None, auth=False)
    assert not app.exception
    assert "sign-in is not configured" in " ".join(t.value for t in app.text)
    assert not app.metric and not app.multiselect


def test_a_bad_access_file_is_named_and_shows_nothing(access_file: Path) -> None:
    access_file.write_text('[[grant]]\nwho = ["pat@passports.example.gov"]\nservices = ["Pasport"]\n')
    app = open_page("overview", PAT)
    assert not app.exception
    assert f"{access_file}: grant 1: unknown service 'Pasport'" in " ".join(t.value for t in app.text)
    assert not app.metric


def test_saved_views_of_other_services_are_not_listed(access_file: Path, sample_dir: Path) -> None:
    saved_views.save(sample_dir, "Naturalization brief", "trends", {"service": ["Naturalization"]}, "x")
    saved_views.save(sample_dir, "Passport brief", "trends", {"service": [PASSPORTS]}, "x")
    try:
        listed = " ".join(m.value for m in open_page("overview", PAT).sidebar.markdown)
        assert "Passport brief" in listed and "Naturalization brief" not in listed
        assert "Naturalization brief" in " ".join(
            m.value for m in open_page("overview", DIRECTOR).sidebar.markdown
        )
    finally:
        for name in ("naturalization-brief", "passport-brief"):
            saved_views.delete(sample_dir, name)


@pytest.mark.slow
def test_cx_brief_writes_the_deck_a_person_may_see(access_file: Path, sample_dir: Path) -> None:
    settings = Settings(sample_dir, 10)
    with pytest.raises(CxError, match="give --as ADDRESS"):
        brief.brief(settings, link="http://localhost:8501/trends")
    with pytest.raises(CxError, match="grants this address no service"):
        brief.brief(settings, link="http://localhost:8501/trends", person=STRANGER["email"])
    found = brief.brief(settings, link="http://localhost:8501/trends", person=PAT["email"])
    shown = "".join(csv_bytes(e, found.provenance).decode() for e in found.exhibits)
    assert PASSPORTS in shown and not [s for s in OTHERS if s in shown]
    for exhibit in found.exhibits:
        if "service" in exhibit.data.columns:
            assert set(exhibit.data["service"].drop_nulls()) <= {PASSPORTS}
    assert isinstance(found.exhibits[0].data, pl.DataFrame)
