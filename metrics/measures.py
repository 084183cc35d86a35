"""The measures the pages lead with, named once: the four A-11 themes a leader reads first, and the
measures the overview's gap search and the Equity page compare one group within another. The store
gives the latter cubes of every pair of equity dimensions under the page filters, so those
comparisons never read the rows."""

from __future__ import annotations

# The four A-11 themes a leader reads first: the metrics the overview, equity and journey pages compare.
THEME_METRICS = ("trust", "ease", "effectiveness", "emotion")
# The measures the gap search compares: the four themes, and trust and ease asked after a contact,
# where callers who waited tell a story the pooled measures dilute.
GAP_METRICS = (*THEME_METRICS, "trust_after_contact", "ease_after_contact")
# The trust question on its two scales, never pooled: the five-point score and thumbs up or down.
# Where a view's surveys asked it on one alone, the other is "asked on the other scale", not "not
# asked", and the overview leads with the one asked.
TRUST, TRUST_THUMBS = "trust", "trust_thumbs"
OTHER_SCALE = {TRUST: TRUST_THUMBS, TRUST_THUMBS: TRUST}
# The measures compared one group within another under a page filter (the store gives them cubes of
# every pair of equity dimensions): the gap search's, with trust on either scale, as it compares
# trust on the scale the view's surveys asked it.
COMPARED_METRICS = (*GAP_METRICS, TRUST_THUMBS)
