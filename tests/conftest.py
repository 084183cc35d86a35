"""Shared test helpers: tiny hand-built inputs written to contract, and engines over them."""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from serving import CHROMIUM, CHROMIUM_FLAGS, served

from metrics import contract
from metrics.catalog import Catalog, load_catalog
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse

# A page's rerun after a click can take longer than Playwright's 5 s on a busy two-core machine
# running every test at once; an assertion waits only as long as its condition takes to hold.
expect.set_options(timeout=30_000)

# The session's exit status, kept for `pytest_unconfigure`.
_EXIT_STATUS = [0]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS[0] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run as dashboard/server.py ends a server stopped mid-build. An app test leaves the rest
    of the store building on the server's opening thread, inside DuckDB, and ending the interpreter
    around it aborted the process ("terminate called after throwing ...", exit status 134) after
    every test had passed. An xdist worker's end is not its run's status, so only a run of its own."""
    data = sys.modules.get("dashboard.data")
    if hasattr(config, "workerinput") or data is None:
        return
    if any(t.name == data.OPENING_THREAD and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[0])


RESPONSE_DEFAULTS: dict[str, Any] = {
    "submitted_at": datetime(2024, 11, 15, 12, 0),
    "service": "Passport Services",
    "channel": "website",
    "segment": "Travelers",
    "journey_stage": "Apply",
    "survey_version": "v1",
    "trust_scale": "five_point",
    "age_band": "35-44",
    "race_ethnicity": "Not reported",
    "income_band": "Not reported",
    "urbanicity": "Urban",
    "language": "English",
    "disability": "No",
    "veteran_status": "Not a veteran",
    "weight": 1,
    "row_kind": "respondent",
}
CONTACT_DEFAULTS: dict[str, Any] = {
    "started_at": datetime(2024, 11, 15, 9, 0),
    "service": "Passport Services",
    "channel": "phone",
    "segment": "Travelers",
    "journey_stage": "Apply",
    "queue_wait_seconds": 60.0,
    "handle_seconds": 300.0,
    "answered": True,
    "resolved_first_contact": True,
    "age_band": "Not reported",
    "race_ethnicity": "Not reported",
    "income_band": "Not reported",
    "urbanicity": "Urban",
    "language": "English",
    "disability": "Not reported",
    "veteran_status": "Not reported",
}
TRANSACTION_DEFAULTS: dict[str, Any] = {
    "completed_at": datetime(2024, 11, 15, 10, 0),
    "service": "Passport Services",
    "channel": "website",
    "segment": "Travelers",
    "journey_stage": "Apply",
    "age_band": "Not reported",
    "race_ethnicity": "Not reported",
    "income_band": "Not reported",
    "urbanicity": "Not reported",
    "language": "Not reported",
    "disability": "Not reported",
    "veteran_status": "Not reported",
}
COLLECTION_DEFAULTS: dict[str, Any] = {
    "service": "Passport Services",
    "fiscal_year": 2025,
    "fiscal_quarter": 1,
    "channel": "website",
    "customers_served": 1000,
    "customers_offered": 100,
    "trust_question_text": "I trust the agency to fulfill its duties.",
    "survey_type": "likert_scale",
    "publishable": True,
    "organization": "Department of State",
    "service_provider": "Bureau of Consular Affairs",
    "transaction_point": "Passport renewal submitted",
    "service_stage": "Apply",
    "survey_title": "Passport customer survey",
    "omb_control_number": "1405-0231",
    "federal_register_url": "https://www.federalregister.gov/d/2023-00001",
    "reflection_text": "Renewals online cut the wait.",
}
# Sign-in settings an AppTest gives the app ([auth] in secrets), and the sample's services as the access
# tests name them: one limited to Passport Services must see none of the others.
OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-secret-for-the-tests-only-0123456789",
    "client_id": "cx-dashboard",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.gov/.well-known/openid-configuration",
}
PASSPORTS = "Passport Services"
OTHERS = (
    "Naturalization",
    "Disaster Assistance",
    "Vessel Registration",
    "Employee HR Services",
    "Business Licensing",
)

DEFAULTS = {
    "responses": RESPONSE_DEFAULTS,
    "contacts": CONTACT_DEFAULTS,
    "transactions": TRANSACTION_DEFAULTS,
    "collections": COLLECTION_DEFAULTS,
}
KEYS = {"responses": "R", "contacts": "C", "transactions": "T"}


def frame(name: str, rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Return rows of one input as a contract-typed frame; unspecified columns take defaults or null."""
    spec = contract.INPUTS[name]
    full = []
    for i, row in enumerate(rows, start=1):
        record = {c.name: None for c in spec.columns} | DEFAULTS[name]
        if name in KEYS:
            record[spec.key] = f"{KEYS[name]}{i:04d}"
        full.append(record | row)
    return pl.DataFrame(full, schema=contract.polars_schema(spec), orient="row")  # type: ignore[arg-type]


