-- One row per group of the breakdown: the sums a share is computed from. Every column is a sum, so
-- totals over fine groups (the fast path's cubes) add up to the totals over coarser groups.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
select
    columns(* exclude (value, weight, score, numerator, denominator)),
    sum(weight * value) as positive,
    sum(weight) as answered,
    sum(weight * score) filter (where score is not null) as score_total,
    sum(weight) filter (where score is not null) as scored
from metric_input
group by all
