"""The data flow is enforced: metrics/ never imports Streamlit; the docs match the code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from metrics.catalog import catalog_markdown, load_catalog
from metrics.contract_doc import contract_markdown

ROOT = Path(__file__).resolve().parent.parent
# The engine is the bottom layer: the screen, the command and Streamlit sit above it.
ABOVE_THE_ENGINE = ("dashboard", "cx", "streamlit")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Return (line, module) for every import in a module's source, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_the_engine_imports_nothing_above_it_even_inside_a_function() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line}: import {module}"
        for path in sorted((ROOT / "metrics").rglob("*.py"))
        for line, module in imported_modules(path.read_text(encoding="utf-8"))
        if module.split(".")[0] in ABOVE_THE_ENGINE
    ]
    assert offending == []


def test_the_import_check_sees_an_import_inside_a_function() -> None:
    source = "def brief():\n    from dashboard.brief import deck\n    import streamlit as st\n"
    assert imported_modules(source) == [(2, "dashboard.brief"), (3, "streamlit")]


def downloads_that_rerun(source: str) -> list[int]:
    """Return the lines of the `st.download_button` calls in a module's source that rerun the page on
    click: all but those with `on_click="ignore"`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "download_button"
        and not any(
            k.arg == "on_click" and isinstance(k.value, ast.Constant) and k.value.value == "ignore"
            for k in node.keywords
        )
    ]


def test_no_download_reruns_the_page() -> None:
    """A click that also reruns the page gives a file made on click a new id, and on a busy server the
    file's request can arrive after the rerun and find none: nothing is downloaded."""
    offending = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        for line in downloads_that_rerun(path.read_text(encoding="utf-8"))
    ]
    assert offending == []


def test_the_download_check_sees_one_that_reruns() -> None:
    source = 'st.download_button("CSV", data=make)\nst.download_button("PNG", data=make, on_click="ignore")\n'
    assert downloads_that_rerun(source) == [1]


def test_the_metric_engine_is_importable_without_streamlit() -> None:
    code = (
        "import sys, cx.cli, metrics.query, metrics.warehouse, metrics.catalog, sample_data.generator, "
        "metrics.analyses.a11_report, metrics.imports.touchpoints, metrics.imports.likert_counts, "
        "metrics.imports.collections; "
        "print('streamlit' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_data_contract_doc_matches_the_contract() -> None:
    written = (ROOT / "docs" / "DATA_CONTRACT.md").read_text(encoding="utf-8")
    assert written == contract_markdown(), "run `cx contract > docs/DATA_CONTRACT.md`"


def test_readme_documents_the_commands_and_the_header_keys() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needed in (
        "make run",
        "make test",
        "make check",
        "cx query",
        "cx check",
        "cx sample",
        "cx import touchpoints",
        "cx import likert-counts",
        "cx import collections",
        "cx report a11",
        "cx brief",
        "saved_views",
        "CX_DATA_DIR",
        "CX_MIN_N",
        "CX_STORE_DIR",
        "cx build",
        "cx bench",
    ):
        assert needed in readme, needed
    from metrics.catalog import OPTIONAL_KEYS, REQUIRED_KEYS

    for key in REQUIRED_KEYS + OPTIONAL_KEYS:
        assert f"`{key}`" in readme, f"header key {key} is not documented in README.md"


def test_metric_docs_match_the_metric_files() -> None:
    written = (ROOT / "docs" / "METRICS.md").read_text(encoding="utf-8")
    assert written == catalog_markdown(load_catalog()), "run `cx metrics --format markdown > docs/METRICS.md`"
