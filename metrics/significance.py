"""Two-sided p-values of the tests the pages use, and the Holm adjustment for many flags shown
together. No statistics library is needed for them; numpy tests many at once."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.05
# Below this expected count in any cell of the 2x2 table the normal approximation of the pooled
# z-test is poor (the usual rule for chi-square and z tests of proportions): Fisher's exact test.
MIN_EXPECTED = 5.0


def normal_p(z: float) -> float:
    """Return the two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def pooled_z(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Return the pooled two-proportion z of each x1/n1 against x2/n2 (arrays of floats); NaN where
    it is undefined (a group of no one). Many are tested at once (the overview's gap search tests
    thousands), so this works on arrays.

    Under 'no difference' both groups share one proportion, so the spread comes from the pooled
    share: at 0% or 100% in one group it stays positive, unlike each group's own p(1-p)/n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = pooled_error(x1, n1, x2, n2)
        # Everyone in both groups answered alike: no difference at all.
        z = np.where(spread == 0, 0.0, (x1 / n1 - x2 / n2) / spread)
    return np.where((n1 <= 0) | (n2 <= 0), np.nan, z)


def pooled_error(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Return the standard error of each x1/n1 - x2/n2 under 'no difference' (the pooled share's),
    the spread `pooled_z` divides by; NaN for a group of no one."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        spread: np.ndarray = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return spread


def needs_exact(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Return whether any expected count of each 2x2 table (arrays of whole counts) is under
    MIN_EXPECTED."""
    total, successes = n1 + n2, x1 + x2
    failures = total - successes
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.minimum(n1, n2) * np.minimum(successes, failures) / total < MIN_EXPECTED
    return np.where(total == 0, False, small)


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Return the two-sided p-value of Fisher's exact test of x1/n1 against x2/n2: the chance, with
    the margins fixed, of a table no more likely than the one seen."""
    [p] = fisher_exact_ps(*(np.array([v], dtype=np.int64) for v in (x1, n1, x2, n2))).tolist()
    return float(p)


def fisher_exact_ps(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Return `fisher_exact_p` of each 2x2 table (arrays of whole counts), all at once: the overview's
    gap search tests thousands, a few hundred of them small enough for the exact test.

    With the margins fixed, a table is its count `a` of successes in the first group, from `low` to
    `high`. Each table's chance is C(n1, a) C(n2, s - a) / C(n, s), and the next one's is this one's
    times (n1 - a)(s - a) / ((a + 1)(n2 - s + a + 1)): so the logarithms of every table's chance, up
    to a constant, are a running sum of those ratios' logarithms, and the p-value is the share of the
    chances (all of them add up to 1) held by the tables no more likely than the one seen."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.int64) for v in (x1, n1, x2, n2))
    if not x1.size:
        return np.zeros(0, dtype=np.float64)
    successes = x1 + x2
    low, high = np.maximum(0, successes - n2), np.minimum(successes, n1)
    sizes = high - low + 1
    table = np.repeat(np.arange(x1.size), sizes)
    starts = np.cumsum(sizes) - sizes
    a = low[table] + np.arange(int(sizes.sum())) - starts[table]
    # The step from a - 1 to a; none into each table's first.
    first = a == low[table]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(
            first,
            0.0,
            np.log((n1[table] - a + 1) * (successes[table] - a + 1.0))
            - np.log(a * (n2[table] - successes[table] + a + 0.0)),
        )
    running = np.cumsum(step)
    chance = running - running[starts][table]  # log chance up to each table's constant
    seen = chance[starts + (x1 - low)]
    largest = np.maximum.reduceat(chance, starts)
    weight = np.exp(chance - largest[table])
    # A relative tolerance keeps tables as likely as the one seen, whatever the rounding.
    kept = chance <= seen[table] + 1e-7 * np.maximum(1.0, np.abs(seen[table]))
    p = np.bincount(table, weights=np.where(kept, weight, 0.0), minlength=x1.size) / np.bincount(
        table, weights=weight, minlength=x1.size
    )
    return np.minimum(1.0, p)


def welch(mean1: float, var1: float, n1: float, mean2: float, var2: float, n2: float) -> tuple[float, float]:
    """Return Welch's t and its Welch-Satterthwaite degrees of freedom, from each group's mean, the
    variance of that mean (s^2/n) and n."""
    spread = var1 + var2
    t = (mean1 - mean2) / math.sqrt(spread)
    parts = (var1**2 / (n1 - 1) if n1 > 1 else 0.0) + (var2**2 / (n2 - 1) if n2 > 1 else 0.0)
    df = spread**2 / parts if parts > 0 else math.inf
    return t, df


def t_p(t: float, df: float) -> float:
    """Return the two-sided p-value of Student's t with `df` degrees of freedom."""
    if math.isinf(df) or df > 1e6:
        return normal_p(t)
    return _incomplete_beta(df / 2, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Return the regularised incomplete beta function I_x(a, b) by its continued fraction."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(b, a, 1 - x)
    # Lentz's method (Numerical Recipes, betacf).
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1) < 1e-14:
            break
    return front * fraction / a


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Return Holm's adjusted p-values, in the same order (None stays None): flagging those under
    ALPHA keeps the chance of any false flag in the family at most ALPHA."""
    given = np.array([np.nan if p is None else p for p in p_values], dtype=np.float64)
    tested = np.flatnonzero(~np.isnan(given))
    # Smallest first, a tie in the order given; each is multiplied by how many are not smaller, at
    # most 1, and never less than the one before it.
    order = tested[np.argsort(given[tested], kind="stable")]
    scaled = np.minimum(1.0, (len(order) - np.arange(len(order))) * given[order])
    adjusted: list[float | None] = [None] * len(p_values)
    for i, p in zip(order.tolist(), np.maximum.accumulate(scaled).tolist(), strict=True):
        adjusted[i] = p
    return adjusted
