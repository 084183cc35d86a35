"""Where imported rows land: a new parquet file in the input's folder of the data directory
(`<data>/responses/imported-touchpoints-<hash>.parquet`), written whole or not at all, after the rows
already there were looked up so that importing a file twice adds nothing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl

from metrics import contract
from metrics.errors import CxError
from metrics.imports.csvfile import Rejection
from metrics.redaction import redact
from metrics.validation import check_values
from metrics.warehouse import locate


@dataclass
class Outcome:
    """What an import did: rows read, imported, already there, and each rejected line with its reason."""

    source: str
    read: int = 0
    imported: int = 0  # lines whose rows were added
    already: int = 0  # lines whose rows an earlier import added
    rejected: list[Rejection] = field(default_factory=list)
    written: Path | None = None
    notes: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        """Say what happened, one rejected line per line of text."""
        lines = [
            f"{self.source}: {self.read} row{'s' if self.read != 1 else ''} read; {self.imported} imported, "
            f"{self.already} already imported, {len(self.rejected)} rejected."
        ]
        lines += [f"{self.source} line {r.line}: {r.reason}" for r in sorted(self.rejected, key=_line)]
        lines += self.notes
        lines.append(f"Wrote {self.written}." if self.written else "Nothing new to write.")
        return lines


def _line(rejection: Rejection) -> int:
    return rejection.line


def require_data_dir(data_dir: Path) -> None:
    """Raise CxError unless the data directory exists: imports add to it, they never create it."""
    if not data_dir.is_dir():
        raise CxError(f"data folder {data_dir} does not exist; create it or give --data-dir")


def existing(data_dir: Path, spec: contract.Input, columns: Sequence[str]) -> pl.DataFrame:
    """Return `columns` of every row the input already holds (files lacking one give it null)."""
    _, files = locate(data_dir, spec)
    schema = cast(dict[str, Any], contract.polars_schema(spec))
    frames = []
    for path in files:
        try:
            found = pl.read_parquet_schema(path)
            frame = pl.read_parquet(path, columns=[c for c in columns if c in found])
        except (OSError, pl.exceptions.PolarsError) as error:
            raise CxError(
                f"{path}: cannot be read to look for rows already imported ({str(error).splitlines()[0]}); "
                "run `cx check`"
            ) from None
        frames.append(
            frame.with_columns(pl.lit(None).alias(c) for c in columns if c not in frame.columns).select(
                pl.col(c).cast(schema[c]) for c in columns
            )
        )
    empty = pl.DataFrame(schema={c: schema[c] for c in columns})
    return pl.concat([empty, *frames], how="vertical")


def write(data_dir: Path, spec: contract.Input, rows: pl.DataFrame, kind: str) -> Path | None:
    """Add `rows` to the input as one new file; return its path, or None when there is nothing to add.

    The rows are checked against the contract first, then written to a hidden file in the same folder
    and renamed into place, so a failure at any point leaves the data directory as it was."""
    if rows.is_empty():
        return None
    _check(spec, rows)
    # What customers wrote is written without their personal details, as the warehouse reads it.
    for column in (c.name for c in spec.columns if c.free_text and c.name in rows.columns):
        rows = rows.with_columns(pl.Series(column, redact(rows[column].to_list()), dtype=pl.Utf8))
    digest = hashlib.sha256(rows.write_csv().encode("utf-8")).hexdigest()[:16]
    folder = data_dir / spec.name
    target = folder / f"imported-{kind}-{digest}.parquet"
    created = not folder.exists()
    temporary = folder / f".{target.name}.tmp"  # not *.parquet: the warehouse never reads it
    try:
        folder.mkdir(exist_ok=True)
        rows.write_parquet(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return target


def _check(spec: contract.Input, rows: pl.DataFrame) -> None:
    """Run the warehouse's own contract checks on the new rows: an import never writes a row that
    `cx check` would refuse."""
    con = duckdb.connect(":memory:")
    con.register("new_rows", rows.to_arrow())
    con.execute(f"create table raw_{spec.name} as select * from new_rows")  # a table: checks use rowid
    columns = {name: str(dtype) for name, dtype in zip(rows.columns, rows.dtypes, strict=True)}
    problems = check_values(con, "the rows to import", spec, f"raw_{spec.name}", columns)
    if problems:
        raise CxError("the import would break the data contract: " + "; ".join(str(p) for p in problems))
