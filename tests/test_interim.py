"""While a newer store is prepared, the dashboard answers from the earlier one and says which data it
shows; once the newer store is in place, the pages switch to it and the note goes."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
import streamlit as st
from conftest import linked_copy, unlinked
from serving import free_port, served
from streamlit.testing.v1 import AppTest

from cx.serve import streamlit_command
from dashboard import data
from metrics.query import Engine
from metrics.store import _sorted, build_lock
from metrics.storefile import read_unsorted

# Each builds stores from the sample: left out of `make test-fast`.
pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SHOWN = "Shown: the data prepared on"


@pytest.fixture
def changed_data(small_sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The sample with its store built, then its contacts changed: the store is one input behind."""
    data_dir = linked_copy(small_sample_dir, tmp_path / "data")
    contacts = unlinked(data_dir / "contacts.parquet")
    pl.read_parquet(contacts).filter(pl.col("channel") != "phone").write_parquet(contacts)
    monkeypatch.setenv("CX_DATA_DIR", str(data_dir))
    monkeypatch.setattr("dashboard.data.SWITCH_GRACE_S", 0)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield data_dir
    # The server's opening thread ends before its data goes: DuckDB must not be cut off mid-build.
    for thread in threading.enumerate():
        if thread.name == data.OPENING_THREAD:
            thread.join(timeout=180)
    st.cache_resource.clear()
    st.cache_data.clear()


def overview() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("app_pages/overview.py")
    return app.run()


def notes(app: AppTest) -> list[str]:
    return [i.value for i in app.info if SHOWN in i.value]


def test_the_earlier_store_answers_while_the_newer_one_is_prepared(changed_data: Path) -> None:
    # Another process holds the build: the server's own build waits, and the earlier store answers.
    with build_lock(changed_data / ".cx-store"):
        deadline = time.monotonic() + 60
        while "another process is building the store" not in (note := notes(app := overview())[0]):
            assert time.monotonic() < deadline, note
            time.sleep(0.5)
        assert not app.exception
        assert app.metric, "the overview's tiles are drawn from the earlier store"
        assert "the data of contacts changed since: the figures are those of the earlier files" in note
        assert "Newer data is being prepared" in note
        assert not [i for i in app.info if "Preparing the data for its first use" in i.value]
    # The lock is let go: the server builds the newer store, switches to it, and the note goes.
    deadline = time.monotonic() + 180
    while notes(app := overview()):
        assert time.monotonic() < deadline, "the newer store was not in place within 3 minutes"
        time.sleep(1)
    assert not app.exception and app.metric
    assert len(list((changed_data / ".cx-store").glob("store-*.duckdb"))) == 1


def test_a_first_start_builds_the_overview_measures_first_and_counts_the_others_from_rows(
    sample_dir: Path, tmp_path: Path
) -> None:
    from metrics import comments
    from metrics.analyses import voice
    from metrics.analyses.kpis import OVERVIEW_TILES
    from metrics.interim import first_store
    from metrics.measures import GAP_METRICS
    from metrics.query import Filters, Query

    data_dir = tmp_path / "data"
    shutil.copytree(sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))
    found = first_store(data_dir, data_dir / ".cx-store")
    assert found is not None and found.first
    _restarted_before_the_rest(data_dir)
    store = found.engine.store
    assert store is not None
    # Cubes for the overview's measures alone, a median's left to its rows (they take longest).
    cubed = {name for name in store.cubes if not name.startswith("analyses/")}
    assert cubed == set(OVERVIEW_TILES + GAP_METRICS) - {"wait_median"}
    # Every other measure answers, counted from the rows by its current file, as the whole store will.
    asked = [Query.of("satisfaction", ["service"]), Query.of("wait_median", ["fiscal_quarter"])]
    early = [found.engine.run(q) for q in asked]
    assert all(r.height > 1 for r in early)
    # The comments are left to the rows too (the first store knows no theme to tag them with), and
    # are listed with their themes all the same.
    assert not voice._stored(found.engine, comments.TABLE)
    listed = voice.verbatims(found.engine, Filters(), limit=200)
    assert listed.rows.height == 200 and listed.rows["themes"].str.len_chars().fill_null(0).sum() > 0
    # Its models are copied as they come; the whole store sorts them as it copies them.
    assert {"responses_with_contacts", "stg_contacts", "stg_transactions"} <= read_unsorted(store.path)
    assert not _in_order(store.path, "responses_with_contacts")
    whole = Engine.open(data_dir, store_dir=data_dir / ".cx-store", build=True)
    assert whole.store is not None and "satisfaction" in whole.store.cubes
    assert read_unsorted(whole.store.path) == frozenset()
    for model in ("responses_with_contacts", "stg_contacts", "stg_transactions"):
        assert _in_order(whole.store.path, model), model
    for query, answer in zip(asked, early, strict=True):
        assert answer.equals(whole.run(query)), query
    assert voice._stored(whole, comments.TABLE)
    stored = voice.verbatims(whole, Filters(), limit=200)
    assert stored.matching == listed.matching and stored.rows.equals(listed.rows)
    # Once the whole store is built there is no first store to build.
    assert first_store(data_dir, data_dir / ".cx-store") is None
    assert len(list((data_dir / ".cx-store").glob("store-*.duckdb"))) == 1


