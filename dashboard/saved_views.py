"""Saved views: a named page with its filters and choices, kept as one small JSON file per view in
`<data dir>/saved_views/`. A view keeps the choices, never the numbers: reopened after the data is
refreshed, it shows the same selection computed from the data as it is then."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from dashboard.pages import PAGES
from metrics.errors import CxError

FOLDER = "saved_views"
# Ordinary title characters; a link key keeps only the letters and digits (`key_of`).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-+&'.,():]{0,59}$")
NAME_RULE = (
    "1 to 60 characters: letters, digits, spaces and - _ + & ' . , : ( ), starting with a letter or digit"
)


class ViewExists(CxError):
    """A view of that name (or link key) is saved already: replacing it must be asked for."""

    def __init__(self, view: SavedView) -> None:
        by = f" by {view.saved_by}" if view.saved_by else ""
        super().__init__(f"a view named “{view.name}” was saved{by} on {view.saved_at}")
        self.view = view


@dataclass(frozen=True)
class SavedView:
    """One saved view: the page, its link parameters and the link as it was when saved."""

    key: str  # the name as it goes in a link: ?view=KEY
    name: str
    page: str  # a url_path of dashboard.pages.PAGES
    params: dict[str, list[str]]
    link: str
    saved_at: str
    saved_by: str = ""  # who saved it, when sign-in is on


def key_of(name: str) -> str:
    """Return the link key of a view name: lower-case letters and digits, anything else as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def check_name(name: str) -> str:
    """Return the name cleaned of outer spaces, or raise a CxError saying what a name may hold."""
    cleaned = name.strip()
    if not _NAME.match(cleaned):
        raise CxError(f"view name {name!r}: use {NAME_RULE}")
    return cleaned


def folder(data_dir: Path) -> Path:
    """Return where the data directory keeps its saved views."""
    return data_dir / FOLDER


def save(
    data_dir: Path,
    name: str,
    page: str,
    params: dict[str, list[str]],
    link: str,
    replace: bool = False,
    saved_by: str = "",
) -> SavedView:
    """Save a view; written to a temporary file and renamed, so a reader never sees half. A view of
    the same link key is replaced only with `replace`, else ViewExists names it."""
    cleaned = check_name(name)
    if page not in {p.url_path for p in PAGES}:
        raise CxError(f"view {cleaned!r}: page {page!r} is not a page of the dashboard")
    view = SavedView(
        key_of(cleaned),
        cleaned,
        page,
        {k: [str(v) for v in values] for k, values in params.items()},
        link,
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        saved_by,
    )
    existing = folder(data_dir) / f"{view.key}.json"
    if existing.is_file() and not replace:
        try:
            found: SavedView | None = _read(existing)
        except CxError:
            found = None  # a damaged file of that name is replaced: it cannot be opened anyway
        if found is not None:
            raise ViewExists(found)
    target = folder(data_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target, prefix=".saving-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(view), out, indent=2)
        os.replace(temporary, target / f"{view.key}.json")
    except OSError as error:
        raise CxError(f"could not save view {cleaned!r} in {target}: {error.strerror or error}") from error
    return view


def load(data_dir: Path, key: str) -> SavedView:
    """Return the saved view `key`, or raise a CxError naming it and the views there are."""
    wanted = key_of(key)
    path = folder(data_dir) / f"{wanted}.json"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", wanted) or not path.is_file():
        known = ", ".join(v.key for v in listing(data_dir)) or "none saved yet"
        raise CxError(f"view {key!r} is not a saved view (saved views: {known})")
    return _read(path)


def listing(data_dir: Path) -> list[SavedView]:
    """Return every readable saved view, by name; a damaged file is left out, not fatal."""
    views = []
    for path in sorted(folder(data_dir).glob("*.json")):
        try:
            views.append(_read(path))
        except CxError:
            continue
    return sorted(views, key=lambda v: v.name.lower())


def delete(data_dir: Path, key: str) -> None:
    """Remove a saved view."""
    path = folder(data_dir) / f"{key_of(key)}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        raise CxError(f"view {key!r} is not a saved view") from None


def _read(path: Path) -> SavedView:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        view = SavedView(
            key=str(raw["key"]),
            name=str(raw["name"]),
            page=str(raw["page"]),
            params={str(k): [str(v) for v in values] for k, values in dict(raw["params"]).items()},
            link=str(raw.get("link", "")),
            saved_at=str(raw.get("saved_at", "")),
            saved_by=str(raw.get("saved_by", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CxError(f"{path}: not a readable saved view ({error})") from error
    if view.page not in {p.url_path for p in PAGES}:
        raise CxError(f"{path}: page {view.page!r} is not a page of the dashboard")
    return view
