-- One row per group of the breakdown: the $quantile quantile of value (0.5 = median) and the 95%
-- interval of sql/aggregates/quantile.sql, read off a histogram instead of the sorted values: the
-- value at rank r is the smallest value whose running count reaches r.
-- Reads totals: the breakdown columns, cell (one value per group), value and counted (rows with it).
with cumulative as (
    select
        *,
        sum(counted) over (partition by cell order by value) as reached,
        sum(counted) over (partition by cell) as counted_in_group
    from totals
),

ranks as (
    select
        *,
        (counted_in_group - 1) * $quantile as position,
        1.959963984540054 * sqrt(counted_in_group * $quantile * (1 - $quantile)) as spread
    from cumulative
),

picked as (
    select
        columns(* exclude (value, counted, reached)),
        min(value) filter (where reached >= floor(position) + 1) as below,
        min(value) filter (where reached >= ceil(position) + 1) as above,
        min(value) filter (where reached >= greatest(1, floor(counted_in_group * $quantile - spread))) as low,
        min(value) filter (
            where reached >= least(counted_in_group, ceil(counted_in_group * $quantile + spread) + 1)
        ) as high
    from ranks
    group by all
)

select
    columns(* exclude (cell, counted_in_group, position, spread, below, above, low, high)),
    -- quantile_cont's linear interpolation between the two order statistics around the position.
    below + (position - floor(position)) * (above - below) as value,
    cast(counted_in_group as bigint) as n,
    low as ci_low,
    high as ci_high,
    cast(null as double) as mean
from picked
