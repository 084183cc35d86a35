"""Every page under Streamlit's AppTest: no exception, and the numbers equal the query API's."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.formatting import format_value
from metrics.query import Engine, Query

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def app(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


def test_overview_tiles_equal_the_query_api(app: AppTest, sample_engine: Engine) -> None:
    app.run()
    assert not app.exception
    latest = sample_engine.run(Query.of("responses", by=["fiscal_quarter"]))["fiscal_quarter"][-1]
    shown = {m.label: m.value for m in app.metric}
    for name in ("trust", "ease", "wait_median", "self_service_rate"):
        metric = sample_engine.metric(name)
        row = sample_engine.run(Query.of(name, where={"fiscal_quarter": latest})).row(0, named=True)
        assert shown[metric.label] == format_value(row["value"], metric.format)
