-- One row per group of the breakdown: the $quantile quantile of value (0.5 = median) and the 95%
-- interval of sql/aggregates/quantile.sql, read off a histogram instead of the sorted values: the
-- value at rank r is the smallest value whose running count reaches r.
-- n is published perturbed (sql/macros/statistics.sql); raw_n, the true count, is read by suppression only.
-- Reads cumulative: the breakdown columns, cell (one value per group), value, counted (rows with it),
-- keyed (the sum of their record keys), reached (the group's rows with that value or less), and the
-- group's counted_in_group and key_in_group (sql/aggregates/quantile_running.sql, or kept in the
-- cube for a group that is one cell of its grain).
with ranks as (
    select
        *,
        (counted_in_group - 1) * $quantile as position,
        1.959963984540054 * sqrt(counted_in_group * $quantile * (1 - $quantile)) as spread
    from cumulative
),

picked as (
    select
        columns(* exclude (value, counted, keyed, reached)),
        min(value) filter (where reached >= floor(position) + 1) as below,
        min(value) filter (where reached >= ceil(position) + 1) as above,
        -- No interval where n is too small for the order statistics it needs (not the extremes).
        min(value) filter (
            where reached >= floor(counted_in_group * $quantile - spread)
                and floor(counted_in_group * $quantile - spread) >= 1
                and ceil(counted_in_group * $quantile + spread) + 1 <= counted_in_group
        ) as low,
        min(value) filter (
            where reached >= ceil(counted_in_group * $quantile + spread) + 1
                and floor(counted_in_group * $quantile - spread) >= 1
                and ceil(counted_in_group * $quantile + spread) + 1 <= counted_in_group
        ) as high
    from ranks
    group by all
)

select
    columns(* exclude (cell, counted_in_group, key_in_group, position, spread, below, above, low, high)),
    -- quantile_cont's linear interpolation between the two order statistics around the position.
    below + (position - floor(position)) * (above - below) as value,
    cast(perturbed(counted_in_group, key_in_group, $exact) as bigint) as n,
    low as ci_low,
    high as ci_high,
    cast(null as double) as mean,
    cast(counted_in_group as bigint) as raw_n
from picked