def write_inputs(folder: Path, **inputs: Sequence[dict[str, Any]]) -> Path:
    """Write every input (empty ones where not given) into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in contract.INPUTS:
        frame(name, inputs.get(name, [])).write_parquet(folder / f"{name}.parquet")
    return folder


EngineFactory = Callable[..., Engine]


@pytest.fixture
def make_engine(tmp_path: Path) -> EngineFactory:
    """Return a function that writes tiny inputs and opens an engine over them (min n 1 by default).
    Its counts are exact by default, so known answers are worked out by hand; `exact=False` gives the
    published (perturbed) counts the pages show."""

    def factory(
        min_n: int = 1,
        catalog_dir: Path | None = None,
        sealed: bool = True,
        exact: bool = True,
        **inputs: Sequence[dict[str, Any]],
    ) -> Engine:
        folder = write_inputs(tmp_path / "data", **inputs)
        catalog = load_catalog(catalog_dir) if catalog_dir else load_catalog()
        return Engine(Warehouse(folder, sealed), catalog, min_n, exact)

    return factory


def catalog_of(*names: str) -> Catalog:
    """Return the catalog of only these metrics of sql/metrics/: a test of how the store is built
    builds only the metrics it checks, in seconds rather than a whole catalog's minute."""
    catalog = load_catalog()
    return Catalog({name: catalog.metrics[name] for name in names}, ())


def one(engine: Engine, metric: str, **kwargs: Any) -> dict[str, Any]:
    """Run a query that returns a single row and return that row."""
    result = engine.run(Query.of(metric, **kwargs))
    assert result.height == 1, result
    return result.row(0, named=True)


def batches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the questions of each `run_many` the engine is asked from now on: the returned list gets
    one length per call (`monkeypatch.undo()` stops the counting)."""
    asked: list[int] = []
    run_many = engine.run_many
    monkeypatch.setattr(engine, "run_many", lambda queries: asked.append(len(queries)) or run_many(queries))
    return asked


def recorded_statements(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each statement the engine's warehouse runs from now on: the returned list gets its SQL
    (`monkeypatch.undo()` stops the recording)."""
    ran: list[str] = []
    frame = engine.warehouse.frame

    def recorded(sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
        ran.append(sql)
        return frame(sql, params)

    monkeypatch.setattr(engine.warehouse, "frame", recorded)
    return ran


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data at a small size: the integration fixture every metric runs on, with its store
    built as `make run` leaves it (a first start serves the overview's measures before the rest:
    tests/test_interim.py copies the data without it)."""
    return _once(tmp_path_factory, "sample", _sample_of(20_000))


@pytest.fixture(scope="session")
def small_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data at a tenth of sample_dir's size (2,000 responses), its store built: for the
    tests of how a store is built, kept, replaced and served while it builds, whose every step is a
    build (those of a first start copy the data without its store). What they check holds at any
    size, and a build of it takes half the time (2.1-3.5 s against 4.4-4.5 s, in one process)."""
    return _once(tmp_path_factory, "small-sample", _sample_of(2_000))


def _sample_of(responses: int) -> Callable[[Path], None]:
    """Return what makes a sample folder of `responses` responses (seed 7) with its store built."""
    from sample_data.generator import generate

    def made(folder: Path) -> None:
        generate(folder, seed=7, responses=responses)
        _built(folder)

    return made


def _built(folder: Path) -> None:
    Engine.open(folder, store_dir=folder / ".cx-store", build=True).warehouse.close()


def _once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """Return the folder `name`, its inputs and store made by `make` once for the whole run. `make test`
    runs a worker per core (pytest-xdist): the first worker to ask makes it while the others wait,
    and each worker gets a `linked_copy` of its own. What a worker's tests write there, such as saved
    views, stays the worker's; tests copy what they change."""
    own = tmp_path_factory.getbasetemp()
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = own / name
        folder.mkdir()
        make(folder)
        return folder
    root = own.parent  # the run's folder, above each worker's own
    made, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # let go when the file closes
        if not done.exists():
            made.mkdir(exist_ok=True)
            make(made)
            done.touch()
    return linked_copy(made, own / name)


def linked_copy(data_dir: Path, folder: Path) -> Path:
    """Make `folder` a copy of `data_dir` whose store is built: links to its inputs (`*.parquet`) and a
    copy of its store, which is the copy's store too (a store's fingerprint names the inputs' real
    paths). An input the test changes must be written as a file of its own: `unlinked` first."""
    folder.mkdir()
    for path in data_dir.glob("*.parquet"):
        (folder / path.name).symlink_to(path.resolve())
    shutil.copytree(data_dir / ".cx-store", folder / ".cx-store", ignore=shutil.ignore_patterns(".*"))
    return folder


def unlinked(path: Path) -> Path:
    """Replace the link `path` by a copy of the file it links to, so a change to it stays here."""
    target = path.resolve()
    path.unlink()
    shutil.copy2(target, path)
    return path


@pytest.fixture(scope="session")
def full_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample `make run` serves (200,000 responses): the size its planted stories are sized for."""
    from sample_data.generator import generate

    def made(folder: Path) -> None:
        generate(folder)
        _built(folder)

    return _once(tmp_path_factory, "full-sample", made)


@pytest.fixture(scope="session")
def sample_engine(sample_dir: Path) -> Engine:
    """An engine over the small sample data with the default suppression minimum."""
    return Engine(Warehouse(sample_dir))


@pytest.fixture(scope="session")
def exact_sample_engine(sample_dir: Path) -> Engine:
    """The small sample data with true counts (`cx query --exact`): what known sums are checked on."""
    return Engine(Warehouse(sample_dir), exact=True)


# The browser tests' server and Chromium, shared by every browser test module.
@pytest.fixture(scope="session")
def app_url(sample_dir: Path) -> Iterator[str]:
    """Serve the dashboard over the small sample data and return its address."""
    with served(sample_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's headless Chromium (the browser tests need `make browser` or .ci/run first)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context, as a new visitor would have."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()
