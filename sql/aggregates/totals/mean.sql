-- One row per group of the breakdown: the sums a weighted mean and its interval are computed from.
-- Every column is a sum, so totals over fine groups add up to the totals over coarser groups.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
select
    columns(* exclude (value, weight, score, numerator, denominator)),
    sum(weight * value) as total,
    sum(weight * value * value) as total_squares,
    sum(weight) as answered
from metric_input
where value is not null
group by all
