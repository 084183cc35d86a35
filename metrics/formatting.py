"""How a metric's numbers read to people: percent, duration, count, by the metric's `format`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

SUPPRESSED = "†"  # shown in place of a hidden statistic; every view footnotes it
NO_DATA = "no data"  # a statistic over no rows at all: nothing to hide, nothing to show
NOT_ASKED = "not asked"  # survey answers exist in the view, but none to this item: the survey did not ask it
# The format of a gap between two shares, read in points ("3.9 pts"): not a share itself, so never
# drawn or written as one. No metric file has it: it is the format of a difference of percents.
POINTS = "points"
NOT_APPLICABLE = (
    "not applicable"  # the measure has no meaning in this view (self-service rate in one channel)
)


def exact_number(value: float) -> str:
    """Return a number as text that reads back as the same number: the shortest such (1234.567, not
    the 1234.57 of `{:g}`'s six significant digits), without a whole number's ".0". For what is read
    again: a link's values, a target in an export or the catalog."""
    return repr(float(value)).removesuffix(".0")


def format_value(value: float | None, fmt: str) -> str:
    """Return a value as people read it: 65.2%, 4m 05s, 1,234, 3.9 pts or 3.78."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "duration":
        seconds = round(value)
        if seconds < 60:
            return f"{seconds}s"
        minutes, seconds = divmod(seconds, 60)
        if minutes < 60:
            return f"{minutes}m {seconds:02d}s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h {minutes:02d}m"
    if fmt == "integer":
        return f"{round(value):,}"
    if fmt == POINTS:
        return f"{value * 100:.1f} pts"
    return f"{value:,.2f}"


def format_statistic(value: float | None, suppressed: bool | None, fmt: str) -> str:
    """Return a statistic as people read it, telling a hidden one (†) from one with no data."""
    if suppressed:
        return SUPPRESSED
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    return format_value(value, fmt)


def suppression_note(min_n: int) -> str:
    """Return the footnote that explains the suppression symbol."""
    return (
        f"{SUPPRESSED} Hidden to protect privacy: fewer than {min_n} responses, or hidden so that a "
        "small group cannot be worked out from the total. Counts are published adjusted by up to 2, the "
        "same way in every view, so that comparing views cannot reveal a small group."
    )


def format_delta(delta: float | None, fmt: str) -> str:
    """Return a difference as people read it: +2.1 pts, -45s, +1,234."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "n/a"
    size = f"{abs(delta) * 100:.1f} pts" if fmt == "percent" else format_value(abs(delta), fmt)
    if rounds_to_zero(size):
        return size  # "0.0 pts", not "+0.0 pts": a change too small to show has no direction
    sign = "+" if delta >= 0 else "-"  # ASCII: Streamlit reads the sign of a delta from it
    return sign + size


def format_move(delta: float, fmt: str) -> str:
    """Return a change in words: "up 2.1 pts", "down 45s"; "unchanged" when too small to show."""
    size = format_delta(abs(delta), fmt).lstrip("+")
    return "unchanged" if rounds_to_zero(size) else f"{'up' if delta > 0 else 'down'} {size}"


def rounds_to_zero(shown: str) -> bool:
    """Whether a value as shown (format_delta's, format_value's) reads as nothing: no digit but zeros."""
    return not any(digit in shown for digit in "123456789")


def listed(names: Sequence[str]) -> str:
    """Return names as a list in words: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def left_out(labels: Sequence[str], inputs: Iterable[str]) -> str:
    """Say which measures a part of a page leaves out because the inputs they read cannot be used (a
    file missing or failing its checks), so that the rest of the part is read knowing it.
    `left_out(["Trust after a contact"], {"contacts"})` -> "Left out: Trust after a contact, which
    reads contacts: that file cannot be used (Metrics and data says why)."
    """
    names = sorted(set(inputs))
    measures = listed(labels)
    files = " and ".join(names)
    return (
        f"Left out: {measures}, which read{'s' if len(labels) == 1 else ''} {files}: "
        f"{'that file' if len(names) == 1 else 'those files'} cannot be used (Metrics and data says why)."
    )
