"""Hostile links and command lines: whatever a link or an argument list holds, nothing raises but a
message naming it, no value reaches SQL as text, and nothing from a link is echoed as Markdown or HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as some
from streamlit.testing.v1 import AppTest

from cx.cli import main
from dashboard.filters import read_quarter
from dashboard.state import quoted
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
# Few examples each: the suite stays fast; the hand-picked values below cover the known tricks.
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRICKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "' or 1=1 --",
    "'); drop table raw_responses; --",
    "$\\LaTeX$ :red[big] :material/warning:",
    "`code` **bold** # heading",
    "\x00\n\r\t\u202e",
    "FY2025 Q1; attach '/tmp/x'",
    "A" * 5000,
]
hostile_text = some.one_of(some.sampled_from(TRICKS), some.text(max_size=80))
# A Markdown link or image, a raw HTML tag, LaTeX or a Streamlit directive a notice might render.
_ACTIVE = re.compile(r"<[a-zA-Z/!]|(?<!\\)\]\(|(?<!\\)\$|(?<!\\):[a-z]+(?<!\\)\[|(?<!\\)`", re.IGNORECASE)

_TAG = re.compile(r"<[a-zA-Z/!]")
_LINK = re.compile(r"(?<!\\)\]\((?!https://)")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    responses = [{"trust": 5 if i % 3 else 2, "ease": 4, "channel": "website"} for i in range(30)]
    return write_inputs(tmp_path_factory.mktemp("tiny"), responses=responses, contacts=[{}] * 12)


@pytest.fixture(scope="module")
def tiny_engine(tiny_data: Path) -> Engine:
    return Engine(Warehouse(tiny_data), min_n=1, exact=True)


@FEW
@given(hostile_text)
def test_a_quoted_link_value_is_inert(value: str) -> None:
    shown = quoted(value)
    assert not _ACTIVE.search(shown[1:-1]), shown
    # What a person reads is the value itself, on one line, cut at 40 characters.
    visible = html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown[1:-1]))
    printable = "".join(c if c.isprintable() else "?" for c in value)
    assert visible == (printable if len(value) <= 40 else printable[:40] + "…")


@FEW
@given(hostile_text)
def test_reading_a_quarter_from_a_link_never_raises(value: str) -> None:
    read = read_quarter(value)
    assert read == value or FiscalQuarter.parse(read).label == read


@FEW
@given(
    dimension=some.sampled_from(["service", "channel", "segment", "fiscal_quarter", "age_band"]),
    values=some.lists(hostile_text, min_size=1, max_size=3),
    start=some.one_of(some.none(), hostile_text, some.sampled_from(["FY2025 Q1", "fy2025-q1", "FY0000 Q1"])),
)
def test_hostile_filter_values_are_only_values(
    tiny_engine: Engine, dimension: str, values: list[str], start: str | None
) -> None:
    try:
        result = tiny_engine.run(Query.of("trust", by=["channel"], where={dimension: values}, start=start))
    except CxError as error:  # a message naming the bad period or value; never a SQL error
        assert "query failed" not in str(error)
        return
    assert set(result["channel"]) <= {"website"}
    assert tiny_engine.run(Query.of("responses")).row(0, named=True)["value"] == 30  # nothing dropped


COMMANDS = ["query", "metrics", "dimensions", "check", "contract", "report", "import"]
flag = some.sampled_from(
    ["--by", "--where", "--from", "--to", "--format", "--min-n", "--data-dir", "--fiscal-year", "--quarter"]
)
argument = some.one_of(
    hostile_text, flag, some.sampled_from(["trust", "channel=website", "FY2025Q1", "-1", "0"])
)


@pytest.fixture
def tiny_environment(tiny_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("CX_DATA_DIR", str(tiny_data))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    monkeypatch.chdir(tmp_path)  # `report` writes its file here, never into the project
    yield


@FEW
@given(command=some.sampled_from(COMMANDS), rest=some.lists(argument, max_size=6))
@pytest.mark.slow
def test_any_command_line_ends_with_a_status_and_a_message(
    tiny_environment: None, command: str, rest: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if command == "import":
        rest = ["collections", "/nonexistent/volumes.csv", *rest]  # never writes: the file is not there
    argv = [command, *rest]
    if command == "report":
        argv = [command, "a11", *rest, "--out", "."]
    try:
        status = main(argv)
    except SystemExit as done:  # argparse's own usage error, status 2, with its message
        assert done.code in (0, 2)
        return
    assert status in (0, 1, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Binder Error" not in err and "Parser Error" not in err and "Catalog Error" not in err


@pytest.fixture
def sample_app(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)
    yield


PARAMS = (
    "from",
    "to",
    "service",
    "channel",
    "segment",
    "metric",
    "by",
    "within",
    "value",
    "q",
    "split",
    "grain",
    "floor",
)


@pytest.mark.parametrize(
    ("page", "trick"),
    [
        ("overview", TRICKS[0]),
        ("trends", TRICKS[2]),
        ("equity", TRICKS[1]),
        ("catalog", TRICKS[0]),
        ("value", TRICKS[5]),
        ("drivers", TRICKS[6]),
        ("journeys", TRICKS[3]),
        ("reporting", TRICKS[7]),
    ],
)
def test_a_hostile_link_is_not_reflected(sample_app: None, page: str, trick: str) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    for key in PARAMS:
        app.query_params[key] = [trick, "FY2025 Q1"]
    app.query_params[trick] = "1"  # a hostile parameter name
    app.query_params["staff_cost"] = trick
    app.switch_page(f"app_pages/{page}.py")
    app.run()
    assert not app.exception
    assert app.warning, "a bad link value gets a notice"
    rendered = [
        *(e.value for e in app.markdown),
        *(e.value for e in app.warning),
        *(e.value for e in app.caption),
        *(e.value for e in app.info),
        *(e.value for e in app.error),
        *(e.value for e in app.title),
        *(e.value for e in app.header),
        *(e.value for e in app.subheader),
    ]
    for text in rendered:
        assert not _TAG.search(text) and not _LINK.search(text), text
    # Only valid choices go back into the address bar; the catalog's search text `q` is free text, held
    # by its text box and never rendered as Markdown.
    for key, value in app.query_params.items():
        if key == "q":
            continue
        assert trick not in (value if isinstance(value, list) else [value]), key
    assert trick not in app.query_params


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=some.dictionaries(some.sampled_from(PARAMS), hostile_text, max_size=4))
@pytest.mark.slow
def test_random_links_never_raise(sample_app: None, values: dict[str, str]) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    for key, value in values.items():
        app.query_params[key] = value
    app.switch_page("app_pages/trends.py")
    app.run()
    assert not app.exception
    for text in (*(e.value for e in app.warning), *(e.value for e in app.markdown)):
        assert not _TAG.search(text) and not _LINK.search(text), text
