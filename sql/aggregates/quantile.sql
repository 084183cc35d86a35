-- One row per group of the breakdown: the $quantile quantile of value (0.5 = median), with a 95%
-- distribution-free interval between the order statistics at ranks n*q -/+ 1.96*sqrt(n*q*(1-q)).
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
with totals as (
    select
        columns(* exclude (value, weight, score, numerator, denominator)),
        quantile_cont(value, $quantile) as estimate,
        list_sort(list(value)) as ordered,
        count(value) as counted
    from metric_input
    where value is not null
    group by all
),

ranks as (
    select
        *,
        1.959963984540054 * sqrt(counted * $quantile * (1 - $quantile)) as spread
    from totals
)

select
    columns(* exclude (estimate, ordered, counted, spread)),
    estimate as value,
    cast(counted as bigint) as n,
    ordered[cast(greatest(1, floor(counted * $quantile - spread)) as bigint)] as ci_low,
    ordered[cast(least(counted, ceil(counted * $quantile + spread) + 1) as bigint)] as ci_high,
    cast(null as double) as mean
from ranks
