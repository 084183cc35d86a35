-- One row per group of the breakdown: the summed numerator and denominator, and their cell keys.
-- All are sums, so totals over fine groups add up to the totals over coarser groups.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
select
    columns(* exclude (value, weight, score, numerator, denominator, record_key)),
    sum(numerator) as top,
    sum(denominator) as bottom,
    sum(numerator * record_key) as top_key,
    sum(denominator * record_key) as bottom_key
from metric_input
group by all
