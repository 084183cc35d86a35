-- One row per group of the breakdown: the sums a weighted mean and its interval are computed from.
-- Every column is a sum, so totals over fine groups add up to the totals over coarser groups;
-- answered_key is the cell's key for its published count.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
select
    columns(* exclude (value, weight, score, numerator, denominator, record_key)),
    sum(weight * value) as total,
    sum(weight * value * value) as total_squares,
    sum(weight) as answered,
    sum(weight * record_key) as answered_key
from metric_input
where value is not null
group by all
