"""The strict reading every list file of config/ shares (events.toml, access.toml): a TOML file of
[[name]] tables and nothing else, each failure named with the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from metrics.errors import CxError


def read_tables(path: Path, key: str, what: str) -> list[object]:
    """Return the [[key]] tables of a TOML file (none when it holds none); raise CxError naming the
    file when it cannot be read as `what`, holds another key, or `key` is not a list of tables."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CxError(f"{path}: cannot read the {what}: {error}") from error
    unknown = sorted(set(raw) - {key})
    if unknown:
        raise CxError(f"{path}: unknown key '{unknown[0]}'; the file holds [[{key}]] tables only")
    entries = raw.get(key, [])
    if not isinstance(entries, list):
        raise CxError(f"{path}: '{key}' must be [[{key}]] tables")
    return entries