def _restarted_before_the_rest(data_dir: Path) -> None:
    """A server stopped after the first store was built, before the rest, and started again: the first
    store answers as on the first start. The measures it does not hold are not yet prepared, not
    changed since, and are not named so."""
    from metrics.interim import interim

    again = interim(data_dir, data_dir / ".cx-store")
    assert again is not None and again.first
    assert again.metrics_changed == () and again.inputs_changed == ()
    again.engine.warehouse.close()
    # With an input changed since, the page names that input, and still no metric file.
    contacts = data_dir / "contacts.parquet"
    kept = contacts.stat()
    os.utime(contacts, ns=(kept.st_atime_ns, kept.st_mtime_ns + 1_000_000_000))
    try:
        changed = interim(data_dir, data_dir / ".cx-store")
        assert changed is not None and not changed.first
        assert changed.inputs_changed == ("contacts",) and changed.metrics_changed == ()
        changed.engine.warehouse.close()
    finally:
        os.utime(contacts, ns=(kept.st_atime_ns, kept.st_mtime_ns))


def _in_order(store: Path, model: str) -> bool:
    """Whether the store keeps the model's rows in the order filtered reads want (store._sorted): each
    row where a stable sort by that order puts it."""
    with duckdb.connect(str(store), read_only=True) as con:
        order = _sorted(con, model, model=True)
        assert order, model
        found = con.execute(
            f"select count(*) from (select rowid, row_number() over ({order}, rowid) - 1 as place "
            f"from {model}) where rowid <> place"
        ).fetchone()
    return found == (0,)


def test_a_first_start_says_what_is_ready_and_what_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt
    from types import SimpleNamespace

    from metrics.interim import Interim

    first = Interim(None, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), (), ("satisfaction",), first=True)  # type: ignore[arg-type]
    opening = SimpleNamespace(
        interim=first, failed=None, steps=["[3/33] humanity: 35 cubes (0.4s)"], started=time.monotonic() - 75
    )
    monkeypatch.setattr(data, "_opening", lambda: opening)
    said = data.newer_build()
    assert said is not None and said.startswith("**The data is being prepared for its first use.**")
    assert "(1 min 15 s so far). Now: [3/33] humanity" in said
    assert "satisfaction" not in said  # a measure not yet built is no changed metric file
    opening.failed = OSError("No space left on device")
    assert data.newer_build() == (
        "**The data could not be prepared in full:** No space left on device. The overview's measures "
        "are ready; the others are counted from the rows, so their pages take longer."
    )


def test_a_server_begins_preparing_new_data_as_it_starts_before_any_visit(
    small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))  # without its store
    stores = data_dir / ".cx-store"
    # Nobody opens a page: only the health check is asked for. The store of the overview's measures
    # is built all the same, so a first visitor finds it built or on its way.
    with served(data_dir):
        deadline = time.monotonic() + 120
        while not list(stores.glob("store-*.duckdb")):
            assert time.monotonic() < deadline, "no store was built within 2 minutes of the server's start"
            time.sleep(0.5)


def test_a_server_stopped_while_it_builds_ends_cleanly_and_keeps_no_half_built_store(
    small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))  # without its store
    env = {**os.environ, "CX_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        streamlit_command(free_port()), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    # A server that never says a step fails the test, not hangs it.
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    said: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:  # the build's steps, as the server's log has them
            said.append(line)
            if "copied" in line:  # the models are being copied into the store: DuckDB is at work
                break
        server.terminate()
        said.append(server.stdout.read())
        server.wait(timeout=60)
    finally:
        watchdog.cancel()
    log = "".join(said)
    assert "copied" in log, log[-2000:]
    # Stopped as a server is stopped (SIGTERM), with no abort: the build was on a thread inside DuckDB.
    assert server.returncode == 0, log[-2000:]
    assert "terminate called" not in log
    assert not list((data_dir / ".cx-store").glob("store-*.duckdb"))  # no store was put in place
