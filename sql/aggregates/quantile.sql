-- One row per group of the breakdown: the $quantile quantile of value (0.5 = median), with a 95%
-- distribution-free interval between the order statistics at ranks n*q -/+ 1.96*sqrt(n*q*(1-q)); where
-- n is too small for those ranks to exist, no interval (not the group's shortest and longest values).
-- n is published perturbed (sql/macros/statistics.sql); raw_n, the true count, is read by suppression only.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
with totals as (
    select
        columns(* exclude (value, weight, score, numerator, denominator, record_key)),
        quantile_cont(value, $quantile) as estimate,
        list_sort(list(value)) as ordered,
        count(value) as counted,
        sum(record_key) filter (where value is not null) as keyed
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
    columns(* exclude (estimate, ordered, counted, keyed, spread)),
    estimate as value,
    cast(perturbed(counted, keyed, $exact) as bigint) as n,
    case
        when floor(counted * $quantile - spread) >= 1 and ceil(counted * $quantile + spread) + 1 <= counted
            then ordered[cast(floor(counted * $quantile - spread) as bigint)]
    end as ci_low,
    case
        when floor(counted * $quantile - spread) >= 1 and ceil(counted * $quantile + spread) + 1 <= counted
            then ordered[cast(ceil(counted * $quantile + spread) + 1 as bigint)]
    end as ci_high,
    cast(null as double) as mean,
    cast(counted as bigint) as raw_n
from ranks
