"""View state in the URL: every filter and choice is a query parameter holding a stable key (metric
`trust`, channel `website`), written back on every run, so the address bar and the copy-link box
reopen exactly the same view. A link value that is not a choice gets a notice and the default."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import streamlit as st

from metrics.formatting import exact_number, listed

T = TypeVar("T")
_KEY = "_url_state"
_UNSET = object()
# ASCII punctuation Markdown may act on, except & and ; (entities) and < > (written as entities).
_PLAIN = re.compile(r"[A-Za-z0-9_]{1,40}")
_PUNCTUATION = re.compile(r"([!-%'-/:=?@\[-`{-~])")


@dataclass
class _Run:
    """What the URL held when this run started, what the run declared and what it found wrong."""

    raw: dict[str, list[str]]
    declared: dict[str, bool] = field(default_factory=dict)  # key -> takes several values
    defaults: dict[str, Any] = field(default_factory=dict)  # key -> value left out of the link
    shown: dict[str, tuple[str, Callable[[Any], str]]] = field(default_factory=dict)  # key -> label, words
    notices: list[str] = field(default_factory=list)


def begin() -> None:
    """Record the URL's parameters at the start of a run, before any widget."""
    st.session_state[_KEY] = _Run({k: st.query_params.get_all(k) for k in st.query_params})


def _run() -> _Run:
    return st.session_state[_KEY]  # type: ignore[no-any-return]


def _seed(
    key: str,
    label: str,
    options: Sequence[Any],
    default: Any,
    multi: bool,
    shown: Callable[[Any], str],
    read: Callable[[str], str] | None = None,
) -> Any:
    """Give the widget its value: its own state after the first run, else the link's, else the default.
    `read` turns another spelling a person may type into the option's own (FY2025Q1 -> FY2025 Q1).

    Return the value the widget starts from, or _UNSET where it keeps its own or was given one here.
    A session's first run starts its widgets from the link rather than setting their state: a browser
    that reconnects to another server (a replica stopped) sends its widgets' values to a session that
    cannot yet tell they are this key's, and a value set here would overwrite the choice the person
    just made."""
    run = _run()
    run.declared[key] = multi
    run.shown[key] = (label, shown)
    valid = {str(o): o for o in options}
    current = st.session_state.get(key)
    if current is not None and (all(str(v) in valid for v in current) if multi else str(current) in valid):
        return _UNSET
    values = run.raw.get(key) if current is None else None
    if values and read is not None:
        values = [read(v) for v in values]
    chosen: Any = default
    if values:
        bad = [v for v in values if v not in valid]
        if bad:
            sample = ", ".join(str(o) for o in list(options)[:6]) + (", ..." if len(options) > 6 else "")
            run.notices.append(
                f"The link's `{key}` value {', '.join(quoted(v) for v in bad[:3])} is not a choice for {label} "
                f"(choices: {sample}); showing {shown(default) if not multi else 'all'} instead."
            )
        elif multi:
            chosen = [valid[v] for v in dict.fromkeys(values)]
        else:
            chosen = valid[values[0]]
            if len(values) > 1:
                run.notices.append(
                    f"The link gives `{key}` {len(values)} times; {label} takes one, so the first is used."
                )
    if current is None:
        return chosen
    st.session_state[key] = chosen  # its value is no longer a choice (another filter narrowed them)
    return _UNSET


def select(
    label: str,
    options: Sequence[T],
    key: str,
    default: T | None = None,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    read: Callable[[str], str] | None = None,
) -> T:
    """A selectbox whose value lives in the URL parameter `key`."""
    fallback = default if default in options else (options[0] if options else None)
    start = _seed(key, label, options, fallback, False, format_func, read)
    if start is _UNSET or start is None:  # None: no options at all
        return st.selectbox(label, options, key=key, format_func=format_func, help=help)
    index = list(options).index(start)
    return st.selectbox(label, options, index=index, key=key, format_func=format_func, help=help)


def multiselect(
    label: str,
    options: Sequence[T],
    key: str,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    placeholder: str = "All",
) -> list[T]:
    """A multiselect whose values live in the URL parameter `key`, repeated; none chosen means all."""
    start = _seed(key, label, options, [], True, format_func)
    return st.multiselect(
        label,
        options,
        default=None if start is _UNSET else start,
        key=key,
        format_func=format_func,
        help=help,
        placeholder=placeholder,
    )


def text(label: str, key: str, help: str | None = None, placeholder: str = "") -> str:
    """A text box whose value lives in the URL parameter `key`."""
    run = _run()
    run.declared[key] = False
    # Started from the link, not set: see `_seed`.
    start = (run.raw.get(key) or [""])[0] if key not in st.session_state else ""
    return st.text_input(label, value=start, key=key, help=help, placeholder=placeholder)


