-- One row per group of the breakdown: sum of numerator over sum of denominator, with a 95% Wilson
-- interval when the ratio is a proportion (numerator never above denominator).
-- Reads totals (sql/aggregates/totals/ratio.sql): the breakdown columns, then the sums.
select
    columns(* exclude (top, bottom)),
    case when bottom > 0 then top / bottom end as value,
    cast(bottom as bigint) as n,
    wilson_low(top, bottom) as ci_low,
    wilson_high(top, bottom) as ci_high,
    cast(null as double) as mean
from totals
