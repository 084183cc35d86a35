"""Reading an import's CSV file: UTF-8 with or without a BOM, columns in any order, each record with
the line it starts on, so every message can name the file, line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metrics.errors import CxError


@dataclass(frozen=True)
class Record:
    """One data line of the file: the line it starts on and its values by column name, as text."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class Rejection:
    """A line left out of an import, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class CsvFile:
    """The records of a file that read, the lines that did not, and the columns left unread."""

    records: tuple[Record, ...]
    rejected: tuple[Rejection, ...]
    ignored_columns: tuple[str, ...]
    columns: tuple[str, ...] = ()  # the header, in the file's order


def read_csv(
    path: Path, required: Sequence[str], optional: Sequence[str] = (), exact: bool = False
) -> CsvFile:
    """Read `path`; raise CxError when the file as a whole cannot be read (not there, not UTF-8,
    columns missing or, when `exact`, columns other than `required`)."""
    try:
        data = path.read_bytes()  # read once and never written: an import leaves its input as it was
    except OSError as error:
        raise CxError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CxError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise CxError(f"{path}: is empty; the first line must name the columns: {', '.join(required)}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CxError(f"{path}: line 1 names column {', '.join(repr(n) for n in repeated)} more than once")
    missing = [name for name in required if name not in header]
    if missing:
        raise CxError(
            f"{path}: line 1 lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the columns are {', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
        )
    extra = tuple(name for name in header if name not in required and name not in optional)
    if exact and extra:
        raise CxError(
            f"{path}: line 1 has column{'s' if len(extra) > 1 else ''} {', '.join(extra)} not in the format; "
            f"the columns are exactly {', '.join(required)}"
        )
    records: list[Record] = []
    rejected: list[Rejection] = []
    ended = reader.line_num
    for fields in reader:
        start, ended = ended + 1, reader.line_num  # a quoted value may span lines: name the first
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            rejected.append(
                Rejection(start, f"has {len(fields)} values; the header line has {len(header)} columns")
            )
            continue
        records.append(Record(start, dict(zip(header, fields, strict=True))))
    return CsvFile(tuple(records), tuple(rejected), extra, tuple(header))
