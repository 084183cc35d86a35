"""The data flow is enforced: metrics/ never imports Streamlit; the docs match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from metrics.catalog import catalog_markdown, load_catalog
from metrics.contract_doc import contract_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_the_metric_engine_is_importable_without_streamlit() -> None:
    code = (
        "import sys, metrics.cli, metrics.query, metrics.warehouse, metrics.catalog, sample_data.generator, "
        "metrics.a11_report, metrics.imports.touchpoints, metrics.imports.likert_counts, "
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
