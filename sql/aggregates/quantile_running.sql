-- A quantile's histogram with each row's running count in its group: the group's rows with that
-- value or less (reached), and the group's rows and record keys (counted_in_group, key_in_group),
-- which sql/aggregates/quantile_histogram.sql reads its ranks off. The store keeps them in the
-- cubes of short grains (store.RUNNING_ROWS), one group per cell of the grain, so that a read of whole
-- cells skips the window.
-- Reads totals: the breakdown columns, cell (one value per group), value, counted (rows with it) and
-- keyed (the sum of their record keys).
select
    *,
    sum(counted) over (partition by cell order by value) as reached,
    sum(counted) over (partition by cell) as counted_in_group,
    sum(keyed) over (partition by cell) as key_in_group
from totals
