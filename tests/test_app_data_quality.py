"""The data-quality panel on Metrics and data: every input problem is listed with its file, and the
pages keep serving what does not read the broken input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import frame, write_inputs
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def broken_contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    responses = [{"trust": 5 if i % 3 else 2, "ease": 4} for i in range(40)]
    folder = write_inputs(tmp_path / "data", responses=responses, transactions=[{}] * 20, collections=[{}])
    frame("contacts", [{"queue_wait_seconds": -5.0}, {}]).write_parquet(folder / "contacts.parquet")
    monkeypatch.setenv("CX_DATA_DIR", str(folder))
    monkeypatch.setenv("CX_MIN_N", "1")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()
    st.cache_data.clear()


def test_the_panel_lists_each_problem_and_the_rest_is_served(broken_contacts: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("app_pages/catalog.py")
    app.run()
    assert not app.exception
    assert "Data quality" in [h.value for h in app.header]
    (warning,) = app.warning
    assert warning.value.startswith(
        "1 problem in contacts: the metrics that read a broken input are unavailable"
    )
    problems = app.dataframe[-1].value.to_dict("records")
    assert problems == [
        {"File": "contacts.parquet", "Problem": "column 'queue_wait_seconds': value -5.0 is below 0 (1 row)"}
    ]
    app.switch_page("app_pages/overview.py")
    app.run()
    assert not app.exception
    shown = {m.label: m.value for m in app.metric}
    assert shown["Trust"] not in ("", None, "†", "unavailable")
    assert shown["Median wait"] == "unavailable"  # it reads contacts; the reason is under it
    assert any("contacts.parquet: column 'queue_wait_seconds'" in t.value for t in app.text)
    # A page whose measure reads the broken input says so instead of failing.
    app.query_params["metric"] = "wait_median"
    app.switch_page("app_pages/trends.py")
    app.run()
    assert not app.exception
    assert app.error[0].value.startswith("This page cannot be shown with the current data.")


def test_clean_inputs_say_so(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("app_pages/catalog.py")
    app.run()
    assert not app.warning
    assert any(m.value.startswith("Every input meets the data contract") for m in app.markdown)
    st.cache_resource.clear()
    st.cache_data.clear()
