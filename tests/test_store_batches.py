"""Which metrics of one table the store reads together (`store._overlapping`), worked by hand."""

from __future__ import annotations

import pytest

from metrics import store

# Rows of one table by the metrics holding them (a bit per metric): 100 rows in metrics 0 and 1, 10 in
# 0 alone, 50 in 2 alone, 40 in 2 and 3, 5 in 3 alone. So metric 0 has 110 rows, 1 has 100, 2 has
# 90 and 3 has 45.
COUNTED = {0b0011: 100, 0b0001: 10, 0b0100: 50, 0b1100: 40, 0b1000: 5}


def test_metrics_of_mostly_the_same_rows_are_read_together() -> None:
    # Largest first. 1 adds no row to 0 (110 of 110). 2 would take 0's group to 200 rows, over
    # 1.25 x 110 = 137.5: it starts one. 3 would take 0's to 155, over 137.5, and takes 2's to 95,
    # within 1.25 x 90 = 112.5.
    assert store._overlapping(COUNTED, 4) == [[0, 1], [2, 3]]


def test_no_group_outgrows_its_metrics_or_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "SHARED_METRICS", 1)
    assert store._overlapping(COUNTED, 4) == [[0], [1], [2], [3]]
    monkeypatch.setattr(store, "SHARED_METRICS", 7)
    # 0 and 1 together are 110 rows read for two metrics: 220 > 200.
    monkeypatch.setattr(store, "SHARED_ROWS", 200)
    assert store._overlapping(COUNTED, 4) == [[0], [1], [2, 3]]


def test_a_metric_of_no_rows_adds_none_to_a_group() -> None:
    assert store._overlapping({0b01: 10}, 2) == [[0, 1]]
    assert store._overlapping({}, 2) == [[0], [1]]  # nothing to share
