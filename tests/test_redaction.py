"""Personal details never reach the store: each kind is replaced by what it was, ordinary comments are
left as they are, the sample's planted details are gone from every table of a built store, and an
import writes comments already redacted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import frame, write_inputs

from metrics import contract, redaction
from metrics.errors import CxError
from metrics.imports.store import write
from metrics.query import Engine
from sample_data.generator import COMMENTS, PLANTED_DETAILS

REDACTED = {
    "Mr. Robert Smith at the counter was very helpful.": "[name] at the counter was very helpful.",
    "I waited on hold far too long. Call me back at (202) 555-0143, my name is Maria Gonzalez.": (
        "I waited on hold far too long. Call me back at [phone], my [name]."
    ),
    "The online form kept rejecting my upload. Email me at jordan.lee@example.com.": (
        "The online form kept rejecting my upload. Email me at [email]."
    ),
    "Esperé mucho tiempo para hablar en español. Me llamo José Pérez, llámeme al 202-555-0199.": (
        "Esperé mucho tiempo para hablar en español. [name], llámeme al [phone]."
    ),
    "No updates on case number IOE0912345678 for months. My SSN is 431-27-5903.": (
        "No updates on [case number] for months. My SSN is [ID number]."
    ),
    "I had to write several times from 1600 Pennsylvania Avenue NW; see https://example.com/my-case.": (
        "I had to write several times from [address]; see [link]"
    ),
}


def test_each_kind_of_personal_detail_is_replaced_by_what_it_was() -> None:
    assert redaction.redact(list(REDACTED)) == list(REDACTED.values())


def test_ordinary_comments_and_no_comment_are_left_as_they_are() -> None:
    ordinary = [text for group in COMMENTS for text in group if text not in REDACTED]
    assert len(ordinary) == 17
    assert redaction.redact([*ordinary, None, "", "Renewed in FY2026 Q3, 10 minutes, 5 stars."]) == [
        *ordinary,
        None,
        "",
        "Renewed in FY2026 Q3, 10 minutes, 5 stars.",
    ]


def test_a_spacy_model_that_is_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(redaction.MODEL_SETTING, "xx_no_such_model")
    with pytest.raises(CxError, match="CX_SPACY_MODEL=xx_no_such_model: no such spaCy model is installed"):
        redaction.pipeline()


@pytest.mark.slow
def test_no_planted_detail_reaches_any_table_of_the_store(sample_dir: Path, tmp_path: Path) -> None:
    engine = Engine.open(sample_dir, store_dir=tmp_path / "store", build=True)
    assert engine.store is not None
    found: list[str] = []
    redacted = 0
    with duckdb.connect(str(engine.store.path), read_only=True) as con:
        tables = con.execute(
            "select table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and schema_name = 'main' and not internal"
        ).fetchall()
        assert {"raw_responses", "stg_responses"} <= {table for table, _ in tables}
        for table, column in tables:
            for detail in PLANTED_DETAILS:
                hits = con.execute(
                    f'select count(*) from "{table}" where contains("{column}", ?)', [detail]
                ).fetchone()
                if hits and hits[0]:
                    found.append(f"{table}.{column}: {detail}")
        counted = con.execute(
            "select count(*) from stg_responses where contains(comment, '[name]')"
        ).fetchone()
        redacted = counted[0] if counted else 0
    assert not found
    assert redacted > 0  # the comments are there, redacted, not dropped


def test_an_import_writes_comments_redacted(tmp_path: Path) -> None:
    data_dir = write_inputs(tmp_path / "data")
    rows = frame("responses", [{"comment": "Email me at sam.o@example.org please"}, {"comment": None}])
    written = write(data_dir, contract.RESPONSES, rows, "test")
    assert written is not None
    assert pl.read_parquet(written)["comment"].to_list() == ["Email me at [email] please", None]
