-- One row per group of the breakdown: the number of units counted (the sum of weight); no interval.
-- Reads totals (sql/aggregates/totals/count.sql): the breakdown columns, then the sum.
select
    columns(* exclude (counted)),
    cast(counted as double) as value,
    cast(counted as bigint) as n,
    cast(null as double) as ci_low,
    cast(null as double) as ci_high,
    cast(null as double) as mean
from totals