def number(
    label: str,
    key: str,
    default: float,
    minimum: float = 0.0,
    maximum: float = 1_000_000.0,
    step: float = 0.5,
    help: str | None = None,
    format: str | None = None,
) -> float:
    """A number box whose value lives in the URL parameter `key` only when it differs from `default`,
    so links stay short and carry just what a person adjusted."""
    run = _run()
    run.declared[key] = False
    run.defaults[key] = float(default)
    run.shown[key] = (label, "{:g}".format)
    chosen: float | None = None  # started from the link, not set: see `_seed`
    if key not in st.session_state:
        chosen = float(default)
        values = run.raw.get(key)
        if values:
            try:
                given = float(values[0])
            except ValueError:
                given = None
            if given is None or math.isnan(given) or not minimum <= given <= maximum:
                run.notices.append(
                    f"The link's `{key}` value {quoted(values[0])} is not a number from {minimum:g} to "
                    f"{maximum:g} for {label}; showing {default:g} instead."
                )
            else:
                chosen = given
    return float(
        st.number_input(
            label,
            min_value=minimum,
            max_value=maximum,
            value=chosen if chosen is not None else "min",
            step=step,
            key=key,
            help=help,
            format=format,
        )
    )


def take(key: str) -> list[str]:
    """Return the link's values of a parameter the app reads itself rather than through a widget
    (`view`); it is not written back."""
    run = _run()
    run.declared.setdefault(key, False)
    return list(run.raw.get(key, []))


def withhold(key: str, allowed: Collection[str]) -> list[str]:
    """Take out of the link's `key` values those not in `allowed` before a widget reads them, and
    return them: a link may ask for what the person looking may not see."""
    run = _run()
    asked = run.raw.get(key, [])
    withheld = [v for v in asked if v not in allowed]
    if withheld:
        run.raw[key] = [v for v in asked if v in allowed]
    return withheld


def described(leave_out: Sequence[str] = ()) -> str:
    """Return the page's choices as a reader sees them ("Measure: Ease; Break down by: Age band"),
    without the keys of `leave_out` (the sidebar's, which the filters line says)."""
    run = _run()
    parts = []
    for key, (label, shown) in run.shown.items():
        value = st.session_state.get(key)
        if key in leave_out or value is None or value == "" or value == []:
            continue
        words = ", ".join(shown(v) for v in value) if isinstance(value, list) else shown(value)
        parts.append(f"{label}: {words}")
    return "; ".join(parts)


def choices() -> dict[str, list[str]]:
    """Return the current view's link parameters, grouped by key."""
    grouped: dict[str, list[str]] = {}
    for key, value in _params():
        grouped.setdefault(key, []).append(value)
    return grouped


def notice(message: str) -> None:
    """Add a notice about the view, shown at the top of the page."""
    _run().notices.append(message)


def quoted(value: str, limit: int = 40) -> str:
    """Return a value from a link as a notice may quote it: short, one line, and inert as Markdown and
    HTML (entities for <, > and &, a backslash before other punctuation), since links come from anyone."""
    short = value if len(value) <= limit else value[:limit] + "…"
    return "'" + inert("".join(c if c.isprintable() else "?" for c in short)) + "'"


def inert(text: str) -> str:
    """Return text that Markdown and HTML show as typed: entities for <, > and &, a backslash before
    other punctuation."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", text)


def _name(key: str) -> str:
    """Return a link's parameter name as a notice shows it: as code when it is a plain word."""
    return f"`{key}`" if _PLAIN.fullmatch(key) else quoted(key)


def _params() -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    run = _run()
    for key, multi in run.declared.items():
        value = st.session_state.get(key)
        if value is None or value == "" or value == [] or run.defaults.get(key, _UNSET) == value:
            continue
        if isinstance(value, float):
            params.append((key, exact_number(value)))
            continue
        params += [(key, str(v)) for v in value] if multi else [(key, str(value))]
    return params


def finish(area: Any) -> None:
    """Write the view's choices to the address bar and show this run's notices in `area`."""
    run = _run()
    unused = sorted(set(run.raw) - set(run.declared))
    if unused:
        named = [_name(k) for k in unused[:5]] + ([f"{len(unused) - 5} more"] if len(unused) > 5 else [])
        names = listed(named)
        said = (
            f"The link's parameter {names} is not used on this page and was ignored."
            if len(unused) == 1
            else f"The link's parameters {names} are not used on this page and were ignored."
        )
        run.notices.append(said)
    for message in run.notices:
        area.warning(message, icon=":material/link_off:")
    grouped = choices()
    if {k: st.query_params.get_all(k) for k in st.query_params} != grouped:
        st.query_params.from_dict(grouped)


def link() -> str:
    """Return a link that reopens this page with every current choice."""
    base = str(st.context.url or "").split("?")[0]
    params = _params()
    return f"{base}?{urlencode(params)}" if params else base
