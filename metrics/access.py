"""Who may see which services: the access file maps people (e-mail addresses) and groups (everyone
at a domain) to the services they may see, and anyone it does not name sees nothing. Read strictly:
an unknown key, an address that is not one, an empty list or a service the data does not hold is an
error naming the file, the grant and the value. The engine enforces what it grants
(`Engine.confined`), so every page, total, export and deck answers only about those services."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from metrics.configfiles import read_tables
from metrics.errors import CxError
from metrics.sqlfiles import SQL_DIR

# Not committed: an agency writes its own (config/access.example.toml shows the form).
ACCESS_FILE = SQL_DIR.parent / "config" / "access.toml"
EVERY_SERVICE = "all"
_KEYS = ("who", "services")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DOMAIN = re.compile(r"@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Grant:
    """Some people or groups and the services they may see (None: every service)."""

    who: tuple[str, ...]  # lower-case addresses, and "@domain" for everyone at a domain
    services: frozenset[str] | None

    def names(self, email: str) -> bool:
        """Return whether the grant names this (lower-case) address, itself or by its domain."""
        return any(email == w or (w.startswith("@") and email.endswith(w)) for w in self.who)


@dataclass(frozen=True)
class Access:
    """The grants of one access file."""

    path: Path
    grants: tuple[Grant, ...]

    def services_for(self, email: str | None) -> frozenset[str] | None:
        """Return the services a person may see: None for every service, empty for none (someone the
        file does not name, or nobody signed in)."""
        if not email:
            return frozenset()
        address = email.strip().lower()
        granted: set[str] = set()
        for grant in self.grants:
            if grant.names(address):
                if grant.services is None:
                    return None
                granted |= grant.services
        return frozenset(granted)

    def check_services(self, known: Iterable[str]) -> None:
        """Raise CxError naming the first granted service the data does not hold: a typo would
        otherwise grant nothing, silently."""
        known = set(known)
        for number, grant in enumerate(self.grants, start=1):
            for service in sorted(grant.services or ()):
                if service not in known:
                    raise CxError(
                        f"{self.path}: grant {number}: unknown service '{service}'; "
                        f"known services: {', '.join(sorted(known))}"
                    )


def access_path() -> Path:
    """Return where the access file is: CX_ACCESS_FILE, else config/access.toml."""
    configured = os.environ.get("CX_ACCESS_FILE", "").strip()
    return Path(configured) if configured else ACCESS_FILE


def load_access(path: Path | None = None) -> Access | None:
    """Read the access file (None when there is none: no one's view is limited); raise CxError
    naming the file, the grant and the key that is wrong."""
    path = path or access_path()
    if not path.exists():
        return None
    entries = read_tables(path, "grant", "access file")
    return Access(path, tuple(_grant(path, i, entry) for i, entry in enumerate(entries, start=1)))


def _grant(path: Path, number: int, entry: object) -> Grant:
    where = f"{path}: grant {number}"
    if not isinstance(entry, dict):
        raise CxError(f"{where}: must be a table of {', '.join(_KEYS)}")
    for key in entry:
        if key not in _KEYS:
            raise CxError(f"{where}: unknown key '{key}'; known keys: {', '.join(_KEYS)}")
    for key in _KEYS:
        if key not in entry:
            raise CxError(f"{where}: '{key}' is missing")
    who, services = entry["who"], entry["services"]
    if not isinstance(who, list) or not who:
        raise CxError(f"{where}: 'who' must be a list of e-mail addresses or @domains")
    for person in who:
        if not isinstance(person, str) or not (_ADDRESS.fullmatch(person) or _DOMAIN.fullmatch(person)):
            raise CxError(
                f"{where}: 'who' value {person!r} is neither an e-mail address (ada@example.gov) "
                "nor a domain (@example.gov)"
            )
    if services == EVERY_SERVICE:
        return Grant(tuple(p.lower() for p in who), None)
    if (
        not isinstance(services, list)
        or not services
        or not all(isinstance(s, str) and s.strip() for s in services)
    ):
        raise CxError(f"{where}: 'services' must be a list of service names, or \"{EVERY_SERVICE}\"")
    return Grant(tuple(p.lower() for p in who), frozenset(s.strip() for s in services))
