-- One row per group of the breakdown: the number of units counted (the sum of weight), published
-- perturbed; no interval. raw_n, the true count, is read by suppression only.
-- Reads totals (sql/aggregates/totals/count.sql): the breakdown columns, then the sums.
with published as (
    select
        *,
        perturbed(counted, counted_key, $exact) as published_n
    from totals
)

select
    columns(* exclude (counted, counted_key, published_n)),
    cast(published_n as double) as value,
    cast(published_n as bigint) as n,
    cast(null as double) as ci_low,
    cast(null as double) as ci_high,
    cast(null as double) as mean,
    cast(counted as bigint) as raw_n
from published
