-- One row per group of the breakdown: the number of units counted (the sum of weight).
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
with totals as (
    select
        columns(* exclude (value, weight, score, numerator, denominator)),
        sum(weight) as counted
    from metric_input
    group by all
)

select
    columns(* exclude (counted)),
    cast(counted as double) as value,
    cast(counted as bigint) as n,
    cast(null as double) as ci_low,
    cast(null as double) as ci_high,
    cast(null as double) as mean
from totals
