-- One row per group of the breakdown: the summed numerator and denominator. Both are sums, so
-- totals over fine groups add up to the totals over coarser groups.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
select
    columns(* exclude (value, weight, score, numerator, denominator)),
    sum(numerator) as top,
    sum(denominator) as bottom
from metric_input
group by all
